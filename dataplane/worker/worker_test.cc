// SPDX-License-Identifier: MIT
// The whole L2 pipeline through real DPDK ethdevs (net_ring), driven by real workers:
// frames go into a port's RX ring and are read back from the TX rings.

#include "worker/worker.hh"

#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include <gtest/gtest.h>

#include <thread>

#include "testing/switch_rig.hh"

namespace vx {
namespace {

using testing::bytes;
using testing::frame;

constexpr auto mac_a = "02:00:00:00:00:0a";
constexpr auto mac_b = "02:00:00:00:00:0b";
constexpr auto mac_c = "02:00:00:00:00:0c";
constexpr auto bcast = "ff:ff:ff:ff:ff:ff";

// Ports: a (access 10), b (access 10), c (access 20), t (trunk 10,20 native 1).
config::model four_ports() {
    config::model m;
    auto port = [](std::string name, uint16_t vlan) {
        config::port p;
        p.name = std::move(name);
        p.device = "ring";
        p.access_vlan = vlan;
        return p;
    };
    m.ports = {port("a", 10), port("b", 10), port("c", 20), port("t", 1)};
    m.ports[3].mode = config::port_mode::trunk;
    m.ports[3].allowed_vlans = {1, 10, 20};
    m.ports[3].native_vlan = 1;
    return m;
}

// A switch of net_ring ports with two workers, each with its own TX queue on every port.
class ring_switch : public ::testing::Test {
protected:
    static constexpr uint16_t workers = 2;

    void SetUp() override {
        testing::start_eal();
        const auto m = four_ports();
        auto snap = std::make_unique<snapshot>();
        snap->l2 = l2_tables::build(m);
        // Worker 0 polls a and t, worker 1 polls b and c: learning crosses workers.
        snap->polls = {{{0, 0}, {3, 0}}, {{1, 0}, {2, 0}}};
        rig = std::make_unique<testing::switch_rig>(std::vector<std::string>{"a", "b", "c", "t"}, workers,
                                                    std::move(snap));
    }

    void TearDown() override { rig.reset(); }

    void inject(uint16_t port, const bytes& f) { rig->inject(port, f); }
    void step() { rig->step(); }
    std::vector<bytes> sent(uint16_t port) { return rig->sent(port); }

    void discard_sent() {
        for (uint16_t p = 0; p < rig->tx.size(); ++p) {
            sent(p);
        }
    }

    uint64_t drops(uint16_t port, drop_reason r) const {
        uint64_t n = 0;
        for (const auto& w : rig->workers) {
            n += w->counters().ports[port].get(r);
        }
        return n;
    }

    std::unique_ptr<testing::switch_rig> rig;
};

TEST_F(ring_switch, broadcast_floods_only_inside_the_vlan) {
    const bytes f = frame(bcast, mac_a);
    inject(0, f);
    step();
    EXPECT_TRUE(sent(0).empty()) << "never back out of the ingress port";
    EXPECT_EQ(sent(1), std::vector<bytes>{f});
    EXPECT_TRUE(sent(2).empty()) << "port c is in VLAN 20";
    EXPECT_EQ(sent(3), std::vector<bytes>{frame(bcast, mac_a, {{0x8100, 10}})}) << "tagged 10 on the trunk";
}

TEST_F(ring_switch, mac_learned_by_one_worker_is_used_by_the_other) {
    inject(0, frame(bcast, mac_a)); // worker 0 sees A on port a
    step();
    discard_sent();
    inject(1, frame(mac_a, mac_b)); // worker 1 forwards B -> A
    step();
    EXPECT_EQ(sent(0), std::vector<bytes>{frame(mac_a, mac_b)});
    EXPECT_TRUE(sent(3).empty()) << "known unicast is not flooded";
    EXPECT_EQ(rig->macs->size(), 2u);
}

TEST_F(ring_switch, trunk_to_access_pops_and_access_to_trunk_pushes) {
    inject(3, frame(bcast, mac_c, {{0x8100, 0x5014}})); // C on the trunk, VLAN 20, PCP 2 DEI 1
    step();
    EXPECT_EQ(sent(2), std::vector<bytes>{frame(bcast, mac_c)});
    inject(2, frame(mac_c, mac_b)); // B on access port c (VLAN 20) answers
    step();
    EXPECT_EQ(sent(3), std::vector<bytes>{frame(mac_c, mac_b, {{0x8100, 20}})});
}

TEST_F(ring_switch, vlan_rule_violations_are_dropped_and_counted) {
    inject(0, frame(bcast, mac_a, {{0x8100, 10}})); // tagged on access
    inject(3, frame(bcast, mac_a, {{0x8100, 30}})); // VLAN 30 not allowed on the trunk
    inject(0, bytes{1, 2, 3});                      // runt
    step();
    for (uint16_t p = 0; p < 4; ++p) {
        EXPECT_TRUE(sent(p).empty()) << p;
    }
    EXPECT_EQ(drops(0, drop_reason::tagged_on_access), 1u);
    EXPECT_EQ(drops(3, drop_reason::vlan_not_allowed), 1u);
    EXPECT_EQ(drops(0, drop_reason::truncated), 1u);
    EXPECT_EQ(rig->macs->size(), 0u) << "dropped frames teach nothing";
}

TEST_F(ring_switch, unicast_to_the_ingress_port_is_filtered) {
    inject(0, frame(bcast, mac_a));
    inject(0, frame(bcast, mac_b));
    step();
    discard_sent();
    inject(0, frame(mac_b, mac_a)); // both behind port a
    step();
    for (uint16_t p = 0; p < 4; ++p) {
        EXPECT_TRUE(sent(p).empty()) << p;
    }
    EXPECT_EQ(drops(0, drop_reason::same_port), 1u);
}

TEST_F(ring_switch, moved_mac_is_relearned) {
    inject(0, frame(bcast, mac_a));
    step();
    inject(1, frame(bcast, mac_a)); // A moves to port b
    step();
    discard_sent();
    inject(3, frame(mac_a, mac_c, {{0x8100, 10}}));
    step();
    EXPECT_EQ(sent(1).size(), 1u);
    EXPECT_TRUE(sent(0).empty());
    EXPECT_EQ(rig->macs->statistics().moved, 1u);
}

TEST_F(ring_switch, full_burst_and_remainders_all_arrive) {
    inject(1, frame(bcast, mac_b));
    step();
    discard_sent();
    for (uint16_t n : {1, 3, 31, 32, 33, 70}) {
        for (uint16_t i = 0; i < n; ++i) {
            inject(0, frame(mac_b, mac_a, {}, 0x0800, 46 + i));
        }
        while (rte_ring_count(rig->rx[0]) != 0) {
            step();
        }
        const auto out = sent(1);
        ASSERT_EQ(out.size(), n);
        for (uint16_t i = 0; i < n; ++i) {
            EXPECT_EQ(out[i].size(), 60u + i) << "in order";
        }
    }
}

// Two workers on their own lcores, the learner on this thread: concurrent learning and
// lookups, with RCU deferring every delete (the flush below).
TEST_F(ring_switch, concurrent_workers_learn_and_forward) {
    ASSERT_GE(rte_lcore_count(), 3u) << "the test EAL starts 3 lcores";
    std::atomic<bool> stop{false};
    std::vector<std::pair<worker*, std::atomic<bool>*>> jobs{{rig->workers[0].get(), &stop},
                                                             {rig->workers[1].get(), &stop}};
    unsigned lcore = rte_get_next_lcore(-1, 1, 0);
    for (auto& j : jobs) {
        rte_eal_remote_launch(
            [](void* arg) {
                auto* job = static_cast<std::pair<worker*, std::atomic<bool>*>*>(arg);
                job->first->run(*job->second);
                return 0;
            },
            &j, lcore);
        lcore = rte_get_next_lcore(lcore, 1, 0);
    }
    inject(0, frame(bcast, mac_a));
    inject(1, frame(bcast, mac_b));
    while (rig->macs->size() < 2) {
        rig->learn->drain();
        std::this_thread::yield();
    }
    rig->macs->flush(1);            // B forgotten (waits for both workers' grace period)
    inject(1, frame(mac_a, mac_b)); // B relearned by worker 1, A known from worker 0
    while (rig->macs->size() < 2) {
        rig->learn->drain();
        std::this_thread::yield();
    }
    while (rte_ring_count(rig->tx[0][1]) < 2) {
        std::this_thread::yield();
    }
    stop = true;
    rte_eal_mp_wait_lcore();
    auto to_a = sent(0);
    EXPECT_EQ(to_a.size(), 2u) << "B's broadcast, then B->A unicast";
    EXPECT_EQ(to_a.back(), frame(mac_a, mac_b));
}

} // namespace
} // namespace vx

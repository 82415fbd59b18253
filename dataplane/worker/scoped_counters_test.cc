// SPDX-License-Identifier: MIT
// Counters per bridge domain and per VXLAN segment, exactly, through the real pipeline: a worker
// switching frames between net_ring ports, one of them a VXLAN underlay, the VTEP table built
// from a configuration as the daemon builds it (and rebuilt for a runtime change of the VNIs).
// Every figure below is worked out by hand from the frames: 60-byte inner frames, 50 bytes of
// outer IPv4/UDP/VXLAN headers (bytes are counted as on the port's wire, for VNIs too).

#include <rte_ring.h>

#include <gtest/gtest.h>

#include "config/load.hh"
#include "tables/vtep_control.hh"
#include "testing/switch_rig.hh"

namespace vx {
namespace {

using testing::bytes;
using testing::frame;

constexpr auto bcast = "ff:ff:ff:ff:ff:ff";
constexpr auto host_a = "02:00:00:00:00:0a";
constexpr auto host_b = "02:00:00:00:00:0b";
constexpr auto host_h = "02:00:00:00:00:48"; // behind remote VTEP .2
constexpr auto host_k = "02:00:00:00:00:4b"; // behind remote VTEP .3
constexpr auto unknown = "02:00:00:00:00:ee";
constexpr uint64_t inner = 60;         // testing::frame's length
constexpr uint64_t outer = inner + 50; // encapsulated over IPv4
const mac_addr underlay_mac = mac_addr::from_u64(0x02000000a001);
const mac_addr router_mac = mac_addr::from_u64(0x02000000a002);

// Ports a, b (access 10), c (access 20), up (the underlay), t (a trunk, of VLAN 30 until a test
// gives it more). VNI 42 extends VLAN 10 to two remotes whose next hop is known; VNI 43 extends
// VLAN 20 to one that is not resolved yet.
constexpr auto ports_yaml = R"(
ports:
  - { name: a, device: ring_a, vlan: 10 }
  - { name: b, device: ring_b, vlan: 10 }
  - { name: c, device: ring_c, vlan: 20 }
  - { name: up, device: ring_up }
)";
constexpr auto trunk_30 = "  - { name: t, device: ring_t, mode: trunk, vlans: [30] }\n";
constexpr auto vxlan_yaml = R"(
vxlan:
  underlay: up
  address: 192.0.2.1
  vnis:
)";
constexpr auto vnis_42_43 = R"(
    - { vni: 42, vlan: 10, remotes: [192.0.2.2, 192.0.2.3] }
    - { vni: 43, vlan: 20, remotes: [192.0.2.9] }
)";
constexpr uint16_t port_a = 0;
constexpr uint16_t port_b = 1;
constexpr uint16_t port_c = 2;
constexpr uint16_t port_up = 3;
constexpr uint16_t port_t = 4;

config::model model_of(const std::string& vnis, const std::string& trunk = trunk_30) {
    const auto loaded =
        config::load_string(std::string(ports_yaml) + trunk + vxlan_yaml + vnis, "scoped_counters_test");
    EXPECT_TRUE(loaded.value) << (loaded.errors.empty() ? "" : loaded.errors.front());
    return *loaded.value;
}

class overlay_switch : public ::testing::Test {
protected:
    void SetUp() override {
        testing::start_eal();
        const auto m = model_of(vnis_42_43);
        auto snap = std::make_unique<snapshot>();
        snap->l2 = l2_tables::build(m);
        snap->vxlan = vtep_control::build(m, snap->l2, underlay_mac);
        resolve(snap->vxlan);
        snap->polls = {{{port_a, 0}, {port_b, 0}, {port_c, 0}, {port_up, 0}, {port_t, 0}}};
        rig = std::make_unique<testing::switch_rig>(std::vector<std::string>{"a", "b", "c", "up", "t"}, 1,
                                                    std::move(snap));
    }

    void TearDown() override { rig.reset(); }

    // The next hops of 192.0.2.2 and .3 are known (as if they had answered ARP); .9's is not.
    static void resolve(vtep_table& t) {
        for (auto& r : t.remotes) {
            if (r.outer.dst_ip != testing::ip("192.0.2.9")) {
                r.outer.dst_mac = router_mac;
                r.resolved = true;
            }
        }
    }

    // A runtime change of the segments (and of trunk t), as the daemon applies one: the VLAN
    // tables and the VTEP table rebuilt over the running ones and published.
    void change_vnis(const std::string& vnis, const std::string& trunk = trunk_30) {
        const auto m = model_of(vnis, trunk);
        const snapshot& running = rig->state->current();
        auto snap = std::make_unique<snapshot>(running);
        snap->l2 = l2_tables::build(m, &running.l2);
        snap->vxlan = vtep_control::rebuild(running.vxlan, m, snap->l2).table;
        resolve(snap->vxlan);
        rig->state->publish(std::move(snap));
    }

    void inject(uint16_t port, const bytes& f) { rig->inject(port, f); }
    // `f` encapsulated by remote VTEP `from` into `vni`.
    void inject_from_overlay(const char* from, uint32_t vni, const bytes& f) {
        vxlan::outer_template t;
        t.src_mac = router_mac;
        t.dst_mac = underlay_mac;
        t.src_ip = testing::ip(from);
        t.dst_ip = testing::ip("192.0.2.1");
        bytes out(t.overhead(), 0);
        out.insert(out.end(), f.begin(), f.end());
        vxlan::write_outer(out.data(), t, vni, 50000, static_cast<uint16_t>(f.size()));
        inject(port_up, out);
    }

    // Leaves `room` frames of space in port p's transmit ring (the rest holds frames "sent" before).
    void fill_tx(uint16_t p, unsigned room) {
        while (rte_ring_free_count(rig->tx[p][0]) > room) {
            ASSERT_EQ(rte_ring_enqueue(rig->tx[p][0], testing::make_mbuf(frame(bcast, host_b))), 0);
        }
    }

    // One round of the worker, the learner after it, and what was sent freed.
    void step() {
        rig->step();
        for (uint16_t p = 0; p < rig->tx.size(); ++p) {
            rig->sent(p);
        }
    }

    const worker_counter_block& counted() const { return rig->workers[0]->counters(); }
    const domain_counter_block& domain(uint16_t vlan) const {
        return counted().domains[rig->state->current().l2.bd_of_vlan[vlan]];
    }
    const vni_counter_block& segment(uint32_t vni) const {
        const vtep_table& t = rig->state->current().vxlan;
        return counted().segments[t.slot_of(t.udp_port, vni).value()];
    }
    uint64_t port_drops(uint16_t port, drop_reason r) const { return counted().ports[port].get(r); }

    std::unique_ptr<testing::switch_rig> rig;
};

// {rx_packets, rx_bytes, tx_packets, tx_bytes, flooded, unknown_unicast}
std::array<uint64_t, 6> counts(const domain_counter_block& d) {
    return {d.get(domain_counter::rx_packets), d.get(domain_counter::rx_bytes), d.get(domain_counter::tx_packets),
            d.get(domain_counter::tx_bytes),   d.get(domain_counter::flooded),  d.get(domain_counter::unknown_unicast)};
}
// {decapsulated_packets, decapsulated_bytes, encapsulated_packets, encapsulated_bytes}
std::array<uint64_t, 4> counts(const vni_counter_block& s) {
    return {s.get(vni_counter::decapsulated_packets), s.get(vni_counter::decapsulated_bytes),
            s.get(vni_counter::encapsulated_packets), s.get(vni_counter::encapsulated_bytes)};
}
using domain_figures = std::array<uint64_t, 6>;
using segment_figures = std::array<uint64_t, 4>;

TEST_F(overlay_switch, a_flood_counts_every_copy_in_its_domain_and_the_encapsulated_ones_on_its_vni) {
    inject(port_a, frame(bcast, host_a)); // to b, and to .2 and .3 encapsulated
    step();
    EXPECT_EQ(counts(domain(10)), (domain_figures{1, inner, 3, inner + 2 * outer, 1, 0}))
        << "a copy to b as it came, two with their outer headers: the bytes each port sent";
    EXPECT_EQ(counts(segment(42)), (segment_figures{0, 0, 2, 2 * outer})) << "bytes as on the underlay";
    EXPECT_EQ(counts(domain(20)), (domain_figures{})) << "nothing in VLAN 20";
    EXPECT_EQ(counts(segment(43)), (segment_figures{}));
}

TEST_F(overlay_switch, a_remote_without_next_hop_is_a_drop_of_the_domain_and_its_vni) {
    inject(port_c, frame(bcast, host_b)); // VLAN 20: c alone, and the unresolved .9
    step();
    EXPECT_EQ(counts(domain(20)), (domain_figures{1, inner, 0, 0, 1, 0}));
    EXPECT_EQ(domain(20).get(drop_reason::vxlan_no_next_hop), 1u);
    EXPECT_EQ(segment(43).get(drop_reason::vxlan_no_next_hop), 1u);
    EXPECT_EQ(counts(segment(43)), (segment_figures{})) << "nothing encapsulated";
    EXPECT_EQ(port_drops(port_up, drop_reason::vxlan_no_next_hop), 1u) << "and the underlay port, as before";
    EXPECT_EQ(segment(42).drops_total(), 0u);
    EXPECT_EQ(domain(10).drops_total(), 0u);
}

TEST_F(overlay_switch, decapsulated_frames_count_on_their_vni_and_in_their_domain) {
    inject_from_overlay("192.0.2.2", 42, frame(bcast, host_h)); // floods to a and b, not back
    step();
    EXPECT_EQ(counts(segment(42)), (segment_figures{1, outer, 0, 0}));
    EXPECT_EQ(counts(domain(10)), (domain_figures{1, outer, 2, 2 * inner, 1, 0}))
        << "received as the underlay port received it, sent as a and b sent it";
    // Split horizon: h is behind .2 now; from .3, a unicast to it must not go back out.
    inject_from_overlay("192.0.2.3", 42, frame(host_h, host_k));
    step();
    EXPECT_EQ(counts(segment(42)), (segment_figures{2, 2 * outer, 0, 0}));
    EXPECT_EQ(segment(42).get(drop_reason::vxlan_split_horizon), 1u);
    EXPECT_EQ(domain(10).get(drop_reason::vxlan_split_horizon), 1u);
    EXPECT_EQ(counts(domain(10)), (domain_figures{2, 2 * outer, 2, 2 * inner, 1, 0}));
    EXPECT_EQ(port_drops(port_up, drop_reason::vxlan_split_horizon), 1u);
    // A VNI nobody configured has no domain: the port's drop alone.
    inject_from_overlay("192.0.2.2", 99, frame(bcast, host_h));
    step();
    EXPECT_EQ(port_drops(port_up, drop_reason::vxlan_unknown_vni), 1u);
    EXPECT_EQ(counts(domain(10)), (domain_figures{2, 2 * outer, 2, 2 * inner, 1, 0}));
    EXPECT_EQ(counts(segment(42)), (segment_figures{2, 2 * outer, 0, 0}));
    EXPECT_EQ(domain(10).drops_total() + domain(20).drops_total(), 1u) << "only the split horizon";
}

TEST_F(overlay_switch, too_long_for_the_underlay_is_counted_on_the_vni_not_for_the_local_copy) {
    inject(port_a, frame(unknown, host_a, {}, 0x0800, 1500)); // 1514 bytes: fits b, not encapsulated
    step();
    EXPECT_EQ(counts(domain(10)), (domain_figures{1, 1514, 1, 1514, 1, 1}));
    EXPECT_EQ(domain(10).get(drop_reason::egress_mtu_exceeded), 2u);
    EXPECT_EQ(segment(42).get(drop_reason::egress_mtu_exceeded), 2u);
    EXPECT_EQ(counts(segment(42)), (segment_figures{}));
}

TEST_F(overlay_switch, what_a_full_queue_refuses_is_not_sent_for_the_domain_and_is_dropped_on_it) {
    fill_tx(port_b, 3);
    fill_tx(port_up, 1);
    for (int i = 0; i < 5; ++i) {
        inject(port_a, frame(bcast, host_a)); // 5 copies to b (3 fit), 10 encapsulated (1 fits)
    }
    step();
    EXPECT_EQ(counts(domain(10)), (domain_figures{5, 5 * inner, 4, 3 * inner + outer, 5, 0}));
    EXPECT_EQ(domain(10).get(drop_reason::egress_queue_full), 11u);
    EXPECT_EQ(counts(segment(42)), (segment_figures{0, 0, 10, 10 * outer})) << "all queued, as the port counts";
    EXPECT_EQ(segment(42).get(drop_reason::egress_queue_full), 9u) << "the underlay's refusals alone";
    EXPECT_EQ(port_drops(port_b, drop_reason::egress_queue_full), 2u);
    EXPECT_EQ(port_drops(port_up, drop_reason::egress_queue_full), 9u);
}

TEST_F(overlay_switch, a_burst_of_several_domains_counts_each_on_its_own_in_and_out) {
    change_vnis(R"(
    - { vni: 42, vlan: 10, remotes: [192.0.2.2, 192.0.2.3] }
    - { vni: 43, vlan: 20, remotes: [192.0.2.2] }
)",
                "  - { name: t, device: ring_t, mode: trunk, vlans: [10, 20] }\n");
    // One burst from the trunk, VLANs 10, 20, 10: 64 bytes each as they come, 60 untagged out
    // of the access ports, 110 encapsulated. The underlay's queue holds frames of both VNIs.
    inject(port_t, frame(bcast, host_a, {{0x8100, 10}}));
    inject(port_t, frame(bcast, host_b, {{0x8100, 20}}));
    inject(port_t, frame(bcast, host_k, {{0x8100, 10}}));
    step();
    EXPECT_EQ(counts(domain(10)), (domain_figures{2, 2 * 64, 8, 4 * inner + 4 * outer, 2, 0}));
    EXPECT_EQ(counts(domain(20)), (domain_figures{1, 64, 2, inner + outer, 1, 0}));
    EXPECT_EQ(counts(segment(42)), (segment_figures{0, 0, 4, 4 * outer}));
    EXPECT_EQ(counts(segment(43)), (segment_figures{0, 0, 1, outer}));
    EXPECT_EQ(domain(10).drops_total() + domain(20).drops_total(), 0u);
}

TEST_F(overlay_switch, a_vni_keeps_its_counters_when_the_segments_change) {
    inject(port_a, frame(bcast, host_a)); // VNI 42 (VLAN 10): 2 encapsulated
    inject(port_c, frame(bcast, host_b)); // VNI 43 (VLAN 20): 1 without next hop
    step();
    // VNI 42 moves to VLAN 20, 43 goes, 44 takes VLAN 10.
    change_vnis(R"(
    - { vni: 42, vlan: 20, remotes: [192.0.2.2, 192.0.2.3] }
    - { vni: 44, vlan: 10, remotes: [192.0.2.2] }
)");
    EXPECT_EQ(counts(segment(42)), (segment_figures{0, 0, 2, 2 * outer})) << "42 kept its slot and its counts";
    EXPECT_EQ(counts(segment(44)), (segment_figures{})) << "44 starts from zero, not from 42's or 43's";
    inject(port_c, frame(bcast, host_b)); // VLAN 20 is VNI 42 now
    inject(port_a, frame(bcast, host_a)); // VLAN 10 is VNI 44
    step();
    EXPECT_EQ(counts(segment(42)), (segment_figures{0, 0, 4, 4 * outer}));
    EXPECT_EQ(counts(segment(44)), (segment_figures{0, 0, 1, outer}));
    EXPECT_EQ(segment(44).drops_total(), 0u);
    // Domains kept their indices, and their counts: they are the VLANs', whichever VNI.
    EXPECT_EQ(counts(domain(10)), (domain_figures{2, 2 * inner, 5, 2 * inner + 3 * outer, 2, 0}));
    EXPECT_EQ(counts(domain(20)), (domain_figures{2, 2 * inner, 2, 2 * outer, 2, 0}));
    // 43 comes back (on VLAN 10 this time): it continues in its own slot.
    change_vnis(R"(
    - { vni: 42, vlan: 20, remotes: [192.0.2.2, 192.0.2.3] }
    - { vni: 43, vlan: 10, remotes: [192.0.2.9] }
)");
    EXPECT_EQ(segment(43).get(drop_reason::vxlan_no_next_hop), 1u);
    EXPECT_EQ(rig->state->current().vxlan.segment_slots.size(), 3u) << "one slot per segment ever configured";
}

} // namespace
} // namespace vx

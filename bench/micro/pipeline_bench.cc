// SPDX-License-Identifier: MIT
// The whole L2 pipeline, per packet: a worker polls a net_ring port and forwards a burst of
// 32 known-unicast frames to a second net_ring port (both access ports of VLAN 1).
//
//   pipeline        worker::poll_once(): rx burst, parse, vlan_ingress, fdb_learn,
//                   fdb_lookup, forward (no tag edit), tx burst, counters
//   baseline_io     rte_eth_rx_burst + rte_eth_tx_burst between the same two ports and
//                   nothing else (testpmd's io forwarding): the port cost inside `pipeline`.
// The difference of the two is what the switch adds per packet.
//
// Frames are recycled: what port b sent is fed back into port a's receive ring, so no
// buffer is allocated or freed in the loop. Argument `flows`: 1 (every frame A -> B, the
// best case for the learn stage, which folds consecutive equal sources) or 32 (32 sources
// behind a, 32 destinations behind b, all learned: 32 keys per bulk lookup).

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include <stdexcept>
#include <string>

#include "micro.hh"
#include "tables/fdb.hh"
#include "testing/dpdk_env.hh"
#include "worker/worker.hh"

namespace vx::bench {
namespace {

constexpr uint16_t port_a = 0;
constexpr uint16_t port_b = 1;
constexpr unsigned ring_size = 256;

void check(int rc, const char* what) {
    if (rc < 0) {
        throw std::runtime_error(std::string(what) + ": " + rte_strerror(-rc));
    }
}

// A net_ring ethdev with one RX and one TX queue, whose rings the benchmark feeds and drains.
struct ring_port {
    rte_ring* rx = nullptr;
    rte_ring* tx = nullptr;
    uint16_t id = 0;

    explicit ring_port(const std::string& name) {
        rx = rte_ring_create((name + "_rx").c_str(), ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        tx = rte_ring_create((name + "_tx").c_str(), ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (rx == nullptr || tx == nullptr) {
            throw std::runtime_error("cannot create the rings of " + name);
        }
        const int port = rte_eth_from_rings(name.c_str(), &rx, 1, &tx, 1, SOCKET_ID_ANY);
        check(port, "rte_eth_from_rings");
        id = static_cast<uint16_t>(port);
        const rte_eth_conf conf{};
        check(rte_eth_dev_configure(id, 1, 1, &conf), "configure");
        check(rte_eth_rx_queue_setup(id, 0, ring_size, SOCKET_ID_ANY, nullptr, testing::test_pool()), "rx queue");
        check(rte_eth_tx_queue_setup(id, 0, ring_size, SOCKET_ID_ANY, nullptr), "tx queue");
        check(rte_eth_dev_start(id), "start");
    }
};

config::model two_access_ports() {
    config::model m;
    for (const char* name : {"a", "b"}) {
        config::port p;
        p.name = name;
        p.device = "ring";
        m.ports.push_back(p);
    }
    return m;
}

// Two ports, an fdb that knows every MAC, a worker polling port a. Built once per process.
struct two_port_switch {
    ring_port a{"bench_a"};
    ring_port b{"bench_b"};
    fdb macs{fdb::params{"bench_pipeline_fdb", 1024, 0, nullptr, SOCKET_ID_ANY}};
    snapshot_holder state{nullptr};
    coarse_clock clock;
    std::unique_ptr<worker> poller;

    static two_port_switch& get() {
        testing::start_eal();
        static two_port_switch s;
        return s;
    }

    two_port_switch() {
        auto snap = std::make_unique<snapshot>();
        snap->l2 = l2_tables::build(two_access_ports());
        snap->device = {a.id, b.id};
        snap->names = {"a", "b"};
        snap->polls = {{{port_a, 0}}};
        const uint16_t bd = snap->l2.bd_of_vlan[1];
        state.publish(std::move(snap));
        for (uint64_t i = 0; i < burst_size; ++i) {
            macs.learn(fdb_key::make(source(i), bd), port_a, 0);
            macs.learn(fdb_key::make(destination(i), bd), port_b, 0);
        }
        const worker_shared shared{&state, &macs, nullptr, testing::test_pool(), &clock, 0};
        poller = std::make_unique<worker>(0, shared);
    }

    static mac_addr source(uint64_t i) { return unicast_mac(i); }
    static mac_addr destination(uint64_t i) { return unicast_mac(burst_size + i); }
};

// Feeds a burst of frames into port a, runs `forward` (which must move them to port b's
// transmit ring), and takes them back for the next iteration.
template <class Forward>
void recycle(benchmark::State& state, Forward forward) {
    auto& s = two_port_switch::get();
    const auto flows = static_cast<uint64_t>(state.range(0));
    std::array<rte_mbuf*, burst_size> pkts;
    for (uint64_t i = 0; i < burst_size; ++i) {
        pkts[i] = testing::make_mbuf(testing::frame(two_port_switch::destination(i % flows).to_string(),
                                                    two_port_switch::source(i % flows).to_string()));
    }
    for (auto _ : state) {
        rte_ring_sp_enqueue_burst(s.a.rx, reinterpret_cast<void* const*>(pkts.data()), burst_size, nullptr);
        forward(s);
        if (rte_ring_sc_dequeue_burst(s.b.tx, reinterpret_cast<void**>(pkts.data()), burst_size, nullptr) !=
            burst_size) {
            state.SkipWithError("frames were not forwarded to port b");
            return; // the frames are lost to this process; the run has failed anyway
        }
    }
    rte_pktmbuf_free_bulk(pkts.data(), burst_size);
    report_items(state, burst_size);
}

void pipeline(benchmark::State& state) {
    recycle(state, [](two_port_switch& s) { s.poller->poll_once(); });
}

void baseline_io(benchmark::State& state) {
    recycle(state, [](two_port_switch& s) {
        std::array<rte_mbuf*, burst_size> pkts;
        const uint16_t n = rte_eth_rx_burst(s.a.id, 0, pkts.data(), burst_size);
        rte_eth_tx_burst(s.b.id, 0, pkts.data(), n);
    });
}

BENCHMARK(pipeline)->Name("pipeline/l2_unicast")->ArgName("flows")->Arg(1)->Arg(burst_size);
BENCHMARK(baseline_io)->Name("pipeline/baseline_ring_io")->ArgName("flows")->Arg(1)->Arg(burst_size);

} // namespace
} // namespace vx::bench

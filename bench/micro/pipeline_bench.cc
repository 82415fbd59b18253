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

#include <rte_ethdev.h>
#include <rte_ring.h>

#include <string>

#include "micro.hh"
#include "ring_switch.hh"

namespace vx::bench {
namespace {

constexpr std::string_view two_access_ports = R"(ports:
  - { name: a, device: ring_a, vlan: 1 }
  - { name: b, device: ring_b, vlan: 1 }
)";

// Two access ports, an fdb that knows every MAC, a worker polling port a. Built once per process.
struct two_port_switch : ring_switch {
    static two_port_switch& get() {
        return only_switch<two_port_switch>("l2", [] { return std::make_unique<two_port_switch>(); });
    }

    two_port_switch() : ring_switch("bench_l2", std::string(two_access_ports)) {
        const uint16_t bd = tables().l2.bd_of_vlan[1];
        for (uint64_t i = 0; i < burst_size; ++i) {
            macs.learn(fdb_key::make(source(i), bd), port_a, 0);
            macs.learn(fdb_key::make(destination(i), bd), port_b, 0);
        }
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

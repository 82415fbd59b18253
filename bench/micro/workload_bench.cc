// SPDX-License-Identifier: MIT
// The pipeline of each workload of vxbench, per frame, without the ports' cost: a worker polls
// net_ring port a and forwards a burst of 32 frames of 64 bytes (60 without FCS) to net_ring
// port b, through worker::poll_once() (rx burst, every stage, tx burst, counters):
//
//   untagged      access -> access                  (parse, classify, learn, lookup, forward)
//   vlan_push     access -> 802.1Q trunk             (+ push a tag)
//   vlan_pop      802.1Q trunk -> access             (+ pop it)
//   qinq_push     customer port -> S-tag trunk       (C-tagged in, S-tag pushed over it)
//   qinq_pop      S-tag trunk -> customer port       (S-tag popped, C-tag kept)
//   vxlan_encap   access -> underlay, to a MAC learned against a remote VTEP (IPv4)
//   vxlan_decap   underlay -> access, VXLAN from a known remote VTEP (IPv4; the inner source
//                 is learned against it, so the learn check runs too)
//   baseline_restore_io   the same ring I/O and frame restore as every row, nothing else
//
// Every frame is edited in place (tags, outer headers), so before each burst the benchmark puts
// every buffer back as it first arrived: data offset, lengths, and its first 32 bytes (a tag
// push or pop moves the MACs by 4 bytes; encapsulation writes in front of the frame and
// decapsulation only moves the offset). That restore is inside every row and alone in
// baseline_restore_io, so row - baseline is the switch's own cost per frame, and rows compare
// with each other directly ("802.1Q and QinQ within 10 % of untagged"). Each burst that comes
// out must have the length the workload gives it (a tag more or less, 50 bytes of outer
// headers more or less), or the benchmark fails.
// Argument `flows`: 1 (one source and one destination MAC) or 32 (32 of each per burst).

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <array>
#include <cstring>
#include <functional>
#include <map>
#include <string>

#include "micro.hh"
#include "packet/vxlan.hh"
#include "ring_switch.hh"

namespace vx::bench {
namespace {

using testing::bytes;

constexpr uint16_t vlan = 10;  // the domain every workload switches in
constexpr uint16_t c_vlan = 20; // QinQ: the customers' C-VLAN inside S-VLAN `vlan`
constexpr uint32_t vni = 42;
const char* const local_vtep = "192.0.2.1";
const char* const remote_vtep = "192.0.2.2";

mac_addr source(uint64_t i) {
    return unicast_mac(i);
}
mac_addr destination(uint64_t i) {
    return unicast_mac(burst_size + i);
}

// How one workload is set up: its two ports (a receives, b sends), the tags of the frames that
// enter on a, and whether they arrive VXLAN-encapsulated.
struct workload {
    std::string ports;
    std::vector<testing::tag> tags_in;
    std::string vxlan; // a vxlan: section; empty: none
    enum class side : uint8_t { none, encap, decap } tunnel = side::none;
    int growth = 0; // bytes each frame gains (or loses) on its way from a to b
};

std::string vxlan_section(const char* underlay) {
    return std::string("vxlan:\n  underlay: ") + underlay + "\n  address: " + local_vtep +
           "\n  next_hop_mac: 02:00:00:00:a0:02\n  vnis:\n    - { vni: 42, vlan: 10, remotes: [" + remote_vtep +
           "] }\n";
}

// One line of a ports: section: port `name` on a net_ring device, with its mode keys.
std::string port_line(const char* name, const char* keys) {
    return std::string("  - { name: ") + name + ", device: ring_" + name + ", " + keys + " }\n";
}

workload switched(const char* a_keys, const char* b_keys, int growth, std::vector<testing::tag> tags_in = {}) {
    return {port_line("a", a_keys) + port_line("b", b_keys), std::move(tags_in), "", workload::side::none, growth};
}

// VXLAN: port a or b is the underlay (MTU room for the outer headers), the other an access port.
workload tunnelled(workload::side tunnel) {
    const bool encap = tunnel == workload::side::encap;
    const char* const access = "vlan: 10";
    const char* const underlay = "mtu: 1600";
    const int overhead = vxlan::ipv4_overhead;
    return {port_line("a", encap ? access : underlay) + port_line("b", encap ? underlay : access), {},
            vxlan_section(encap ? "b" : "a"), tunnel, encap ? overhead : -overhead};
}

const std::map<std::string, workload>& workloads() {
    static const std::map<std::string, workload> all{
        {"untagged", switched("vlan: 10", "vlan: 10", 0)},
        {"vlan_push", switched("vlan: 10", "mode: trunk, vlans: [10]", 4)},
        {"vlan_pop", switched("mode: trunk, vlans: [10]", "vlan: 10", -4, {{0x8100, vlan}})},
        {"qinq_push", switched("mode: customer, s_vlan: 10", "mode: s-trunk, vlans: [10]", 4, {{0x8100, c_vlan}})},
        {"qinq_pop", switched("mode: s-trunk, vlans: [10]", "mode: customer, s_vlan: 10", -4,
                              {{0x88a8, vlan}, {0x8100, c_vlan}})},
        {"vxlan_encap", tunnelled(workload::side::encap)},
        {"vxlan_decap", tunnelled(workload::side::decap)},
    };
    return all;
}

// The frame `i` of a burst as it enters port a.
bytes input_frame(const workload& w, uint64_t i) {
    bytes inner = testing::frame(destination(i).to_string(), source(i).to_string(), w.tags_in);
    if (w.tunnel != workload::side::decap) {
        return inner;
    }
    vxlan::outer_template t;
    t.src_mac = mac_addr::from_u64(0x02000000a002);
    t.dst_mac = underlay_mac;
    t.src_ip = testing::ip(remote_vtep);
    t.dst_ip = testing::ip(local_vtep);
    bytes f(t.overhead(), 0);
    f.insert(f.end(), inner.begin(), inner.end());
    vxlan::write_outer(f.data(), t, vni, vxlan::source_port(inner.data(), static_cast<uint32_t>(inner.size())),
                       static_cast<uint16_t>(inner.size()));
    return f;
}

// One switch per workload, built when its first benchmark runs, with every MAC of the workload known:
// sources behind a (or behind the remote VTEP, for decap), destinations behind b (or the remote).
struct workload_switch : ring_switch {
    static workload_switch& get(const std::string& name) {
        return only_switch<workload_switch>(name, [&] {
            return std::make_unique<workload_switch>(name, workloads().at(name));
        });
    }

    workload_switch(const std::string& name, const workload& w)
        : ring_switch("bench_" + name, "ports:\n" + w.ports + w.vxlan) {
        const auto& t = tables();
        const uint16_t bd = t.l2.bd_of_vlan[vlan];
        uint16_t from = port_a;
        uint16_t to = port_b;
        if (w.tunnel != workload::side::none) {
            const uint16_t remote = remote_port_base + t.vxlan.remote_of(testing::ip(remote_vtep)).value();
            (w.tunnel == workload::side::encap ? to : from) = remote;
        }
        for (uint64_t i = 0; i < burst_size; ++i) {
            macs.learn(fdb_key::make(source(i), bd), from, 0);
            macs.learn(fdb_key::make(destination(i), bd), to, 0);
        }
    }
};

// A burst of buffers and what each holds when it enters port a.
struct recycled_burst {
    static constexpr uint16_t edited_bytes = 32;
    std::array<rte_mbuf*, burst_size> pkts{};
    std::array<std::array<uint8_t, edited_bytes>, burst_size> head{};
    std::array<uint16_t, burst_size> len{};

    recycled_burst(const workload& w, uint64_t flows) {
        for (uint64_t i = 0; i < burst_size; ++i) {
            const bytes f = input_frame(w, i % flows);
            std::memcpy(head[i].data(), f.data(), edited_bytes);
            len[i] = static_cast<uint16_t>(f.size());
            pkts[i] = testing::make_mbuf(f);
        }
    }
    ~recycled_burst() { rte_pktmbuf_free_bulk(pkts.data(), burst_size); }
    recycled_burst(const recycled_burst&) = delete;
    recycled_burst& operator=(const recycled_burst&) = delete;

    void restore() {
        for (uint64_t i = 0; i < burst_size; ++i) {
            rte_mbuf* m = pkts[i];
            m->data_off = RTE_PKTMBUF_HEADROOM;
            m->data_len = len[i];
            m->pkt_len = len[i];
            std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), head[i].data(), edited_bytes);
        }
    }
    bool grew_by(int growth) const {
        for (uint64_t i = 0; i < burst_size; ++i) {
            if (static_cast<int>(pkts[i]->pkt_len) != len[i] + growth) {
                return false;
            }
        }
        return true;
    }
};

// Restores the burst, puts it into port a's receive ring, runs `forward` (which must move every
// frame to port b's transmit ring, `growth` bytes longer) and takes the frames back.
void run(benchmark::State& state, ring_switch& s, recycled_burst& frames, int growth,
         const std::function<void()>& forward) {
    for (auto _ : state) {
        frames.restore();
        rte_ring_sp_enqueue_burst(s.a.rx, reinterpret_cast<void* const*>(frames.pkts.data()), burst_size, nullptr);
        forward();
        if (rte_ring_sc_dequeue_burst(s.b.tx, reinterpret_cast<void**>(frames.pkts.data()), burst_size, nullptr) !=
            burst_size) {
            state.SkipWithError("frames were not forwarded to port b");
            return;
        }
    }
    if (!frames.grew_by(growth)) {
        state.SkipWithError("frames left port b with the wrong length: the workload did not do its edit");
    }
    report_items(state, burst_size);
}

void pipeline_of(benchmark::State& state, const std::string& name) {
    auto& s = workload_switch::get(name);
    const workload& w = workloads().at(name);
    recycled_burst frames(w, static_cast<uint64_t>(state.range(0)));
    run(state, s, frames, w.growth, [&] { s.poller->poll_once(); });
}

void baseline_restore_io(benchmark::State& state) {
    auto& s = workload_switch::get("untagged");
    recycled_burst frames(workloads().at("untagged"), static_cast<uint64_t>(state.range(0)));
    run(state, s, frames, 0, [&] {
        std::array<rte_mbuf*, burst_size> pkts;
        const uint16_t n = rte_eth_rx_burst(s.a.id, 0, pkts.data(), burst_size);
        rte_eth_tx_burst(s.b.id, 0, pkts.data(), n);
    });
}

void flows(benchmark::internal::Benchmark* b) {
    b->ArgName("flows")->Arg(1)->Arg(burst_size);
}

[[maybe_unused]] const bool registered = [] {
    for (const auto& [name, w] : workloads()) {
        benchmark::RegisterBenchmark(("workload/" + name).c_str(),
                                     [name = name](benchmark::State& st) { pipeline_of(st, name); })
            ->Apply(flows);
    }
    benchmark::RegisterBenchmark("workload/baseline_restore_io", baseline_restore_io)->Apply(flows);
    return true;
}();

} // namespace
} // namespace vx::bench

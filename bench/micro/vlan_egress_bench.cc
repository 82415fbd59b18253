// SPDX-License-Identifier: MIT
// vlan_egress: the tag edit a frame gets on its way out, per frame.
//
//   keep      untagged in, untagged out (access to access): nothing to do; the floor
//   pop       802.1Q in, untagged out (trunk to access)
//   push      untagged in, 802.1Q out (access to trunk)
//   rewrite   802.1Q VID 10 in, VID 20 out (VLAN translation between trunks)
// Baselines: DPDK's software equivalents, rte_vlan_strip() and rte_vlan_insert(), which do
// the same 12-byte move but also fill the mbuf's vlan_tci and offload flags.
//
// Each frame is edited in place, so every iteration first puts it back as it arrived
// (data offset, lengths, first 18 bytes): that restore is inside every figure, `keep`
// included, so differences between the rows are the edits themselves.

#include <rte_ether.h>

#include <array>
#include <cstring>

#include "micro.hh"
#include "stages/parse.hh"
#include "stages/vlan_egress.hh"
#include "testing/dpdk_env.hh"

namespace vx::bench {
namespace {

constexpr uint16_t tpid = 0x8100;
constexpr size_t saved_bytes = ether_header_len + vlan_tag_len;

enum class edit : int64_t { keep, pop, push, rewrite };

// A burst of frames, each with its parsed header and what it looked like on arrival.
class frames {
public:
    explicit frames(bool tagged) {
        const std::vector<testing::tag> tags = tagged ? std::vector<testing::tag>{{tpid, 10}} : std::vector<testing::tag>{};
        for (size_t i = 0; i < _mbufs.size(); ++i) {
            rte_mbuf* m = testing::make_mbuf(testing::frame("02:00:00:00:00:01", unicast_mac(i).to_string(), tags));
            _mbufs[i] = m;
            _header[i] = parse_l2(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), tpid).header;
            _data_off = m->data_off;
            _len = rte_pktmbuf_data_len(m);
            std::memcpy(_saved[i].data(), rte_pktmbuf_mtod(m, const uint8_t*), saved_bytes);
        }
    }
    ~frames() { rte_pktmbuf_free_bulk(_mbufs.data(), static_cast<unsigned>(_mbufs.size())); }
    frames(const frames&) = delete;
    frames& operator=(const frames&) = delete;

    // Runs op(mbuf, header) on every frame of the burst, once per iteration.
    template <class Op>
    void run(benchmark::State& state, Op op) {
        for (auto _ : state) {
            for (size_t i = 0; i < _mbufs.size(); ++i) {
                restore(i);
                op(_mbufs[i], _header[i]);
            }
            benchmark::ClobberMemory();
        }
        report_items(state, burst_size);
    }

private:
    void restore(size_t i) {
        rte_mbuf* m = _mbufs[i];
        m->data_off = _data_off;
        m->data_len = _len;
        m->pkt_len = _len;
        std::memcpy(rte_pktmbuf_mtod(m, uint8_t*), _saved[i].data(), saved_bytes);
    }

    std::array<rte_mbuf*, burst_size> _mbufs{};
    std::array<l2_header, burst_size> _header{};
    std::array<std::array<uint8_t, saved_bytes>, burst_size> _saved{};
    uint16_t _data_off = 0;
    uint16_t _len = 0;
};

void vlan_edit(benchmark::State& state) {
    static constexpr std::array names{"keep", "pop", "push", "rewrite"};
    const auto e = static_cast<edit>(state.range(0));
    frames f(e == edit::pop || e == edit::rewrite);
    const egress_rule rule = e == edit::keep || e == edit::pop ? egress_rule::untagged() : egress_rule::tagged(20);
    f.run(state, [&](rte_mbuf* m, const l2_header& h) {
        if (!vlan_egress(m, h, rule, tpid)) {
            state.SkipWithError("no headroom");
        }
    });
    state.SetLabel(names[static_cast<size_t>(e)]);
}

void baseline_strip(benchmark::State& state) {
    frames f(true);
    f.run(state, [&](rte_mbuf* m, const l2_header&) {
        if (rte_vlan_strip(m) != 0) {
            state.SkipWithError("rte_vlan_strip found no tag");
        }
    });
}

void baseline_insert(benchmark::State& state) {
    frames f(false);
    f.run(state, [&](rte_mbuf* m, const l2_header&) {
        m->vlan_tci = 20;
        if (rte_vlan_insert(&m) != 0) {
            state.SkipWithError("rte_vlan_insert refused");
        }
    });
}

BENCHMARK(vlan_edit)
    ->Name("vlan_egress/edit")
    ->ArgName("edit")
    ->DenseRange(static_cast<int64_t>(edit::keep), static_cast<int64_t>(edit::rewrite));
BENCHMARK(baseline_strip)->Name("vlan_egress/baseline_rte_vlan_strip");
BENCHMARK(baseline_insert)->Name("vlan_egress/baseline_rte_vlan_insert");

} // namespace
} // namespace vx::bench

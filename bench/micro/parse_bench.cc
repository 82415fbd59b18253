// SPDX-License-Identifier: MIT
// parse: vx::parse_l2 over a burst of 32 frames of one shape, per frame.
//
// Three views of the same work, from the innermost out:
//   parse_l2      the function alone, on the frames' bytes;
//   parse_stage   the pipeline stage over a burst of mbufs (adds the mbuf reads, the
//                 per-packet verdict and the rx counters);
//   rte_net_ptype the baseline: DPDK's own software L2 parser, rte_net_get_ptype() limited
//                 to L2, on the same mbufs. It reads one 802.1Q tag or one 802.1ad + 802.1Q
//                 pair, as parse_l2 does.
// Shapes: untagged, 802.1Q, QinQ (S-tag 0x88a8 + C-tag on a port whose TPID is 0x88a8: only
// the outer tag is the switch's), and two 0x8100 tags (the two-tag path of parse_l2).

#include <rte_net.h>

#include <array>
#include <string>

#include "micro.hh"
#include "stages/parse.hh"
#include "testing/dpdk_env.hh"

namespace vx::bench {
namespace {

enum class shape : int64_t { untagged, dot1q, qinq, double_dot1q };

struct frames {
    std::array<rte_mbuf*, burst_size> mbufs{};
    uint16_t tpid = 0x8100; // the ingress port's

    explicit frames(shape s) {
        std::vector<testing::tag> tags;
        switch (s) {
        case shape::untagged:
            break;
        case shape::dot1q:
            tags = {{0x8100, 10}};
            break;
        case shape::qinq:
            tags = {{0x88a8, 100}, {0x8100, 10}};
            tpid = 0x88a8;
            break;
        case shape::double_dot1q:
            tags = {{0x8100, 100}, {0x8100, 10}};
            break;
        }
        for (size_t i = 0; i < mbufs.size(); ++i) {
            const auto src = unicast_mac(i).to_string();
            mbufs[i] = testing::make_mbuf(testing::frame("02:00:00:00:00:01", src, tags));
        }
    }
    ~frames() { rte_pktmbuf_free_bulk(mbufs.data(), static_cast<unsigned>(mbufs.size())); }
    frames(const frames&) = delete;
    frames& operator=(const frames&) = delete;
};

void set_label(benchmark::State& state) {
    static constexpr std::array names{"untagged", "802.1Q", "QinQ", "2x802.1Q"};
    state.SetLabel(names[static_cast<size_t>(state.range(0))]);
}

void parse_l2_fn(benchmark::State& state) {
    const frames f(static_cast<shape>(state.range(0)));
    for (auto _ : state) {
        for (rte_mbuf* m : f.mbufs) {
            benchmark::DoNotOptimize(parse_l2(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), f.tpid));
        }
    }
    report_items(state, burst_size);
    set_label(state);
}

void parse_stage(benchmark::State& state) {
    const frames f(static_cast<shape>(state.range(0)));
    snapshot snap;
    snap.l2.ports.resize(1);
    snap.l2.ports[0].tpid = f.tpid;
    auto counters = std::make_unique<worker_counter_block>();
    worker_ctx ctx;
    ctx.state = &snap;
    ctx.counters = counters.get();
    burst b;
    std::copy(f.mbufs.begin(), f.mbufs.end(), b.pkts.begin());
    b.count = burst_size;
    const parse stage;
    for (auto _ : state) {
        stage.process(b, ctx);
        benchmark::ClobberMemory();
    }
    report_items(state, burst_size);
    set_label(state);
}

void rte_net_ptype(benchmark::State& state) {
    const frames f(static_cast<shape>(state.range(0)));
    for (auto _ : state) {
        for (rte_mbuf* m : f.mbufs) {
            rte_net_hdr_lens lens;
            benchmark::DoNotOptimize(rte_net_get_ptype(m, &lens, RTE_PTYPE_L2_MASK));
        }
    }
    report_items(state, burst_size);
    set_label(state);
}

void shapes(benchmark::internal::Benchmark* b) {
    for (auto s : {shape::untagged, shape::dot1q, shape::qinq, shape::double_dot1q}) {
        b->Arg(static_cast<int64_t>(s));
    }
}

BENCHMARK(parse_l2_fn)->Name("parse/parse_l2")->Apply(shapes);
BENCHMARK(parse_stage)->Name("parse/stage")->Apply(shapes);
BENCHMARK(rte_net_ptype)->Name("parse/baseline_rte_net_get_ptype")->Apply(shapes);

} // namespace
} // namespace vx::bench

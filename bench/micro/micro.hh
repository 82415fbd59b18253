// SPDX-License-Identifier: MIT
#pragma once

// What the micro-benchmarks share: how a per-frame (or per-key) cost is reported, and a
// deterministic source of distinct unicast MACs.
//
// Every benchmark processes a fixed number of items per iteration (a burst of 32 frames,
// 32 keys) and reports it twice: items_per_second (Google Benchmark's own), and
// `ns_per_item`, the inverse, printed with an SI suffix ("2.1n" = 2.1 ns). Numbers from
// different benchmarks of this binary are therefore directly comparable per frame.

#include <benchmark/benchmark.h>

#include <cstdint>

#include "packet/ether.hh"

namespace vx::bench {

inline constexpr int64_t burst_size = 32;

inline void report_items(benchmark::State& state, int64_t items_per_iteration) {
    state.SetItemsProcessed(state.iterations() * items_per_iteration);
    state.counters["ns_per_item"] = benchmark::Counter(
        static_cast<double>(items_per_iteration),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// The i-th of 2^47 distinct unicast MACs, scattered over the address space (a multiply by
// an odd constant is a bijection modulo 2^47), so that consecutive i do not share hash
// buckets or cache lines. The I/G bit (bit 40 of the 48) is kept clear.
constexpr mac_addr unicast_mac(uint64_t i) {
    constexpr uint64_t mask47 = (uint64_t{1} << 47) - 1;
    const uint64_t v = ((i + 1) * 0x9e3779b97f4b) & mask47;
    const uint64_t low40 = v & ((uint64_t{1} << 40) - 1);
    return mac_addr::from_u64(low40 | ((v >> 40) << 41));
}
static_assert(!unicast_mac(0).is_group() && !unicast_mac(12345).is_group());
static_assert(unicast_mac(1) != unicast_mac(2));

} // namespace vx::bench

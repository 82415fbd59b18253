// SPDX-License-Identifier: MIT
// fdb: lookups and learning at table sizes that fit in L1/L2 (1K), in L2/L3 (64K) and in
// none of them (1M, the default capacity), with keys picked at random among the entries so
// that the cost of cache misses shows.
//
//   lookup_bulk        fdb::lookup_bulk of 32 keys (what fdb_lookup and fdb_learn do per burst)
//   lookup_one         32 calls of fdb::lookup_bulk with one key each (a per-packet design)
//   unordered_map      baseline: 32 std::unordered_map<uint64_t, uint64_t>::find
//   learn              fdb::learn of every key into an empty table (the learner's insert rate)
//   unordered_map_insert  baseline: emplace of every key into a reserved unordered_map
//
// Arguments: entries, and the table's capacity (equal to entries, except one run of 1K
// entries in the default 1M table: a small network in a large table touches a bucket
// array far larger than its keys).

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <unordered_map>
#include <vector>

#include "micro.hh"
#include "tables/fdb.hh"
#include "testing/dpdk_env.hh"

namespace vx::bench {
namespace {

constexpr uint16_t egress_port = 1;

fdb_key key_of(uint64_t i) {
    return fdb_key::make(unicast_mac(i), 0);
}

std::unique_ptr<fdb> empty_fdb(uint32_t capacity) {
    static int instance = 0;
    testing::start_eal();
    return std::make_unique<fdb>(fdb::params{"bench_fdb" + std::to_string(instance++), capacity, 0, nullptr, -1});
}

// A table holding `entries` keys, and the same keys in a random order to probe it with.
// Built once per (entries, capacity) and kept: filling a million entries takes a while.
struct filled_table {
    std::unique_ptr<fdb> table;
    std::unordered_map<uint64_t, uint64_t> baseline;
    std::vector<fdb_key> probes; // a multiple of burst_size long

    static const filled_table& get(uint32_t entries, uint32_t capacity) {
        static std::map<std::pair<uint32_t, uint32_t>, std::unique_ptr<filled_table>> cache;
        auto& slot = cache[{entries, capacity}];
        if (!slot) {
            slot = std::make_unique<filled_table>(entries, capacity);
        }
        return *slot;
    }

    filled_table(uint32_t entries, uint32_t capacity) : table(empty_fdb(capacity)) {
        baseline.reserve(entries);
        for (uint32_t i = 0; i < entries; ++i) {
            table->learn(key_of(i), egress_port, 0);
            baseline.emplace(key_of(i).raw, egress_port);
        }
        std::vector<uint32_t> order(std::max<uint32_t>(entries, burst_size) / burst_size * burst_size);
        std::iota(order.begin(), order.end(), 0);
        std::shuffle(order.begin(), order.end(), std::mt19937_64{42});
        for (uint32_t i : order) {
            probes.push_back(key_of(i % entries));
        }
    }
};

const filled_table& table_for(const benchmark::State& state) {
    return filled_table::get(static_cast<uint32_t>(state.range(0)), static_cast<uint32_t>(state.range(1)));
}

// Runs `probe` on consecutive groups of burst_size keys, cycling through the probe order.
template <class Probe>
void over_bursts(benchmark::State& state, const std::vector<fdb_key>& probes, Probe probe) {
    size_t at = 0;
    for (auto _ : state) {
        probe(&probes[at]);
        at += burst_size;
        if (at == probes.size()) {
            at = 0;
        }
    }
    report_items(state, burst_size);
}

void lookup_bulk(benchmark::State& state) {
    const auto& t = table_for(state);
    std::array<fdb_hit, burst_size> hits;
    over_bursts(state, t.probes, [&](const fdb_key* keys) {
        if (t.table->lookup_bulk(keys, burst_size, hits.data()) != ~uint64_t{0} >> (64 - burst_size)) {
            state.SkipWithError("a key that was learned missed");
        }
        benchmark::DoNotOptimize(hits);
    });
}

void lookup_one(benchmark::State& state) {
    const auto& t = table_for(state);
    over_bursts(state, t.probes, [&](const fdb_key* keys) {
        for (int64_t i = 0; i < burst_size; ++i) {
            fdb_hit hit;
            benchmark::DoNotOptimize(t.table->lookup_bulk(&keys[i], 1, &hit));
            benchmark::DoNotOptimize(hit);
        }
    });
}

void unordered_map_find(benchmark::State& state) {
    const auto& t = table_for(state);
    over_bursts(state, t.probes, [&](const fdb_key* keys) {
        for (int64_t i = 0; i < burst_size; ++i) {
            benchmark::DoNotOptimize(t.baseline.find(keys[i].raw)->second);
        }
    });
}

void learn(benchmark::State& state) {
    const auto entries = static_cast<uint32_t>(state.range(0));
    for (auto _ : state) {
        state.PauseTiming();
        auto table = empty_fdb(static_cast<uint32_t>(state.range(1)));
        state.ResumeTiming();
        for (uint32_t i = 0; i < entries; ++i) {
            if (table->learn(key_of(i), egress_port, 0).outcome != learn_outcome::added) {
                state.SkipWithError("learn refused a key below capacity");
                break;
            }
        }
        state.PauseTiming();
        table.reset();
        state.ResumeTiming();
    }
    report_items(state, entries);
}

void unordered_map_insert(benchmark::State& state) {
    const auto entries = static_cast<uint32_t>(state.range(0));
    for (auto _ : state) {
        state.PauseTiming();
        auto map = std::make_unique<std::unordered_map<uint64_t, uint64_t>>();
        map->reserve(entries);
        state.ResumeTiming();
        for (uint32_t i = 0; i < entries; ++i) {
            map->emplace(key_of(i).raw, egress_port);
        }
        state.PauseTiming();
        map.reset();
        state.ResumeTiming();
    }
    report_items(state, entries);
}

constexpr std::array<int64_t, 3> entry_counts{1 << 10, 1 << 16, 1 << 20};

// Tables filled to capacity.
void full_tables(benchmark::internal::Benchmark* b) {
    b->ArgNames({"entries", "capacity"});
    for (int64_t n : entry_counts) {
        b->Args({n, n});
    }
}

// The same, plus a small network in the default-sized table. Learning has no such case: it
// would time 1K inserts against building a 1M table for each of them.
void lookup_tables(benchmark::internal::Benchmark* b) {
    full_tables(b);
    b->Args({1 << 10, 1 << 20});
}

BENCHMARK(lookup_bulk)->Name("fdb/lookup_bulk")->Apply(lookup_tables);
BENCHMARK(lookup_one)->Name("fdb/lookup_one")->Apply(lookup_tables);
BENCHMARK(unordered_map_find)->Name("fdb/baseline_unordered_map_find")->Apply(lookup_tables);
BENCHMARK(learn)->Name("fdb/learn")->Apply(full_tables)->Unit(benchmark::kMicrosecond);
BENCHMARK(unordered_map_insert)
    ->Name("fdb/baseline_unordered_map_insert")
    ->ArgName("entries")
    ->Arg(entry_counts[0])
    ->Arg(entry_counts[1])
    ->Arg(entry_counts[2])
    ->Unit(benchmark::kMicrosecond);

} // namespace
} // namespace vx::bench

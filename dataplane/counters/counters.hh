// SPDX-License-Identifier: MIT
#pragma once

// Counters are per worker, plain uint64_t in cache-line aligned blocks: a worker writes
// only its own block, with no atomics; readers (the control thread) sum over workers and
// accept a value that is a few packets stale. The names and help texts come from
// counters.def, so the enum and what is printed can never disagree.

#include <array>
#include <cstdint>
#include <string_view>

#include "bpf/steer_common.h" // the XDP steering program's decision counters (VX_STEER_COUNTERS)

namespace vx {

inline constexpr uint16_t max_ports = 256;

enum class drop_reason : uint8_t {
#define VX_DROP(name, help) name,
#include "counters/counters.def"
};
enum class port_counter : uint8_t {
#define VX_PORT_COUNTER(name, help) name,
#include "counters/counters.def"
};
enum class worker_counter : uint8_t {
#define VX_WORKER_COUNTER(name, help) name,
#include "counters/counters.def"
};

struct counter_info {
    std::string_view name;
    std::string_view help;
};

inline constexpr std::array drop_reasons{
#define VX_DROP(name, help) counter_info{#name, help},
#include "counters/counters.def"
};
inline constexpr std::array port_counters{
#define VX_PORT_COUNTER(name, help) counter_info{#name, help},
#include "counters/counters.def"
};
inline constexpr std::array worker_counters{
#define VX_WORKER_COUNTER(name, help) counter_info{#name, help},
#include "counters/counters.def"
};

// The decisions of the XDP steering program of af_xdp ports (bpf/steer.bpf.c), indexed by
// enum vx_steer_counter: per-CPU counters in a BPF map, which the daemon sums (ports/xdp_steer).
inline constexpr std::array<counter_info, VX_CNT_COUNT> steer_counters{{
#define VX_X(id, name, help) counter_info{name, help},
    VX_STEER_COUNTERS(VX_X)
#undef VX_X
}};

inline constexpr size_t drop_reason_count = drop_reasons.size();
inline constexpr size_t port_counter_count = port_counters.size();
inline constexpr size_t worker_counter_count = worker_counters.size();

constexpr counter_info info(drop_reason r) {
    return drop_reasons[static_cast<size_t>(r)];
}

struct alignas(64) port_counter_block {
    std::array<uint64_t, port_counter_count> counter{};
    std::array<uint64_t, drop_reason_count> drops{};

    void add(port_counter c, uint64_t n = 1) { counter[static_cast<size_t>(c)] += n; }
    void drop(drop_reason r, uint64_t n = 1) { drops[static_cast<size_t>(r)] += n; }
    uint64_t get(port_counter c) const { return counter[static_cast<size_t>(c)]; }
    uint64_t get(drop_reason r) const { return drops[static_cast<size_t>(r)]; }
};

// Everything one worker counts. Lives in the worker's own memory; never shared for writing.
struct alignas(64) worker_counter_block {
    std::array<uint64_t, worker_counter_count> counter{};
    std::array<port_counter_block, max_ports> ports{};

    void add(worker_counter c, uint64_t n = 1) { counter[static_cast<size_t>(c)] += n; }
    uint64_t get(worker_counter c) const { return counter[static_cast<size_t>(c)]; }
};

} // namespace vx

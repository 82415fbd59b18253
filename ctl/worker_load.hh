// SPDX-License-Identifier: MIT
#pragma once

// A poll-mode worker's load from its cycle and packet counters: the daemon reports it since
// start (or `counters clear`), vxctl over an interval of its own. One formula, both sides.

#include <nlohmann/json.hpp>

#include <cstdint>

namespace vx::ctl {

struct worker_sample {
    uint64_t busy_cycles = 0; // rounds that received frames
    uint64_t idle_cycles = 0; // empty rounds (time slept with idle_sleep_us is in neither)
    uint64_t packets = 0;
    uint64_t bursts = 0; // non-empty receive bursts
};

// busy_pct: share of polling cycles spent on rounds that found frames, the load a
// poll-mode core's 100 % CPU hides; cycles_per_packet over the busy cycles; null where a
// ratio has nothing to divide by.
inline nlohmann::json worker_load(const worker_sample& s) {
    const uint64_t polling = s.busy_cycles + s.idle_cycles;
    auto ratio = [](double a, uint64_t b) { return b == 0 ? nlohmann::json() : nlohmann::json(a / double(b)); };
    return {{"busy_pct", ratio(100.0 * double(s.busy_cycles), polling)},
            {"cycles_per_packet", ratio(double(s.busy_cycles), s.packets)},
            {"packets_per_burst", ratio(double(s.packets), s.bursts)}};
}

} // namespace vx::ctl

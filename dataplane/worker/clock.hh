// SPDX-License-Identifier: MIT
#pragma once

// The switch's coarse clock in whole seconds since start, from the TSC: cheap enough to
// read once per poll round, shared by workers (last-seen ticks) and the learner (aging).
// Construct it after rte_eal_init: the TSC rate is measured there.

#include <rte_cycles.h>

#include <cstdint>

namespace vx {

class coarse_clock {
public:
    coarse_clock() : _start(rte_get_tsc_cycles()), _hz(rte_get_tsc_hz()) {}
    uint32_t now_s() const { return static_cast<uint32_t>((rte_get_tsc_cycles() - _start) / _hz); }
    uint64_t hz() const { return _hz; }

private:
    uint64_t _start;
    uint64_t _hz;
};

} // namespace vx

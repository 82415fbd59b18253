// SPDX-License-Identifier: MIT
#pragma once

// learner: the fdb's single writer. Runs on the control thread.
//
// Drains the workers' learn rings into the fdb, logs MAC moves (MAC, VLAN, old and new
// port) and ages entries out once a second. Keeping every write here is what lets the
// workers read the table with no lock and learn with no more than a ring enqueue.

#include <cstdint>
#include <vector>

#include "tables/fdb.hh"
#include "worker/clock.hh"
#include "worker/snapshot.hh"

struct rte_ring;

namespace vx {

class learner {
public:
    learner(fdb& macs, const snapshot_holder& state, const coarse_clock& clock)
        : _macs(macs), _state(state), _clock(clock) {}

    void watch(rte_ring* ring) { _rings.push_back(ring); }
    // Applies every pending learn event; returns how many there were.
    size_t drain();
    // Ages entries out, at most once per second of the clock.
    void tick();

private:
    void log_move(fdb_key key, uint16_t from_port, uint16_t to_port) const;

    fdb& _macs;
    const snapshot_holder& _state;
    const coarse_clock& _clock;
    std::vector<rte_ring*> _rings;
    uint32_t _last_aging = 0;
};

} // namespace vx

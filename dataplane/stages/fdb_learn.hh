// SPDX-License-Identifier: MIT
#pragma once

// fdb_learn: tells the learner about source MACs that are new or have moved.
//
// In: l2[i].src, bd[i] of live frames. Out: learn events on the worker's ring; the burst is
// unchanged. One bulk lookup of all source keys; a hit on the ingress port only refreshes the
// entry's last-seen tick (at most one write a second per MAC). Consecutive frames of one
// source send one event, not one each. Counters: learn_events, learn_queue_full,
// static_mac_conflict (a static MAC seen on another port is never moved).

#include "packet/burst.hh"
#include "worker/context.hh"

namespace vx {

class fdb_learn final {
public:
    void process(burst& b, worker_ctx& w) const;
};

} // namespace vx

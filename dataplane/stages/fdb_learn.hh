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
#include "tables/fdb.hh"
#include "worker/context.hh"

namespace vx {

// The learning step itself, for any burst-sized set of keys: keys[k] was seen coming from
// sources[k] (a port, or a remote VTEP's number: tables/vtep_table.hh); counters go to port
// `counted_on`. fdb_learn passes the ingress port for every frame; VXLAN decapsulation, each
// frame's remote VTEP.
void learn_sources(const fdb_key* keys, const uint16_t* sources, uint32_t n, uint16_t counted_on, worker_ctx& w);

class fdb_learn final {
public:
    void process(burst& b, worker_ctx& w) const;
};

} // namespace vx

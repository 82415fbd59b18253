// SPDX-License-Identifier: MIT
#pragma once

// worker_ctx: what a stage may use besides the burst. Filled by the worker once per burst;
// everything here is either the worker's own (counters, egress queues, learn ring) or
// read-only shared state (snapshot, fdb).

#include <cstdint>

#include "counters/counters.hh"
#include "worker/egress_queues.hh"
#include "worker/snapshot.hh"

struct rte_mempool;
struct rte_ring;

namespace vx {

class fdb;
class capture_tap;
class frame_tracer;

struct worker_ctx {
    const snapshot* state = nullptr;
    const fdb* macs = nullptr;
    rte_ring* learn_ring = nullptr; // single producer: this worker; consumer: the learner
    rte_ring* vtep_events = nullptr; // the same, to the VXLAN control plane (tables/vtep_control.hh)
    rte_mempool* pool = nullptr;    // for flood copies
    uint32_t now_s = 0;
    worker_counter_block* counters = nullptr;
    egress_queues* egress = nullptr;
    capture_tap* capture = nullptr; // null unless `vxctl capture` runs (observe/capture.hh)
    frame_tracer* trace = nullptr;  // null unless `vxctl trace` runs (observe/trace.hh)

    port_counter_block& port(uint16_t index) const { return counters->ports[index]; }
    domain_counter_block& domain(uint16_t bd) const { return counters->domains[bd]; }
    // The counters of domain bd's VXLAN segment, or null when it has none (VXLAN only).
    vni_counter_block* segment_of(uint16_t bd) const {
        const uint16_t slot = state->vxlan.segment_of_bd[bd];
        return slot != not_counted ? &counters->segments[slot] : nullptr;
    }
    // A drop on the overlay side of domain bd (a frame on its way into the overlay, or split
    // horizon): counted on the domain and on its segment; the caller counts it on the port.
    void overlay_drop(uint16_t bd, drop_reason r) const {
        domain(bd).drop(r);
        if (vni_counter_block* s = segment_of(bd)) {
            s->drop(r);
        }
    }
};

// A pipeline stage: one pass over a burst. Checked at compile time, called directly.
template <class S>
concept stage = requires(S& s, burst& b, worker_ctx& w) {
    s.process(b, w);
};

} // namespace vx

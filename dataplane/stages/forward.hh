// SPDX-License-Identifier: MIT
#pragma once

// forward: carries out the verdicts. The last stage of the L2 pipeline.
//
// One pass over the burst in arrival order, so that every egress port sends one ingress
// port's frames in the order they came (a broadcast ARP request and the unicast frame behind
// it must not swap places):
//   - known unicast: fix the tag for the egress port and queue the frame on it;
//   - flood: one copy per other member of the bridge domain (the original goes to the last
//     member), never back out of the ingress port; counts `flooded` on the ingress port and
//     on the domain;
//   - drops: gathered, then counted under their reasons on the ingress port (and, for the
//     reasons that come once the domain is known, on the domain) and freed in one call after
//     the pass.
// A frame whose egress port no longer carries its domain (the tables changed after it was
// learned) is dropped as egress_not_member on that port, and one that would be longer than
// the port's MTU allows once its tags are set, as egress_mtu_exceeded, both counted on the
// domain as well. Frames are queued with their domain, which counts what is sent
// (worker/egress_queues.hh).
//
// VXLAN (docs/vxlan.md): a destination may be a remote VTEP (tables/vtep_table.hh); the frame
// is then encapsulated and sent on the underlay port (stages/vxlan_encap.hh), and a flood
// also goes to the domain's remote VTEPs. Split horizon: a frame from the underlay is never
// sent back into the overlay (vxlan_split_horizon for a unicast one, counted on the VNI it
// came from too).

#include "packet/burst.hh"
#include "worker/context.hh"

namespace vx {

class forward final {
public:
    void process(burst& b, worker_ctx& w) const;

private:
    // Sends frame i to every member but the ingress port; false if there is no such member.
    static bool flood(burst& b, uint16_t i, worker_ctx& w);
    static void free_drops(burst& b, worker_ctx& w);
};

} // namespace vx

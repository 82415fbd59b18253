// SPDX-License-Identifier: MIT
#pragma once

// vxlan_encap: sends one frame to a remote VTEP, for forward (stages/forward.hh), which calls
// it wherever a frame's destination is a remote VTEP (a learned MAC, or a flood target).
//
// The ingress port's tags are removed (the VNI says the domain; inner tags beyond them stay
// payload), the outer Ethernet/IP/UDP/VXLAN headers for the remote are written in the
// headroom (packet/vxlan.hh: IPv4 header checksum, UDP checksum 0 over IPv4 and computed over
// IPv6, source port from the inner flow, or the vxvde network's own port), and the frame is
// queued on the underlay port.
// The frame is queued with its domain, which counts it on the domain's segment when the
// underlay port's queue is sent (worker/egress_queues.hh: encapsulated_packets/bytes).
// Drops, counted on the underlay port, the domain and its segment: vxlan_no_next_hop (the
// remote's MAC is not resolved yet), egress_mtu_exceeded (over the underlay's MTU once
// encapsulated), egress_no_headroom.

#include <cstdint>

#include "packet/burst.hh"
#include "worker/context.hh"

struct rte_mbuf;

namespace vx {

// Takes ownership of m; false when it was dropped.
bool vxlan_encap(rte_mbuf* m, const l2_header& h, uint16_t bd, uint16_t remote, worker_ctx& w);

} // namespace vx

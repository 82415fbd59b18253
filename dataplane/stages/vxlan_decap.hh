// SPDX-License-Identifier: MIT
#pragma once

// vxlan_decap: the first stage of a burst from the VXLAN underlay port (docs/vxlan.md).
// It takes parse's and vlan_ingress's places, and does fdb_learn's work for the overlay.
//
// In: a burst fresh from the underlay port. Out: the decapsulated inner frames, each in the
// bridge domain of its VNI (bd[i], l2[i] parsed from the inner header; inner tags are
// payload, strip 0), or a drop: underlay_other, vxlan_wrong_destination, vxlan_truncated,
// vxlan_bad_flags, vxlan_unknown_vni (or parse's reasons for the inner header). The inner
// source MACs are learned against the remote VTEP that sent them (one bulk lookup, events
// for new and moved MACs only, as fdb_learn); a frame from a VTEP not yet in the table is
// switched but not learned (vxlan_unknown_vtep), and the control plane is told once per burst.
//
// ARP frames leave the burst here: a request for the VTEP's address is answered in place and
// sent back on the underlay (arp_replies); a remote's ARP that shows its MAC is passed to the
// control plane as a vtep_event (next-hop resolution); the rest are freed.
// Counts rx_packets/rx_bytes, vxlan_decapsulated on the underlay port.

#include "packet/burst.hh"
#include "worker/context.hh"

namespace vx {

namespace vxlan {
struct arp_view;
}

class vxlan_decap final {
public:
    void process(burst& b, worker_ctx& w) const;

private:
    static void take_arp(rte_mbuf* m, const vxlan::arp_view& arp, uint16_t ingress, worker_ctx& w);
};

} // namespace vx

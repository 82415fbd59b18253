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
// vxvde (docs/vde.md) runs the same way: classify tells it by its UDP port, its domain is
// found by (port, VNI), its senders are known by (address, source port). A goodbye (a vxvde
// header alone, for a network of ours) leaves the burst: counted (vxvde_goodbyes), passed to the
// control plane, which flushes the MACs learned against that endpoint, and freed;
// vxvde_bad_header is among the drops.
//
// The VTEP's control frames leave the burst here, on a cold path that a three-byte header test
// (vxlan::maybe_control) guards:
// - ARP: a request for the VTEP's IPv4 address is answered in place and sent back on the
//   underlay (arp_replies); a remote's ARP that shows its MAC is passed to the control plane
//   as a vtep_event (next-hop resolution); the rest are freed.
// - IPv6 neighbour discovery, the same: a solicitation for address6 becomes a solicited
//   advertisement in its own buffer (neighbour_adverts); a remote's advertisement (or its
//   solicitation's source link-layer option) resolves it.
// - IGMP and MLD: counted (membership_messages) and freed; a query goes to the control
//   thread, which answers it with reports for our groups after a random delay.
// A neighbour discovery, IGMP or MLD message failing its checksum or RFC validity checks is
// dropped as underlay_bad_control.
// Counts rx_packets/rx_bytes, vxlan_decapsulated on the underlay port, and rx_packets/rx_bytes
// on each decapsulated frame's domain and decapsulated_packets/bytes on its segment (bytes as
// the port received them), a run of one domain at a time. Drops before the inner frame is in a
// domain are the port's alone.

#include "packet/burst.hh"
#include "worker/context.hh"

namespace vx {

namespace vxlan {
struct arp_view;
}
namespace neighbour {
struct read_result;
}
namespace membership {
struct read_result;
}
struct ip_address;
struct mac_addr;
struct remote_key;

class vxlan_decap final {
public:
    void process(burst& b, worker_ctx& w) const;

private:
    // Takes the frame if it is one of the VTEP's control messages (sent, handed on, freed or
    // dropped, counted); false if not, and the VXLAN checks judge it.
    [[gnu::cold]] static bool take_control(rte_mbuf* m, uint16_t ingress, worker_ctx& w);
    static void take_goodbye(rte_mbuf* m, const remote_key& sender, uint16_t ingress, worker_ctx& w);
    static void take_arp(rte_mbuf* m, const vxlan::arp_view& arp, uint16_t ingress, worker_ctx& w);
    static void take_neighbour(rte_mbuf* m, const neighbour::read_result& nd, uint16_t ingress, worker_ctx& w);
    static void take_membership(rte_mbuf* m, const membership::read_result& mm, uint16_t ingress, worker_ctx& w);
    // Tells the control plane that `ip` is at `mac`, if `ip` is a remote VTEP this changes or
    // the message is an `answer` (ARP reply, neighbour advertisement: it confirms the next hop,
    // tables/next_hop_refresh.hh; answers come only when asked for, about one per remote per 30 s).
    static void note_neighbour(const ip_address& ip, const mac_addr& mac, bool answer, worker_ctx& w);
};

} // namespace vx

// SPDX-License-Identifier: MIT
#pragma once

// IPv6 neighbour discovery on the underlay (RFC 4861), the part a VTEP needs: solicit a remote
// VTEP's link-layer address, learn it from the advertisement, and advertise our own when
// solicited. The IPv6 counterpart of the ARP functions in packet/vxlan.hh.
//
// Both messages are sent with hop limit 255 and carry a link-layer address option (source in
// a solicitation, target in an advertisement), which makes them 86 bytes on the wire. A
// received message is valid only with hop limit 255, code 0, a right checksum and well-formed
// options (RFC 4861 sections 7.1.1 and 7.1.2): anything else may come from off-link.

#include <cstdint>
#include <optional>

#include "packet/ether.hh"
#include "packet/vxlan.hh"

namespace vx::neighbour {

inline constexpr uint8_t type_solicitation = 135;
inline constexpr uint8_t type_advertisement = 136;
inline constexpr uint32_t frame_len = 14 + 40 + 32; // Ethernet, IPv6, ICMPv6 with one option

// A neighbour solicitation or advertisement as read from a frame.
struct message {
    bool advertisement = false; // else a solicitation
    bool solicited = false;     // advertisement: the S flag
    mac_addr eth_src;           // the frame's Ethernet source
    ip_address src;             // IPv6 source (:: in a duplicate address detection probe)
    ip_address target;
    std::optional<mac_addr> link_layer; // source (solicitation) or target (advertisement) option
};

enum class read_status : uint8_t { not_neighbour, invalid, ok };
struct read_result {
    read_status status = read_status::not_neighbour;
    message msg;
};
// not_neighbour: not an ICMPv6 neighbour solicitation or advertisement; invalid: one, but
// malformed or failing RFC 4861's validity checks.
read_result read(const uint8_t* frame, uint32_t len);

// Writes a solicitation (frame_len bytes) from (mac, src) for `target`, to target's
// solicited-node group and its Ethernet multicast MAC.
void write_solicitation(uint8_t* out, const mac_addr& mac, const ip_address& src, const ip_address& target);

// Writes the advertisement (frame_len bytes) that answers `solicitation` for our address
// (its target) at `mac`: to the solicitor, with the S and O flags; to all nodes without S when
// the solicitation came from :: (duplicate address detection, RFC 4861 section 7.2.4).
void write_advertisement(uint8_t* out, const mac_addr& mac, const message& solicitation);

} // namespace vx::neighbour

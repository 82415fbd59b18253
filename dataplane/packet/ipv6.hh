// SPDX-License-Identifier: MIT
#pragma once

// IPv6 on the underlay beyond VXLAN's own datagrams: what neighbour discovery (packet/neighbour.hh)
// and MLD (packet/membership.hh) share. Pure functions over bytes, like packet/vxlan.hh.
//
// Only what a VTEP's control messages need: a fixed 40-byte header, at most one hop-by-hop
// options header in front of ICMPv6 (MLD carries its Router Alert there, RFC 3810 section 5),
// and the ICMPv6 checksum over the pseudo-header (RFC 8200 section 8.1), which must name the
// upper-layer protocol (58), not the hop-by-hop header that follows the fixed header.

#include <cstdint>
#include <optional>

#include "packet/ether.hh"
#include "packet/vxlan.hh"

namespace vx::ipv6 {

inline constexpr uint32_t header_len = 40;
inline constexpr uint8_t next_hop_by_hop = 0;
inline constexpr uint8_t next_icmpv6 = 58;

// fe80::/64 with the modified EUI-64 interface identifier of `mac` (RFC 4291 appendix A):
// the link-local address MLD reports must come from (RFC 3810 section 5.2.13).
ip_address link_local(const mac_addr& mac);
// ff02::1:ffXX:XXXX, the solicited-node group of `ip` (RFC 4291 section 2.7.1): where a
// neighbour solicitation for `ip` is sent.
ip_address solicited_node(const ip_address& ip);
// ff02::1, all nodes; ff02::16, all MLDv2-capable routers.
ip_address all_nodes();
ip_address all_mldv2_routers();

// The one's-complement checksum of an upper-layer message of `len` bytes over the IPv6
// pseudo-header (src, dst, length, next header `upper`). Stored as is (memcpy) it makes the
// message valid; computed over a message that holds its checksum, it is 0 when that is right.
uint16_t upper_checksum(const ip_address& src, const ip_address& dst, uint8_t upper, const uint8_t* msg, uint32_t len);

// Writes an Ethernet header and a fixed IPv6 header (traffic class and flow label 0) for a
// payload of `payload_len` bytes; returns where the payload starts.
uint8_t* write_headers(uint8_t* out, const mac_addr& src_mac, const mac_addr& dst_mac, const ip_address& src,
                       const ip_address& dst, uint8_t next_header, uint8_t hop_limit, uint16_t payload_len);

// An ICMPv6 message found in an untagged Ethernet frame.
struct icmpv6_view {
    const uint8_t* msg = nullptr; // type, code, checksum, body
    uint32_t len = 0;             // as the IPv6 payload length says, past any hop-by-hop header
    ip_address src;
    ip_address dst;
    uint8_t hop_limit = 0;
    bool router_alert = false;    // behind a hop-by-hop header with a Router Alert option
    bool checksum_ok = false;
};
// The ICMPv6 message of an IPv6 frame, directly behind the fixed header or behind one
// hop-by-hop options header; nullopt if the frame is not IPv6 carrying ICMPv6 that way, or
// is shorter than its headers say.
std::optional<icmpv6_view> find_icmpv6(const uint8_t* frame, uint32_t len);

} // namespace vx::ipv6

// SPDX-License-Identifier: MIT
#pragma once

// VXLAN (RFC 7348) on the wire: the outer IPv4/IPv6 + UDP + VXLAN headers a VTEP writes and
// reads, as pure functions over bytes, so that the stages (stages/vxlan_decap.hh, the encap
// step of stages/forward.cc) stay loops and the byte layout is tested on its own.
//
//   outer Ethernet (14) | IPv4 (20) or IPv6 (40) | UDP (8) | VXLAN (8) | inner frame
//   = 50 bytes of overhead over IPv4, 70 over IPv6 (untagged underlay).
//
// Outer UDP checksum: 0 over IPv4 (RFC 7348 section 5 allows it, every VTEP does it), computed
// over IPv6 where 0 is not allowed (RFC 6935 permits zero only with explicit configuration,
// which the Linux vxlan device does not assume by default). The IPv4 header checksum is always
// computed. The UDP source port is a hash of the inner Ethernet header, in 49152..65535, so
// that the underlay's ECMP spreads flows but keeps each one on one path.
//
// vxvde (vdeplug4's vxvde://, docs/vde.md) uses the same layout on its own UDP port (14789):
// classify() tells the two apart by the destination port. Its receivers compare the whole
// 8-byte header, a datagram of the header alone is a goodbye, and an endpoint is known by its
// address *and* UDP source port (it sends everything from, and takes unicast on, one port).

#include <endian.h>

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "counters/counters.hh"
#include "packet/ether.hh"

namespace vx {

// An IPv4 or IPv6 address in 16 bytes; IPv4 as an IPv4-mapped IPv6 address (::ffff:a.b.c.d),
// so that one key type and one comparison serve both families.
struct ip_address {
    std::array<uint8_t, 16> bytes{};

    static constexpr ip_address v4(const uint8_t* p) {
        ip_address a;
        a.bytes[10] = 0xff;
        a.bytes[11] = 0xff;
        for (size_t i = 0; i < 4; ++i) {
            a.bytes[12 + i] = p[i];
        }
        return a;
    }
    static ip_address v6(const uint8_t* p) {
        ip_address a;
        std::memcpy(a.bytes.data(), p, 16);
        return a;
    }
    constexpr bool is_v4() const {
        for (size_t i = 0; i < 10; ++i) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return bytes[10] == 0xff && bytes[11] == 0xff;
    }
    constexpr bool is_multicast() const { return is_v4() ? (bytes[12] & 0xf0) == 0xe0 : bytes[0] == 0xff; }
    const uint8_t* v4_bytes() const { return bytes.data() + 12; }

    // "192.0.2.1" or "2001:db8::1"; nullopt on anything else.
    static std::optional<ip_address> parse(std::string_view text);
    std::string to_string() const;

    // As two big-endian 64-bit words: the same order as the bytes', without the memcmp call
    // that std::array's comparison made for every decapsulated frame (the worker's top symbol).
    bool operator==(const ip_address& o) const { return high() == o.high() && low() == o.low(); }
    std::strong_ordering operator<=>(const ip_address& o) const {
        return high() != o.high() ? high() <=> o.high() : low() <=> o.low();
    }

private:
    uint64_t word(size_t at) const {
        uint64_t w;
        std::memcpy(&w, bytes.data() + at, sizeof w);
        return be64toh(w);
    }
    uint64_t high() const { return word(0); }
    uint64_t low() const { return word(8); }
};

namespace vxlan {

inline constexpr uint16_t default_port = 4789;
inline constexpr uint16_t ipv4_overhead = 14 + 20 + 8 + 8; // 50
inline constexpr uint16_t ipv6_overhead = 14 + 40 + 8 + 8; // 70
inline constexpr uint8_t flag_i = 0x08;                    // "VNI is valid"
inline constexpr uint32_t max_vni = (1u << 24) - 1;
inline constexpr uint8_t ip_proto_udp = 17;

} // namespace vxlan

namespace vxvde {
inline constexpr uint16_t default_port = 14789; // vdeplug4's group port, and the one vxswitch sends from
inline constexpr uint32_t goodbye_len = 8;      // UDP payload of a goodbye: the header alone
inline constexpr uint32_t min_frame = 15;       // vdeplug4 drops frames of 14 bytes or fewer
} // namespace vxvde

namespace vxlan {

// The Ethernet multicast MAC of an IP multicast group (RFC 1112 / RFC 2464).
mac_addr group_mac(const ip_address& group);

// What a VTEP puts around a frame for one remote: everything but the inner frame's length,
// the source port and the VNI, which change per frame.
struct outer_template {
    mac_addr src_mac;
    mac_addr dst_mac;
    ip_address src_ip;
    ip_address dst_ip; // the family of src_ip and dst_ip is the same
    uint16_t dst_port = default_port;
    uint8_t ttl = 64;
    uint8_t dscp = 0;

    uint16_t overhead() const { return dst_ip.is_v4() ? ipv4_overhead : ipv6_overhead; }
};

// The outer UDP source port for an untagged inner frame of `len` bytes, folded into
// 49152..65535 (RFC 7348: "the dynamic/private port range"). It hashes the Ethernet header and,
// when the frame is IPv4 or IPv6, the IP addresses and protocol, plus the TCP/UDP/SCTP ports
// of an unfragmented IPv4 packet or of an IPv6 packet without extension headers: the flows
// between two hosts (one MAC pair, say a router's) then spread over underlay ECMP paths.
uint16_t source_port(const uint8_t* inner, uint32_t len);

// Writes the outer headers at `out`, which must be followed in memory by the inner frame of
// `inner_len` bytes (the IPv6 UDP checksum covers it). Writes t.overhead() bytes.
void write_outer(uint8_t* out, const outer_template& t, uint32_t vni, uint16_t src_port, uint16_t inner_len);

// What the decapsulation of one underlay frame found.
struct decap_result {
    bool ok = false;
    drop_reason why = drop_reason::vxlan_truncated;
    uint32_t vni = 0;
    uint16_t inner_offset = 0; // where the inner frame starts
    uint16_t inner_len = 0;    // its length (the UDP length says; Ethernet padding is not part of it)
    ip_address remote;         // the outer source address: the remote VTEP
    uint16_t remote_port = 0;  // the outer UDP source port: with `remote`, a vxvde endpoint's identity
    uint16_t local_port = 0;   // the outer UDP destination port: VXLAN's, or which vxvde network's
    bool vxvde = false;        // to a vxvde port: the header was compared whole
    bool goodbye = false;      // vxvde, ok: a header with no frame (the sender is leaving)
};

// The local VTEP as the decapsulation sees it. Addresses absent for a family are nullopt.
struct local_endpoint {
    std::optional<ip_address> v4;
    std::optional<ip_address> v6;
    uint16_t dst_port = default_port;
    const ip_address* groups = nullptr; // multicast groups we receive (sorted), may be empty
    uint16_t group_count = 0;
    const uint16_t* vxvde_ports = nullptr; // the vxvde networks' UDP ports (sorted), may be empty
    uint16_t vxvde_port_count = 0;

    bool accepts(const ip_address& dst) const;
    bool is_vxvde_port(uint16_t port) const;
};

// Classifies one underlay frame (untagged outer Ethernet). ok: a VXLAN frame for `local`
// with the I flag, or a vxvde datagram (to one of local's vxvde ports) whose header is exactly
// 08 00 00 00 VNI 00: a frame of at least vxvde::min_frame bytes, or a goodbye. The VNI is not
// checked here (the caller's table is). Otherwise why: underlay_other (not IPv4/IPv6),
// vxlan_wrong_destination (not UDP to our address and a port of ours, or an IPv4 fragment),
// vxlan_truncated, vxlan_bad_flags, vxvde_bad_header.
decap_result classify(const uint8_t* frame, uint32_t len, const local_endpoint& local);

// Whether an underlay frame may be for the VTEP's control plane rather than VXLAN: ARP, IGMP,
// or ICMPv6 (neighbour discovery, MLD), directly or behind a hop-by-hop header. A test of
// three header bytes, so that the decapsulation's loop pays nothing more for the rest.
inline bool maybe_control(const uint8_t* frame, uint32_t len) {
    if (len < ether_header_len + 20) { // shorter than ARP's 28 bytes, and than an IP header
        return false;
    }
    const uint16_t type = load_be16(frame + 12);
    const uint8_t* ip = frame + ether_header_len;
    return type == ethertype::arp || (type == ethertype::ipv4 && ip[9] == 2) ||
           (type == ethertype::ipv6 && (ip[6] == 58 || ip[6] == 0));
}

// ARP over the underlay (RFC 826), IPv4 over Ethernet only.
inline constexpr uint16_t arp_len = 28;
struct arp_view {
    uint16_t op = 0; // 1 request, 2 reply
    mac_addr sender_mac;
    ip_address sender_ip;
    mac_addr target_mac;
    ip_address target_ip;
};
// The ARP message after a 14-byte Ethernet header, if the frame carries a valid one.
std::optional<arp_view> read_arp(const uint8_t* frame, uint32_t len);
// Turns the ARP request in `frame` into the reply "target_ip is at `ours`", in place: the
// Ethernet and ARP addresses are swapped. The frame keeps its length.
void make_arp_reply(uint8_t* frame, const mac_addr& ours);
// Writes an ARP request (42 bytes, unpadded) from (mac, ip) for `target`.
void write_arp_request(uint8_t* out, const mac_addr& mac, const ip_address& ip, const ip_address& target);

} // namespace vxlan
} // namespace vx

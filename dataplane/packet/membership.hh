// SPDX-License-Identifier: MIT
#pragma once

// Multicast group membership on the underlay: IGMPv3 (RFC 3376) for IPv4 groups, MLDv2
// (RFC 3810) for IPv6 groups, so that a snooping switch or a multicast router delivers the
// VNIs' groups to the VTEP. Pure functions over bytes, like packet/vxlan.hh.
//
// Reports: IGMPv3 to 224.0.0.22 (TTL 1, IP Router Alert option, TOS 0xc0), MLDv2 to ff02::16
// (hop limit 1, Router Alert in a hop-by-hop header, from the link-local address), each
// record "exclude no source" (any-source membership) or "include no source" (leave).
// Queries of every version are read (IGMPv1/v2/v3, MLDv1/v2) and answered with v3/v2 reports:
// Linux's bridge snooping and multicast routers take them whatever the querier's version.

#include <cstdint>
#include <optional>
#include <span>

#include "packet/ether.hh"
#include "packet/vxlan.hh"

namespace vx::membership {

// Group record types (RFC 3376 section 4.2.12, the same numbers in RFC 3810).
enum class record : uint8_t {
    mode_is_exclude = 2,   // answer to a query: member, any source
    change_to_include = 3, // with no source: leave
    change_to_exclude = 4, // with no source: join
};

// The largest number of groups one report carries: it stays within 1500 bytes for both families.
inline constexpr size_t max_records = 64;
// Bytes a report for `groups` groups of the family of `v4` takes on the wire.
uint32_t report_len(bool v4, size_t groups);

// Writes an IGMPv3 report (`v4`) from (mac, src) or an MLDv2 report from (mac, link-local
// `src`), one record of `type` per group (all of the report's family, at most max_records);
// returns its length.
uint32_t write_report(uint8_t* out, const mac_addr& mac, const ip_address& src, record type,
                      std::span<const ip_address> groups);

// An IGMP or MLD message as read from a frame.
struct message {
    bool query = false;          // else a report or a leave/done: another host's business
    bool v4 = false;             // IGMP, else MLD
    ip_address group;            // query: the group asked about; unspecified: a general query
    uint32_t max_delay_ms = 0;   // query: answer within this
};
enum class read_status : uint8_t { not_membership, invalid, ok };
struct read_result {
    read_status status = read_status::not_membership;
    message msg;
};
// not_membership: not IGMP (IPv4 protocol 2) nor MLD (ICMPv6 130, 131, 132, 143); invalid:
// one, but shorter than its type's fixed part or with a wrong checksum.
read_result read(const uint8_t* frame, uint32_t len);

// A general query's group: 0.0.0.0 (IGMP) or :: (MLD).
ip_address unspecified(bool v4);

} // namespace vx::membership

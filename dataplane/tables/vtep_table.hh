// SPDX-License-Identifier: MIT
#pragma once

// vtep_table: the VXLAN state the workers read: the local VTEP, VNI <-> bridge domain, each
// domain's flood list, and the remote VTEPs with the outer headers that reach them.
//
// Who writes, who reads, how memory comes back: the control thread (tables/vtep_control.hh)
// builds it and publishes it inside the snapshot (worker/snapshot.hh), as a whole, when a
// remote is discovered or its next hop resolves; workers read it with no lock, and the old
// snapshot is freed after an RCU grace period. Workers tell the control thread what they saw
// (a remote's ARP or neighbour advertisement, a VTEP not in the table, an IGMP/MLD query)
// through their vtep_event ring.
//
// A remote VTEP is a destination in the MAC table like a port: fdb entries hold port numbers,
// and remote_port_base + i means remotes[i]. Indices are never reused while the switch runs,
// so an entry learned against a remote never points at another one.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "counters/counters.hh"
#include "packet/vxlan.hh"

namespace vx {

inline constexpr uint16_t remote_port_base = max_ports;
constexpr bool is_remote_port(uint16_t port) {
    return port >= remote_port_base;
}

struct remote_vtep {
    vxlan::outer_template outer; // dst_mac is the next hop's once resolved
    bool resolved = false;       // a next-hop MAC is known: frames can go
    bool is_group = false;       // a multicast group: a flood target, never learned against
};

// What a worker tells the control thread.
struct vtep_event {
    enum class kind : uint8_t { neighbour, remote_seen, membership_query };
    kind what = kind::neighbour;
    uint8_t pad = 0;
    mac_addr mac;  // neighbour: the MAC that answered (ARP) or advertised (ND) `ip`
    ip_address ip; // neighbour: the address; remote_seen: the unknown VTEP's;
                   // membership_query: the group asked about (unspecified: all, of its family)
    uint32_t max_delay_ms = 0; // membership_query: answer within this
};
static_assert(sizeof(vtep_event) == 28);

struct vtep_table {
    static constexpr uint16_t no_port = 0xffff;

    uint16_t underlay = no_port; // port index of the underlay; no_port: no VXLAN
    mac_addr mac;                // the underlay port's MAC
    std::optional<ip_address> v4;
    std::optional<ip_address> v6;
    uint16_t udp_port = vxlan::default_port;
    uint8_t ttl = 64;
    uint8_t dscp = 0;
    std::optional<mac_addr> next_hop; // static next hop of every unicast remote
    std::vector<ip_address> groups;                       // joined, sorted
    std::vector<uint32_t> vni_of_bd;                      // by bridge domain; 0: none
    std::vector<std::vector<uint16_t>> flood_of_bd;       // by bridge domain: remote indices
    std::vector<std::pair<uint32_t, uint16_t>> bd_of_vni; // sorted by VNI
    std::vector<remote_vtep> remotes;
    std::vector<std::pair<ip_address, uint16_t>> unicast_remotes; // sorted by address

    bool enabled() const { return underlay != no_port; }

    // Valid as long as this table is.
    vxlan::local_endpoint endpoint() const {
        vxlan::local_endpoint e;
        e.v4 = v4;
        e.v6 = v6;
        e.dst_port = udp_port;
        e.groups = groups.data();
        e.group_count = static_cast<uint16_t>(groups.size());
        return e;
    }
    std::optional<uint16_t> bd_of(uint32_t vni) const {
        const auto it = std::lower_bound(bd_of_vni.begin(), bd_of_vni.end(), std::pair<uint32_t, uint16_t>{vni, 0});
        return it != bd_of_vni.end() && it->first == vni ? std::optional{it->second} : std::nullopt;
    }
    // The index of a unicast remote VTEP.
    std::optional<uint16_t> remote_of(const ip_address& ip) const {
        const auto it = std::lower_bound(unicast_remotes.begin(), unicast_remotes.end(), ip,
                                         [](const auto& e, const ip_address& a) { return e.first < a; });
        return it != unicast_remotes.end() && it->first == ip ? std::optional{it->second} : std::nullopt;
    }
};

} // namespace vx

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
// so an entry learned against a remote never points at another one: a remote that a runtime
// change of the vxlan: section removes stays in its slot, retired (no flood list names it, the
// unicast index leaves it out, frames to it are dropped as vxlan_no_next_hop until the MACs
// learned against it are flushed), and comes back, if ever, in a new slot.
//
// vxvde networks (docs/vde.md) share all of it: the underlay, the address, the next hops, the
// groups. They differ in three places: a domain is found by (UDP port, VNI), since each vxvde
// network has its own port; a remote vxvde endpoint is known by (address, UDP source port),
// where a VXLAN VTEP is known by its address alone (port 0 in the key); and frames into a vxvde
// domain leave from the network's port, not from a per-flow port, so that the endpoints learn
// one stable address for vxswitch.
//
// Each segment, a (UDP port, VNI), counts in a slot of the workers' per-segment counters
// (counters/counters.hh), which workers find from the frame's domain (segment_of_bd). A slot
// is the segment's for the switch's life, never reused: a VNI moved to another VLAN keeps it,
// one removed and configured again continues its totals in it, and no segment ever counts in
// another's, not even in frames a worker still switches with the snapshot before a change. A
// segment whose protocol or port changes is another segment, with a slot of its own. Past
// max_segments distinct segments since the start, a new one is not counted (a warning says so).

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "counters/counters.hh"
#include "packet/vxlan.hh"

namespace vx {

inline constexpr uint16_t remote_port_base = max_ports;
constexpr bool is_remote_port(uint16_t port) {
    return port >= remote_port_base;
}

// Who a remote is: its address, and for a vxvde endpoint the UDP port it sends from (and takes
// unicast on); 0 for a VXLAN VTEP, whose source ports are per-flow entropy.
struct remote_key {
    ip_address ip;
    uint16_t port = 0;
    auto operator<=>(const remote_key&) const = default;

    // "192.0.2.1", "192.0.2.1:40000", "[2001:db8::1]:40000".
    std::string to_string() const {
        if (port == 0) {
            return ip.to_string();
        }
        return ip.is_v4() ? fmt::format("{}:{}", ip.to_string(), port) : fmt::format("[{}]:{}", ip.to_string(), port);
    }
};

struct remote_vtep {
    vxlan::outer_template outer; // dst_mac is the next hop's once resolved
    bool resolved = false;       // a next-hop MAC is known: frames can go
    bool is_group = false;       // a multicast group: a flood target, never learned against
    bool vxvde = false;          // a vxvde endpoint (or group): outer.dst_port is its own
    bool retired = false;        // removed by a runtime change: its slot stays, unused (above)

    remote_key key() const { return {outer.dst_ip, vxvde ? outer.dst_port : uint16_t{0}}; }
};

// What a worker tells the control thread.
struct vtep_event {
    enum class kind : uint8_t { neighbour, remote_seen, membership_query, goodbye };
    kind what = kind::neighbour;
    uint8_t pad = 0;
    mac_addr mac;  // neighbour: the MAC that answered (ARP) or advertised (ND) `ip`
    ip_address ip; // neighbour: the address; remote_seen: the unknown VTEP's;
                   // membership_query: the group asked about (unspecified: all, of its family);
                   // goodbye: the leaving vxvde endpoint's
    uint32_t max_delay_ms = 0; // membership_query: answer within this
    uint16_t port = 0;         // remote_seen, goodbye: a vxvde endpoint's source port; 0: a VXLAN VTEP
    uint16_t pad2 = 0;
};
static_assert(sizeof(vtep_event) == 32);

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
    std::vector<uint16_t> vxvde_ports;                    // the vxvde networks' UDP ports, sorted
    std::vector<uint32_t> vni_of_bd;                      // by bridge domain; 0: none
    std::vector<uint16_t> source_port_of_bd;              // by bridge domain; 0: per flow (VXLAN)
    std::vector<std::vector<uint16_t>> flood_of_bd;       // by bridge domain: remote indices
    std::vector<uint16_t> segment_of_bd;                  // by bridge domain: counter slot (below)
    std::vector<std::pair<uint64_t, uint16_t>> bd_of_segment; // sorted by segment_key(port, VNI)
    std::vector<std::pair<uint64_t, uint16_t>> segment_slots; // counter slots, by segment_key, sorted (above)
    std::vector<remote_vtep> remotes;
    std::vector<std::pair<remote_key, uint16_t>> unicast_remotes; // sorted by key

    bool enabled() const { return underlay != no_port; }

    // Valid as long as this table is.
    vxlan::local_endpoint endpoint() const {
        vxlan::local_endpoint e;
        e.v4 = v4;
        e.v6 = v6;
        e.dst_port = udp_port;
        e.groups = groups.data();
        e.group_count = static_cast<uint16_t>(groups.size());
        e.vxvde_ports = vxvde_ports.data();
        e.vxvde_port_count = static_cast<uint16_t>(vxvde_ports.size());
        return e;
    }
    static constexpr uint64_t segment_key(uint16_t udp_port, uint32_t vni) { return uint64_t{udp_port} << 32 | vni; }
    // The domain of a VNI on a UDP port (VXLAN's udp_port, or a vxvde network's).
    std::optional<uint16_t> bd_of(uint16_t port, uint32_t vni) const {
        const auto key = std::pair<uint64_t, uint16_t>{segment_key(port, vni), 0};
        const auto it = std::lower_bound(bd_of_segment.begin(), bd_of_segment.end(), key);
        return it != bd_of_segment.end() && it->first == key.first ? std::optional{it->second} : std::nullopt;
    }
    // The counter slot of a segment configured since the start.
    std::optional<uint16_t> slot_of(uint16_t port, uint32_t vni) const {
        const auto key = std::pair<uint64_t, uint16_t>{segment_key(port, vni), 0};
        const auto it = std::lower_bound(segment_slots.begin(), segment_slots.end(), key);
        return it != segment_slots.end() && it->first == key.first ? std::optional{it->second} : std::nullopt;
    }
    // The index of a unicast remote: a VXLAN VTEP (port 0) or a vxvde endpoint.
    std::optional<uint16_t> remote_of(const ip_address& ip, uint16_t port = 0) const {
        const auto it = first_at(ip, port);
        return it != unicast_remotes.end() && it->first == remote_key{ip, port} ? std::optional{it->second}
                                                                                : std::nullopt;
    }
    // Any unicast remote at this address (its next hop is every such remote's).
    std::optional<uint16_t> any_remote_at(const ip_address& ip) const {
        const auto it = first_at(ip, 0);
        return it != unicast_remotes.end() && it->first.ip == ip ? std::optional{it->second} : std::nullopt;
    }

private:
    using remote_index = std::vector<std::pair<remote_key, uint16_t>>::const_iterator;
    remote_index first_at(const ip_address& ip, uint16_t port) const {
        return std::lower_bound(unicast_remotes.begin(), unicast_remotes.end(), remote_key{ip, port},
                                [](const auto& e, const remote_key& k) { return e.first < k; });
    }
};

} // namespace vx

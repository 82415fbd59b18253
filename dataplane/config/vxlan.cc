// SPDX-License-Identifier: MIT
#include "config/vxlan.hh"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>

#include "config/port_vlans.hh"
#include "packet/vxlan.hh"

namespace vx::config {

namespace {

const port* find_port(const model& m, const std::string& name) {
    const auto p = std::find_if(m.ports.begin(), m.ports.end(), [&](const port& q) { return q.name == name; });
    return p == m.ports.end() ? nullptr : &*p;
}

// The VTEP's own address of a family, if it has one that parses.
std::optional<ip_address> local_address(const vtep& v, bool v4) {
    const auto a = ip_address::parse(v4 ? v.address : v.address6);
    return a && a->is_v4() == v4 ? a : std::nullopt;
}

void check_local(const vtep& v, const std::string& label, std::vector<std::string>& errors) {
    if (v.address.empty() && v.address6.empty()) {
        errors.push_back(fmt::format("{}: the VTEP needs an address (address: IPv4, address6: IPv6, or both)", label));
    }
    for (const auto& [key, text, v4] :
         {std::tuple{"address", v.address, true}, std::tuple{"address6", v.address6, false}}) {
        const auto a = ip_address::parse(text);
        if (!text.empty() && (!a || a->is_v4() != v4 || a->is_multicast())) {
            errors.push_back(fmt::format("{}: {} '{}' is not a unicast {} address", label, key, text,
                                         v4 ? "IPv4" : "IPv6"));
        }
    }
    if (!v.next_hop_mac.empty()) {
        const auto mac = mac_addr::parse(v.next_hop_mac);
        if (!mac || mac->is_group() || mac->is_zero()) {
            errors.push_back(fmt::format("{}: next_hop_mac '{}' is not a unicast MAC address", label, v.next_hop_mac));
        }
    }
}

void check_underlay(const model& m, const vtep& v, const std::string& label, std::vector<std::string>& errors) {
    const port* u = find_port(m, v.underlay);
    if (u == nullptr) {
        errors.push_back(fmt::format("{}: underlay: no port is named '{}'", label, v.underlay));
    } else if (u->mode != port_mode::access || u->access_vlan != 1) {
        errors.push_back(fmt::format("{}: underlay port '{}' carries no VLAN: leave out its mode and VLAN keys",
                                     label, v.underlay));
    }
}

// An address of a segment (a group or a remote): parses, has the right kind, and the VTEP
// has an address of its family to send from.
void check_peer(const vtep& v, const std::string& where, const std::string& text, bool group,
                std::vector<std::string>& errors) {
    const auto a = ip_address::parse(text);
    if (!a || a->is_multicast() != group) {
        errors.push_back(
            fmt::format("{}: '{}' is not {} address", where, text, group ? "a multicast group" : "a unicast"));
    } else if (!local_address(v, a->is_v4())) {
        errors.push_back(fmt::format("{}: {} is an {} address but the VTEP has none (set {})", where, text,
                                     a->is_v4() ? "IPv4" : "IPv6", a->is_v4() ? "address" : "address6"));
    } else if (a == local_address(v, a->is_v4())) {
        errors.push_back(fmt::format("{}: {} is the VTEP's own address", where, text));
    }
}

// What only a vxvde network asks: a group (its endpoints find each other there), no head-end
// list (an endpoint takes unicast only on a port it picked itself), a port of its own.
void check_vxvde(const vtep& v, const vxlan_segment& s, const std::string& where, std::vector<std::string>& errors) {
    if (!s.vxvde) {
        if (s.port != 0) {
            errors.push_back(fmt::format("{}: port is for protocol: vxvde (VXLAN's is vxlan.udp_port)", where));
        }
        return;
    }
    if (s.group.empty()) {
        errors.push_back(fmt::format("{}: a vxvde network needs its group (vde_plug's vxvde://GROUP)", where));
    }
    if (!s.remotes.empty()) {
        errors.push_back(
            fmt::format("{}: a vxvde network has no remotes: its endpoints are found on the group", where));
    }
    if (segment_udp_port(v, s) == v.udp_port) {
        errors.push_back(fmt::format("{}: vxvde port {} is the VXLAN udp_port too", where, v.udp_port));
    }
}

} // namespace

uint16_t segment_udp_port(const vtep& v, const vxlan_segment& s) {
    if (!s.vxvde) {
        return v.udp_port;
    }
    return s.port != 0 ? s.port : vxvde::default_port;
}

bool is_underlay(const model& m, size_t index) {
    return m.vxlan && index < m.ports.size() && m.ports[index].name == m.vxlan->underlay;
}

void check_vxlan(const model& m, std::vector<std::string>& errors) {
    if (!m.vxlan) {
        return;
    }
    const vtep& v = *m.vxlan;
    const auto label = fmt::format("vxlan (line {})", v.line);
    check_local(v, label, errors);
    check_underlay(m, v, label, errors);
    std::set<std::pair<uint16_t, uint32_t>> vnis; // (UDP port, VNI)
    std::set<uint16_t> vlans;
    for (size_t i = 0; i < v.segments.size(); ++i) {
        const auto& s = v.segments[i];
        const auto where = fmt::format("vxlan.vnis[{}] (line {})", i, s.line);
        if (!vnis.insert({segment_udp_port(v, s), s.vni}).second) {
            errors.push_back(fmt::format("{}: vni {} is already listed", where, s.vni));
        }
        check_vxvde(v, s, where, errors);
        if (!vlans.insert(s.vlan).second) {
            errors.push_back(fmt::format("{}: vlan {} already has a VNI", where, s.vlan));
        }
        const bool carried = std::any_of(m.ports.begin(), m.ports.end(), [&](const port& p) {
            return p.name != v.underlay && carries(p, s.vlan);
        });
        if (!carried) {
            errors.push_back(fmt::format("{}: no port carries vlan {}", where, s.vlan));
        }
        if (!s.group.empty()) {
            check_peer(v, where + " group", s.group, true, errors);
        }
        std::set<std::string> seen;
        for (size_t k = 0; k < s.remotes.size(); ++k) {
            const auto remote_where = fmt::format("{} remotes[{}]", where, k);
            check_peer(v, remote_where, s.remotes[k], false, errors);
            if (!seen.insert(s.remotes[k]).second) {
                errors.push_back(fmt::format("{}: {} is already listed", remote_where, s.remotes[k]));
            }
        }
    }
}

std::string describe_segment(const vtep& v, const vxlan_segment& s) {
    std::string out = fmt::format("vlan {}", s.vlan);
    if (s.vxvde) {
        out += fmt::format(", vxvde port {}", segment_udp_port(v, s));
    }
    if (!s.group.empty()) {
        out += fmt::format(", group {}", s.group);
    }
    if (!s.remotes.empty()) {
        out += fmt::format(", remotes {}", fmt::join(s.remotes, " "));
    }
    return out;
}

std::vector<std::string> segment_changes(const vtep& running, const vtep& next) {
    using key = std::pair<uint16_t, uint32_t>; // (UDP port, VNI): unique per model (check_vxlan)
    const auto by_key = [](const vtep& v) {
        std::map<key, const vxlan_segment*> out;
        for (const auto& s : v.segments) {
            out[{segment_udp_port(v, s), s.vni}] = &s;
        }
        return out;
    };
    const auto name = [](const vtep& v, const vxlan_segment& s) {
        return s.vxvde ? fmt::format("vni {} (vxvde port {})", s.vni, segment_udp_port(v, s))
                       : fmt::format("vni {}", s.vni);
    };
    const auto before = by_key(running);
    const auto after = by_key(next);
    std::vector<std::string> changes;
    for (const auto& [k, s] : before) {
        const auto it = after.find(k);
        if (it == after.end()) {
            changes.push_back(fmt::format("{}: removed ({})", name(running, *s), describe_segment(running, *s)));
        } else if (describe_segment(running, *s) != describe_segment(next, *it->second)) {
            changes.push_back(fmt::format("{}: {} -> {}", name(running, *s), describe_segment(running, *s),
                                          describe_segment(next, *it->second)));
        }
    }
    for (const auto& [k, s] : after) {
        if (!before.contains(k)) {
            changes.push_back(fmt::format("{}: added ({})", name(next, *s), describe_segment(next, *s)));
        }
    }
    return changes;
}

std::vector<std::string> vxlan_mtu_warnings(const model& m) {
    std::vector<std::string> warnings;
    if (!m.vxlan) {
        return warnings;
    }
    const port* u = find_port(m, m.vxlan->underlay);
    if (u == nullptr) {
        return warnings;
    }
    const int underlay_mtu = u->mtu.value_or(default_mtu);
    // IPv6 when the VTEP has only an IPv6 address: the overhead of the family it sends in.
    const int overhead = m.vxlan->address.empty() ? vxlan::ipv6_overhead : vxlan::ipv4_overhead;
    for (const auto& s : m.vxlan->segments) {
        for (const auto& p : m.ports) {
            if (p.name == u->name || !carries(p, s.vlan)) {
                continue;
            }
            // The inner frame leaves untagged: the port's MTU plus its Ethernet header.
            const int inner = p.mtu.value_or(default_mtu) + ether_header_len;
            const int needed = inner + overhead - ether_header_len;
            if (needed > underlay_mtu) {
                warnings.push_back(fmt::format(
                    "vni {} (vlan {}): a {}-byte frame from port '{}' is {} bytes of IP once encapsulated ({} bytes of "
                    "VXLAN overhead), over the underlay port '{}''s mtu {} (such frames are dropped and counted as "
                    "egress_mtu_exceeded); raise its mtu to {}",
                    s.vni, s.vlan, inner, p.name, needed, overhead, u->name, underlay_mtu, needed));
            }
        }
    }
    return warnings;
}

} // namespace vx::config

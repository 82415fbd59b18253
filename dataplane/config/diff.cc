// SPDX-License-Identifier: MIT
#include "config/diff.hh"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "config/dump.hh"
#include "config/port_vlans.hh"
#include "config/vxlan.hh"
#include "config/xdp_steering.hh"
#include "packet/ether.hh"

namespace vx::config {

namespace {

// A port's keys that a running switch can change (everything dump_port writes but these
// needs a restart).
void copy_forwarding(const port& from, port& to) {
    to.mode = from.mode;
    to.access_vlan = from.access_vlan;
    to.allowed_vlans = from.allowed_vlans;
    to.native_vlan = from.native_vlan;
    to.translations = from.translations;
    to.s_vlan = from.s_vlan;
    to.c_vlans = from.c_vlans;
    to.tpid = from.tpid;
    to.foreign_tpid = from.foreign_tpid;
    to.mtu = from.mtu;
    // An af_xdp port's steering rules (own, steer, drop) change in place; its iface does not.
    if (from.xdp && to.xdp) {
        const std::string iface = to.xdp->iface;
        to.xdp = from.xdp;
        to.xdp->iface = iface;
    }
}

std::string flow_text(const YAML::Node& n) {
    if (!n.IsDefined() || n.IsNull()) {
        return "(none)";
    }
    // On one line, whatever style the dump gave the node (the vxlan: section is a block).
    YAML::Node flow = YAML::Clone(n);
    flow.SetStyle(YAML::EmitterStyle::Flow);
    YAML::Emitter out;
    out << flow;
    return out.c_str();
}

// Every key where two dumped sections differ, one level down ("fdb.aging_s: 300 -> 60").
void refuse_differences(const YAML::Node& a, const YAML::Node& b, const std::string& path,
                        std::vector<std::string>& refused) {
    // A section only one side has (vxlan:, vde_switch:) differs as a whole.
    if (!a.IsDefined() || !b.IsDefined() || !a.IsMap() || !b.IsMap()) {
        if (flow_text(a) != flow_text(b)) {
            refused.push_back(fmt::format("{}: {} -> {} needs a restart", path, flow_text(a), flow_text(b)));
        }
        return;
    }
    std::vector<std::string> keys;
    for (const auto& node : {a, b}) {
        for (const auto& kv : node) {
            const auto key = kv.first.as<std::string>();
            if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
                keys.push_back(key);
            }
        }
    }
    for (const auto& key : keys) {
        const auto what = path.empty() ? key : fmt::format("{}.{}", path, key);
        if (flow_text(a[key]) != flow_text(b[key])) {
            refused.push_back(fmt::format("{}: {} -> {} needs a restart", what, flow_text(a[key]), flow_text(b[key])));
        }
    }
}

// The VNIs (vxlan.vnis) change at runtime; the rest of the vxlan: section (the underlay, the
// addresses, udp_port, ttl, dscp, next_hop_mac) and having one at all need a restart.
void keep_running_segments(const model& running, model& fixed) {
    if (running.vxlan && fixed.vxlan) {
        fixed.vxlan->segments = running.vxlan->segments;
    }
}

const port* find_port(const model& m, const std::string& name) {
    const auto it = std::find_if(m.ports.begin(), m.ports.end(), [&](const port& p) { return p.name == name; });
    return it == m.ports.end() ? nullptr : &*it;
}

// What a port is on, for the lines of a change: its device, an af_xdp port's interface (its
// device is generated: config/xdp_steering.hh), a VDE port's URL or VDE switch port.
std::string device_of(const port& p) {
    if (p.xdp) {
        return fmt::format("af_xdp on {}", p.xdp->iface);
    }
    if (p.vde && p.vde->switch_port) {
        return p.vde->number ? fmt::format("vde_switch port {}", *p.vde->number) : "vde_switch port, any client";
    }
    return p.vde ? fmt::format("vde {}", p.vde->url) : p.device;
}

// Ports in `next` but not in `running` are added, those only in `running` removed, whatever
// their kind (DPDK devices, af_xdp and VDE ports); the ports both have must keep their order
// (a dump lists them so).
void port_set_changes(const model& running, const model& next, change_plan& plan) {
    std::vector<std::string> kept_before;
    std::vector<std::string> kept_after;
    for (const auto& p : running.ports) {
        if (find_port(next, p.name) == nullptr) {
            plan.ports_removed.push_back(p.name);
            plan.changes.push_back(fmt::format("port '{}': removed ({})", p.name, device_of(p)));
        } else {
            kept_before.push_back(p.name);
        }
    }
    for (const auto& p : next.ports) {
        if (find_port(running, p.name) != nullptr) {
            kept_after.push_back(p.name);
        } else {
            plan.ports_added.push_back(p);
            plan.changes.push_back(fmt::format("port '{}': added ({}, {})", p.name, device_of(p), describe_vlans(p)));
        }
    }
    if (kept_before != kept_after) {
        plan.refused.push_back(fmt::format("ports: the running order is {}: reordering ports needs a restart",
                                           fmt::join(kept_before, ", ")));
    }
}

// The vde_switch: section comes and goes at runtime (its socket is made or closed); a
// section both have must be the same: its path, owner and mode belong to the clients bound.
void vde_switch_change(const model& running, const model& next, model& fixed, change_plan& plan) {
    if (running.vde_switch.has_value() == next.vde_switch.has_value()) {
        return;
    }
    fixed.vde_switch = running.vde_switch;
    plan.changes.push_back(
        next.vde_switch ? fmt::format("vde_switch: added (listening on {}/ctl)", next.vde_switch->path)
                        : fmt::format("vde_switch: removed (no more listening on {}/ctl)", running.vde_switch->path));
}

void port_changes(const port& a, const port& b, change_plan& plan) {
    const bool steering = a.xdp && b.xdp && !(*a.xdp == *b.xdp);
    if (steering) {
        plan.changes.push_back(fmt::format("port '{}': steering {} -> {}", a.name,
                                           describe_steering(steer_rules_of(a)), describe_steering(steer_rules_of(b))));
    }
    if (same_forwarding(a, b)) {
        if (steering) {
            plan.ports.push_back(a.name);
        }
        return;
    }
    plan.ports.push_back(a.name);
    if (describe_vlans(a) != describe_vlans(b)) {
        plan.changes.push_back(fmt::format("port '{}': {} -> {}", a.name, describe_vlans(a), describe_vlans(b)));
    }
    if (a.foreign_tpid != b.foreign_tpid) {
        const auto name = [](foreign_tpid_action f) { return f == foreign_tpid_action::drop ? "drop" : "payload"; };
        plan.changes.push_back(
            fmt::format("port '{}': foreign_tpid {} -> {}", a.name, name(a.foreign_tpid), name(b.foreign_tpid)));
    }
    if (a.mtu.value_or(default_mtu) != b.mtu.value_or(default_mtu)) {
        plan.changes.push_back(fmt::format("port '{}': mtu {} -> {}", a.name, a.mtu.value_or(default_mtu),
                                           b.mtu.value_or(default_mtu)));
    }
}

using static_key = std::pair<std::string, uint16_t>; // normalised MAC, VLAN

std::map<static_key, const static_mac*> statics_of(const model& m) {
    std::map<static_key, const static_mac*> out;
    for (const auto& s : m.mac_table.statics) {
        const auto mac = mac_addr::parse(s.mac);
        out[{mac ? mac->to_string() : s.mac, s.vlan}] = &s;
    }
    return out;
}

void static_changes(const model& running, const model& next, change_plan& plan) {
    const auto before = statics_of(running);
    const auto after = statics_of(next);
    for (const auto& [key, s] : before) {
        const auto it = after.find(key);
        if (it == after.end() || it->second->port != s->port) {
            plan.statics_removed.push_back(*s);
            if (it == after.end()) {
                plan.changes.push_back(fmt::format("static MAC {} vlan {}: removed (was on port '{}')", key.first,
                                                   key.second, s->port));
            }
        }
    }
    for (const auto& [key, s] : after) {
        const auto it = before.find(key);
        if (it == before.end() || it->second->port != s->port) {
            plan.statics_added.push_back(*s);
            plan.changes.push_back(it == before.end() ? fmt::format("static MAC {} vlan {}: added on port '{}'",
                                                                    key.first, key.second, s->port)
                                                      : fmt::format("static MAC {} vlan {}: port '{}' -> '{}'",
                                                                    key.first, key.second, it->second->port, s->port));
        }
    }
}

} // namespace

bool same_forwarding(const port& a, const port& b) {
    auto translations = [](const port& p) {
        std::vector<std::tuple<uint16_t, std::optional<uint16_t>, uint16_t>> out;
        for (const auto& t : p.translations) {
            out.emplace_back(t.vlan, t.c_vlan, t.domain);
        }
        return out;
    };
    return a.mode == b.mode && a.access_vlan == b.access_vlan && a.allowed_vlans == b.allowed_vlans &&
           a.native_vlan == b.native_vlan && translations(a) == translations(b) && a.s_vlan == b.s_vlan &&
           a.c_vlans == b.c_vlans && a.tpid == b.tpid && a.foreign_tpid == b.foreign_tpid &&
           a.mtu.value_or(default_mtu) == b.mtu.value_or(default_mtu);
}

change_plan diff(const model& running, const model& next) {
    change_plan plan;
    port_set_changes(running, next, plan);
    if (!plan.refused.empty()) {
        plan.changes.clear();
        return plan;
    }
    // Everything but what may change is compared in the file's own format: the ports both
    // have, `next`'s with the running switch's changeable keys put back, must dump exactly
    // as the running ones.
    model fixed = next;
    std::erase_if(fixed.ports, [&](const port& p) { return find_port(running, p.name) == nullptr; });
    for (auto& p : fixed.ports) {
        copy_forwarding(*find_port(running, p.name), p);
    }
    fixed.mac_table.statics = running.mac_table.statics;
    keep_running_segments(running, fixed);
    change_plan section; // its line goes after the ports'
    vde_switch_change(running, next, fixed, section);
    const YAML::Node a = YAML::Load(dump(running));
    const YAML::Node b = YAML::Load(dump(fixed));
    for (const auto& section : {"dataplane", "fdb", "control", "vxlan", "vde_switch"}) {
        refuse_differences(a[section], b[section], section, plan.refused);
    }
    for (size_t i = 0, j = 0; i < running.ports.size(); ++i) {
        if (find_port(next, running.ports[i].name) != nullptr) {
            refuse_differences(a["ports"][i], b["ports"][j++], fmt::format("ports[{}] '{}'", i, running.ports[i].name),
                               plan.refused);
        }
    }
    if (!plan.refused.empty()) {
        plan.changes.clear();
        return plan;
    }
    for (const auto& p : running.ports) {
        if (const port* after = find_port(next, p.name)) {
            port_changes(p, *after, plan);
        }
    }
    static_changes(running, next, plan);
    for (auto& line : section.changes) {
        plan.changes.push_back(std::move(line));
    }
    if (running.vxlan && next.vxlan) {
        for (auto& line : segment_changes(*running.vxlan, *next.vxlan)) {
            plan.changes.push_back(std::move(line));
        }
    }
    return plan;
}

} // namespace vx::config

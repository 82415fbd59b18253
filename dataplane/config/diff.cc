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

std::vector<std::string> names_of(const model& m) {
    std::vector<std::string> out;
    for (const auto& p : m.ports) {
        out.push_back(p.name);
    }
    return out;
}

// Which ports exist is fixed while the switch runs (their devices, queues and workers are
// set up at start): a new, missing or reordered port is refused by name.
bool same_ports(const model& running, const model& next, std::vector<std::string>& refused) {
    const auto before = names_of(running);
    const auto after = names_of(next);
    for (const auto& n : after) {
        if (std::find(before.begin(), before.end(), n) == before.end()) {
            refused.push_back(fmt::format("ports: adding port '{}' needs a restart", n));
        }
    }
    for (const auto& n : before) {
        if (std::find(after.begin(), after.end(), n) == after.end()) {
            refused.push_back(fmt::format("ports: removing port '{}' needs a restart", n));
        }
    }
    if (refused.empty() && before != after) {
        refused.push_back(
            fmt::format("ports: the running order is {}: reordering ports needs a restart", fmt::join(before, ", ")));
    }
    return refused.empty();
}

void port_changes(const port& a, const port& b, uint16_t index, change_plan& plan) {
    if (same_forwarding(a, b)) {
        return;
    }
    plan.ports.push_back(index);
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
    if (!same_ports(running, next, plan.refused)) {
        return plan;
    }
    // Everything but what may change is compared in the file's own format: `next` with the
    // running switch's changeable keys put back must dump exactly as the running one.
    model fixed = next;
    for (size_t i = 0; i < fixed.ports.size(); ++i) {
        copy_forwarding(running.ports[i], fixed.ports[i]);
    }
    fixed.mac_table.statics = running.mac_table.statics;
    const YAML::Node a = YAML::Load(dump(running));
    const YAML::Node b = YAML::Load(dump(fixed));
    for (const auto& section : {"dataplane", "fdb", "control", "vxlan", "vde_switch"}) {
        refuse_differences(a[section], b[section], section, plan.refused);
    }
    for (size_t i = 0; i < running.ports.size(); ++i) {
        refuse_differences(a["ports"][i], b["ports"][i], fmt::format("ports[{}] '{}'", i, running.ports[i].name),
                           plan.refused);
    }
    if (!plan.refused.empty()) {
        return plan;
    }
    for (size_t i = 0; i < running.ports.size(); ++i) {
        port_changes(running.ports[i], next.ports[i], static_cast<uint16_t>(i), plan);
    }
    static_changes(running, next, plan);
    return plan;
}

} // namespace vx::config

// SPDX-License-Identifier: MIT
// vxctl vni [show] | add | set | remove: the VXLAN segments (VNIs, vxvde networks) of the running
// VTEP. A change edits the running configuration's vxlan.vnis list, in the file's grammar, and
// goes the way of every change (control_changes.cc): validated whole, diffed, applied hitlessly
// (the VTEP table rebuilt with its remotes at their indices, tables/vtep_control.hh).
#include "daemon/control_commands.hh"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>

#include "config/vxlan.hh"
#include "daemon/control_views.hh"
#include "daemon/counter_json.hh"
#include "daemon/fabric.hh"

namespace vx::control {

using nlohmann::json;
using ctl::request_error;

namespace {

// The keys of a segment that vni.add and vni.set take (the file's, docs/configuration.md).
constexpr std::array segment_keys{"vlan", "group", "remotes", "protocol", "port"};

const config::vtep& vtep_of(const config::model& m) {
    if (!m.vxlan) {
        throw request_error("VXLAN is not configured: the vxlan: section (underlay, address) needs a restart");
    }
    return *m.vxlan;
}

void set_segment_keys(ctl::arg_reader& a, YAML::Node segment, const json& set) {
    for (const auto& [key, value] : set.items()) {
        if (std::find(segment_keys.begin(), segment_keys.end(), key) == segment_keys.end()) {
            a.fail("set", fmt::format("'{}' is not a key of a VNI; expected one of: {}", key,
                                      fmt::join(segment_keys, ", ")));
        }
        if (value.is_null()) {
            segment.remove(key);
        } else {
            segment[key] = yaml_of(value);
        }
    }
}

json remote_json(const vtep_table& t, const ip_address& ip, uint16_t port = 0) {
    json r = {{"address", ip.to_string()}};
    if (port != 0) {
        r["port"] = port;
    }
    const auto index = t.remote_of(ip, port);
    r["resolved"] = index && t.remotes[*index].resolved;
    r["next_hop"] = r["resolved"].get<bool>() ? json(t.remotes[*index].outer.dst_mac.to_string()) : json(nullptr);
    return r;
}

} // namespace

size_t segment_index(const config::vtep& v, uint32_t vni, std::optional<int64_t> udp_port) {
    std::vector<size_t> found;
    std::vector<uint32_t> all;
    for (size_t i = 0; i < v.segments.size(); ++i) {
        const auto& s = v.segments[i];
        all.push_back(s.vni);
        if (s.vni == vni && (!udp_port || config::segment_udp_port(v, s) == *udp_port)) {
            found.push_back(i);
        }
    }
    if (found.empty()) {
        throw request_error(fmt::format("no vni {}{}; vnis: {}", vni,
                                        udp_port ? fmt::format(" on UDP port {}", *udp_port) : "",
                                        all.empty() ? "none" : fmt::format("{}", fmt::join(all, ", "))));
    }
    if (found.size() > 1) {
        throw request_error(fmt::format("vni {} is on UDP ports {} and {}: say which with udp_port", vni,
                                        config::segment_udp_port(v, v.segments[found[0]]),
                                        config::segment_udp_port(v, v.segments[found[1]])));
    }
    return found.front();
}

json commands::vni_show(ctl::arg_reader& a) {
    a.done();
    const auto& v = vtep_of(_running);
    const vtep_table& t = _fabric.tables().vxlan;
    json vnis = json::array();
    std::vector<remote_key> configured;
    for (const auto& s : v.segments) {
        json remotes = json::array();
        for (const auto& text : s.remotes) {
            const auto ip = *ip_address::parse(text);
            remotes.push_back(remote_json(t, ip));
            configured.push_back({ip, 0});
        }
        json segment = segment_json(v, s);
        segment["group"] = s.group.empty() ? json(nullptr) : json(s.group);
        segment["remotes"] = remotes;
        vnis.push_back(std::move(segment));
    }
    // The remotes learned from their frames (a peer flooding to a group, vxvde endpoints).
    json discovered = json::array();
    for (const auto& r : t.remotes) {
        if (r.is_group || r.retired || std::find(configured.begin(), configured.end(), r.key()) != configured.end()) {
            continue;
        }
        discovered.push_back(remote_json(t, r.outer.dst_ip, r.key().port));
    }
    return {{"underlay", v.underlay}, {"vnis", vnis}, {"discovered", discovered}};
}

json commands::vni_add(ctl::arg_reader& a) {
    const auto vni = a.required_integer("vni", 1, (1 << 24) - 1);
    const json& set = a.required_object("set");
    const bool dry_run = a.flag("dry_run");
    a.done();
    const auto& v = vtep_of(_running);
    for (const auto& s : v.segments) {
        const bool vxvde = set.contains("protocol") && set["protocol"] == "vxvde";
        if (s.vni == vni && !s.vxvde && !vxvde) { // the loader names the other duplicates
            throw request_error(fmt::format("vni {} already exists (vxctl vni set changes it)", vni));
        }
    }
    YAML::Node root = running_yaml();
    YAML::Node segment;
    segment["vni"] = std::to_string(vni);
    set_segment_keys(a, segment, set);
    root["vxlan"]["vnis"].push_back(segment);
    return change_to(root, "vni.add", dry_run);
}

json commands::vni_set(ctl::arg_reader& a) {
    const auto vni = a.required_integer("vni", 1, (1 << 24) - 1);
    const auto udp_port = a.integer("udp_port", 1, 65535);
    const json& set = a.required_object("set");
    const bool dry_run = a.flag("dry_run");
    a.done();
    const size_t i = segment_index(vtep_of(_running), static_cast<uint32_t>(vni), udp_port);
    YAML::Node root = running_yaml();
    set_segment_keys(a, root["vxlan"]["vnis"][i], set);
    return change_to(root, "vni.set", dry_run);
}

json commands::vni_remove(ctl::arg_reader& a) {
    const auto vni = a.required_integer("vni", 1, (1 << 24) - 1);
    const auto udp_port = a.integer("udp_port", 1, 65535);
    const bool dry_run = a.flag("dry_run");
    a.done();
    const size_t i = segment_index(vtep_of(_running), static_cast<uint32_t>(vni), udp_port);
    YAML::Node root = running_yaml();
    YAML::Node kept;
    for (size_t k = 0; k < root["vxlan"]["vnis"].size(); ++k) {
        if (k != i) {
            kept.push_back(root["vxlan"]["vnis"][k]);
        }
    }
    root["vxlan"]["vnis"] = kept.IsNull() ? YAML::Node(YAML::NodeType::Sequence) : kept;
    return change_to(root, "vni.remove", dry_run);
}

} // namespace vx::control

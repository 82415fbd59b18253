// SPDX-License-Identifier: MIT
// vxctl config dump/apply and port set/add/remove: every change is a whole new configuration,
// validated with the loader's rules, diffed with the running one (config/diff.hh) and applied
// by the fabric while it forwards (daemon/fabric_changes.cc).
#include "daemon/control_commands.hh"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <regex>

#include "config/diff.hh"
#include "config/dump.hh"
#include "config/port_vlans.hh"
#include "daemon/fabric.hh"

namespace vx::control {

using nlohmann::json;
using ctl::request_error;

json commands::config_dump(ctl::arg_reader& a) {
    a.done();
    return {{"yaml", config::dump(_running)}};
}

// ---- runtime changes ----

namespace {


// The keys that belong to one port mode: a port that changes mode leaves the old ones behind.
constexpr std::array mode_keys{"vlan", "vlans", "native_vlan", "translate", "s_vlan", "c_vlans"};

// Loader messages about a configuration port.set/add/remove or vni.add/set/remove wrote from the running one: the
// line and column are in that text, which nobody sees; the key path says what is wrong.
std::vector<std::string> without_positions(std::vector<std::string> errors) {
    static const std::regex position{R"(^(port|vni)\.(set|add|remove):\d+:\d+: | \(line \d+\))"};
    for (auto& e : errors) {
        e = std::regex_replace(e, position, "");
    }
    return errors;
}

// The maps of a port whose keys may be set one at a time ("steer.udp", vxctl's steering
// flags): the key changes and its siblings stay.
constexpr std::array keyed_maps{"steer", "drop"};

// Sets "MAP.KEY" (null removes it, and the map once it is empty).
void set_map_key(ctl::arg_reader& a, YAML::Node port, const std::string& path, const json& value) {
    const std::string map = path.substr(0, path.find('.'));
    const std::string key = path.substr(map.size() + 1);
    if (std::find(keyed_maps.begin(), keyed_maps.end(), map) == keyed_maps.end() || key.empty() ||
        key.find('.') != std::string::npos) {
        a.fail("set", fmt::format("'{}': only keys of steer and drop are set one by one (steer.udp, drop.vlans, ...)",
                                  path));
    }
    if (value.is_null()) {
        if (port[map]) {
            port[map].remove(key);
            if (port[map].size() == 0) {
                port.remove(map);
            }
        }
        return;
    }
    if (!port[map] || !port[map].IsMap()) {
        port[map] = YAML::Node(YAML::NodeType::Map);
    }
    port[map][key] = yaml_of(value);
}

// Sets a port's keys (null removes one; a new mode drops the old mode's VLAN keys).
void set_keys(ctl::arg_reader& a, YAML::Node port, const json& set) {
    const auto mode = set.find("mode");
    if (mode != set.end() && mode->is_string() && port["mode"] && *mode != port["mode"].as<std::string>()) {
        for (const char* key : mode_keys) {
            port.remove(key);
        }
    }
    for (const auto& [key, value] : set.items()) {
        if (key == "name") {
            a.fail("set", "a port's name cannot change (it names the port)");
        }
        if (key == "device" || key == "type") {
            a.fail("set", fmt::format("'{}' is not a key port.set or port.add set (port.add takes the device or the "
                                      "type)", key));
        }
        if (key.find('.') != std::string::npos) {
            set_map_key(a, port, key, value);
        } else if (value.is_null()) {
            port.remove(key);
        } else {
            port[key] = yaml_of(value);
        }
    }
}

} // namespace

YAML::Node yaml_of(const json& v) {
    YAML::Node n;
    if (v.is_object()) {
        for (const auto& [key, value] : v.items()) {
            n[key] = yaml_of(value);
        }
    } else if (v.is_array()) {
        n = YAML::Node(YAML::NodeType::Sequence); // [] stays an empty list, not null
        for (const auto& item : v) {
            n.push_back(yaml_of(item));
        }
    } else if (v.is_string()) {
        n = v.get<std::string>();
    } else if (v.is_number_integer()) {
        n = v.dump(); // as text: the loader takes decimal and 0x integers alike
    } else {
        n = v.dump(); // floats and booleans: the loader refuses them where it wants integers
    }
    return n;
}

json commands::change_to(const config::load_result& loaded, bool dry_run) {
    if (!loaded.value) {
        throw request_error(fmt::format("configuration refused, nothing changed:\n  {}", fmt::join(loaded.errors, "\n  ")));
    }
    const auto& next = *loaded.value;
    const auto plan = config::diff(_running, next);
    if (!plan.refused.empty()) {
        throw request_error(
            fmt::format("configuration refused, nothing changed:\n  {}", fmt::join(plan.refused, "\n  ")));
    }
    if (!dry_run && !plan.empty()) {
        try {
            _fabric.reconfigure(next, plan);
        } catch (const std::runtime_error& e) {
            throw request_error(e.what());
        }
        _running = next;
        for (const auto& p : plan.ports_added) {
            forget_baseline(port_index(p.name)); // its slot may have counted for a removed port
        }
        for (const auto& line : plan.changes) {
            spdlog::info("control: {}", line);
        }
    }
    return {{"changes", plan.changes}, {"applied", !dry_run && !plan.empty()}, {"warnings", config::mtu_warnings(next)}};
}

json commands::config_apply(ctl::arg_reader& a) {
    const auto text = a.required_text("yaml");
    const auto source = a.text("source").value_or("<vxctl config apply>");
    const bool dry_run = a.flag("dry_run");
    a.done();
    return change_to(config::load_string(text, source), dry_run);
}

YAML::Node commands::running_yaml() const {
    return YAML::Load(config::dump(_running));
}

json commands::change_to(const YAML::Node& edited, const char* source, bool dry_run) {
    YAML::Emitter text;
    text << edited;
    auto loaded = config::load_string(text.c_str(), source);
    loaded.errors = without_positions(std::move(loaded.errors));
    return change_to(loaded, dry_run);
}

json commands::port_set(ctl::arg_reader& a) {
    const auto name = a.required_text("port");
    const json& set = a.required_object("set");
    const bool dry_run = a.flag("dry_run");
    a.done();
    port_index(name); // refuses an unknown name, listing the ports
    YAML::Node root = running_yaml();
    for (auto port : root["ports"]) {
        if (port["name"].as<std::string>() == name) {
            set_keys(a, port, set);
        }
    }
    return change_to(root, "port.set", dry_run);
}

json commands::port_add(ctl::arg_reader& a) {
    const auto name = a.required_text("port");
    const auto device = a.text("device");
    const auto type = a.text("type");
    const auto iface = a.text("iface");
    const auto url = a.text("url");
    const auto vde_port = a.integer("vde_port", 1, 65535);
    const json* set = a.object("set");
    const bool dry_run = a.flag("dry_run");
    a.done();
    if (std::any_of(_running.ports.begin(), _running.ports.end(), [&](const auto& p) { return p.name == name; })) {
        throw request_error(fmt::format("a port is already named '{}'", name));
    }
    if (!device && !type) {
        a.fail("device", "a port is added on a device (devargs), or is of a type (type: af_xdp with an iface, vde "
                         "with a url, vde_switch)");
    }
    if (type == "vde" && !url) {
        a.fail("url", "a port of type vde opens a libvdeplug URL: give it (vde:///path of a vde_switch, "
                      "vxvde://group, ...)");
    }
    if (type == "vde_switch" && !_running.vde_switch) {
        throw request_error("a port of type vde_switch is a port of vxswitchd's own VDE switch, and this switch has "
                            "none: add the vde_switch: section (its path) with vxctl config apply first");
    }
    YAML::Node root = running_yaml();
    YAML::Node port;
    port["name"] = name;
    // The loader refuses what does not fit together (a device on an af_xdp or VDE port, an
    // af_xdp port without its iface, a url on a vde_switch port), as in a file.
    for (const auto& [key, value] : {std::pair{"type", type}, {"device", device}, {"iface", iface}, {"url", url}}) {
        if (value) {
            port[key] = *value;
        }
    }
    if (vde_port) {
        port["vde_port"] = std::to_string(*vde_port);
    }
    if (set != nullptr) {
        set_keys(a, port, *set);
    }
    root["ports"].push_back(port);
    return change_to(root, "port.add", dry_run);
}

json commands::port_remove(ctl::arg_reader& a) {
    const auto name = a.required_text("port");
    const bool dry_run = a.flag("dry_run");
    a.done();
    port_index(name);
    // What the loader would also refuse, said in terms of what to do instead.
    if (_running.vxlan && _running.vxlan->underlay == name) {
        throw request_error(fmt::format("port '{}' is the VXLAN underlay (vxlan.underlay): it goes only with the "
                                        "vxlan: section, at a restart", name));
    }
    std::vector<std::string> statics;
    for (const auto& s : _running.mac_table.statics) {
        if (s.port == name) {
            statics.push_back(fmt::format("{} vlan {}", s.mac, s.vlan));
        }
    }
    if (!statics.empty()) {
        throw request_error(fmt::format("static MACs name port '{}' ({}): delete them first (vxctl mac del)", name,
                                        fmt::join(statics, ", ")));
    }
    YAML::Node root = running_yaml();
    YAML::Node kept;
    for (const auto& port : root["ports"]) {
        if (port["name"].as<std::string>() != name) {
            kept.push_back(port);
        }
    }
    root["ports"] = kept;
    return change_to(root, "port.remove", dry_run);
}

} // namespace vx::control

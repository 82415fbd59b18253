// SPDX-License-Identifier: MIT
// vxctl port set/add/remove: change a port's mode, VLANs, TPID or MTU, add a port (on a DPDK
// device, an af_xdp port, a VDE port) or remove one, while the switch forwards. The flags are
// the configuration file's keys (docs/configuration.md); the daemon validates the whole
// configuration they make and applies it as a diff (config/diff.hh).

#include <fmt/format.h>

#include <array>
#include <iostream>
#include <memory>
#include <optional>

#include "ctl/commands/commands.hh"

namespace vx::ctl {

namespace {

using nlohmann::json;

struct port_set_options {
    std::string port;
    std::string device;  // port add
    uint16_t queues = 0; // port add; 0: the file's default
    std::optional<std::string> mode;
    std::optional<int64_t> vlan;
    std::optional<std::string> vlans;
    std::optional<std::string> native_vlan;
    std::optional<int64_t> s_vlan;
    std::optional<std::string> c_vlans;
    std::optional<std::string> tpid;
    std::optional<std::string> foreign_tpid;
    std::optional<std::string> mtu;
    // An af_xdp port's steering keys (docs/af-xdp.md), by the key they set: "own", "steer.udp", ...
    std::array<std::optional<std::string>, 8> steering;
    std::string type;  // port add: af_xdp, vde or vde_switch
    std::string iface; // port add, type af_xdp
    std::string url;   // port add, type vde
    std::optional<uint16_t> vde_port; // port add, type vde_switch
    bool dry_run = false;
};

// vxctl's steering flags and the keys they set: one key of steer: or drop: each, so a flag
// leaves the map's other keys as they are.
struct steering_flag {
    const char* flag;
    const char* key;
    const char* help;
};
constexpr std::array<steering_flag, 8> steering_flags{{
    {"--own", "own", "af_xdp: true (every frame to the switch) or false, or none"},
    {"--steer-vlans", "steer.vlans", "af_xdp: steered VLANs, e.g. 10,20 ('' none; none: the VLANs the port carries)"},
    {"--steer-udp", "steer.udp", "af_xdp: steered UDP destinations, e.g. 192.0.2.1:4789,*:4790 (none: no key)"},
    {"--steer-macs", "steer.macs", "af_xdp: steered destination MACs or ranges (MAC-MAC), comma-separated, or none"},
    {"--drop-vlans", "drop.vlans", "af_xdp: VLANs dropped in XDP, e.g. 30, or none"},
    {"--drop-ethertypes", "drop.ethertypes", "af_xdp: EtherTypes dropped in XDP, e.g. 0x88cc, or none"},
    {"--drop-src-macs", "drop.src_macs", "af_xdp: source MACs dropped in XDP, or none"},
    {"--drop-udp", "drop.udp", "af_xdp: UDP destinations dropped in XDP, e.g. *:9999, or none"},
}};

// "10,20,100-199" as the file's list: numbers, and ranges as strings; "" is the empty list.
json vlan_list(const std::string& text) {
    json out = json::array();
    size_t start = 0;
    while (start < text.size()) {
        const size_t comma = text.find(',', start);
        const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        const bool number = !item.empty() && item.find_first_not_of("0123456789") == std::string::npos;
        out.push_back(number && item.size() < 6 ? json(std::stoi(item)) : json(item));
        start = comma == std::string::npos ? text.size() : comma + 1;
    }
    return out;
}

// "none" removes an optional key (native_vlan, mtu); other text goes as the file has it.
json optional_key(const std::string& text) {
    if (text == "none") {
        return nullptr;
    }
    const bool number = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
    return number && text.size() < 6 ? json(std::stoi(text)) : json(text);
}

json settings(const port_set_options& o) {
    json set = json::object();
    if (o.mode) {
        set["mode"] = *o.mode;
    }
    if (o.vlan) {
        set["vlan"] = *o.vlan;
    }
    if (o.vlans) {
        set["vlans"] = vlan_list(*o.vlans);
    }
    if (o.native_vlan) {
        set["native_vlan"] = optional_key(*o.native_vlan);
    }
    if (o.s_vlan) {
        set["s_vlan"] = *o.s_vlan;
    }
    if (o.c_vlans) {
        set["c_vlans"] = vlan_list(*o.c_vlans);
    }
    if (o.tpid) {
        set["tpid"] = optional_key(*o.tpid);
    }
    if (o.foreign_tpid) {
        set["foreign_tpid"] = *o.foreign_tpid;
    }
    if (o.mtu) {
        set["mtu"] = optional_key(*o.mtu);
    }
    if (o.queues != 0) {
        set["queues"] = o.queues;
    }
    for (size_t i = 0; i < steering_flags.size(); ++i) {
        if (const auto& text = o.steering[i]) {
            const std::string_view key = steering_flags[i].key;
            if (*text == "none") {
                set[key] = nullptr;
            } else if (key == "own") {
                set[key] = *text; // the loader reads true/false and says what else is wrong
            } else {
                set[key] = vlan_list(*text);
            }
        }
    }
    return set;
}

// The configuration keys port set changes and port add starts from.
void add_key_options(CLI::App* cmd, port_set_options& o) {
    cmd->add_option("--mode", o.mode, "access, trunk, s-trunk or customer (the old mode's VLAN keys are dropped)");
    cmd->add_option("--vlan", o.vlan, "access: the port's VLAN");
    cmd->add_option("--vlans", o.vlans, "trunk, s-trunk: allowed VLANs, e.g. 10,20,100-199");
    cmd->add_option("--native-vlan", o.native_vlan, "trunk, s-trunk: the untagged VLAN, or none");
    cmd->add_option("--s-vlan", o.s_vlan, "customer: the S-VLAN");
    cmd->add_option("--c-vlans", o.c_vlans, "customer: admitted C-VLANs, e.g. 10,20 (empty: all)");
    cmd->add_option("--tpid", o.tpid, "the outer tag's TPID, e.g. 0x9100, or none for the mode's default");
    cmd->add_option("--foreign-tpid", o.foreign_tpid, "payload or drop");
    cmd->add_option("--mtu", o.mtu, "68..16128, or none for the default (1500)");
    for (size_t i = 0; i < steering_flags.size(); ++i) {
        cmd->add_option(steering_flags[i].flag, o.steering[i], steering_flags[i].help);
    }
    cmd->add_flag("--dry-run", o.dry_run, "validate and say what would change; change nothing");
}

} // namespace

// What a change did (or, with --dry-run, would do): shared by port set and config apply.
void print_change(const json& r) {
    const auto& changes = r["changes"];
    if (changes.empty()) {
        std::cout << "no change: the running configuration is already so\n";
    }
    for (const auto& c : changes) {
        std::cout << (r["applied"].get<bool>() ? "changed: " : "would change: ") << c.get<std::string>() << '\n';
    }
    for (const auto& w : r["warnings"]) {
        std::cout << "warning: " << w.get<std::string>() << '\n';
    }
}

void add_port_commands(CLI::App& app, context& ctx) {
    auto* port = app.add_subcommand("port", "change ports at runtime: set, add, remove");
    port->require_subcommand(1);

    const auto o = std::make_shared<port_set_options>();
    auto* set = port->add_subcommand(
        "set", "change a port's mode, VLANs, TPID, MTU or XDP steering; validated whole, hitless");
    set->add_option("port", o->port, "the port's name")->required();
    add_key_options(set, *o);
    set->callback([&ctx, o] {
        const json set_keys = settings(*o);
        if (set_keys.empty()) {
            throw CLI::ValidationError("port set",
                                       "nothing to set: give at least one of --mode, --vlan, --vlans, --steer-udp, ...");
        }
        send_change(ctx, "port.set", {{"port", o->port}, {"set", set_keys}, {"dry_run", o->dry_run}});
    });

    const auto n = std::make_shared<port_set_options>();
    auto* add = port->add_subcommand(
        "add", "add a port on a DPDK device (net_null0,no-rx=1, a PCI address, ...), an af_xdp port (--type af_xdp "
               "--iface IF) or a VDE port (--type vde --url URL, --type vde_switch [--vde-port N])");
    add->add_option("port", n->port, "the new port's name")->required();
    auto* device = add->add_option("--device", n->device, "DPDK devargs, as the file's device key");
    auto* type = add->add_option("--type", n->type,
                                 "af_xdp: a port on an interface, with vxswitch's XDP program; vde: a port on a "
                                 "libvdeplug URL; vde_switch: a port of vxswitchd's own VDE switch");
    add->add_option("--iface", n->iface, "af_xdp: the interface")->needs(type);
    add->add_option("--url", n->url, "vde: the libvdeplug URL (vde:///run/sw, vxvde://239.1.2.3, tap://vde0, ...)")
        ->needs(type);
    add->add_option("--vde-port", n->vde_port, "vde_switch: the port number a client asks for (vde:///PATH[N])")
        ->check(CLI::Range(1, 65535))
        ->needs(type);
    device->excludes(type);
    add->add_option("--queues", n->queues, "RX queues (default 1)")->check(CLI::Range(1, 64));
    add_key_options(add, *n);
    add->callback([&ctx, n] {
        if (n->device.empty() && n->type.empty()) {
            throw CLI::ValidationError("port add", "give --device DEVARGS, --type af_xdp --iface IF, --type vde --url "
                                                   "URL or --type vde_switch");
        }
        json args = {{"port", n->port}, {"dry_run", n->dry_run}};
        for (const auto& [key, value] :
             {std::pair{"device", n->device}, {"type", n->type}, {"iface", n->iface}, {"url", n->url}}) {
            if (!value.empty()) {
                args[key] = value;
            }
        }
        if (n->vde_port) {
            args["vde_port"] = *n->vde_port;
        }
        if (const json keys = settings(*n); !keys.empty()) {
            args["set"] = keys;
        }
        send_change(ctx, "port.add", args);
    });

    const auto r = std::make_shared<port_set_options>();
    auto* remove = port->add_subcommand("remove", "remove a port: unpolled, its MACs flushed, its device closed");
    remove->add_option("port", r->port, "the port's name")->required();
    remove->add_flag("--dry-run", r->dry_run, "validate and say what would change; change nothing");
    remove->callback([&ctx, r] { send_change(ctx, "port.remove", {{"port", r->port}, {"dry_run", r->dry_run}}); });
}

} // namespace vx::ctl

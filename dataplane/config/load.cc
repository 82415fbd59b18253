// SPDX-License-Identifier: MIT
// The configuration file's grammar: each section and key read once, with its type and range
// (config/map_reader.hh); what the model must satisfy is config/validate.cc.
#include "config/load.hh"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "config/map_reader.hh"
#include "config/port_vlans.hh"
#include "config/vxlan.hh"
#include "config/xdp_steering.hh"
#include "packet/ether.hh"

namespace vx::config {

namespace {

void read_dataplane(map_reader& top, dataplane& dp) {
    map_reader r(top.sink(), top.child("dataplane"), "dataplane");
    r.integer("workers", dp.workers, 1, 64);
    r.each("cpus", [&](const YAML::Node& n, const std::string& path) {
        uint16_t cpu = 0;
        if (r.integer_value(n, path, cpu, 0, 1023)) {
            dp.cpus.push_back(cpu);
        }
    });
    r.integer("mbufs", dp.mbufs, 1023, 16'777'215);
    r.integer("memory_mb", dp.memory_mb, 64, 1'048'576);
    r.integer("idle_sleep_us", dp.idle_sleep_us, 0, 1'000'000);
    r.each("eal_args", [&](const YAML::Node& n, const std::string& path) {
        if (n.IsScalar()) {
            dp.eal_args.push_back(n.Scalar());
        } else {
            r.sink().at(n, path, "expected a string");
        }
    });
}

void read_static(map_reader& parent, const YAML::Node& n, const std::string& path, fdb& f) {
    map_reader r(parent.sink(), n, path);
    static_mac s;
    s.line = n.Mark().line + 1;
    if (r.text("mac", s.mac, true) && !mac_addr::parse(s.mac)) {
        r.sink().at(r.child("mac"), r.path_of("mac"),
                    fmt::format("'{}' is not a MAC address (aa:bb:cc:dd:ee:ff)", s.mac));
    }
    if (!r.has("vlan")) {
        r.sink().at(n, r.path_of("vlan"), "required key is missing");
    }
    r.integer("vlan", s.vlan, min_vlan, max_vlan);
    r.text("port", s.port, true);
    f.statics.push_back(s);
}

void read_fdb(map_reader& top, fdb& f) {
    map_reader r(top.sink(), top.child("fdb"), "fdb");
    r.integer("max_entries", f.max_entries, 1, 1 << 26);
    r.integer("aging_s", f.aging_s, 0, 1'000'000);
    r.each("static", [&](const YAML::Node& n, const std::string& path) { read_static(r, n, path, f); });
}

// owner: root, group: vxswitch, mode: 0660 of a unix socket. The mode is octal, as chmod
// takes it. Users and groups are looked up when the socket is made.
void read_socket_access(map_reader& r, std::string& owner, std::string& group, std::optional<uint16_t>& mode) {
    r.text("owner", owner, false);
    r.text("group", group, false);
    if (const YAML::Node n = r.child("mode")) {
        static const std::regex octal{R"(^[0-7]{1,4}$)"};
        const std::string text = n.IsScalar() ? n.Scalar() : "";
        const std::string digits = text.starts_with("0o") ? text.substr(2) : text;
        if (!std::regex_match(digits, octal) || std::stoul(digits, nullptr, 8) > 0777) {
            r.sink().at(n, r.path_of("mode"), fmt::format("'{}' is not a permission mode (octal, 0000..0777)", text));
        } else {
            mode = static_cast<uint16_t>(std::stoul(digits, nullptr, 8));
        }
    }
}

// control: { socket: /run/vxswitch/vxswitchd.sock, owner: root, group: vxswitch, mode: 0660 }
// The mode is octal, as chmod takes it. Users and groups are looked up when the socket is made.
void read_control(map_reader& top, control_channel& c) {
    map_reader r(top.sink(), top.child("control"), "control");
    if (r.text("socket", c.socket, false)) {
        constexpr size_t max_path = 107; // sockaddr_un's sun_path, less its NUL
        if (c.socket.front() != '/' || c.socket.size() > max_path) {
            r.sink().at(r.child("socket"), r.path_of("socket"),
                        fmt::format("'{}' must be an absolute path of at most {} bytes", c.socket, max_path));
        }
    }
    read_socket_access(r, c.owner, c.group, c.mode);
}

// vde_switch: { path: /run/vxswitch/vde, owner: root, group: kvm, mode: 0660 } (docs/vde.md)
void read_vde_switch(map_reader& top, model& m) {
    const YAML::Node n = top.child("vde_switch");
    if (!n) {
        return;
    }
    map_reader r(top.sink(), n, "vde_switch");
    vde_listener& v = m.vde_switch.emplace();
    v.line = n.Mark().line + 1;
    if (r.text("path", v.path, true)) {
        // The data sockets are PATH/.vxNNNN-NNNNN and the clients' PATH/.PPPPP-NNNNN: both must fit sun_path.
        constexpr size_t max_path = 90;
        if (v.path.empty() || v.path.front() != '/' || v.path.size() > max_path) {
            r.sink().at(r.child("path"), r.path_of("path"),
                        fmt::format("'{}' must be an absolute directory path of at most {} bytes", v.path, max_path));
        }
    }
    read_socket_access(r, v.owner, v.group, v.mode);
}

// "vlans: [10, 20, "100-199"]": numbers and inclusive ranges, stored sorted and unique.
void read_vlan_list(map_reader& r, const char* key, std::vector<uint16_t>& out) {
    static const std::regex range{R"(^\s*(\d+)\s*-\s*(\d+)\s*$)"};
    r.each(key, [&](const YAML::Node& n, const std::string& path) {
        std::smatch m;
        const std::string text = n.IsScalar() ? n.Scalar() : "";
        if (std::regex_match(text, m, range)) {
            const int lo = std::stoi(m[1]);
            const int hi = std::stoi(m[2]);
            if (lo < min_vlan || hi > max_vlan || lo > hi) {
                r.sink().at(n, path,
                            fmt::format("'{}' is not a valid VLAN range ({}..{}, low-high)", text, min_vlan, max_vlan));
                return;
            }
            for (int v = lo; v <= hi; ++v) {
                out.push_back(static_cast<uint16_t>(v));
            }
            return;
        }
        uint16_t vlan = 0;
        if (r.integer_value(n, path, vlan, min_vlan, max_vlan)) {
            out.push_back(vlan);
        }
    });
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
}

void refuse_keys(map_reader& r, const YAML::Node& item, std::initializer_list<const char*> keys, const char* why) {
    for (const char* key : keys) {
        if (r.has(key)) {
            r.sink().at(item[key], r.path_of(key), why);
            r.child(key);
        }
    }
}

// Reports each of `keys` that the mapping `n` lacks.
void require_keys(map_reader& r, const YAML::Node& n, std::initializer_list<const char*> keys) {
    for (const char* key : keys) {
        if (!r.has(key)) {
            r.sink().at(n, r.path_of(key), "required key is missing");
        }
    }
}

// translate: [{vlan: 10, domain: 110}, {vlan: 100, c_vlan: 10, domain: 1010}]
void read_translation(map_reader& parent, const YAML::Node& n, const std::string& path, port& p) {
    map_reader r(parent.sink(), n, path);
    translation t;
    t.line = n.Mark().line + 1;
    require_keys(r, n, {"vlan", "domain"});
    r.integer("vlan", t.vlan, min_vlan, max_vlan);
    r.integer("domain", t.domain, min_vlan, max_vlan);
    uint16_t c_vlan = 0;
    if (r.integer("c_vlan", c_vlan, min_vlan, max_vlan)) {
        t.c_vlan = c_vlan;
    }
    p.translations.push_back(t);
}

void read_trunk(map_reader& r, const YAML::Node& n, port& p) {
    refuse_keys(r, n, {"vlan"}, "vlan is for access ports; a trunk takes vlans and native_vlan");
    refuse_keys(r, n, {"s_vlan", "c_vlans"}, "this key is for customer ports (mode: customer)");
    read_vlan_list(r, "vlans", p.allowed_vlans);
    uint16_t native = 0;
    if (r.integer("native_vlan", native, min_vlan, max_vlan)) {
        p.native_vlan = native;
        p.allowed_vlans.insert(std::lower_bound(p.allowed_vlans.begin(), p.allowed_vlans.end(), native), native);
        p.allowed_vlans.erase(std::unique(p.allowed_vlans.begin(), p.allowed_vlans.end()), p.allowed_vlans.end());
    }
    r.each("translate", [&](const YAML::Node& item, const std::string& item_path) {
        read_translation(r, item, item_path, p);
    });
}

void read_customer(map_reader& r, const YAML::Node& n, port& p) {
    refuse_keys(r, n, {"vlan"}, "a customer port's domain is its s_vlan");
    refuse_keys(r, n, {"vlans", "native_vlan", "translate"}, "this key is for trunk and s-trunk ports");
    if (!r.has("s_vlan")) {
        r.sink().at(n, r.path_of("s_vlan"), "required key is missing: the S-VLAN this customer's frames join");
    }
    r.integer("s_vlan", p.s_vlan, min_vlan, max_vlan);
    read_vlan_list(r, "c_vlans", p.c_vlans);
}

void read_access(map_reader& r, const YAML::Node& n, port& p) {
    refuse_keys(r, n, {"vlans", "native_vlan", "translate"}, "this key is for trunk and s-trunk ports");
    refuse_keys(r, n, {"s_vlan", "c_vlans"}, "this key is for customer ports (mode: customer)");
    r.integer("vlan", p.access_vlan, min_vlan, max_vlan);
}

// A list of strings, each checked by `valid` where it stands (line and column in the message).
template <class Valid>
void read_text_list(map_reader& r, const char* key, std::vector<std::string>& out, Valid valid, const char* form) {
    r.each(key, [&](const YAML::Node& n, const std::string& path) {
        if (!n.IsScalar() || !valid(n.Scalar())) {
            r.sink().at(n, path, fmt::format("'{}' is not {}", n.IsScalar() ? n.Scalar() : "a list", form));
            return;
        }
        out.push_back(n.Scalar());
    });
}

// type: af_xdp, iface: eth0, then own: true, or steer: {vlans, udp, macs}; drop: {vlans,
// ethertypes, src_macs, udp}. What the words mean: docs/af-xdp.md; the rules as a whole are
// checked by check_steering (config/xdp_steering.hh).
void read_af_xdp(map_reader& r, const YAML::Node& n, port& p) {
    refuse_keys(r, n, {"device"}, "an af_xdp port names its interface (iface); vxswitch makes its net_af_xdp device");
    xdp_steering x;
    r.text("iface", x.iface, true);
    if (const YAML::Node own = r.child("own"); own && !YAML::convert<bool>::decode(own, x.own)) {
        r.sink().at(own, r.path_of("own"), fmt::format("expected true or false, got '{}'", own.Scalar()));
    }
    constexpr const char* udp_form = "a UDP destination (192.0.2.1:4789, [2001:db8::1]:4789, *:4789)";
    auto is_udp = [](const std::string& t) { return parse_udp_dest(t).has_value(); };
    {
        map_reader steer(r.sink(), r.child("steer"), r.path_of("steer"));
        if (steer.has("vlans")) {
            read_vlan_list(steer, "vlans", x.vlans.emplace());
        }
        read_text_list(steer, "udp", x.udp, is_udp, udp_form);
        read_text_list(steer, "macs", x.macs, [](const std::string& t) { return parse_mac_range(t).has_value(); },
                       "a MAC or a range of MACs (02:aa:00:00:00:00-02:aa:00:ff:ff:ff)");
    }
    {
        map_reader drop(r.sink(), r.child("drop"), r.path_of("drop"));
        read_vlan_list(drop, "vlans", x.drop_vlans);
        drop.each("ethertypes", [&](const YAML::Node& e, const std::string& path) {
            uint16_t type = 0;
            if (drop.integer_value(e, path, type, 0x0600, 0xffff)) {
                x.drop_ethertypes.push_back(type);
            }
        });
        read_text_list(drop, "src_macs", x.drop_src_macs,
                       [](const std::string& t) { return mac_addr::parse(t).has_value(); }, "a MAC address");
        read_text_list(drop, "udp", x.drop_udp, is_udp, udp_form);
    }
    p.xdp = std::move(x);
}

// type: vde, url: "vxvde://239.1.2.3"; or type: vde_switch, vde_port: 3 (docs/vde.md).
void read_vde_port(map_reader& r, const YAML::Node& n, const std::string& type, port& p) {
    refuse_keys(r, n, {"device"}, "a VDE port's device is the ring ethdev vxswitch makes for it");
    refuse_keys(r, n, {"iface", "own", "steer", "drop"}, "this key is for ports of type: af_xdp");
    vde_port v;
    if (type == "vde") {
        refuse_keys(r, n, {"vde_port"}, "vde_port is for ports of type: vde_switch");
        if (r.text("url", v.url, true) && v.url.find("://") == std::string::npos) {
            r.sink().at(r.child("url"), r.path_of("url"),
                        fmt::format("'{}' is not a libvdeplug URL (vde:///path, vxvde://group, tap://name, ...)", v.url));
        }
    } else {
        refuse_keys(r, n, {"url"}, "url is for ports of type: vde");
        v.switch_port = true;
        uint16_t number = 0;
        if (r.integer("vde_port", number, 1, 65535)) {
            v.number = number;
        }
    }
    p.vde = std::move(v);
}

std::optional<port_mode> mode_named(const std::string& name) {
    for (auto mode : {port_mode::access, port_mode::trunk, port_mode::s_trunk, port_mode::customer}) {
        if (name == mode_name(mode)) {
            return mode;
        }
    }
    return name == "dot1q-tunnel" ? std::optional{port_mode::customer} : std::nullopt;
}

void read_port(map_reader& parent, const YAML::Node& n, const std::string& path, model& m) {
    map_reader r(parent.sink(), n, path);
    port p;
    p.line = n.Mark().line + 1;
    r.text("name", p.name, true);
    std::string type = "dpdk";
    r.text("type", type, false);
    if (type == "af_xdp") {
        read_af_xdp(r, n, p);
    } else if (type == "vde" || type == "vde_switch") {
        read_vde_port(r, n, type, p);
        p.device = vde_device(p.name);
    } else {
        if (type != "dpdk") {
            r.sink().at(r.child("type"), r.path_of("type"),
                        fmt::format("'{}' is not a port type (dpdk, af_xdp, vde, vde_switch)", type));
        }
        refuse_keys(r, n, {"iface", "own", "steer", "drop"}, "this key is for ports of type: af_xdp");
        refuse_keys(r, n, {"url", "vde_port"}, "this key is for ports of type: vde or vde_switch");
        r.text("device", p.device, true);
    }
    r.integer("queues", p.queues, 1, 64);
    std::string mode = "access";
    r.text("mode", mode, false);
    if (const auto known = mode_named(mode)) {
        p.mode = *known;
    } else {
        r.sink().at(r.child("mode"), r.path_of("mode"),
                    fmt::format("'{}' is not a port mode (access, trunk, s-trunk, customer)", mode));
    }
    switch (p.mode) {
    case port_mode::access:
        read_access(r, n, p);
        break;
    case port_mode::trunk:
    case port_mode::s_trunk:
        read_trunk(r, n, p);
        break;
    case port_mode::customer:
        read_customer(r, n, p);
        break;
    }
    p.tpid = default_tpid(p.mode);
    r.integer("tpid", p.tpid, 0x0600, 0xffff);
    std::string foreign = "payload";
    if (r.text("foreign_tpid", foreign, false) && foreign != "payload" && foreign != "drop") {
        r.sink().at(r.child("foreign_tpid"), r.path_of("foreign_tpid"),
                    fmt::format("'{}' is not an action for frames of another TPID (payload, drop)", foreign));
    }
    p.foreign_tpid = foreign == "drop" ? foreign_tpid_action::drop : foreign_tpid_action::payload;
    uint16_t mtu = 0;
    if (r.integer("mtu", mtu, 68, 16128)) {
        p.mtu = mtu;
    }
    if (p.xdp) {
        p.device = af_xdp_device(p.name, p.xdp->iface, p.queues);
    }
    m.ports.push_back(std::move(p));
}

// vxlan: { underlay: up, address: 192.0.2.1, vnis: [{ vni: 42, vlan: 10, remotes: [...] }] }
// Addresses are checked as a whole by check_vxlan (config/vxlan.hh), after reading.
void read_vxlan(map_reader& top, model& m) {
    const YAML::Node n = top.child("vxlan");
    if (!n) {
        return;
    }
    map_reader r(top.sink(), n, "vxlan");
    vtep& v = m.vxlan.emplace();
    v.line = n.Mark().line + 1;
    r.text("underlay", v.underlay, true);
    r.text("address", v.address, false);
    r.text("address6", v.address6, false);
    r.integer("udp_port", v.udp_port, 1, 65535);
    r.integer("ttl", v.ttl, 1, 255);
    r.integer("dscp", v.dscp, 0, 63);
    r.text("next_hop_mac", v.next_hop_mac, false);
    if (!r.has("vnis")) {
        r.sink().at(n, r.path_of("vnis"), "required key is missing: the VNIs and the VLANs they extend");
    }
    r.each("vnis", [&](const YAML::Node& item, const std::string& path) {
        map_reader s(r.sink(), item, path);
        vxlan_segment seg;
        seg.line = item.Mark().line + 1;
        require_keys(s, item, {"vni", "vlan"});
        s.integer("vni", seg.vni, 1, (1 << 24) - 1);
        s.integer("vlan", seg.vlan, min_vlan, max_vlan);
        s.text("group", seg.group, false);
        std::string protocol = "vxlan";
        if (s.text("protocol", protocol, false) && protocol != "vxlan" && protocol != "vxvde") {
            s.sink().at(s.child("protocol"), s.path_of("protocol"),
                        fmt::format("'{}' is not a protocol: vxlan (the default) or vxvde", protocol));
        }
        seg.vxvde = protocol == "vxvde";
        s.integer("port", seg.port, 1, 65535);
        s.each("remotes", [&](const YAML::Node& a, const std::string& a_path) {
            if (a.IsScalar() && !a.Scalar().empty()) {
                seg.remotes.push_back(a.Scalar());
            } else {
                s.sink().at(a, a_path, "expected an IPv4 or IPv6 address");
            }
        });
        v.segments.push_back(std::move(seg));
    });
}

load_result finish(error_sink& sink, model m) {
    auto& errors = sink.errors();
    if (errors.empty()) {
        for (auto& e : validate(m)) {
            errors.push_back(std::move(e));
        }
    }
    if (!errors.empty()) {
        return {std::nullopt, std::move(errors)};
    }
    return {std::move(m), {}};
}

} // namespace

load_result load_string(std::string_view yaml_text, std::string_view source_name) {
    error_sink sink(source_name);
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml_text));
    } catch (const YAML::Exception& e) {
        return {std::nullopt, {fmt::format("{}:{}:{}: {}", source_name, e.mark.line + 1, e.mark.column + 1, e.msg)}};
    }
    if (!root || root.IsNull()) {
        return {std::nullopt, {fmt::format("{}: the configuration is empty", source_name)}};
    }
    model m;
    {
        map_reader top(sink, root, "");
        read_dataplane(top, m.dp);
        read_fdb(top, m.mac_table);
        read_control(top, m.control);
        read_vxlan(top, m);
        read_vde_switch(top, m);
        if (!top.has("ports")) {
            sink.at(root, "ports", "required key is missing: list the switch's ports");
        }
        top.each("ports", [&](const YAML::Node& n, const std::string& path) { read_port(top, n, path, m); });
    }
    return finish(sink, std::move(m));
}

load_result load_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return {std::nullopt, {fmt::format("{}: cannot read the file", path)}};
    }
    std::ostringstream text;
    text << in.rdbuf();
    return load_string(text.str(), path);
}

} // namespace vx::config

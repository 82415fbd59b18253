// SPDX-License-Identifier: MIT
#include "config/dump.hh"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <stdexcept>

#include "config/port_vlans.hh"
#include "config/vxlan.hh"

namespace vx::config {

namespace {

// Lists stay on one line ([10, 20, "100-199"]), mappings are blocks: short and diffable.
template <class T>
void flow_list(YAML::Emitter& out, const char* key, const std::vector<T>& items) {
    if (items.empty()) {
        return;
    }
    out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& i : items) {
        out << i;
    }
    out << YAML::EndSeq;
}

// `even_empty`: write an empty list too, where it means something else than no key.
void vlan_list(YAML::Emitter& out, const char* key, const std::vector<uint16_t>& vlans, bool even_empty = false) {
    if (vlans.empty() && !even_empty) {
        return;
    }
    out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& item : vlan_ranges(vlans)) {
        // Single VLANs as numbers, ranges as the strings the loader takes ("100-199").
        if (item.find('-') == std::string::npos) {
            out << std::stoi(item);
        } else {
            out << item;
        }
    }
    out << YAML::EndSeq;
}

void dump_dataplane(YAML::Emitter& out, const dataplane& dp) {
    out << YAML::Key << "dataplane" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "workers" << YAML::Value << dp.workers;
    flow_list(out, "cpus", dp.cpus);
    out << YAML::Key << "mbufs" << YAML::Value << dp.mbufs;
    out << YAML::Key << "memory_mb" << YAML::Value << dp.memory_mb;
    out << YAML::Key << "idle_sleep_us" << YAML::Value << dp.idle_sleep_us;
    flow_list(out, "eal_args", dp.eal_args);
    out << YAML::EndMap;
}

void dump_fdb(YAML::Emitter& out, const fdb& f) {
    out << YAML::Key << "fdb" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "max_entries" << YAML::Value << f.max_entries;
    out << YAML::Key << "aging_s" << YAML::Value << f.aging_s;
    if (!f.statics.empty()) {
        out << YAML::Key << "static" << YAML::Value << YAML::BeginSeq;
        for (const auto& s : f.statics) {
            out << YAML::Flow << YAML::BeginMap;
            out << YAML::Key << "mac" << YAML::Value << YAML::DoubleQuoted << s.mac;
            out << YAML::Key << "vlan" << YAML::Value << s.vlan;
            out << YAML::Key << "port" << YAML::Value << s.port;
            out << YAML::EndMap;
        }
        out << YAML::EndSeq;
    }
    out << YAML::EndMap;
}

// owner, group and mode of a socket (control:, vde_switch:), where they were given.
void dump_socket_access(YAML::Emitter& out, const std::string& owner, const std::string& group,
                        const std::optional<uint16_t>& mode) {
    if (!owner.empty()) {
        out << YAML::Key << "owner" << YAML::Value << owner;
    }
    if (!group.empty()) {
        out << YAML::Key << "group" << YAML::Value << group;
    }
    if (mode) {
        out << YAML::Key << "mode" << YAML::Value << fmt::format("{:04o}", *mode);
    }
}

void dump_control(YAML::Emitter& out, const control_channel& c) {
    out << YAML::Key << "control" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "socket" << YAML::Value << c.socket;
    dump_socket_access(out, c.owner, c.group, c.mode);
    out << YAML::EndMap;
}

void dump_vde_switch(YAML::Emitter& out, const std::optional<vde_listener>& v) {
    if (!v) {
        return;
    }
    out << YAML::Key << "vde_switch" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "path" << YAML::Value << v->path;
    dump_socket_access(out, v->owner, v->group, v->mode);
    out << YAML::EndMap;
}

void dump_vxlan(YAML::Emitter& out, const std::optional<vtep>& v) {
    if (!v) {
        return;
    }
    out << YAML::Key << "vxlan" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "underlay" << YAML::Value << v->underlay;
    if (!v->address.empty()) {
        out << YAML::Key << "address" << YAML::Value << v->address;
    }
    if (!v->address6.empty()) {
        out << YAML::Key << "address6" << YAML::Value << YAML::DoubleQuoted << v->address6;
    }
    out << YAML::Key << "udp_port" << YAML::Value << v->udp_port;
    out << YAML::Key << "ttl" << YAML::Value << static_cast<unsigned>(v->ttl);
    out << YAML::Key << "dscp" << YAML::Value << static_cast<unsigned>(v->dscp);
    if (!v->next_hop_mac.empty()) {
        out << YAML::Key << "next_hop_mac" << YAML::Value << YAML::DoubleQuoted << v->next_hop_mac;
    }
    out << YAML::Key << "vnis" << YAML::Value << YAML::BeginSeq;
    for (const auto& s : v->segments) {
        out << YAML::Flow << YAML::BeginMap;
        out << YAML::Key << "vni" << YAML::Value << s.vni;
        out << YAML::Key << "vlan" << YAML::Value << s.vlan;
        if (s.vxvde) {
            out << YAML::Key << "protocol" << YAML::Value << "vxvde";
            out << YAML::Key << "port" << YAML::Value << segment_udp_port(*v, s);
        }
        if (!s.group.empty()) {
            out << YAML::Key << "group" << YAML::Value << YAML::DoubleQuoted << s.group;
        }
        if (!s.remotes.empty()) {
            out << YAML::Key << "remotes" << YAML::Value << YAML::Flow << YAML::BeginSeq;
            for (const auto& r : s.remotes) {
                out << YAML::DoubleQuoted << r;
            }
            out << YAML::EndSeq;
        }
        out << YAML::EndMap;
    }
    out << YAML::EndSeq << YAML::EndMap;
}

// A list of text items (addresses, MACs, UDP destinations), quoted: "[2001:db8::1]:4789"
// and "*:4789" are not plain YAML scalars.
void quoted_list(YAML::Emitter& out, const char* key, const std::vector<std::string>& items) {
    if (items.empty()) {
        return;
    }
    out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& i : items) {
        out << YAML::DoubleQuoted << i;
    }
    out << YAML::EndSeq;
}

// type: af_xdp: the interface and the steering program's rules (docs/af-xdp.md).
void dump_af_xdp(YAML::Emitter& out, const xdp_steering& x) {
    out << YAML::Key << "type" << YAML::Value << "af_xdp";
    out << YAML::Key << "iface" << YAML::Value << x.iface;
    if (x.own) {
        out << YAML::Key << "own" << YAML::Value << true;
    }
    if (x.vlans || !x.udp.empty() || !x.macs.empty()) {
        out << YAML::Key << "steer" << YAML::Value << YAML::Flow << YAML::BeginMap;
        if (x.vlans) {
            vlan_list(out, "vlans", *x.vlans, true); // [] steers no VLAN, not the default
        }
        quoted_list(out, "udp", x.udp);
        quoted_list(out, "macs", x.macs);
        out << YAML::EndMap;
    }
    if (!x.drop_vlans.empty() || !x.drop_ethertypes.empty() || !x.drop_src_macs.empty() || !x.drop_udp.empty()) {
        out << YAML::Key << "drop" << YAML::Value << YAML::Flow << YAML::BeginMap;
        vlan_list(out, "vlans", x.drop_vlans);
        if (!x.drop_ethertypes.empty()) {
            out << YAML::Key << "ethertypes" << YAML::Value << YAML::Flow << YAML::BeginSeq;
            for (const uint16_t t : x.drop_ethertypes) {
                out << fmt::format("0x{:04x}", t);
            }
            out << YAML::EndSeq;
        }
        quoted_list(out, "src_macs", x.drop_src_macs);
        quoted_list(out, "udp", x.drop_udp);
        out << YAML::EndMap;
    }
}

// type: vde (url) or vde_switch (vde_port): the device is the ring ethdev vxswitch makes.
void dump_vde_port(YAML::Emitter& out, const vde_port& v) {
    out << YAML::Key << "type" << YAML::Value << (v.switch_port ? "vde_switch" : "vde");
    if (!v.switch_port) {
        out << YAML::Key << "url" << YAML::Value << YAML::DoubleQuoted << v.url;
    } else if (v.number) {
        out << YAML::Key << "vde_port" << YAML::Value << *v.number;
    }
}

void dump_translations(YAML::Emitter& out, const std::vector<translation>& ts) {
    if (ts.empty()) {
        return;
    }
    out << YAML::Key << "translate" << YAML::Value << YAML::BeginSeq;
    for (const auto& t : ts) {
        out << YAML::Flow << YAML::BeginMap;
        out << YAML::Key << "vlan" << YAML::Value << t.vlan;
        if (t.c_vlan) {
            out << YAML::Key << "c_vlan" << YAML::Value << *t.c_vlan;
        }
        out << YAML::Key << "domain" << YAML::Value << t.domain;
        out << YAML::EndMap;
    }
    out << YAML::EndSeq;
}

// The keys of the port's mode only; tpid and foreign_tpid only where they are not the
// mode's default, as an operator would have written them.
void dump_port(YAML::Emitter& out, const port& p) {
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << p.name;
    if (p.xdp) {
        dump_af_xdp(out, *p.xdp);
    } else if (p.vde) {
        dump_vde_port(out, *p.vde);
    } else {
        out << YAML::Key << "device" << YAML::Value << p.device;
    }
    out << YAML::Key << "queues" << YAML::Value << p.queues;
    out << YAML::Key << "mode" << YAML::Value << std::string(mode_name(p.mode));
    switch (p.mode) {
    case port_mode::access:
        out << YAML::Key << "vlan" << YAML::Value << p.access_vlan;
        break;
    case port_mode::trunk:
    case port_mode::s_trunk:
        vlan_list(out, "vlans", p.allowed_vlans);
        if (p.native_vlan) {
            out << YAML::Key << "native_vlan" << YAML::Value << *p.native_vlan;
        }
        dump_translations(out, p.translations);
        break;
    case port_mode::customer:
        out << YAML::Key << "s_vlan" << YAML::Value << p.s_vlan;
        vlan_list(out, "c_vlans", p.c_vlans);
        break;
    }
    if (p.tpid != default_tpid(p.mode)) {
        out << YAML::Key << "tpid" << YAML::Value << YAML::Hex << p.tpid << YAML::Dec;
    }
    if (p.foreign_tpid == foreign_tpid_action::drop) {
        out << YAML::Key << "foreign_tpid" << YAML::Value << "drop";
    }
    if (p.mtu) {
        out << YAML::Key << "mtu" << YAML::Value << *p.mtu;
    }
    out << YAML::EndMap;
}

} // namespace

std::vector<std::string> vlan_ranges(const std::vector<uint16_t>& sorted) {
    std::vector<std::string> out;
    for (size_t i = 0; i < sorted.size();) {
        size_t j = i;
        while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) {
            ++j;
        }
        if (j - i >= 2) {
            out.push_back(fmt::format("{}-{}", sorted[i], sorted[j]));
        } else {
            for (size_t k = i; k <= j; ++k) {
                out.push_back(std::to_string(sorted[k]));
            }
        }
        i = j + 1;
    }
    return out;
}

std::string dump(const model& m) {
    YAML::Emitter out;
    out.SetIndent(2);
    out << YAML::Comment(fmt::format("vxswitchd's running configuration (vxctl config dump), vxswitch {}",
                                     VXSWITCH_VERSION));
    out << YAML::BeginMap;
    dump_dataplane(out, m.dp);
    dump_fdb(out, m.mac_table);
    dump_control(out, m.control);
    out << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq;
    for (const auto& p : m.ports) {
        dump_port(out, p);
    }
    out << YAML::EndSeq;
    dump_vxlan(out, m.vxlan);
    dump_vde_switch(out, m.vde_switch);
    out << YAML::EndMap;
    if (!out.good()) {
        throw std::runtime_error(fmt::format("config dump: {}", out.GetLastError()));
    }
    return std::string(out.c_str()) + "\n";
}

} // namespace vx::config

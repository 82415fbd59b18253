// SPDX-License-Identifier: MIT
// The rules a configuration must follow that do not depend on YAML (unique names and
// devices, VLANs a port carries, static MACs on ports that carry their VLAN, VXLAN), so a
// model built another way (vxctl port set/add/remove) is checked by the same code.
#include "config/load.hh"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "config/port_vlans.hh"
#include "config/vxlan.hh"
#include "config/xdp_steering.hh"
#include "packet/ether.hh"

namespace vx::config {

namespace {

std::string port_label(const port& p, size_t i) {
    return fmt::format("ports[{}] '{}' (line {})", i, p.name, p.line);
}

void check_vde_port(const model& m, const port& p, const std::string& label, std::vector<std::string>& errors) {
    if (!p.vde) {
        return;
    }
    if (p.queues != 1) {
        errors.push_back(fmt::format("{}: a VDE port has one queue (its I/O thread's ring), not {}", label, p.queues));
    }
    if (p.vde->switch_port && !m.vde_switch) {
        errors.push_back(fmt::format("{}: a port of type vde_switch needs the vde_switch section (its socket's path)",
                                     label));
    }
    if (p.vde->number) {
        for (const auto& q : m.ports) {
            if (&q != &p && q.vde && q.vde->number == p.vde->number && &q < &p) {
                errors.push_back(fmt::format("{}: vde_port {} is already the number of port '{}'", label,
                                             *p.vde->number, q.name));
            }
        }
    }
}

void validate_ports(const model& m, std::vector<std::string>& errors) {
    static const std::regex name_rule{R"(^[A-Za-z0-9_.-]{1,32}$)"};
    std::map<std::string, size_t> names;
    std::map<std::string, size_t> devices;
    std::map<std::string, size_t> ifaces; // af_xdp ports
    for (size_t i = 0; i < m.ports.size(); ++i) {
        const auto& p = m.ports[i];
        const auto label = port_label(p, i);
        if (!std::regex_match(p.name, name_rule)) {
            errors.push_back(fmt::format("{}: name must be 1-32 letters, digits, '_', '.' or '-'", label));
        }
        if (const auto [it, fresh] = names.emplace(p.name, i); !fresh) {
            errors.push_back(fmt::format("{}: name '{}' is already used by ports[{}]", label, p.name, it->second));
        }
        const std::string device = p.device.substr(0, p.device.find(','));
        if (device.empty()) {
            errors.push_back(fmt::format("{}: device is empty", label));
        } else if (const auto [it, fresh] = devices.emplace(device, i); !fresh) {
            errors.push_back(fmt::format("{}: device '{}' is already used by ports[{}]", label, device, it->second));
        }
        if (bindings_of(p).empty()) {
            errors.push_back(fmt::format("{}: a trunk must carry at least one VLAN (vlans, native_vlan or translate)",
                                         label));
        }
        check_bindings(p, label, errors);
        check_vde_port(m, p, label, errors);
        if (p.xdp) {
            check_steering(p, label, errors);
            if (const auto [it, fresh] = ifaces.emplace(p.xdp->iface, i); !fresh) {
                errors.push_back(fmt::format("{}: iface '{}' is already used by ports[{}]", label, p.xdp->iface,
                                             it->second));
            }
        }
    }
}

void validate_statics(const model& m, std::vector<std::string>& errors) {
    std::set<std::pair<std::string, uint16_t>> seen;
    for (size_t i = 0; i < m.mac_table.statics.size(); ++i) {
        const auto& s = m.mac_table.statics[i];
        const auto label = fmt::format("fdb.static[{}] (line {})", i, s.line);
        const auto mac = mac_addr::parse(s.mac);
        if (!mac) {
            errors.push_back(fmt::format("{}: '{}' is not a MAC address", label, s.mac));
        } else if (mac->is_group() || mac->is_zero()) {
            errors.push_back(fmt::format("{}: {} is not a unicast MAC address", label, s.mac));
        } else if (!seen.emplace(mac->to_string(), s.vlan).second) {
            errors.push_back(fmt::format("{}: {} vlan {} is already listed", label, s.mac, s.vlan));
        }
        if (s.vlan < min_vlan || s.vlan > max_vlan) {
            errors.push_back(
                fmt::format("{}: vlan {} is not a valid VLAN ({}..{})", label, s.vlan, min_vlan, max_vlan));
        }
        const auto p = std::find_if(m.ports.begin(), m.ports.end(), [&](const port& q) { return q.name == s.port; });
        if (p == m.ports.end()) {
            errors.push_back(fmt::format("{}: no port is named '{}'", label, s.port));
        } else if (!carries(*p, s.vlan)) {
            errors.push_back(fmt::format("{}: port '{}' does not carry vlan {}", label, s.port, s.vlan));
        }
    }
}

} // namespace

std::vector<std::string> validate(const model& m) {
    std::vector<std::string> errors;
    if (m.ports.empty()) {
        errors.emplace_back("ports: at least one port is needed");
    }
    if (m.ports.size() > 256) {
        errors.push_back(fmt::format("ports: {} ports, at most 256", m.ports.size()));
    }
    validate_ports(m, errors);
    validate_statics(m, errors);
    check_vxlan(m, errors);
    return errors;
}

} // namespace vx::config

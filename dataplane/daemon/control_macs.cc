// SPDX-License-Identifier: MIT
// vxctl mac: show, count, add, del, flush. The control thread is the fdb's single writer
// (the learner's thread), so these write the table directly.
#include "daemon/control_commands.hh"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "daemon/control_views.hh"
#include "daemon/fabric.hh"

namespace vx::control {

using nlohmann::json;
using ctl::request_error;

namespace {

mac_addr parse_mac(ctl::arg_reader& a, const std::string& text, bool unicast) {
    const auto mac = mac_addr::parse(text);
    if (!mac) {
        a.fail("mac", fmt::format("'{}' is not a MAC address (aa:bb:cc:dd:ee:ff)", text));
    }
    if (unicast && (mac->is_group() || mac->is_zero())) {
        a.fail("mac", fmt::format("{} is not a unicast MAC address", mac->to_string()));
    }
    return *mac;
}

} // namespace

std::map<uint16_t, mac_tally> count_macs(fabric& f, std::optional<uint16_t> port, std::optional<uint16_t> vlan) {
    const auto& l2 = f.tables().l2;
    std::map<uint16_t, mac_tally> by_vlan;
    for (const auto& e : f.macs().entries(f.now_s())) {
        const uint16_t v = e.key.bd() < l2.domains.size() ? l2.domains[e.key.bd()].vlan : 0;
        if ((!port || e.port == *port) && (!vlan || v == *vlan)) {
            auto& t = by_vlan[v];
            (e.is_static ? t.statics : t.learned) += 1;
        }
    }
    return by_vlan;
}

json commands::mac_show(ctl::arg_reader& a) {
    const auto port = port_filter(a);
    const auto vlan = vlan_arg(a, false);
    const auto mac_text = a.text("mac");
    a.done();
    const auto mac = mac_text ? std::optional{parse_mac(a, *mac_text, false)} : std::nullopt;
    const auto& l2 = _fabric.tables().l2;
    std::vector<std::pair<uint16_t, fdb_entry>> rows;
    for (const auto& e : _fabric.macs().entries(_fabric.now_s())) {
        const uint16_t v = e.key.bd() < l2.domains.size() ? l2.domains[e.key.bd()].vlan : 0;
        if ((!port || e.port == *port) && (!vlan || v == *vlan) && (!mac || e.key.mac() == *mac)) {
            rows.emplace_back(v, e);
        }
    }
    std::sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) {
        return std::pair(x.first, x.second.key.mac()) < std::pair(y.first, y.second.key.mac());
    });
    json entries = json::array();
    for (const auto& [v, e] : rows) {
        entries.push_back({{"mac", e.key.mac().to_string()},
                           {"vlan", v},
                           {"port", port_name(e.port)},
                           {"type", e.is_static ? "static" : "learned"},
                           {"idle_s", e.idle_s}});
    }
    return {{"entries", entries}, {"count", rows.size()}};
}

json commands::mac_count(ctl::arg_reader& a) {
    const auto port = port_filter(a);
    const auto vlan = vlan_arg(a, false);
    a.done();
    mac_tally all;
    json rows = json::array();
    for (const auto& [v, t] : count_macs(_fabric, port, vlan)) {
        rows.push_back({{"vlan", v}, {"learned", t.learned}, {"static", t.statics}, {"total", t.learned + t.statics}});
        all.learned += t.learned;
        all.statics += t.statics;
    }
    return {{"total", all.learned + all.statics},
            {"learned", all.learned},
            {"static", all.statics},
            {"capacity", _fabric.macs().capacity()},
            {"by_vlan", rows}};
}

json commands::mac_add(ctl::arg_reader& a) {
    const auto mac_text = a.required_text("mac");
    const uint16_t vlan = *vlan_arg(a, true);
    const auto name = a.required_text("port");
    a.done();
    const mac_addr mac = parse_mac(a, mac_text, true);
    const uint16_t port = port_index(name);
    const uint16_t bd = domain_of(vlan);
    if (!_fabric.tables().l2.ports[port].egress[bd].member()) {
        throw request_error(fmt::format("port '{}' does not carry vlan {}", name, vlan));
    }
    if (!_fabric.macs().add_static(fdb_key::make(mac, bd), port)) {
        throw request_error(fmt::format("the MAC table is full ({} entries)", _fabric.macs().capacity()));
    }
    auto& statics = _running.mac_table.statics;
    std::erase_if(statics, [&](const config::static_mac& s) { return s.vlan == vlan && mac_addr::parse(s.mac) == mac; });
    statics.push_back({mac.to_string(), vlan, name, 0});
    spdlog::info("control: static MAC {} vlan {} on port {}", mac.to_string(), vlan, name);
    return {{"mac", mac.to_string()}, {"vlan", vlan}, {"port", name}, {"type", "static"}};
}

json commands::mac_del(ctl::arg_reader& a) {
    const auto mac_text = a.required_text("mac");
    const uint16_t vlan = *vlan_arg(a, true);
    a.done();
    const mac_addr mac = parse_mac(a, mac_text, false);
    const uint16_t bd = _fabric.tables().l2.bd_of_vlan[vlan];
    const auto key = fdb_key::make(mac, bd);
    fdb_hit hit;
    if (bd == l2_tables::no_domain || _fabric.macs().lookup_bulk(&key, 1, &hit) == 0) {
        throw request_error(fmt::format("{} vlan {} is not in the MAC table", mac.to_string(), vlan));
    }
    _fabric.macs().remove(key);
    std::erase_if(_running.mac_table.statics,
                  [&](const config::static_mac& s) { return s.vlan == vlan && mac_addr::parse(s.mac) == mac; });
    spdlog::info("control: deleted MAC {} vlan {} (port {})", mac.to_string(), vlan, port_name(hit.port()));
    return {{"mac", mac.to_string()},
            {"vlan", vlan},
            {"port", port_name(hit.port())},
            {"type", hit.is_static() ? "static" : "learned"}};
}

json commands::mac_flush(ctl::arg_reader& a) {
    const auto port = port_filter(a);
    const auto vlan = vlan_arg(a, false);
    a.done();
    const uint16_t bd = vlan ? _fabric.tables().l2.bd_of_vlan[*vlan] : l2_tables::no_domain;
    if (vlan && bd == l2_tables::no_domain) {
        return {{"flushed", 0}}; // no port carries the VLAN: nothing was learned on it
    }
    const size_t n = _fabric.macs().flush(port ? *port : -1, vlan ? bd : -1);
    spdlog::info("control: flushed {} learned MACs{}{}", n, port ? fmt::format(" on port {}", port_name(*port)) : "",
                 vlan ? fmt::format(" in vlan {}", *vlan) : "");
    return {{"flushed", n}};
}

} // namespace vx::control

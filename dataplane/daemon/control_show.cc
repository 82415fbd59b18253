// SPDX-License-Identifier: MIT
// vxctl show: what runs (version, EAL, workers and what they poll), the ports and their
// VLANs, the MAC table's size and the packet pool's.
#include "daemon/control_commands.hh"

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "config/dump.hh"
#include "config/port_vlans.hh"
#include "daemon/control_views.hh"
#include "daemon/fabric.hh"

namespace vx::control {

using nlohmann::json;

json link_json(uint16_t port_id) {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(port_id, &link) != 0) {
        return {{"up", nullptr}, {"speed_mbps", nullptr}, {"duplex", nullptr}};
    }
    const bool known_speed = link.link_speed != RTE_ETH_SPEED_NUM_NONE && link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN;
    return {{"up", link.link_status == RTE_ETH_LINK_UP},
            {"speed_mbps", known_speed ? json(link.link_speed) : json()},
            {"duplex", link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half"}};
}

namespace {

std::string ranges_text(const std::vector<uint16_t>& vlans) {
    return fmt::format("{}", fmt::join(config::vlan_ranges(vlans), ","));
}

std::string translation_text(const config::translation& t) {
    return t.c_vlan ? fmt::format("{}/{}->{}", t.vlan, *t.c_vlan, t.domain) : fmt::format("{}->{}", t.vlan, t.domain);
}

// One line for tables: "vlans 10,20,100-199 native 1 translate 300->301".
std::string vlan_summary(const config::port& p) {
    std::vector<std::string> parts;
    switch (p.mode) {
    case config::port_mode::access:
        parts.push_back(fmt::format("vlan {}", p.access_vlan));
        break;
    case config::port_mode::trunk:
    case config::port_mode::s_trunk:
        if (!p.allowed_vlans.empty()) {
            parts.push_back("vlans " + ranges_text(p.allowed_vlans));
        }
        if (p.native_vlan) {
            parts.push_back(fmt::format("native {}", *p.native_vlan));
        }
        for (const auto& t : p.translations) {
            parts.push_back("translate " + translation_text(t));
        }
        break;
    case config::port_mode::customer:
        parts.push_back(fmt::format("s-vlan {} c-vlans {}", p.s_vlan, p.c_vlans.empty() ? "all" : ranges_text(p.c_vlans)));
        break;
    }
    return fmt::format("{}", fmt::join(parts, " "));
}

json vlans_json(const config::port& p) {
    switch (p.mode) {
    case config::port_mode::access:
        return {{"vlan", p.access_vlan}};
    case config::port_mode::customer:
        return {{"s_vlan", p.s_vlan}, {"c_vlans", p.c_vlans}};
    case config::port_mode::trunk:
    case config::port_mode::s_trunk:
        break;
    }
    json translate = json::array();
    for (const auto& t : p.translations) {
        translate.push_back({{"vlan", t.vlan}, {"c_vlan", t.c_vlan ? json(*t.c_vlan) : json()}, {"domain", t.domain}});
    }
    return {{"vlans", p.allowed_vlans},
            {"native_vlan", p.native_vlan ? json(*p.native_vlan) : json()},
            {"translate", translate}};
}

} // namespace

json commands::port_json(size_t i) const {
    const auto& cfg = _fabric.model().ports[i];
    const auto& dev = *_fabric.ports()[i];
    uint16_t mtu = 0;
    rte_ether_addr mac{};
    rte_eth_dev_get_mtu(dev.id(), &mtu);
    rte_eth_macaddr_get(dev.id(), &mac);
    json p = {{"name", cfg.name},
              {"device", cfg.device},
              {"driver", dev.driver()},
              {"port_id", dev.id()},
              {"mac", mac_addr::load(mac.addr_bytes).to_string()},
              {"link", link_json(dev.id())},
              {"mode", config::mode_name(cfg.mode)},
              {"vlan_summary", vlan_summary(cfg)},
              {"tpid", cfg.tpid},
              {"mtu", mtu},
              {"queues", cfg.queues}};
    p.update(vlans_json(cfg));
    if (auto vde = _fabric.vde_state(i)) {
        p["vde"] = std::move(*vde); // what it is on, its peer, the I/O thread's counters
    }
    if (const xdp_steer* steer = _fabric.steering(i)) {
        json xdp = steer->state(); // where the program runs, the sockets' mode, the rules
        xdp.erase("counters");     // vxctl counters has them
        p["xdp"] = xdp;
    }
    return p;
}

json commands::show(ctl::arg_reader& a) {
    a.done();
    json workers = json::array();
    const auto& lcores = _fabric.worker_lcores();
    for (size_t w = 0; w < _fabric.workers().size(); ++w) {
        json queues = json::array();
        for (const auto& q : _fabric.tables().polls[w]) {
            queues.push_back({{"port", port_name(q.port)}, {"queue", q.queue}});
        }
        const bool launched = w < lcores.size();
        workers.push_back({{"id", w},
                           {"lcore", launched ? json(lcores[w]) : json()},
                           {"cpu", launched ? json(rte_lcore_to_cpu_id(static_cast<int>(lcores[w]))) : json()},
                           {"queues", queues}});
    }
    json ports = json::array();
    for (uint16_t i : port_slots()) {
        ports.push_back(port_json(i));
    }
    json eal = {{"mode", _info.no_huge ? "no-huge" : "hugepages"}, {"main_lcore", rte_get_main_lcore()}};
    if (_info.no_huge) {
        eal["memory_mb"] = _info.memory_mb;
    }
    const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - _info.started);
    auto& macs = _fabric.macs();
    const auto heap = _fabric.heap_in_use();
    return {{"version", VXSWITCH_VERSION},
            {"uptime_s", uptime.count()},
            {"eal", eal},
            {"workers", workers},
            {"ports", ports},
            {"fdb", {{"entries", macs.size()}, {"capacity", macs.capacity()}, {"aging_s", macs.aging_s()}}},
            // What a leak would show: buffers not back in the pool, DPDK memory still taken.
            {"pool", {{"size", _fabric.pool_size()}, {"free", _fabric.pool_free()}}},
            {"ethdevs", rte_eth_dev_count_total()},
            {"memory", {{"dpdk_heap_allocated_bytes", heap.bytes}, {"dpdk_heap_allocations", heap.allocations}}}};
}

} // namespace vx::control

// SPDX-License-Identifier: MIT
// vxctl show (status): what runs, where, and the ports' state.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>

#include "ctl/commands/commands.hh"
#include "ctl/table.hh"

namespace vx::ctl {

namespace {

using nlohmann::json;

std::string link_text(const json& link) {
    if (link.value("up", json()).is_null()) {
        return "unknown";
    }
    if (!link["up"].get<bool>()) {
        return "down";
    }
    const auto& speed = link["speed_mbps"];
    return speed.is_null() ? "up" : fmt::format("up {}G {}", speed.get<double>() / 1000, link["duplex"].get<std::string>());
}

// af_xdp ports: where their steering program runs, the mode their AF_XDP sockets got, the rules.
void print_xdp_ports(const json& r) {
    table t({{"PORT"}, {"IFACE"}, {"PROGRAM"}, {"XDP"}, {"AF_XDP"}, {"STEERING"}});
    for (const auto& p : r["ports"]) {
        if (!p.contains("xdp")) {
            continue;
        }
        const auto& x = p["xdp"];
        const auto& sockets = x["af_xdp_sockets"];
        t.row({p["name"].get<std::string>(), x["iface"].get<std::string>(),
               fmt::format("vx_steer id {}", x["prog_id"].dump()), x["xdp_mode"].get<std::string>(),
               fmt::format("{} ({} socket{})", sockets["mode"].get<std::string>(), sockets["count"].dump(),
                           sockets["count"].get<int>() == 1 ? "" : "s"),
               x["rules"].get<std::string>()});
    }
    if (!t.empty()) {
        std::cout << '\n';
        t.print(std::cout);
    }
}

// VDE ports: what each is on (its URL, or the VDE switch port a client asks for) and who is
// connected now.
void print_vde_ports(const json& r) {
    table t({{"PORT"}, {"VDE"}, {"PEER"}});
    for (const auto& p : r["ports"]) {
        if (!p.contains("vde")) {
            continue;
        }
        const auto& v = p["vde"];
        const std::string on =
            v.contains("url")
                ? v["url"].get<std::string>()
                : fmt::format("vde_switch port {}", v["vde_port"].is_string() ? "(any)" : v["vde_port"].dump());
        const auto peer = v["peer"].get<std::string>();
        t.row({p["name"].get<std::string>(), on, peer.empty() ? "-" : peer});
    }
    if (!t.empty()) {
        std::cout << '\n';
        t.print(std::cout);
    }
}

void print_show(const json& r) {
    const auto& eal = r["eal"];
    const auto& f = r["fdb"];
    std::cout << fmt::format("vxswitch {}, up {}, EAL {}{}, MAC table {} of {} entries (aging {})\n",
                             r["version"].get<std::string>(), duration_text(r["uptime_s"].get<int64_t>()),
                             eal["mode"].get<std::string>(),
                             eal.contains("memory_mb") ? fmt::format(" ({} MB)", eal["memory_mb"].get<int>()) : "",
                             f["entries"].dump(), f["capacity"].dump(),
                             f["aging_s"].get<int>() == 0 ? "off" : fmt::format("{} s", f["aging_s"].get<int>()));
    if (r.contains("pool")) { // a daemon older than the field has none
        std::cout << fmt::format("packet pool {} of {} buffers free, DPDK memory {} KiB allocated\n",
                                 r["pool"]["free"].dump(), r["pool"]["size"].dump(),
                                 r["memory"]["dpdk_heap_allocated_bytes"].get<uint64_t>() / 1024);
    }
    std::cout << '\n';
    table workers({{"WORKER", true}, {"LCORE", true}, {"CPU", true}, {"POLLS (port/queue)"}});
    for (const auto& w : r["workers"]) {
        std::vector<std::string> queues;
        for (const auto& q : w["queues"]) {
            queues.push_back(fmt::format("{}/{}", q["port"].get<std::string>(), q["queue"].get<int>()));
        }
        workers.row({w["id"].dump(), number_text(w["lcore"]), number_text(w["cpu"]), fmt::format("{}", fmt::join(queues, " "))});
    }
    workers.print(std::cout);
    std::cout << '\n';
    table ports({{"PORT"}, {"DRIVER"}, {"LINK"}, {"MODE"}, {"VLANS"}, {"MTU", true}, {"DEVICE"}});
    for (const auto& p : r["ports"]) {
        ports.row({p["name"].get<std::string>(), p["driver"].get<std::string>(), link_text(p["link"]),
                   p["mode"].get<std::string>(), p["vlan_summary"].get<std::string>(), p["mtu"].dump(),
                   p["device"].get<std::string>()});
    }
    ports.print(std::cout);
    print_xdp_ports(r);
    print_vde_ports(r);
}

} // namespace

void add_show_commands(CLI::App& app, context& ctx) {
    auto* show = app.add_subcommand("show", "version, uptime, EAL mode, workers and their queues, ports")->alias("status");
    show->callback([&ctx] {
        if (const auto r = ctx.call("show"); r && !ctx.printed_as_json(*r)) {
            print_show(*r);
        }
    });
}

} // namespace vx::ctl

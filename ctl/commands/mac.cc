// SPDX-License-Identifier: MIT
// vxctl mac show|count|add|del|flush: the MAC table.

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "ctl/commands/commands.hh"
#include "ctl/table.hh"

namespace vx::ctl {

namespace {

using nlohmann::json;

// The filters and operands of the mac commands; unset ones are left out of the request.
struct mac_options {
    std::string mac;
    std::string port;
    std::optional<int64_t> vlan;

    json args() const {
        json a = json::object();
        if (!mac.empty()) {
            a["mac"] = mac;
        }
        if (!port.empty()) {
            a["port"] = port;
        }
        if (vlan) {
            a["vlan"] = *vlan;
        }
        return a;
    }
};

void print_entries(const json& r) {
    table t({{"VLAN", true}, {"MAC"}, {"PORT"}, {"TYPE"}, {"IDLE", true}});
    for (const auto& e : r["entries"]) {
        const bool is_static = e["type"] == "static";
        t.row({e["vlan"].dump(), e["mac"].get<std::string>(), e["port"].get<std::string>(),
               e["type"].get<std::string>(), is_static ? "-" : duration_text(e["idle_s"].get<int64_t>())});
    }
    t.print(std::cout);
    const auto n = r["count"].get<size_t>();
    std::cout << fmt::format("{} entr{}\n", n, n == 1 ? "y" : "ies");
}

void print_count(const json& r) {
    table t({{"VLAN", true}, {"LEARNED", true}, {"STATIC", true}, {"TOTAL", true}});
    for (const auto& v : r["by_vlan"]) {
        t.row({v["vlan"].dump(), v["learned"].dump(), v["static"].dump(), v["total"].dump()});
    }
    if (!t.empty()) {
        t.print(std::cout);
    }
    std::cout << fmt::format("{} entries ({} learned, {} static); the table holds {}\n", r["total"].dump(),
                             r["learned"].dump(), r["static"].dump(), r["capacity"].dump());
}

} // namespace

void add_mac_commands(CLI::App& app, context& ctx) {
    auto* mac = app.add_subcommand("mac", "the MAC table: show, count, add, del, flush");
    mac->require_subcommand(1);
    const auto o = std::make_shared<mac_options>();

    auto* show = mac->add_subcommand("show", "list entries, optionally filtered");
    show->add_option("--vlan", o->vlan, "only this VLAN");
    show->add_option("--port", o->port, "only entries on this port");
    show->add_option("--mac", o->mac, "only this MAC address");
    show->callback([&ctx, o] {
        if (const auto r = ctx.call("mac.show", o->args()); r && !ctx.printed_as_json(*r)) {
            print_entries(*r);
        }
    });

    auto* count = mac->add_subcommand("count", "count entries by VLAN, optionally filtered");
    count->add_option("--vlan", o->vlan, "only this VLAN");
    count->add_option("--port", o->port, "only entries on this port");
    count->callback([&ctx, o] {
        if (const auto r = ctx.call("mac.count", o->args()); r && !ctx.printed_as_json(*r)) {
            print_count(*r);
        }
    });

    auto* add_cmd = mac->add_subcommand("add", "add a static entry (or make an entry static)");
    add_cmd->add_option("mac", o->mac, "MAC address, aa:bb:cc:dd:ee:ff")->required();
    add_cmd->add_option("--vlan", o->vlan, "its VLAN")->required();
    add_cmd->add_option("--port", o->port, "the port it sits behind")->required();
    add_cmd->callback([&ctx, o] {
        if (const auto r = ctx.call("mac.add", o->args()); r && !ctx.printed_as_json(*r)) {
            std::cout << fmt::format("added static {} vlan {} on port {}\n", (*r)["mac"].get<std::string>(),
                                     (*r)["vlan"].dump(), (*r)["port"].get<std::string>());
        }
    });

    auto* del = mac->add_subcommand("del", "delete an entry, static or learned");
    del->add_option("mac", o->mac, "MAC address")->required();
    del->add_option("--vlan", o->vlan, "its VLAN")->required();
    del->callback([&ctx, o] {
        if (const auto r = ctx.call("mac.del", o->args()); r && !ctx.printed_as_json(*r)) {
            std::cout << fmt::format("deleted {} {} vlan {} (port {})\n", (*r)["type"].get<std::string>(),
                                     (*r)["mac"].get<std::string>(), (*r)["vlan"].dump(),
                                     (*r)["port"].get<std::string>());
        }
    });

    auto* flush = mac->add_subcommand("flush", "delete learned entries (all, or by port and/or VLAN)");
    flush->add_option("--vlan", o->vlan, "only this VLAN");
    flush->add_option("--port", o->port, "only entries on this port");
    flush->callback([&ctx, o] {
        if (const auto r = ctx.call("mac.flush", o->args()); r && !ctx.printed_as_json(*r)) {
            std::cout << fmt::format("flushed {} learned entries\n", (*r)["flushed"].dump());
        }
    });
}

} // namespace vx::ctl

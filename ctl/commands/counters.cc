// SPDX-License-Identifier: MIT
// vxctl counters [PORT] | counters --vlan [N] | counters --vni [N] | counters --workers |
// counters clear, vxctl workers, vxctl metrics: what the switch counted.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "counters/counters.hh"
#include "ctl/commands/commands.hh"
#include "ctl/table.hh"
#include "ctl/worker_load.hh"
#include "vuos-bridge/vde_counters.hh"

namespace vx::ctl {

namespace {

using nlohmann::json;

// A JSON object of counters in the order of counters.def, where they are declared with
// related ones side by side (JSON objects come back sorted by name); names this vxctl does
// not know (a newer daemon's) follow, by name.
template <size_t N>
std::vector<std::pair<std::string, json>> in_declared_order(const json& counters,
                                                            const std::array<counter_info, N>& declared) {
    std::vector<std::pair<std::string, json>> out;
    for (const auto& c : declared) {
        if (const auto it = counters.find(std::string(c.name)); it != counters.end()) {
            out.emplace_back(c.name, *it);
        }
    }
    for (const auto& [name, n] : counters.items()) {
        if (std::none_of(declared.begin(), declared.end(), [&](const counter_info& c) { return c.name == name; })) {
            out.emplace_back(name, n);
        }
    }
    return out;
}

std::string since_text(const json& since_clear_s) {
    return since_clear_s.is_null() ? "since start"
                                   : fmt::format("since cleared {} ago", duration_text(since_clear_s.get<int64_t>()));
}

void print_or_none(const char* title, const table& t) {
    std::cout << title;
    if (t.empty()) {
        std::cout << "(none)\n";
    } else {
        t.print(std::cout);
    }
}

// af_xdp ports: what their XDP steering program decided, by path, then the decisions that
// happened (a steered frame with no socket on its queue counts as the kernel's).
void print_xdp_tables(const json& r) {
    table paths({{"PORT"}, {"TO SWITCH", true}, {"TO KERNEL", true}, {"DROPPED", true}});
    table decisions({{"PORT"}, {"DECISION"}, {"PACKETS", true}});
    for (const auto& p : r["ports"]) {
        if (!p.contains("xdp")) {
            continue;
        }
        const auto& x = p["xdp"];
        const auto name = p["name"].get<std::string>();
        paths.row({name, x["to_switch"].dump(), x["to_kernel"].dump(), x["dropped"].dump()});
        for (const auto& [decision, n] : in_declared_order(x["decisions"], steer_counters)) {
            if (n.get<uint64_t>() != 0) {
                decisions.row({name, decision, n.dump()});
            }
        }
    }
    if (paths.empty()) {
        return;
    }
    std::cout << "\nXDP steering (af_xdp ports):\n";
    paths.print(std::cout);
    print_or_none("\nXDP decisions:\n", decisions);
}

// VDE ports: what their I/O thread moved, and what it could not (frames lost between the
// workers' rings and the peer's socket, docs/vde.md), those that happened.
void print_vde_tables(const json& r) {
    table moved({{"PORT"}, {"FRAMES IN", true}, {"FRAMES OUT", true}, {"HELD ROUNDS", true}});
    table lost({{"PORT"}, {"COUNTER"}, {"FRAMES", true}});
    for (const auto& p : r["ports"]) {
        if (!p.contains("vde")) {
            continue;
        }
        const auto& v = p["vde"];
        const auto name = p["name"].get<std::string>();
        moved.row({name, v["frames_in"].dump(), v["frames_out"].dump(), v["in_held"].dump()});
        for (const auto& [counter, n] : in_declared_order(v, vde::counter_infos)) {
            if (counter != "frames_in" && counter != "frames_out" && counter != "in_held" && n.get<uint64_t>() != 0) {
                lost.row({name, counter, n.dump()});
            }
        }
    }
    if (moved.empty()) {
        return;
    }
    std::cout << "\nVDE endpoints (the I/O thread's counts):\n";
    moved.print(std::cout);
    print_or_none("\nVDE losses:\n", lost);
}

void print_port_table(const json& r) {
    table t({{"PORT"},
             {"RX PACKETS", true},
             {"RX BYTES", true},
             {"TX PACKETS", true},
             {"TX BYTES", true},
             {"FLOODED", true},
             {"UNKNOWN UCAST", true},
             {"DROPS", true}});
    table drops({{"PORT"}, {"REASON"}, {"PACKETS", true}});
    for (const auto& p : r["ports"]) {
        const auto& c = p["counters"];
        t.row({p["name"].get<std::string>(), c["rx_packets"].dump(), c["rx_bytes"].dump(), c["tx_packets"].dump(),
               c["tx_bytes"].dump(), c["flooded"].dump(), c["unknown_unicast"].dump(), p["drops_total"].dump()});
        for (const auto& [reason, n] : in_declared_order(p["drops"], drop_reasons)) {
            if (n.get<uint64_t>() != 0) {
                drops.row({p["name"].get<std::string>(), reason, n.dump()});
            }
        }
    }
    std::cout << "Ports, " << since_text(r["since_clear_s"]) << ":\n";
    t.print(std::cout);
    print_or_none("\nDrops by reason:\n", drops);
    print_xdp_tables(r);
    print_vde_tables(r);
}

// Every counter and every drop reason of one block (a port's, a VLAN's, a VNI's), zeros
// included, in counters.def order.
template <size_t N>
void print_block(const json& b, const std::array<counter_info, N>& declared) {
    table t({{"COUNTER"}, {"VALUE", true}});
    for (const auto& [name, n] : in_declared_order(b["counters"], declared)) {
        t.row({name, n.dump()});
    }
    t.print(std::cout);
    std::cout << '\n';
    table d({{"DROP REASON"}, {"PACKETS", true}});
    for (const auto& [name, n] : in_declared_order(b["drops"], drop_reasons)) {
        d.row({name, n.dump()});
    }
    d.row({"(total)", b["drops_total"].dump()});
    d.print(std::cout);
}

// One port: every counter and every drop reason, zeros included.
void print_one_port(const json& p, const json& since) {
    std::cout << fmt::format("Port {}, {}:\n", p["name"].get<std::string>(), since_text(since));
    print_block(p, port_counters);
    if (p.contains("xdp")) {
        const auto& x = p["xdp"];
        std::cout << fmt::format("\nXDP steering: {} to the switch, {} to the kernel, {} dropped\n",
                                 x["to_switch"].dump(), x["to_kernel"].dump(), x["dropped"].dump());
        table xt({{"XDP DECISION"}, {"PACKETS", true}});
        for (const auto& [name, n] : in_declared_order(x["decisions"], steer_counters)) {
            xt.row({name, n.dump()});
        }
        xt.print(std::cout);
    }
    if (p.contains("vde")) {
        std::cout << "\nVDE endpoint (the I/O thread's counts):\n";
        table vt({{"VDE COUNTER"}, {"FRAMES", true}});
        for (const auto& [name, n] : in_declared_order(p["vde"], vde::counter_infos)) {
            vt.row({name, n.dump()});
        }
        vt.print(std::cout);
    }
}

// The rows of `blocks` (a counters.vlan or counters.vni result's list) in a table: the columns
// that say which one it is, then `counters`, then the drops; and the drops by reason, those
// that happened, in a second table.
void print_blocks(const json& blocks, const std::vector<std::pair<std::string, std::string>>& id,
                  const std::vector<std::pair<std::string, std::string>>& counters) {
    std::vector<column> cols;
    for (const auto& [key, title] : id) {
        cols.push_back({title, key != "protocol"});
    }
    for (const auto& [key, title] : counters) {
        cols.push_back({title, true});
    }
    cols.push_back({"DROPS", true});
    table t(cols);
    table drops({{id.front().second, true}, {"REASON"}, {"PACKETS", true}});
    for (const auto& b : blocks) {
        std::vector<std::string> row;
        for (const auto& [key, title] : id) {
            row.push_back(b[key].is_string() ? b[key].get<std::string>() : b[key].dump());
        }
        for (const auto& [key, title] : counters) {
            row.push_back(b["counters"][key].dump());
        }
        row.push_back(b["drops_total"].dump());
        t.row(row);
        for (const auto& [reason, n] : in_declared_order(b["drops"], drop_reasons)) {
            if (n.get<uint64_t>() != 0) {
                drops.row({b[id.front().first].dump(), reason, n.dump()});
            }
        }
    }
    if (t.empty()) {
        std::cout << "(none)\n";
        return;
    }
    t.print(std::cout);
    print_or_none("\nDrops by reason:\n", drops);
}

void print_vlans(const json& r, bool one) {
    if (one) {
        const auto& v = r["vlans"][0];
        std::cout << fmt::format("VLAN {}, {}:\n", v["vlan"].dump(), since_text(r["since_clear_s"]));
        print_block(v, domain_counters);
        return;
    }
    std::cout << "VLANs, " << since_text(r["since_clear_s"]) << ":\n";
    print_blocks(r["vlans"], {{"vlan", "VLAN"}},
                 {{"rx_packets", "RX PACKETS"},
                  {"rx_bytes", "RX BYTES"},
                  {"tx_packets", "TX PACKETS"},
                  {"tx_bytes", "TX BYTES"},
                  {"flooded", "FLOODED"},
                  {"unknown_unicast", "UNKNOWN UCAST"}});
}

void print_vnis(const json& r, bool one) {
    if (one) {
        const auto& v = r["vnis"][0];
        std::cout << fmt::format("VNI {} ({}, UDP port {}, vlan {}), {}:\n", v["vni"].dump(),
                                 v["protocol"].get<std::string>(), v["port"].dump(), v["vlan"].dump(),
                                 since_text(r["since_clear_s"]));
        print_block(v, vni_counters);
        return;
    }
    std::cout << "VNIs, " << since_text(r["since_clear_s"]) << ":\n";
    print_blocks(r["vnis"], {{"vni", "VNI"}, {"vlan", "VLAN"}, {"protocol", "PROTOCOL"}, {"port", "PORT"}},
                 {{"decapsulated_packets", "DECAP PACKETS"},
                  {"decapsulated_bytes", "DECAP BYTES"},
                  {"encapsulated_packets", "ENCAP PACKETS"},
                  {"encapsulated_bytes", "ENCAP BYTES"}});
}

void print_worker_counters(const json& r) {
    std::cout << "Workers, " << since_text(r["since_clear_s"]) << ":\n";
    std::vector<column> cols{{"WORKER", true}};
    if (!r["workers"].empty()) {
        for (const auto& [name, n] : in_declared_order(r["workers"][0]["counters"], worker_counters)) {
            cols.push_back({name, true});
        }
    }
    table t(cols);
    for (const auto& w : r["workers"]) {
        std::vector<std::string> row{w["id"].dump()};
        for (const auto& [name, n] : in_declared_order(w["counters"], worker_counters)) {
            row.push_back(n.dump());
        }
        t.row(row);
    }
    t.print(std::cout);
}

void print_workers(const json& r, const std::string& over) {
    std::cout << "Worker load, " << over << ":\n";
    table t({{"WORKER", true},
             {"LCORE", true},
             {"CPU", true},
             {"BUSY %", true},
             {"CYCLES/PKT", true},
             {"PKTS/BURST", true},
             {"PACKETS", true},
             {"BURSTS", true}});
    for (const auto& w : r["workers"]) {
        const auto& l = w["load"];
        t.row({w["id"].dump(), number_text(w["lcore"]), number_text(w["cpu"]), number_text(l["busy_pct"], 1),
               number_text(l["cycles_per_packet"], 0), number_text(l["packets_per_burst"], 1),
               w["counters"]["packets"].dump(), w["counters"]["bursts"].dump()});
    }
    t.print(std::cout);
}

struct counter_options {
    std::string port;
    bool workers = false;
    std::string vlan; // "all" for --vlan alone
    std::string vni;
    std::optional<int64_t> udp_port;
    double interval_s = 0;
};

// --vlan and --vni take a number, or nothing (or "all"): every one.
std::string number_or_all(const std::string& s) {
    const bool number = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    return number || s == "all" ? "" : "expected a number, or nothing for all";
}

// Asks counters.vlan or counters.vni for `--KEY VALUE` (VALUE "all": every one) and prints it.
void call_scoped(context& ctx, const std::string& key, const std::string& value, const counter_options& o) {
    json args = json::object();
    if (value != "all") {
        args[key] = std::stoll(value);
    }
    if (key == "vni" && o.udp_port) {
        args["udp_port"] = *o.udp_port;
    }
    const auto r = ctx.call("counters." + key, args);
    if (!r || ctx.printed_as_json(*r)) {
        return;
    }
    if (key == "vlan") {
        print_vlans(*r, value != "all");
    } else {
        print_vnis(*r, value != "all");
    }
}

worker_sample sample_of(const json& counters) {
    return {counters["busy_cycles"].get<uint64_t>(), counters["idle_cycles"].get<uint64_t>(),
            counters["packets"].get<uint64_t>(), counters["bursts"].get<uint64_t>()};
}

} // namespace

json load_between(const json& first, const json& second) {
    json out = second;
    for (size_t i = 0; i < out["workers"].size() && i < first["workers"].size(); ++i) {
        const auto a = sample_of(first["workers"][i]["counters"]);
        const auto b = sample_of(second["workers"][i]["counters"]);
        out["workers"][i]["load"] = worker_load({b.busy_cycles - a.busy_cycles, b.idle_cycles - a.idle_cycles,
                                                 b.packets - a.packets, b.bursts - a.bursts});
    }
    return out;
}


void add_counter_commands(CLI::App& app, context& ctx) {
    const auto o = std::make_shared<counter_options>();
    auto* counters =
        app.add_subcommand("counters", "port counters and drops by reason (or per --vlan, --vni, --workers); clear");
    auto* port = counters->add_option("port", o->port, "only this port, every counter");
    auto* workers_flag = counters->add_flag("--workers", o->workers, "the workers' counters instead of the ports'");
    auto* vlan = counters->add_option("--vlan", o->vlan, "per VLAN (bridge domain); with N, every counter of VLAN N")
                     ->expected(0, 1)
                     ->default_str("all")
                     ->check(number_or_all, "N");
    auto* vni = counters->add_option("--vni", o->vni, "per VNI (VXLAN, vxvde); with N, every counter of VNI N")
                    ->expected(0, 1)
                    ->default_str("all")
                    ->check(number_or_all, "N");
    counters->add_option("--udp-port", o->udp_port, "with --vni N: which segment, when VXLAN and vxvde share the VNI")
        ->needs(vni);
    port->excludes(workers_flag)->excludes(vlan)->excludes(vni);
    workers_flag->excludes(vlan)->excludes(vni);
    vlan->excludes(vni);
    counters->require_subcommand(0, 1);
    counters->callback([&ctx, o, counters, vlan, vni] {
        if (!counters->get_subcommands().empty()) {
            return; // counters clear
        }
        if (vlan->count() != 0 || vni->count() != 0) {
            const bool by_vlan = vlan->count() != 0;
            call_scoped(ctx, by_vlan ? "vlan" : "vni", by_vlan ? o->vlan : o->vni, *o);
            return;
        }
        json args = json::object();
        if (!o->port.empty()) {
            args["port"] = o->port;
        }
        const auto r = ctx.call("counters", args);
        if (!r || ctx.printed_as_json(*r)) {
            return;
        }
        if (o->workers) {
            print_worker_counters(*r);
        } else if (!o->port.empty()) {
            print_one_port((*r)["ports"][0], (*r)["since_clear_s"]);
        } else {
            print_port_table(*r);
        }
    });
    auto* clear = counters->add_subcommand("clear", "count from zero in vxctl's views (metrics keep their totals)");
    clear->callback([&ctx] {
        if (const auto r = ctx.call("counters.clear"); r && !ctx.printed_as_json(*r)) {
            std::cout << "counters cleared: vxctl counters (ports, VLANs, VNIs) and workers count from now on\n";
        }
    });

    auto* workers = app.add_subcommand("workers", "worker load: busy %, cycles per packet, packets per burst");
    workers->add_option("-i,--interval", o->interval_s, "measure over this many seconds, not since start")
        ->check(CLI::Range(0.0, 3600.0));
    workers->callback([&ctx, o] {
        auto r = ctx.call("workers");
        std::string over = r ? since_text((*r)["since_clear_s"]) : "";
        if (r && o->interval_s > 0) {
            std::this_thread::sleep_for(std::chrono::duration<double>(o->interval_s));
            const auto second = ctx.call("workers");
            r = second ? std::optional{load_between(*r, *second)} : std::nullopt;
            over = fmt::format("over the last {} s", o->interval_s);
        }
        if (r && !ctx.printed_as_json(*r)) {
            print_workers(*r, over);
        }
    });

    auto* metrics = app.add_subcommand("metrics", "every counter in Prometheus text format");
    metrics->callback([&ctx] {
        if (const auto r = ctx.call("metrics"); r && !ctx.printed_as_json(*r)) {
            std::cout << (*r)["text"].get<std::string>();
        }
    });
}

} // namespace vx::ctl

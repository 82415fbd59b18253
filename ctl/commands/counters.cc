// SPDX-License-Identifier: MIT
// vxctl counters [PORT] | counters --workers | counters clear, vxctl workers, vxctl metrics:
// what the switch counted.

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
}

// One port: every counter and every drop reason, zeros included.
void print_one_port(const json& p, const json& since) {
    std::cout << fmt::format("Port {}, {}:\n", p["name"].get<std::string>(), since_text(since));
    table t({{"COUNTER"}, {"VALUE", true}});
    for (const auto& [name, n] : in_declared_order(p["counters"], port_counters)) {
        t.row({name, n.dump()});
    }
    t.print(std::cout);
    std::cout << '\n';
    table d({{"DROP REASON"}, {"PACKETS", true}});
    for (const auto& [name, n] : in_declared_order(p["drops"], drop_reasons)) {
        d.row({name, n.dump()});
    }
    d.row({"(total)", p["drops_total"].dump()});
    d.print(std::cout);
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
    double interval_s = 0;
};

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
    auto* counters = app.add_subcommand("counters", "port counters and drops by reason (or --workers); clear");
    counters->add_option("port", o->port, "only this port, every counter");
    counters->add_flag("--workers", o->workers, "the workers' counters instead of the ports'");
    counters->require_subcommand(0, 1);
    counters->callback([&ctx, o, counters] {
        if (!counters->get_subcommands().empty()) {
            return; // counters clear
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
            std::cout << "counters cleared: vxctl counters and workers count from now on\n";
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

// SPDX-License-Identifier: MIT
// vxctl top: a live view of the switch, refreshed every interval: each port's rates (frames
// and bits per second in and out, drops per second) and each worker's load over the interval
// (busy %, cycles per packet, packets per burst), with the MAC table's and the packet pool's
// fill. Rates are differences of two samples of the daemon's counters (`counters`,
// `workers`, `show`), so top costs the switch nothing between samples.
//
// On a terminal it redraws the screen (ANSI); --batch (or a pipe) prints one frame after the
// other; --json prints one object per interval, one per line; -n N stops after N intervals.

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include <unistd.h>

#include "ctl/commands/commands.hh"
#include "ctl/table.hh"

namespace vx::ctl {

namespace {

using nlohmann::json;

struct top_options {
    double interval_s = 1;
    uint64_t iterations = 0; // 0: until Ctrl-C
    bool once = false;
    bool batch = false;
};

volatile std::sig_atomic_t stopped = 0;

struct sample {
    json show;
    json counters;
    json workers;
    std::chrono::steady_clock::time_point at;
};

std::optional<sample> take_sample(context& ctx) {
    auto show = ctx.call("show");
    auto counters = show ? ctx.call("counters") : std::nullopt;
    auto workers = counters ? ctx.call("workers") : std::nullopt;
    if (!workers) {
        return std::nullopt;
    }
    return sample{std::move(*show), std::move(*counters), std::move(*workers), std::chrono::steady_clock::now()};
}

// Per second over the interval; null when the port was not there at the first sample (added
// meanwhile) or the counter went back (the port was removed and added again).
json rate(const json* before, const json& after, const char* group, const char* key, double seconds) {
    if (before == nullptr) {
        return nullptr;
    }
    const auto a = (*before)[group][key].get<uint64_t>();
    const auto b = after[group][key].get<uint64_t>();
    return b < a ? json() : json(static_cast<double>(b - a) / seconds);
}

json drop_rate(const json* before, const json& after, double seconds) {
    if (before == nullptr) {
        return nullptr;
    }
    const auto a = (*before)["drops_total"].get<uint64_t>();
    const auto b = after["drops_total"].get<uint64_t>();
    return b < a ? json() : json(static_cast<double>(b - a) / seconds);
}

json bits(const json& bytes_per_s) {
    return bytes_per_s.is_null() ? json() : json(bytes_per_s.get<double>() * 8);
}

// One interval, as --json prints it and the table shows it.
json interval(const sample& first, const sample& second) {
    const double seconds = std::chrono::duration<double>(second.at - first.at).count();
    std::map<std::string, const json*> before;
    for (const auto& p : first.counters["ports"]) {
        before[p["name"].get<std::string>()] = &p;
    }
    json ports = json::array();
    for (const auto& p : second.counters["ports"]) {
        const auto it = before.find(p["name"].get<std::string>());
        const json* b = it == before.end() ? nullptr : it->second;
        ports.push_back({{"name", p["name"]},
                         {"rx_pps", rate(b, p, "counters", "rx_packets", seconds)},
                         {"tx_pps", rate(b, p, "counters", "tx_packets", seconds)},
                         {"rx_bps", bits(rate(b, p, "counters", "rx_bytes", seconds))},
                         {"tx_bps", bits(rate(b, p, "counters", "tx_bytes", seconds))},
                         {"drops_ps", drop_rate(b, p, seconds)},
                         {"drops_total", p["drops_total"]}});
    }
    json workers = json::array();
    const json load = load_between(first.workers, second.workers);
    for (size_t w = 0; w < load["workers"].size(); ++w) {
        const auto& now = load["workers"][w];
        const bool had = w < first.workers["workers"].size();
        const json packets_ps =
            had ? json(static_cast<double>(now["counters"]["packets"].get<uint64_t>() -
                                           first.workers["workers"][w]["counters"]["packets"].get<uint64_t>()) /
                       seconds)
                : json();
        workers.push_back({{"id", now["id"]},
                           {"cpu", now["cpu"]},
                           {"busy_pct", now["load"]["busy_pct"]},
                           {"cycles_per_packet", now["load"]["cycles_per_packet"]},
                           {"packets_per_burst", now["load"]["packets_per_burst"]},
                           {"packets_ps", packets_ps}});
    }
    const auto& s = second.show;
    return {{"uptime_s", s["uptime_s"]},
            {"interval_s", seconds},
            {"ports", ports},
            {"workers", workers},
            {"fdb", s["fdb"]},
            {"pool", s["pool"]}};
}

// 1234567 -> "1.23M": rates stay readable in narrow columns.
std::string si(const json& v) {
    if (v.is_null()) {
        return "-";
    }
    const double x = v.get<double>();
    if (x >= 1e9) {
        return fmt::format("{:.2f}G", x / 1e9);
    }
    if (x >= 1e6) {
        return fmt::format("{:.2f}M", x / 1e6);
    }
    if (x >= 1e4) {
        return fmt::format("{:.1f}k", x / 1e3);
    }
    return fmt::format("{:.0f}", x);
}

void print_frame(const json& t, bool redraw) {
    if (redraw) {
        std::cout << "\x1b[H\x1b[2J"; // cursor home, clear screen
    }
    std::cout << fmt::format("vxswitch top: up {}, {} ports, MAC table {} of {}, pool {} of {} buffers free, "
                             "every {:.1f} s\n\n",
                             duration_text(t["uptime_s"].get<int64_t>()), t["ports"].size(),
                             t["fdb"]["entries"].dump(), t["fdb"]["capacity"].dump(), t["pool"]["free"].dump(),
                             t["pool"]["size"].dump(), t["interval_s"].get<double>());
    table ports({{"PORT"},
                 {"RX PPS", true},
                 {"RX BPS", true},
                 {"TX PPS", true},
                 {"TX BPS", true},
                 {"DROPS/S", true},
                 {"DROPS", true}});
    for (const auto& p : t["ports"]) {
        ports.row({p["name"].get<std::string>(), si(p["rx_pps"]), si(p["rx_bps"]), si(p["tx_pps"]), si(p["tx_bps"]),
                   si(p["drops_ps"]), p["drops_total"].dump()});
    }
    ports.print(std::cout);
    std::cout << '\n';
    table workers({{"WORKER", true}, {"CPU", true}, {"BUSY %", true}, {"CYCLES/PKT", true}, {"PKTS/BURST", true},
                   {"PPS", true}});
    for (const auto& w : t["workers"]) {
        workers.row({w["id"].dump(), number_text(w["cpu"]), number_text(w["busy_pct"], 1),
                     number_text(w["cycles_per_packet"], 0), number_text(w["packets_per_burst"], 1),
                     si(w["packets_ps"])});
    }
    workers.print(std::cout);
    std::cout << std::flush;
}

void run_top(context& ctx, const top_options& o) {
    const uint64_t iterations = o.once ? 1 : o.iterations;
    const bool redraw = !ctx.json && !o.batch && !o.once && isatty(STDOUT_FILENO) != 0;
    std::signal(SIGINT, [](int) { stopped = 1; });
    auto previous = take_sample(ctx);
    for (uint64_t n = 0; previous && !stopped && (iterations == 0 || n < iterations); ++n) {
        // Sleep in slices, so that Ctrl-C ends top within a tenth of a second.
        const auto until = previous->at + std::chrono::duration<double>(o.interval_s);
        while (!stopped && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        auto next = take_sample(ctx);
        if (!next) {
            return; // ctx.call said why and set the exit status
        }
        const json t = interval(*previous, *next);
        if (ctx.json) {
            std::cout << t.dump() << '\n' << std::flush; // one object per line
        } else {
            if (!redraw && n != 0) {
                std::cout << '\n';
            }
            print_frame(t, redraw);
        }
        previous = std::move(next);
    }
}

} // namespace

void add_top_command(CLI::App& app, context& ctx) {
    const auto o = std::make_shared<top_options>();
    auto* top = app.add_subcommand("top", "a live view of ports (rates, drops) and workers (load), refreshed");
    top->add_option("-i,--interval", o->interval_s, "seconds between refreshes (default 1)")
        ->check(CLI::Range(0.1, 3600.0));
    top->add_option("-n,--iterations", o->iterations, "stop after N refreshes (default: until Ctrl-C)");
    top->add_flag("--once", o->once, "one interval, printed once (no screen control)");
    top->add_flag("-b,--batch", o->batch, "print each refresh after the last, without redrawing (for pipes)");
    top->callback([&ctx, o] { run_top(ctx, *o); });
}

} // namespace vx::ctl

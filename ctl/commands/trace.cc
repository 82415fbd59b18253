// SPDX-License-Identifier: MIT
// vxctl trace [PORT] [-c N] [--filter WORDS]: follow the next N frames (of a port, matching
// the filter) through every stage of the pipeline and print each stage's decision
// (observe/trace.hh in the daemon).

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "ctl/commands/commands.hh"

namespace vx::ctl {

namespace {

using nlohmann::json;

struct trace_options {
    std::string port;
    int64_t count = 1;
    std::string filter;
};

size_t print_frames(const json& r, size_t& seen) {
    for (const auto& f : r["frames"]) {
        std::cout << fmt::format("frame {}: port {}, worker {}, {} bytes, {}\n", ++seen, f["port"].get<std::string>(),
                                 f["worker"].dump(), f["length"].dump(), f["summary"].get<std::string>());
        for (const auto& s : f["steps"]) {
            std::cout << fmt::format("  {:<13} {}\n", s["stage"].get<std::string>(), s["text"].get<std::string>());
        }
        if (f["steps_not_shown"] != 0) {
            std::cout << fmt::format("  ({} more outputs not shown)\n", f["steps_not_shown"].dump());
        }
    }
    std::cout.flush();
    return r["frames"].size();
}

void run_trace(context& ctx, const trace_options& o) {
    json args = {{"count", o.count}};
    if (!o.port.empty()) {
        args["port"] = o.port;
    }
    if (!o.filter.empty()) {
        args["filter"] = o.filter;
    }
    const auto started = ctx.call("trace.start", args);
    if (!started) {
        return;
    }
    std::cerr << fmt::format("vxctl: following {} frame{}{}{}; Ctrl-C stops\n", o.count, o.count == 1 ? "" : "s",
                             o.port.empty() ? "" : " on port " + o.port,
                             o.filter.empty() ? "" : " matching '" + o.filter + "'");
    json all = json::array();
    size_t seen = 0;
    const auto totals = follow_session(ctx, "trace", (*started)["session"].get<uint32_t>(), [&](const json& r) {
        if (ctx.json) {
            for (const auto& f : r["frames"]) {
                all.push_back(f);
            }
            return r["frames"].size();
        }
        return print_frames(r, seen);
    });
    if (totals && ctx.json) {
        ctx.printed_as_json({{"frames", all}, {"lost", (*totals)["lost"]}});
    }
}

} // namespace

void add_trace_commands(CLI::App& app, context& ctx) {
    const auto o = std::make_shared<trace_options>();
    auto* t = app.add_subcommand("trace", "follow the next frames through every pipeline stage");
    t->add_option("port", o->port, "only frames that arrive on this port");
    t->add_option("-c,--count", o->count, "how many frames to follow (default 1)")->check(CLI::Range(1, 4096));
    t->add_option("--filter", o->filter,
                  "only frames matching all of: src MAC, dst MAC, mac MAC (either), vlan N (outer tag), ethertype X");
    t->callback([&ctx, o] { run_trace(ctx, *o); });
}

} // namespace vx::ctl

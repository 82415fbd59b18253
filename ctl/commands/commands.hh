// SPDX-License-Identifier: MIT
#pragma once

// vxctl's command groups, one file each (show.cc, mac.cc, counters.cc, config.cc, port.cc, vni.cc,
// capture.cc, trace.cc, top.cc). Each adds
// its CLI11 subcommands to the app; their callbacks send one request through the context and
// print the result: as a table, or with --json as the daemon's raw result.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>

namespace vx::ctl {

// Exit statuses: 0 done, 1 the daemon refused the request, 2 the daemon could not be asked.
inline constexpr int exit_refused = 1;
inline constexpr int exit_unreachable = 2;

struct context {
    std::string socket;
    bool json = false;
    double timeout_s = 35;
    int status = 0;

    // Sends {cmd, args}; prints the error and sets `status` on failure.
    std::optional<nlohmann::json> call(const std::string& cmd, const nlohmann::json& args = nlohmann::json::object());
    // With --json, prints the result and returns true: the caller has nothing left to do.
    bool printed_as_json(const nlohmann::json& result) const;
};

void add_show_commands(CLI::App& app, context& ctx);
void add_mac_commands(CLI::App& app, context& ctx);
void add_counter_commands(CLI::App& app, context& ctx);
void add_config_commands(CLI::App& app, context& ctx);
void add_port_commands(CLI::App& app, context& ctx);
void add_vni_commands(CLI::App& app, context& ctx);
void add_capture_commands(CLI::App& app, context& ctx);
void add_trace_commands(CLI::App& app, context& ctx);
void add_top_command(CLI::App& app, context& ctx);

// Reads an observation session (`group` is capture or trace) until the daemon says it is
// done, or Ctrl-C stops it: calls group.read and hands each result to `take`, which returns
// how many frames it held. Returns the session's totals, or nullopt when a call failed.
std::optional<nlohmann::json> follow_session(context& ctx, const std::string& group, uint32_t session,
                                             const std::function<size_t(const nlohmann::json&)>& take);

// A `workers` result whose load is over [first, second] (both `workers` results): the same
// formula as the daemon's, on the counters' deltas.
nlohmann::json load_between(const nlohmann::json& first, const nlohmann::json& second);

// What a runtime change did (port set, config apply): one line per change, then warnings.
void print_change(const nlohmann::json& result);
// Sends a runtime change (port.*, vni.*, config.apply) and prints what it did (or --json).
void send_change(context& ctx, const std::string& cmd, const nlohmann::json& args);

// A JSON number or null as text ("-" for null), with `digits` decimals for fractions.
std::string number_text(const nlohmann::json& v, int digits = 0);

} // namespace vx::ctl

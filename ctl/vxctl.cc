// SPDX-License-Identifier: MIT
// vxctl: control and observe a running vxswitchd over its unix socket
// (docs/control-protocol.md). Tables for people by default, --json for programs.

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

#include "ctl/client.hh"
#include "ctl/commands/commands.hh"

namespace vx::ctl {

std::optional<nlohmann::json> context::call(const std::string& cmd, const nlohmann::json& args) {
    try {
        client c(socket, std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000)));
        auto r = c.call({cmd, args, nullptr});
        if (!r.ok) {
            std::cerr << "vxctl: " << r.error << '\n';
            status = exit_refused;
            return std::nullopt;
        }
        return r.result;
    } catch (const connection_error& e) {
        std::cerr << "vxctl: " << e.what() << '\n';
        status = exit_unreachable;
        return std::nullopt;
    }
}

bool context::printed_as_json(const nlohmann::json& result) const {
    if (json) {
        std::cout << result.dump(2) << '\n';
    }
    return json;
}

std::string number_text(const nlohmann::json& v, int digits) {
    if (v.is_null()) {
        return "-";
    }
    if (v.is_number_float()) {
        return fmt::format("{:.{}f}", v.get<double>(), digits);
    }
    return v.dump();
}

} // namespace vx::ctl

int main(int argc, char** argv) {
    vx::ctl::context ctx;
    const char* env_socket = std::getenv("VXCTL_SOCKET");
    ctx.socket = env_socket != nullptr ? env_socket : std::string(vx::ctl::default_socket);

    CLI::App app{"vxctl: control and observe a running vxswitchd"};
    app.set_version_flag("--version", std::string("vxctl ") + VXSWITCH_VERSION);
    app.add_option("-s,--socket", ctx.socket, "vxswitchd's control socket (default: $VXCTL_SOCKET, else " +
                                                  std::string(vx::ctl::default_socket) + ")");
    app.add_flag("--json", ctx.json, "print the daemon's result as JSON, not as a table");
    app.add_option("--timeout", ctx.timeout_s, "seconds to wait for an answer")->check(CLI::PositiveNumber);
    app.require_subcommand(1);
    app.fallthrough(); // --json and -s are accepted after the subcommand too

    vx::ctl::add_show_commands(app, ctx);
    vx::ctl::add_mac_commands(app, ctx);
    vx::ctl::add_counter_commands(app, ctx);
    vx::ctl::add_config_commands(app, ctx);
    vx::ctl::add_port_commands(app, ctx);
    vx::ctl::add_vni_commands(app, ctx);
    vx::ctl::add_capture_commands(app, ctx);
    vx::ctl::add_trace_commands(app, ctx);
    vx::ctl::add_top_command(app, ctx);

    CLI11_PARSE(app, argc, argv);
    return ctx.status;
}

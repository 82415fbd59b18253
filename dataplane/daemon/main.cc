// SPDX-License-Identifier: MIT
// vxswitchd: the switch daemon. Reads the configuration (or the embedded default), starts
// the EAL, builds the fabric and forwards until SIGINT/SIGTERM.

#include <rte_eal.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>

#include "config/load.hh"
#include "daemon/control_commands.hh"
#include "daemon/default_config.hh"
#include "daemon/eal.hh"
#include "daemon/fabric.hh"

namespace {

std::atomic<bool> stop_requested{false};

void on_signal(int) {
    stop_requested.store(true);
}

struct options {
    std::string config_path;
    std::string state_file;
    unsigned stats_interval_s = 0;
    bool check = false;
    uint16_t burst = 32;
    unsigned quiet_ms = 300;
    bool print_default = false;
    std::string log_level = "info";
    std::string control_socket;
};

std::optional<vx::config::model> load(const options& o) {
    const auto r = o.config_path.empty() ? vx::config::load_string(vx::default_config, "<embedded default>")
                                         : vx::config::load_file(o.config_path);
    for (const auto& e : r.errors) {
        std::cerr << "vxswitchd: " << e << '\n';
    }
    if (!r.value) {
        std::cerr << "vxswitchd: configuration refused, nothing started\n";
    }
    return r.value;
}

void write_state(const vx::fabric& f, const std::string& path) {
    if (path.empty()) {
        return;
    }
    std::ofstream out(path);
    out << f.state().dump(2) << '\n';
    if (!out) {
        spdlog::error("cannot write the state file {}", path);
    }
}

// The control channel vxctl uses. One left at its defaults is a convenience, not a promise:
// when it cannot be served (another switch has the default path, no right to /run), the
// switch forwards without it and says so. A configured one must work, or nothing starts.
std::unique_ptr<vx::control::service> start_control(const options& o, const vx::config::model& m, vx::fabric& f,
                                                    const vx::eal_plan& plan) {
    auto running = m;
    if (!o.control_socket.empty()) {
        running.control.socket = o.control_socket;
    }
    const auto& c = running.control;
    const bool configured = c.socket != vx::config::control_channel{}.socket || !c.owner.empty() ||
                            !c.group.empty() || c.mode.has_value();
    try {
        const vx::control::daemon_info info{plan.no_huge, m.dp.memory_mb};
        return std::make_unique<vx::control::service>(f, running, info, vx::control::resolve_access(c));
    } catch (const std::exception& e) {
        if (configured) {
            throw;
        }
        spdlog::warn("{}: running without a control channel (vxctl)", e.what());
        return nullptr;
    }
}

int run(const options& o, const vx::config::model& m) {
    const uint16_t workers = o.check ? 0 : m.dp.workers;
    const bool huge = vx::hugepages_available();
    const auto plan = vx::plan_eal(m, workers, huge);
    if (plan.no_huge) {
        spdlog::info("no free hugepages mounted: running with --no-huge on {} MB of ordinary memory "
                     "(mount hugetlbfs and set vm.nr_hugepages for full speed)",
                     m.dp.memory_mb);
    }
    vx::start_eal(plan);
    int rc = 0;
    {
        vx::fabric f(m, workers);
        f.describe();
        if (o.check) {
            f.run_check(o.burst, std::chrono::milliseconds(o.quiet_ms));
        } else {
            const auto control = start_control(o, m, f, plan);
            spdlog::info("forwarding; stop with SIGINT or SIGTERM");
            f.run(stop_requested, std::chrono::seconds(o.stats_interval_s),
                  [&] { return control ? control->run_pending() : 0; });
            spdlog::info("stopping");
        }
        write_state(f, o.state_file);
    }
    rte_eal_cleanup();
    return rc;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"vxswitchd: a kernel-bypass L2 fabric switch on DPDK"};
    options o;
    app.add_option("-c,--config", o.config_path, "YAML configuration file (default: the embedded default)")
        ->check(CLI::ExistingFile);
    app.add_option("--state-file", o.state_file, "write counters (per port, VLAN, VNI, worker) and the MAC table as JSON here on exit");
    app.add_option("--stats-interval", o.stats_interval_s, "log port rates every N seconds (0: never)");
    app.add_flag("--check", o.check,
                 "deterministic single-thread run for golden tests: exit once the ports have gone quiet");
    app.add_option("--burst", o.burst, "with --check: frames per receive burst")->check(CLI::Range(1, 32));
    app.add_option("--quiet-ms", o.quiet_ms, "with --check: silence that ends the run");
    app.add_flag("--print-default-config", o.print_default, "print the embedded default configuration and exit");
    app.add_option("--control-socket", o.control_socket, "serve vxctl on this unix socket (overrides control.socket)")
        ->check([](const std::string& p) { return p.starts_with('/') ? "" : "must be an absolute path"; });
    app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
    CLI11_PARSE(app, argc, argv);

    if (o.print_default) {
        std::cout << vx::default_config;
        return 0;
    }
    spdlog::set_level(spdlog::level::from_str(o.log_level));
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
    const auto m = load(o);
    if (!m) {
        return 2;
    }
    if (o.config_path.empty()) {
        spdlog::info("no configuration given: running the embedded default (see --print-default-config)");
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    try {
        return run(o, *m);
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
}

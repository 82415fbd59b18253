// SPDX-License-Identifier: MIT
#pragma once

// What vxctl can ask the daemon (docs/control-protocol.md lists each command, its arguments
// and its result), and the service that serves it on the control socket.
//
// Every command runs on the control thread, the learner's (control_server.hh says why), so
// it may read the fdb's owner-side state and write the fdb as its single writer. Commands
// are safe while the workers run: they read counters the workers own (a few packets stale at
// worst, as the state file does), and MAC writes go through the fdb's writer side, whose
// deletions wait for an RCU grace period. `counters clear` writes nothing the workers own:
// it records a baseline that later reads subtract.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "config/load.hh"
#include "config/model.hh"
#include "counters/counters.hh"
#include "ctl/protocol.hh"
#include "daemon/control_server.hh"
#include "observe/capture.hh"
#include "observe/trace.hh"

namespace vx {
class fabric;
}

namespace vx::control {

// What the daemon knows about itself that the fabric does not.
struct daemon_info {
    bool no_huge = false;
    uint32_t memory_mb = 0;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

class commands {
public:
    // `running` is the configuration the fabric was built from, in the file's order (the
    // fabric's own model is by port slot); commands that change the configuration (static
    // MACs, port set/add/remove, config apply) keep it up to date for `config dump`.
    commands(fabric& f, config::model running, const daemon_info& info);

    ~commands();
    commands(const commands&) = delete;
    commands& operator=(const commands&) = delete;

    // Control thread only. Throws ctl::request_error naming what is wrong.
    nlohmann::json execute(const ctl::request& r);
    // Control thread, every round: moves captured frames out of the workers' rings and ends
    // a capture nobody has read for a while (its vxctl went away).
    void tick();

private:
    struct counter_baseline {
        std::vector<port_counter_block> ports;
        std::vector<domain_counter_block> domains; // by domain index (kept for the switch's life)
        std::vector<vni_counter_block> segments;   // by counter slot (the same)
        std::vector<std::array<uint64_t, worker_counter_count>> workers;
        std::vector<std::array<uint64_t, VX_CNT_COUNT>> xdp; // per port slot: its steering program's decisions
        std::vector<nlohmann::json> vde; // per port slot: a VDE port's I/O thread counters (null: none)
        std::chrono::steady_clock::time_point at;
        bool set = false;
    };

    nlohmann::json help(ctl::arg_reader& a);
    nlohmann::json show(ctl::arg_reader& a);
    nlohmann::json mac_show(ctl::arg_reader& a);
    nlohmann::json mac_count(ctl::arg_reader& a);
    nlohmann::json mac_add(ctl::arg_reader& a);
    nlohmann::json mac_del(ctl::arg_reader& a);
    nlohmann::json mac_flush(ctl::arg_reader& a);
    nlohmann::json counters(ctl::arg_reader& a);
    nlohmann::json counters_vlan(ctl::arg_reader& a);
    nlohmann::json counters_vni(ctl::arg_reader& a);
    nlohmann::json counters_clear(ctl::arg_reader& a);
    nlohmann::json workers(ctl::arg_reader& a);
    nlohmann::json metrics(ctl::arg_reader& a);
    nlohmann::json config_dump(ctl::arg_reader& a);
    nlohmann::json config_apply(ctl::arg_reader& a);
    nlohmann::json port_set(ctl::arg_reader& a);
    nlohmann::json port_add(ctl::arg_reader& a);
    nlohmann::json port_remove(ctl::arg_reader& a);
    // daemon/control_vnis.cc
    nlohmann::json vni_show(ctl::arg_reader& a);
    nlohmann::json vni_add(ctl::arg_reader& a);
    nlohmann::json vni_set(ctl::arg_reader& a);
    nlohmann::json vni_remove(ctl::arg_reader& a);
    // daemon/control_observe.cc
    nlohmann::json capture_start(ctl::arg_reader& a);
    nlohmann::json capture_read(ctl::arg_reader& a);
    nlohmann::json capture_stop(ctl::arg_reader& a);
    nlohmann::json trace_start(ctl::arg_reader& a);
    nlohmann::json trace_read(ctl::arg_reader& a);
    nlohmann::json trace_stop(ctl::arg_reader& a);

    // Where port.set and config.apply meet: `loaded` is the new configuration as the loader
    // read it; it is validated whole, diffed with the running one and applied (or, with
    // dry_run, only described). Throws ctl::request_error, with nothing changed, naming every
    // problem.
    nlohmann::json change_to(const config::load_result& loaded, bool dry_run);

    // The running configuration as YAML, edited by port.set/add/remove before it is loaded.
    YAML::Node running_yaml() const;
    // A configuration port.set/add/remove wrote: loaded (its messages without the positions
    // in a text nobody sees) and applied with change_to().
    nlohmann::json change_to(const YAML::Node& edited, const char* source, bool dry_run);
    // Port slots in the configuration's order (what show, counters and metrics list).
    std::vector<uint16_t> port_slots() const;
    nlohmann::json port_json(size_t i) const;
    nlohmann::json since_clear() const;
    // Worker counters less the baseline.
    std::array<uint64_t, worker_counter_count> worker_counts(size_t w) const;
    std::vector<port_counter_block> port_counts() const;
    // Port slot i's XDP decisions since `counters clear` (an af_xdp port's; null otherwise).
    nlohmann::json xdp_counts(uint16_t i) const;
    // Port slot i's VDE I/O thread counters since `counters clear` (a VDE port's; null otherwise).
    nlohmann::json vde_counts(uint16_t i) const;
    // A port added in `slot` counts from zero: the baseline of the slot's earlier port goes.
    void forget_baseline(uint16_t slot);
    uint16_t port_index(const std::string& name) const;
    std::optional<uint16_t> port_filter(ctl::arg_reader& a) const;
    std::optional<uint16_t> vlan_arg(ctl::arg_reader& a, bool required) const;
    uint16_t domain_of(uint16_t vlan) const;
    std::string port_name(uint16_t i) const;

    using handler = nlohmann::json (commands::*)(ctl::arg_reader&);
    struct entry {
        std::string_view name;
        handler fn;
        std::string_view args;
        std::string_view help;
    };
    static const std::vector<entry>& table();

    fabric& _fabric;
    config::model _running;
    daemon_info _info;
    counter_baseline _baseline;

    // A running capture or trace (one of each at a time), and what it needs to hand frames
    // to vxctl: vxctl reads it until `limit` frames were delivered, or stops it.
    template <class Session>
    struct observation {
        std::unique_ptr<Session> session;
        uint32_t id = 0;
        uint64_t limit = 0; // frames to deliver, 0: until stopped
        uint64_t delivered = 0;
        std::chrono::steady_clock::time_point last_read;
        int64_t anchor_ns = 0; // wall clock (ns since the epoch) at anchor_tsc
        uint64_t anchor_tsc = 0;

        // Starts the clock and the session's bookkeeping; `id` is the new session's.
        void begin(uint32_t new_id, uint64_t frames);
        int64_t time_ns(uint64_t tsc) const;
        // The session `a` names ("session"), refused when it is not this one.
        Session& named(ctl::arg_reader& a) const;
        // Whether nobody read it for too long (its vxctl went away).
        bool abandoned() const;
    };
    nlohmann::json end_capture(); // the ended capture's totals
    nlohmann::json end_trace();
    nlohmann::json trace_step_json(const trace_step& s) const;
    capture_pool _capture_pool;
    observation<capture_session> _capture;
    observation<trace_session> _trace;
    uint32_t _session_ids = 0;
};

// A JSON value as the YAML node the configuration loader reads (port.set's and vni.set's keys).
YAML::Node yaml_of(const nlohmann::json& v);

// The control channel as the daemon runs it: the commands, the inbox that carries them to
// the control thread, and the socket server. Destroyed before the fabric.
class service {
public:
    // Throws std::runtime_error when the socket cannot be served.
    service(fabric& f, const config::model& running, const daemon_info& info, const socket_access& access);
    ~service();
    service(const service&) = delete;
    service& operator=(const service&) = delete;

    // For fabric::run, on the control thread: runs the commands waiting.
    size_t run_pending() {
        _commands.tick();
        return _inbox.run_pending();
    }

private:
    std::string handle(std::string_view line);

    commands _commands;
    job_inbox _inbox;
    std::unique_ptr<server> _server;
};

} // namespace vx::control

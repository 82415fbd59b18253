// SPDX-License-Identifier: MIT
#pragma once

// fabric: a running switch assembled from a validated config::model, after rte_eal_init.
//
// Owns, in order of construction: the packet pool, the workers' RCU variable, the fdb, the
// ports, the published snapshot and the workers. The calling thread (the EAL's main lcore)
// becomes the control thread: it runs the learner and aging, and prints statistics.
//
// Ports by slot: a port's index (what MAC entries, counters, the snapshot and the workers'
// poll lists name it by) is its slot, fixed for its life. model() lists the ports by slot; a
// removed port leaves its slot vacant (config::port::vacant(), empty name) until a port added
// later takes it, so no other port is renumbered while frames are in flight.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "config/diff.hh"
#include "config/model.hh"
#include "ports/dpdk_port.hh"
#include "ports/xdp_steer.hh"
#include "tables/fdb.hh"
#include "tables/learner.hh"
#include "tables/vtep_control.hh"
#include "worker/clock.hh"
#include "worker/snapshot.hh"
#include "worker/worker.hh"

struct rte_mempool;

namespace vx {

namespace vde {
class bridge; // vuos-bridge/vde_bridge.hh
}

class fabric {
public:
    // workers == 0 means: one worker that runs on the calling thread (run_check()).
    // Throws std::runtime_error naming what could not be set up.
    fabric(const config::model& m, uint16_t workers);
    ~fabric();
    fabric(const fabric&) = delete;
    fabric& operator=(const fabric&) = delete;

    // Starts the workers on the EAL's worker lcores and runs the control loop until `stop`.
    // `control_work` runs on the control thread at every round of the loop (the control
    // channel's jobs, daemon/control_server.hh) and returns how many jobs it ran.
    void run(const std::atomic<bool>& stop, std::chrono::seconds stats_interval,
             const std::function<size_t()>& control_work = {});
    // Deterministic single-thread run for golden tests: polls with bursts of `burst_size`,
    // applies learn events after every burst, and returns once the ports have been silent
    // for `quiet` (finite inputs such as net_pcap rx_pcap files are then exhausted).
    void run_check(uint16_t burst_size, std::chrono::milliseconds quiet);

    // Counters (per port, per VLAN, per VNI, per worker, drops by reason) and the MAC table,
    // as JSON (the state file).
    nlohmann::json state() const;
    // The banner: what runs, and where its ports are.
    void describe() const;

    // ---- what the control channel reads and changes (daemon/control_commands.cc) ----
    // Each port's counters summed over the workers, by slot (a vacant slot's are zero).
    std::vector<port_counter_block> port_totals() const;
    // Each bridge domain's counters summed over the workers, by domain index (l2_tables). A
    // domain keeps its index, and so its counts, for the switch's life: a VLAN that no port
    // carries any more keeps its totals, and continues them when a port carries it again.
    std::vector<domain_counter_block> domain_totals() const;
    // Each VXLAN segment's (and vxvde network's), by counter slot (tables/vtep_table.hh).
    std::vector<vni_counter_block> segment_totals() const;
    // The running configuration by slot, vacant slots included (see above).
    const config::model& model() const { return _model; }
    // By slot; null for a vacant slot.
    const std::vector<std::unique_ptr<dpdk_port>>& ports() const { return _ports; }
    // Packet buffers free in the pool, and DPDK memory in use (leak checks, status). The
    // number of allocations is the exact measure: bytes move with where a block lands
    // (alignment padding), the count does not.
    uint32_t pool_free() const;
    uint32_t pool_size() const;
    struct heap_use {
        uint64_t bytes = 0;
        uint64_t allocations = 0;
    };
    heap_use heap_in_use() const;
    // The XDP steering program of port `i` (type: af_xdp), nullptr for other ports. Its
    // apply() changes the steered set at runtime, in place (control thread only).
    xdp_steer* steering(size_t i) const { return _steering[i].get(); }
    // Port `i`'s VDE state (what it is on, its peer, the I/O thread's counters:
    // vuos-bridge/vde_bridge.hh), nullopt for other ports.
    std::optional<nlohmann::json> vde_state(size_t i) const;
    const std::vector<std::unique_ptr<worker>>& workers() const { return _workers; }
    // The lcore of each worker, once run() has launched them.
    const std::vector<unsigned>& worker_lcores() const { return _worker_lcores; }
    const snapshot& tables() const { return _state->current(); }
    // The MAC table, for the control thread only: it is the learner's thread, so the fdb
    // keeps its single writer.
    fdb& macs() { return *_macs; }
    uint32_t now_s() const { return _clock.now_s(); }
    // The workers' RCU variable: a grace period on it means no worker still holds what was
    // handed to it before (vxctl capture and trace arm and disarm the workers with it).
    rte_rcu_qsbr* rcu() const { return _rcu; }
    // What a MAC table entry (or a forwarding decision) points at: {"port": name}, or for a
    // remote VTEP {"port": the underlay's name, "vtep": its address}, for a vxvde endpoint
    // {"port": the underlay's name, "vxvde": its address, "vxvde_port": its UDP port}.
    nlohmann::json destination(uint16_t port) const;
    // The same in words: "up", "vtep 192.0.2.2", "vxvde 192.0.2.3:40000".
    std::string destination_name(uint16_t port) const;
    // Applies a validated change while the workers forward (config/diff.hh says what may
    // change; daemon/fabric_changes.cc): opens and starts added ports in free slots, sets
    // changed MTUs, publishes tables and poll lists built from `next` with every domain at its
    // index, waits one RCU grace period, then drops the MAC entries the change made wrong and
    // closes and detaches removed ports. Control thread only. Throws std::runtime_error, with
    // nothing changed, when a device cannot be opened or refuses its new MTU.
    void reconfigure(const config::model& next, const config::change_plan& plan);

private:
    // daemon/fabric_changes.cc: the steps of reconfigure().
    std::vector<uint16_t> open_added_ports(const std::vector<config::port>& added);
    void open_port_in(uint16_t slot, const config::port& p, uint16_t tx_queues);
    // The VDE bridge, made with no port (and no jumbo pool) for the first VDE port added at runtime.
    vde::bridge& vde_bridge();
    // The vde_switch section's socket when `next` adds the section (made before anything
    // changes: a path that cannot be served refuses the change).
    void open_vde_listener(const config::model& next);
    // A VDE port's device in the fabric's model is its ring ethdev (config::vde_device).
    void name_vde_devices(config::model& slotted) const;
    void close_ports(const std::vector<uint16_t>& slots);
    // Undoes open_added_ports() when the change fails later: nothing is left of them.
    void close_added_ports(const std::vector<uint16_t>& slots);
    // `next` (in the file's order) laid out by slot: kept ports in theirs, added ones in
    // `added_slots`, the rest vacant.
    config::model in_slots(const config::model& next, const std::vector<uint16_t>& added_slots,
                           const std::vector<config::port>& added) const;
    std::optional<vtep_control::rebuilt> rebuild_vxlan(const config::model& slotted, snapshot& snap) const;
    void vxlan_changed(const std::optional<vtep_control::rebuilt>& r);
    std::vector<std::vector<rx_queue>> polls_after(const snapshot& running, const config::model& slotted,
                                                    const std::vector<uint16_t>& added_slots) const;

    void add_static_macs(const config::model& m);
    void start_vxlan(const config::model& m, snapshot& snap);
    // Runs the control plane's periodic work (learner, VXLAN); returns the events it applied.
    size_t control_round();
    // A slot's counters summed over the workers, its earlier ports' counts included.
    port_counter_block slot_counts(size_t slot) const;
    // Block i of the workers' `blocks` (ports, domains, segments), summed over the workers.
    template <class Block, size_t N>
    Block summed(std::array<Block, N> worker_counter_block::*blocks, size_t i) const {
        Block sum;
        for (const auto& w : _workers) {
            sum += (w->counters().*blocks)[i];
        }
        return sum;
    }
    void print_rates(std::vector<uint64_t>& last_rx, std::chrono::seconds interval) const;

    config::model _model;
    coarse_clock _clock;
    rte_mempool* _pool = nullptr;
    rte_rcu_qsbr* _rcu = nullptr;
    std::unique_ptr<fdb> _macs;
    std::vector<std::unique_ptr<dpdk_port>> _ports;
    std::vector<std::unique_ptr<xdp_steer>> _steering; // per port; nullptr unless type: af_xdp
    // What the workers had counted in a slot when its port took it (a removed port's
    // counts, which workers still hold in their own blocks): port_totals() subtracts it.
    std::vector<port_counter_block> _slot_base;
    std::unique_ptr<snapshot_holder> _state;
    std::unique_ptr<learner> _learner;
    std::unique_ptr<vtep_control> _vteps; // VXLAN's control plane; null without VXLAN
    // The VDE ports' rings and I/O thread; null until the switch has a VDE port or a
    // vde_switch section (at start or at runtime), then kept.
    std::unique_ptr<vde::bridge> _vde;
    std::vector<std::unique_ptr<worker>> _workers;
    std::vector<unsigned> _worker_lcores;
};

} // namespace vx

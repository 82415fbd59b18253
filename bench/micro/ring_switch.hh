// SPDX-License-Identifier: MIT
#pragma once

// A switch for the pipeline benchmarks: one worker, the ports of a configuration on net_ring
// ethdevs whose rings the benchmark feeds and drains directly, a MAC table the benchmark fills,
// and (when the configuration has a vxlan: section) the VTEP table the daemon would build.
// Nothing runs in the background: the benchmark calls worker::poll_once() itself.

#include <rte_dev.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "config/load.hh"
#include "tables/fdb.hh"
#include "tables/vtep_control.hh"
#include "testing/dpdk_env.hh"
#include "worker/worker.hh"

namespace vx::bench {

inline void check(int rc, const char* what) {
    if (rc < 0) {
        throw std::runtime_error(std::string(what) + ": " + rte_strerror(-rc));
    }
}

// A net_ring ethdev with one RX and one TX queue, whose rings the benchmark feeds and drains.
struct ring_port {
    static constexpr unsigned ring_size = 256;
    rte_ring* rx = nullptr;
    rte_ring* tx = nullptr;
    uint16_t id = 0;

    explicit ring_port(const std::string& name) {
        rx = rte_ring_create((name + "_rx").c_str(), ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        tx = rte_ring_create((name + "_tx").c_str(), ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (rx == nullptr || tx == nullptr) {
            throw std::runtime_error("cannot create the rings of " + name);
        }
        const int port = rte_eth_from_rings(name.c_str(), &rx, 1, &tx, 1, SOCKET_ID_ANY);
        check(port, "rte_eth_from_rings");
        id = static_cast<uint16_t>(port);
        const rte_eth_conf conf{};
        check(rte_eth_dev_configure(id, 1, 1, &conf), "configure");
        check(rte_eth_rx_queue_setup(id, 0, ring_size, SOCKET_ID_ANY, nullptr, testing::test_pool()), "rx queue");
        check(rte_eth_tx_queue_setup(id, 0, ring_size, SOCKET_ID_ANY, nullptr), "tx queue");
        check(rte_eth_dev_start(id), "start");
    }
    // rte_eth_from_rings made a vdev ("net_ring_NAME"): removing the device closes the port and
    // frees the name for the next switch.
    ~ring_port() {
        rte_eth_dev_info info{};
        rte_eth_dev_stop(id);
        if (rte_eth_dev_info_get(id, &info) == 0) {
            rte_dev_remove(info.device);
        }
        rte_ring_free(rx);
        rte_ring_free(tx);
    }
    ring_port(const ring_port&) = delete;
    ring_port& operator=(const ring_port&) = delete;
};

// The MAC the benchmarks give the VXLAN underlay port (outer destination of decap's frames).
inline const mac_addr underlay_mac = mac_addr::from_u64(0x02000000a001);

// Ports "a" and "b" of `yaml` (in that order, first two of its ports: section), worker 0 polling
// port a. A worker's rings are named by its id and it sends on the TX queue of its id, so only
// one ring_switch may live at a time: get them through only_switch().
class ring_switch {
public:
    ring_switch(const std::string& name, const std::string& yaml)
        : a(name + "_a"), b(name + "_b"), macs(fdb::params{name + "_fdb", 1024, 0, nullptr, SOCKET_ID_ANY}) {
        const auto loaded = config::load_string(yaml, name);
        if (!loaded.value) {
            throw std::runtime_error(name + ": the configuration does not load: " +
                                     (loaded.errors.empty() ? "" : loaded.errors.front()));
        }
        auto snap = std::make_unique<snapshot>();
        snap->l2 = l2_tables::build(*loaded.value);
        if (loaded.value->vxlan) {
            snap->vxlan = vtep_control::build(*loaded.value, snap->l2, underlay_mac);
        }
        snap->device = {a.id, b.id};
        snap->names = {"a", "b"};
        snap->polls = {{{port_a, 0}}};
        _tables = snap.get();
        state.publish(std::move(snap));
        const worker_shared shared{&state, &macs, nullptr, testing::test_pool(), &clock, 0};
        poller = std::make_unique<worker>(0, shared);
    }

    virtual ~ring_switch() = default;
    ring_switch(const ring_switch&) = delete;
    ring_switch& operator=(const ring_switch&) = delete;

    static constexpr uint16_t port_a = 0;
    static constexpr uint16_t port_b = 1;

    // The tables the worker reads (for the benchmark to find domains and remotes).
    const snapshot& tables() const { return *_tables; }

    ring_port a;
    ring_port b;
    fdb macs;
    snapshot_holder state{nullptr};
    coarse_clock clock;
    std::unique_ptr<worker> poller;

private:
    const snapshot* _tables = nullptr;
};

// The one ring_switch alive, and its key (not per Switch type: one for the whole process).
struct live_switch {
    std::unique_ptr<ring_switch> s;
    std::string key;
    static live_switch& get() {
        static live_switch live;
        return live;
    }
};

// The switch called `key`, made by `make` unless it is the one alive (which is destroyed first).
template <class Switch>
Switch& only_switch(const std::string& key, const std::function<std::unique_ptr<Switch>()>& make) {
    auto& live = live_switch::get();
    if (!live.s || live.key != key) {
        live.s.reset();
        testing::start_eal();
        live.s = make();
        live.key = key;
    }
    return static_cast<Switch&>(*live.s);
}

} // namespace vx::bench

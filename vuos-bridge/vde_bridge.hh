// SPDX-License-Identifier: MIT
#pragma once

// vde_bridge: the VDE side of vxswitchd, one I/O thread that keeps every system call of VDE
// traffic off the poll-mode workers (docs/vde.md).
//
// - Each port of type vde or vde_switch is an endpoint (vde_endpoint.hh): a ring ethdev the
//   workers poll like any port, and a link to its peer.
// - type: vde ports open their libvdeplug URL at start and keep it.
// - A port whose MTU needs longer buffers than the switch's pool has receives into buffers of
//   a pool of the bridge's own (jumbo frames, one segment each).
// - type: vde_switch ports are slots of vxswitchd's own VDE switch (vde_switch_socket.hh):
//   a client that connects to PATH/ctl is bound to the slot whose vde_port is the number it
//   asks for (vde:///PATH[3]), or to the first free slot without a number; it is unbound
//   when its control stream closes. The slot keeps its configuration (mode, VLANs) and its
//   counters between clients, so the workers' port set never changes at runtime.
//
// Threads: the constructor and start() run on the control thread before the workers; then
// the I/O thread alone touches links, slots and sockets. state() may be called from any
// thread (counters are relaxed atomics, the peer names are behind a mutex).

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "config/model.hh"
#include "vuos-bridge/vde_endpoint.hh"
#include "vuos-bridge/vde_request.hh"
#include "vuos-bridge/vde_switch_socket.hh"

struct rte_mempool;

namespace vx::vde {

// True when the model has a VDE port (the fabric makes a bridge only then).
bool has_vde_ports(const config::model& m);

class bridge {
public:
    // Makes the endpoints (ring ethdevs) of the model's VDE ports: call it before the fabric
    // configures its ports. tx_queues: one per worker.
    bridge(const config::model& m, uint16_t tx_queues, rte_mempool* pool);
    // Stops the I/O thread and frees the rings: the ethdevs must be closed before.
    ~bridge();
    bridge(const bridge&) = delete;
    bridge& operator=(const bridge&) = delete;

    // Opens the libvdeplug URLs and the VDE switch's socket, then starts the I/O thread.
    // Throws std::runtime_error naming the port or the path that failed.
    void start();
    void stop();
    // Throws std::runtime_error naming the port when `next` gives a VDE port an MTU whose
    // frames its receive buffers (sized at start) cannot hold. Control thread.
    void check_mtus(const config::model& next) const;
    // One I/O round without the thread (tests): moves frames, serves the switch socket,
    // waiting at most `wait` when there is nothing to do. Returns the frames moved.
    unsigned run_once(std::chrono::milliseconds wait);

    // The VDE counters and the peer of model port `port`; nullopt when it is no VDE port.
    std::optional<nlohmann::json> state_of(size_t port) const;
    // Clients bound to the switch's ports now.
    size_t clients() const { return _clients.load(std::memory_order_relaxed); }
    // Calls f(model port) for each port whose client left since the last call, so that the
    // control thread (the MAC table's writer) flushes what was learned there: traffic must
    // not go to an empty slot until the MACs age out.
    template <typename F>
    void take_departed(F&& f) {
        if (!_any_departed.exchange(false, std::memory_order_acquire)) {
            return;
        }
        for (size_t port = 0; port < _ports.size(); ++port) {
            if (_departed[port].exchange(false, std::memory_order_relaxed)) {
                f(port);
            }
        }
    }

private:
    struct slot {
        endpoint* ep = nullptr;
        size_t port = 0;                // the model port
        std::optional<uint16_t> number; // vde_port
        int stream = -1;                // the client's control stream; -1: free
        std::string data_path;          // our data socket's file
    };
    struct handshake {
        int fd = -1;
        std::string bytes;
        std::chrono::steady_clock::time_point since;
    };

    void run();
    void serve(std::chrono::milliseconds wait);
    void accept_clients();
    void read_handshake(handshake& h);
    void bind_client(int stream, const request& r);
    slot* choose_slot(uint16_t number);
    void release(slot& s, const char* why);

    std::vector<config::port> _ports;
    std::optional<config::vde_listener> _listener_cfg;
    rte_mempool* _jumbo_pool; // buffers for frames the switch's pool cannot hold; null: none needed
    std::vector<std::unique_ptr<endpoint>> _endpoints; // by model port; null for other ports
    std::vector<slot> _slots;
    std::unique_ptr<switch_socket> _socket;
    std::vector<handshake> _handshakes;
    std::atomic<size_t> _clients{0};
    std::unique_ptr<std::atomic<bool>[]> _departed; // by model port: its client left (release)
    std::atomic<bool> _any_departed{false};
    unsigned _busy_rounds = 0; // rounds that moved frames, for serve_every
    std::atomic<bool> _stop{false};
    std::thread _thread;
};

} // namespace vx::vde

// SPDX-License-Identifier: MIT
#pragma once

// vde_bridge: the VDE side of vxswitchd, one I/O thread that keeps every system call of VDE
// traffic off the poll-mode workers (docs/vde.md).
//
// - Each port of type vde or vde_switch is a member: an endpoint (vde_endpoint.hh), a ring
//   ethdev the workers poll like any port and a link to its peer, with the port's configuration.
// - type: vde ports open their libvdeplug URL when they are added and keep it.
// - A port whose MTU needs longer buffers than the switch's pool has receives into buffers of
//   a pool of the bridge's own, made at start (jumbo frames, one segment each).
// - type: vde_switch ports are slots of vxswitchd's own VDE switch (vde_switch_socket.hh):
//   a client that connects to PATH/ctl is bound to the slot whose vde_port is the number it
//   asks for (vde:///PATH[3]), or to the first free slot without a number; it is unbound
//   when its control stream closes. The slot keeps its configuration (mode, VLANs) and its
//   counters between clients.
//
// Ports come and go at runtime (fabric::reconfigure), so who touches what is this:
//
// - The control thread owns the members and the switch's socket. It makes them (add(),
//   prepare_listener()), reads their counters and peers (state_of(), take_departed(), relaxed
//   atomics and a mutex) and frees them (discard()).
// - The I/O thread serves what the roster published last lists (an immutable list of members
//   and the socket), and touches a member's link, client and spare buffers only while it
//   serves it. Its own state (pending handshakes) it alone touches while it runs.
//
// publish() hands a new roster over, at a round boundary, with an acknowledgement:
//
//     control thread                                I/O thread, at the top of every round
//     makes new members whole (rings, ring
//     ethdev, URL connected) and the socket:
//     nobody else sees them yet
//     _published = the new roster (release)   ──►   r = _published (acquire); when it is new:
//                                                     serve r from this round on (pending
//                                                     handshakes closed if r has no socket),
//     waits until _taken is its generation    ◄──     _taken = r's generation (release)
//     frees the old roster; each member that
//     left is its own again: its client is
//     released (control stream closed, so the
//     client sees the switch go; our data
//     socket closed and its file removed) or
//     its URL closed; discard() frees it once
//     the fabric has closed its ethdev
//
// so the I/O thread never sees a member half made, and the control thread frees nothing the
// I/O thread may still hold. The wait is one round at most (an idle round sleeps 1 ms in
// poll()). The thread runs only while the roster has something to serve: the publish() that
// empties it stops and joins the thread, the one that fills it starts it.
//
// The workers never see a half-made port either: the fabric publishes the snapshot that makes
// them poll and send to a ring ethdev only once the port is open, and closes a removed port's
// ethdev only after their grace period (daemon/fabric_changes.cc).

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

// True when the model has a VDE port.
bool has_vde_ports(const config::model& m);

class bridge {
public:
    // No member and no thread yet. `startup`: the configuration the switch starts with, whose
    // VDE ports' MTUs size the jumbo pool (a bridge made for the first VDE port added at
    // runtime is given an empty one, and has none). tx_queues: one per worker.
    bridge(const config::model& startup, uint16_t tx_queues, rte_mempool* pool);
    // Stops the I/O thread, releases the clients and frees the members: the ethdevs must be
    // closed before.
    ~bridge();
    bridge(const bridge&) = delete;
    bridge& operator=(const bridge&) = delete;

    // ---- control thread ----
    // Makes the member of VDE port `p` in fabric slot `slot`: its endpoint (rings and ring
    // ethdev, whose name it returns: the port's device) and, for type: vde, its libvdeplug
    // connection. Served from the next publish() that lists it. Throws std::runtime_error
    // naming the port, with nothing left of it, when libvdeplug refuses the URL or no buffers
    // hold the port's frames.
    std::string add(uint16_t slot, const config::port& p);
    // Frees the member of `slot` (none: nothing), which the published roster must not list
    // (never published, or published away). Its ethdev must be closed before.
    void discard(uint16_t slot);
    // Makes the VDE switch's socket, listening on cfg.path/ctl, for the next publish() to
    // serve (nothing when it is made already). Throws std::runtime_error naming the path.
    void prepare_listener(const config::vde_listener& cfg);
    // Makes the I/O thread serve what `slotted` (the fabric's model, by slot) says: the VDE
    // ports at their slots, and the socket when it has a vde_switch section. Returns once the
    // I/O thread has taken it (see above); then releases the clients of the members it no
    // longer serves, closes their URLs, and closes a socket no longer served.
    void publish(const config::model& slotted);
    // Stops the I/O thread (the daemon stops; the workers may still run).
    void stop();
    // Throws std::runtime_error naming the port when `next` (by slot) gives a VDE port an MTU
    // whose frames its receive buffers cannot hold.
    void check_mtus(const config::model& next) const;
    // The ring ethdev of the port in `slot`; "" when it is no VDE port.
    std::string device_of(size_t slot) const {
        return slot < _members.size() && _members[slot] ? _members[slot]->ep->device() : std::string();
    }
    // The VDE counters and the peer of the port in `slot`; nullopt when it is no VDE port.
    std::optional<nlohmann::json> state_of(size_t slot) const;
    // Clients bound to the switch's ports now.
    size_t clients() const { return _clients.load(std::memory_order_relaxed); }
    // Whether the I/O thread runs (it does while there is something to serve).
    bool running() const { return _thread.joinable(); }
    // Calls f(slot) for each port whose client left since the last call, so that the control
    // thread (the MAC table's writer) flushes what was learned there: traffic must not go to
    // an empty slot until the MACs age out.
    template <typename F>
    void take_departed(F&& f) {
        if (!_any_departed.exchange(false, std::memory_order_acquire)) {
            return;
        }
        for (const auto& m : _members) {
            if (m && m->departed.exchange(false, std::memory_order_relaxed)) {
                f(m->slot);
            }
        }
    }

private:
    struct member {
        member(uint16_t s, config::port c, std::unique_ptr<endpoint> e)
            : slot(s), cfg(std::move(c)), ep(std::move(e)) {}
        uint16_t slot;
        config::port cfg;
        std::unique_ptr<endpoint> ep;
        // type: vde_switch: the client bound now (the I/O thread's while it serves the member).
        int stream = -1;                   // its control stream; -1: free
        std::string data_path;             // our data socket's file
        std::string client_path;           // the client's, while it may still be in our directory
        std::atomic<bool> departed{false}; // its client left: the fabric flushes its MACs
    };
    struct roster {
        uint64_t generation = 0;
        std::vector<member*> members;
        switch_socket* socket = nullptr;
        bool empty() const { return members.empty() && socket == nullptr; }
    };
    struct handshake {
        int fd = -1;
        std::string bytes;
        std::chrono::steady_clock::time_point since;
    };

    rte_mempool* receive_pool(const config::port& p) const;
    void wait_taken(uint64_t generation) const;
    void let_go(const roster& old);
    void start_thread();

    // ---- I/O thread (or the control thread while no thread runs) ----
    void run();
    unsigned run_once(std::chrono::milliseconds wait);
    void take_roster();
    void serve(std::chrono::milliseconds wait);
    void accept_clients();
    void read_handshake(handshake& h);
    void close_handshakes();
    void bind_client(int stream, const request& r);
    member* choose_slot(uint16_t number) const;
    void release(member& m, const char* why);

    uint16_t _tx_queues;
    rte_mempool* _pool;        // the switch's packet pool
    rte_mempool* _jumbo_pool;  // buffers for frames the switch's pool cannot hold; null: none made
    uint32_t _jumbo_ports = 0; // the ports the jumbo pool is sized for
    unsigned _next_id = 0;     // endpoints made so far: the next one's id (its rings' and ethdev's names)
    std::vector<std::unique_ptr<member>> _members; // by slot; null where no VDE port is
    std::unique_ptr<switch_socket> _socket;
    std::unique_ptr<roster> _roster; // the one published last
    std::atomic<const roster*> _published;
    std::atomic<uint64_t> _taken{0}; // the generation the I/O thread serves

    const roster* _serving; // the I/O thread's
    std::vector<handshake> _handshakes;
    unsigned _busy_rounds = 0; // rounds that moved frames, for serve_every
    std::atomic<size_t> _clients{0};
    std::atomic<bool> _any_departed{false};
    std::atomic<bool> _stop{false};
    std::thread _thread;
};

} // namespace vx::vde

// SPDX-License-Identifier: MIT
#pragma once

// vde_endpoint: one VDE port of the switch, seen by the workers as an ordinary DPDK port.
//
// The port is a net_ring ethdev (rte_eth_from_rings) over two rings:
//   in:  I/O thread -> worker   (single producer, single consumer: the port's one RX queue)
//   out: workers -> I/O thread  (every worker's TX queue is this same multi-producer ring)
// so the poll-mode workers never make a system call for VDE traffic: the VDE I/O thread
// (vde_bridge) moves frames between the rings and the endpoint's vde_link, a burst at a time,
// into and out of mbufs of the switch's own pool.
//
// Towards the workers nothing is dropped for want of room: the I/O thread reads from the peer
// only as many frames as the in ring has room for, and not at all while it is full, so the
// frames wait in the peer's socket. A unix datagram peer (a vde:// client) is then held back
// in its send, as vde_switch holds its clients back, instead of losing what the workers were
// too slow for (measured: at full load from one client, 85 % of what vxswitch lost was the in
// ring full; bench/system/vdebench). Other libvdeplug plugins' sockets (UDP) drop in the kernel
// when they fill, as they would without us. Towards the peer, a full socket drops, counted
// (out_socket_full): the I/O thread never blocks on one peer.
//
// The endpoint outlives its link: a port of vxswitchd's VDE switch keeps its ethdev, counters
// and configuration while clients come and go (attach/detach: the I/O thread while the bridge
// serves the endpoint, the control thread before and after, vde_bridge.hh).
//
// Names: the rings are vde_inN and vde_outN and the ethdev net_ring_vdeN, N the endpoint's id,
// which the bridge never gives twice: a port removed and added again at runtime gets new names,
// so nothing it makes can meet what its predecessor left.

#include <rte_mbuf.h>

#include <array>
#include <memory>
#include <mutex>
#include <string>

#include "vuos-bridge/vde_counters.hh"
#include "vuos-bridge/vde_link.hh"

struct rte_ring;
struct rte_mempool;

namespace vx::vde {

class endpoint {
public:
    static constexpr uint16_t burst = 32;
    static constexpr unsigned ring_size = 1024;

    // Creates the rings and the ethdev device_of(id), which the fabric then configures as any
    // port (one RX queue, tx_queues TX queues). Throws, leaving nothing behind.
    endpoint(unsigned id, uint16_t tx_queues, rte_mempool* pool);
    // Removes the ethdev's device (closing the ethdev if its port has not), then frees the
    // frames still in the rings and the rings. No worker may use the ethdev any more.
    ~endpoint();
    endpoint(const endpoint&) = delete;
    endpoint& operator=(const endpoint&) = delete;

    // ---- I/O thread only ----
    void attach(std::unique_ptr<vde_link> link);
    void detach();
    vde_link* link() const { return _link.get(); }
    // Whether the workers' ring has room for a frame from the peer (see above: while it has
    // none, the peer's socket is not read, nor polled).
    bool takes_frames() const;
    // Moves up to a burst each way; returns the frames moved.
    unsigned pump();

    // ---- any thread ----
    // The ring ethdev's name ("net_ring_vde7"): the port's device.
    static std::string device_of(unsigned id);
    const std::string& device() const { return _device; }
    const counters& stats() const { return _counters; }
    // The pool the endpoint receives into.
    rte_mempool* pool() const { return _pool; }
    // Who is connected ("" when nobody is).
    std::string peer() const;

private:
    unsigned pump_in();
    unsigned pump_out();

    std::string _device;
    rte_mempool* _pool;
    rte_ring* _in = nullptr;
    rte_ring* _out = nullptr;
    std::array<rte_mbuf*, burst> _spare{}; // empty buffers kept for the next receive
    uint16_t _spare_count = 0;
    std::unique_ptr<vde_link> _link;
    counters _counters;
    mutable std::mutex _peer_mutex; // the peer's name, read by the control thread
    std::string _peer;
};

} // namespace vx::vde

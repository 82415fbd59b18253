// SPDX-License-Identifier: MIT
#include "vuos-bridge/vde_endpoint.hh"

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ring.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace vx::vde {

namespace {

rte_ring* make_ring(const std::string& name, unsigned flags) {
    rte_ring* r = rte_ring_create(name.c_str(), endpoint::ring_size, SOCKET_ID_ANY, flags);
    if (r == nullptr) {
        throw std::runtime_error(fmt::format("VDE endpoint: cannot create ring {}: {}", name, rte_strerror(rte_errno)));
    }
    return r;
}

void free_ring_contents(rte_ring* r) {
    std::array<rte_mbuf*, endpoint::burst> m{};
    unsigned n = 0;
    while ((n = rte_ring_dequeue_burst(r, reinterpret_cast<void**>(m.data()), m.size(), nullptr)) != 0) {
        rte_pktmbuf_free_bulk(m.data(), n);
    }
}

} // namespace

std::string endpoint::device_of(unsigned id) {
    return fmt::format("net_ring_vde{}", id); // rte_eth_from_rings puts "net_ring_" before the name it is given
}

endpoint::endpoint(unsigned id, uint16_t tx_queues, rte_mempool* pool) : _device(device_of(id)), _pool(pool) {
    _in = make_ring(fmt::format("vde_in{}", id), RING_F_SP_ENQ | RING_F_SC_DEQ);
    try {
        _out = make_ring(fmt::format("vde_out{}", id), RING_F_SC_DEQ);
        // Every TX queue is the same multi-producer ring: one ring for the I/O thread to drain.
        std::vector<rte_ring*> tx(tx_queues, _out);
        if (rte_eth_from_rings(fmt::format("vde{}", id).c_str(), &_in, 1, tx.data(), tx_queues, SOCKET_ID_ANY) < 0) {
            throw std::runtime_error(
                fmt::format("VDE endpoint {}: cannot create its ring ethdev: {}", _device, rte_strerror(rte_errno)));
        }
    } catch (...) {
        rte_ring_free(_out);
        rte_ring_free(_in);
        throw;
    }
}

endpoint::~endpoint() {
    _link.reset();
    // Closing the ethdev leaves its vdev on the bus (and its name taken): remove it. The ring
    // PMD closes an ethdev still open first; it never frees rings it was given.
    if (const int rc = rte_vdev_uninit(_device.c_str()); rc != 0) {
        spdlog::warn("VDE endpoint {}: cannot remove its ring ethdev: {}", _device, rte_strerror(-rc));
    }
    free_ring_contents(_in);
    free_ring_contents(_out);
    rte_pktmbuf_free_bulk(_spare.data(), _spare_count);
    rte_ring_free(_in);
    rte_ring_free(_out);
}

void endpoint::attach(std::unique_ptr<vde_link> link) {
    const std::scoped_lock lock(_peer_mutex);
    _peer = link->peer();
    _link = std::move(link);
}

void endpoint::detach() {
    const std::scoped_lock lock(_peer_mutex);
    _peer.clear();
    _link.reset();
}

std::string endpoint::peer() const {
    const std::scoped_lock lock(_peer_mutex);
    return _peer;
}

unsigned endpoint::pump() {
    return pump_in() + pump_out();
}

bool endpoint::takes_frames() const {
    return rte_ring_free_count(_in) != 0;
}

unsigned endpoint::pump_in() {
    if (!_link) {
        return 0;
    }
    // The I/O thread is the in ring's only producer: the room it sees can only grow.
    const unsigned room = rte_ring_free_count(_in);
    if (room == 0) {
        _counters.add(counter::in_held, 1);
        return 0;
    }
    if (_spare_count < burst) {
        if (rte_pktmbuf_alloc_bulk(_pool, &_spare[_spare_count], burst - _spare_count) == 0) {
            _spare_count = burst;
        } else if (_spare_count == 0) {
            _counters.add(counter::in_no_mbuf, 1);
            return 0;
        }
    }
    const auto want = static_cast<uint16_t>(std::min<unsigned>(_spare_count, room));
    const uint16_t got = _link->receive(_spare.data(), want, _counters);
    if (got == 0) {
        return 0;
    }
    const unsigned queued = rte_ring_enqueue_burst(_in, reinterpret_cast<void**>(_spare.data()), got, nullptr);
    if (queued < got) { // cannot happen (room above); counted, never leaked, if it does
        _counters.add(counter::in_ring_full, got - queued);
        rte_pktmbuf_free_bulk(&_spare[queued], got - queued);
    }
    _counters.add(counter::frames_in, queued);
    // The buffers not used stay for the next round, moved to the front.
    std::copy(_spare.begin() + got, _spare.begin() + _spare_count, _spare.begin());
    _spare_count = static_cast<uint16_t>(_spare_count - got);
    return got;
}

unsigned endpoint::pump_out() {
    std::array<rte_mbuf*, burst> out{};
    const unsigned n = rte_ring_dequeue_burst(_out, reinterpret_cast<void**>(out.data()), burst, nullptr);
    if (n == 0) {
        return 0;
    }
    if (_link) {
        _counters.add(counter::frames_out, _link->send(out.data(), static_cast<uint16_t>(n), _counters));
    } else {
        _counters.add(counter::out_no_peer, n);
    }
    rte_pktmbuf_free_bulk(out.data(), n);
    return n;
}

} // namespace vx::vde

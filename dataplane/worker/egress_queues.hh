// SPDX-License-Identifier: MIT
#pragma once

// egress_queues: a worker's frames waiting to leave, one small array per port.
//
// Each worker owns one TX queue on every port (queue id = worker id), so sending takes no
// lock. Frames are gathered per port and sent in bursts; what the device does not take is
// freed and counted (egress_queue_full) rather than retried, so a slow port never stalls
// the worker.

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>

#include "counters/counters.hh"
#include "observe/capture.hh"
#include "packet/burst.hh"

namespace vx {

class egress_queues {
public:
    void set_tx_queue(uint16_t queue) { _tx_queue = queue; }
    // The running capture's tap, or null: set by the worker once per round.
    void observe(capture_tap* tap) { _capture = tap; }

    void push(uint16_t port, uint16_t device, rte_mbuf* m, worker_counter_block& c) {
        auto& q = _queues[port];
        if (!q.pending) {
            q.pending = true;
            q.device = device;
            _pending[_pending_count++] = port;
        }
        q.pkts[q.count++] = m;
        if (q.count == burst::capacity) {
            send(port, c);
        }
    }

    // Sends everything pending on every port.
    void flush(worker_counter_block& c) {
        for (uint16_t i = 0; i < _pending_count; ++i) {
            send(_pending[i], c);
            _queues[_pending[i]].pending = false;
        }
        _pending_count = 0;
    }

private:
    struct queue {
        std::array<rte_mbuf*, burst::capacity> pkts{};
        uint16_t count = 0;
        uint16_t device = 0;
        bool pending = false; // listed in _pending
    };

    void send(uint16_t port, worker_counter_block& c) {
        auto& q = _queues[port];
        if (q.count == 0) {
            return;
        }
        uint64_t bytes = 0;
        for (uint16_t i = 0; i < q.count; ++i) {
            bytes += rte_pktmbuf_pkt_len(q.pkts[i]);
        }
        capture_tap::held copies;
        if (_capture != nullptr) [[unlikely]] {
            copies = _capture->hold_sent(port, q.pkts.data(), q.count);
        }
        const uint16_t sent = rte_eth_tx_burst(q.device, _tx_queue, q.pkts.data(), q.count);
        if (_capture != nullptr) [[unlikely]] {
            _capture->file_sent(port, copies, sent);
        }
        for (uint16_t i = sent; i < q.count; ++i) {
            bytes -= rte_pktmbuf_pkt_len(q.pkts[i]);
        }
        auto& pc = c.ports[port];
        pc.add(port_counter::tx_packets, sent);
        pc.add(port_counter::tx_bytes, bytes);
        if (sent < q.count) {
            pc.drop(drop_reason::egress_queue_full, q.count - sent);
            rte_pktmbuf_free_bulk(&q.pkts[sent], q.count - sent);
        }
        q.count = 0;
    }

    std::array<queue, max_ports> _queues{};
    std::array<uint16_t, max_ports> _pending{};
    uint16_t _pending_count = 0;
    uint16_t _tx_queue = 0;
    capture_tap* _capture = nullptr;
};

} // namespace vx

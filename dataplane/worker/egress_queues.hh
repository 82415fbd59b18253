// SPDX-License-Identifier: MIT
#pragma once

// egress_queues: a worker's frames waiting to leave, one small array per port.
//
// Each worker owns one TX queue on every port (queue id = worker id), so sending takes no
// lock. Frames are gathered per port and sent in bursts; what the device does not take is
// freed and counted (egress_queue_full) rather than retried, so a slow port never stalls
// the worker. A frame is queued with its owner (its domain and, encapsulated, its VXLAN
// segment), so that what is sent, and what the queue refuses, is counted on them as well as on
// the port: tx_packets/tx_bytes a run of one domain at a time, in the pass that sums the bytes.

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>

#include "counters/counters.hh"
#include "observe/capture.hh"
#include "packet/burst.hh"

namespace vx {

// Whose counters a frame on its way out adds to besides its port's: its bridge domain and, once
// encapsulated into a VXLAN segment, that segment's counter slot. Frames the switch makes
// itself (ARP replies, neighbour advertisements, what the control thread injects) have neither.
struct frame_owner {
    uint16_t bd = not_counted;
    uint16_t segment = not_counted;
};

class egress_queues {
public:
    void set_tx_queue(uint16_t queue) { _tx_queue = queue; }
    // The running capture's tap, or null: set by the worker once per round.
    void observe(capture_tap* tap) { _capture = tap; }

    void push(uint16_t port, uint16_t device, rte_mbuf* m, frame_owner owner, worker_counter_block& c) {
        auto& q = _queues[port];
        if (!q.pending) {
            q.pending = true;
            q.device = device;
            _pending[_pending_count++] = port;
        }
        q.owners[q.count] = owner;
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
        std::array<frame_owner, burst::capacity> owners{};
        uint16_t count = 0;
        uint16_t device = 0;
        bool pending = false; // listed in _pending
    };

    void send(uint16_t port, worker_counter_block& c) {
        auto& q = _queues[port];
        if (q.count == 0) {
            return;
        }
        // Counted before the device takes the frames (they are its own after the call); what
        // it refuses is taken off again below, on a path that rarely runs.
        uint64_t bytes = 0;
        domain_tx_run domains_sent{c.domains.data()};
        for (uint16_t i = 0; i < q.count; ++i) {
            const uint32_t len = rte_pktmbuf_pkt_len(q.pkts[i]);
            bytes += len;
            domains_sent.add(q.owners[i].bd, len);
        }
        domains_sent.flush();
        capture_tap::held copies;
        if (_capture != nullptr) [[unlikely]] {
            copies = _capture->hold_sent(port, q.pkts.data(), q.count);
        }
        const uint16_t sent = rte_eth_tx_burst(q.device, _tx_queue, q.pkts.data(), q.count);
        if (_capture != nullptr) [[unlikely]] {
            _capture->file_sent(port, copies, sent);
        }
        auto& pc = c.ports[port];
        if (sent < q.count) [[unlikely]] {
            bytes -= refused(q, sent, c);
            pc.drop(drop_reason::egress_queue_full, q.count - sent);
            rte_pktmbuf_free_bulk(&q.pkts[sent], q.count - sent);
        }
        pc.add(port_counter::tx_packets, sent);
        pc.add(port_counter::tx_bytes, bytes);
        q.count = 0;
    }

    // The frames from `sent` on, which the device did not take: no longer sent for their
    // domains, dropped as egress_queue_full on them and their segments. Returns their bytes.
    [[gnu::cold]] static uint64_t refused(const queue& q, uint16_t sent, worker_counter_block& c) {
        uint64_t bytes = 0;
        for (uint16_t i = sent; i < q.count; ++i) {
            const uint32_t len = rte_pktmbuf_pkt_len(q.pkts[i]);
            bytes += len;
            const frame_owner o = q.owners[i];
            if (o.bd != not_counted) {
                auto& d = c.domains[o.bd];
                d.take_back(domain_counter::tx_packets, 1);
                d.take_back(domain_counter::tx_bytes, len);
                d.drop(drop_reason::egress_queue_full);
            }
            if (o.segment != not_counted) {
                c.segments[o.segment].drop(drop_reason::egress_queue_full);
            }
        }
        return bytes;
    }

    std::array<queue, max_ports> _queues{};
    std::array<uint16_t, max_ports> _pending{};
    uint16_t _pending_count = 0;
    uint16_t _tx_queue = 0;
    capture_tap* _capture = nullptr;
};

} // namespace vx

// SPDX-License-Identifier: MIT
#pragma once

// egress_queues: a worker's frames waiting to leave, one small array per port.
//
// Each worker owns one TX queue on every port (queue id = worker id), so sending takes no
// lock. Frames are gathered per port and sent in bursts; what the device does not take is
// freed and counted (egress_queue_full) rather than retried, so a slow port never stalls
// the worker.
//
// A frame is queued with its bridge domain (not_counted for the frames the switch makes
// itself: ARP replies, neighbour advertisements, what the control thread injects), so that what
// is sent, and what the device refuses, is counted on the domain as well as on the port. A
// queue holds the frames of one ingress burst (the worker flushes after each), so its frames
// are mostly of one domain: that is found by a comparison the compiler vectorises, and the
// domain's counters are then written once per send, from the port's own figures; frames of
// several domains are counted a run of one domain at a time, in the pass that sums the bytes.
// The frames of a domain that wait on the VXLAN underlay port are encapsulated ones: they are
// counted the same way on the domain's segment (encapsulated_packets/bytes, all that were
// queued, as the port's vxlan_encapsulated counts them), found in the round's VTEP table.
// Measured: docs/performance.md.

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdint>

#include "counters/counters.hh"
#include "observe/capture.hh"
#include "packet/burst.hh"
#include "tables/vtep_table.hh"

namespace vx {

class egress_queues {
public:
    void set_tx_queue(uint16_t queue) { _tx_queue = queue; }
    // The running capture's tap, or null, and the round's VTEP table: set by the worker once
    // per round.
    void observe(capture_tap* tap, const vtep_table* vxlan) {
        _capture = tap;
        _vxlan = vxlan;
    }

    // Queues frame m of domain `bd` (not_counted: of none) on `port`.
    void push(uint16_t port, uint16_t device, rte_mbuf* m, uint16_t bd, worker_counter_block& c) {
        auto& q = _queues[port];
        if (!q.pending) {
            q.pending = true;
            q.device = device;
            _pending[_pending_count++] = port;
        }
        // Through a local count: a store to domains[] may alias q.count for all the compiler
        // knows, and reloading it cost more than the store.
        const uint16_t n = q.count;
        q.pkts[n] = m;
        q.domains[n] = bd;
        q.count = static_cast<uint16_t>(n + 1);
        if (n + 1 == burst::capacity) {
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
        std::array<uint16_t, burst::capacity> domains{}; // each frame's
        uint16_t count = 0;
        uint16_t device = 0;
        bool pending = false; // listed in _pending
    };

    void send(uint16_t port, worker_counter_block& c) {
        auto& q = _queues[port];
        if (q.count == 0) {
            return;
        }
        // Counted before the device takes the frames (they are its own after the call): their
        // bytes, and with more than one domain each domain's share; what the device refuses is
        // taken off again below, on a path that rarely runs.
        const bool one_domain = has_one_domain(q);
        const bool overlay = _vxlan != nullptr && port == _vxlan->underlay;
        uint64_t bytes = 0;
        if (one_domain) {
            for (uint16_t i = 0; i < q.count; ++i) {
                bytes += rte_pktmbuf_pkt_len(q.pkts[i]);
            }
            if (overlay && q.domains[0] != not_counted) {
                count_encapsulated(q.domains[0], q.count, bytes, c);
            }
        } else {
            bytes = count_domains(q, overlay, c);
        }
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
            bytes -= refused(q, port, sent, one_domain, c);
            pc.drop(drop_reason::egress_queue_full, q.count - sent);
            rte_pktmbuf_free_bulk(&q.pkts[sent], q.count - sent);
        }
        pc.add(port_counter::tx_packets, sent);
        pc.add(port_counter::tx_bytes, bytes);
        if (one_domain && q.domains[0] != not_counted) {
            auto& d = c.domains[q.domains[0]];
            d.add(domain_counter::tx_packets, sent);
            d.add(domain_counter::tx_bytes, bytes);
        }
        q.count = 0;
    }

    // Whether every frame of the queue is of the first one's domain: no branch per frame, so the
    // loop is a few vector compares (from 0, not 1: a full queue is then whole vectors).
    static bool has_one_domain(const queue& q) {
        uint16_t differ = 0;
        for (uint16_t i = 0; i < q.count; ++i) {
            differ |= q.domains[i] ^ q.domains[0];
        }
        return differ == 0;
    }

    // The frames of a queue of several domains counted as sent on theirs (and, encapsulated, on
    // their segments), a run of one domain at a time; returns the bytes of all.
    uint64_t count_domains(const queue& q, bool overlay, worker_counter_block& c) const {
        const auto count_run = [&](uint16_t bd, uint64_t packets, uint64_t bytes) {
            c.domains[bd].add(domain_counter::tx_packets, packets);
            c.domains[bd].add(domain_counter::tx_bytes, bytes);
            if (overlay) {
                count_encapsulated(bd, packets, bytes, c);
            }
        };
        uint64_t bytes = 0;
        run_tally sent;
        for (uint16_t i = 0; i < q.count; ++i) {
            const uint32_t len = rte_pktmbuf_pkt_len(q.pkts[i]);
            bytes += len;
            sent.add(q.domains[i], len, count_run);
        }
        sent.done(count_run);
        return bytes;
    }

    // Frames of domain bd encapsulated into its segment, if it has one.
    void count_encapsulated(uint16_t bd, uint64_t packets, uint64_t bytes, worker_counter_block& c) const {
        if (const uint16_t segment = _vxlan->segment_of_bd[bd]; segment != not_counted) {
            auto& s = c.segments[segment];
            s.add(vni_counter::encapsulated_packets, packets);
            s.add(vni_counter::encapsulated_bytes, bytes);
        }
    }

    // The frames from `sent` on, which the device did not take: dropped as egress_queue_full
    // on their domains (and, from a queue of several domains, no longer counted as sent on
    // them) and, on the underlay port, on their segments. Returns their bytes.
    [[gnu::cold]] uint64_t refused(const queue& q, uint16_t port, uint16_t sent, bool one_domain,
                                   worker_counter_block& c) const {
        const bool overlay = _vxlan != nullptr && port == _vxlan->underlay;
        uint64_t bytes = 0;
        for (uint16_t i = sent; i < q.count; ++i) {
            const uint32_t len = rte_pktmbuf_pkt_len(q.pkts[i]);
            bytes += len;
            const uint16_t bd = q.domains[i];
            if (bd == not_counted) {
                continue;
            }
            auto& d = c.domains[bd];
            if (!one_domain) {
                d.take_back(domain_counter::tx_packets, 1);
                d.take_back(domain_counter::tx_bytes, len);
            }
            d.drop(drop_reason::egress_queue_full);
            if (const uint16_t segment = overlay ? _vxlan->segment_of_bd[bd] : not_counted; segment != not_counted) {
                c.segments[segment].drop(drop_reason::egress_queue_full);
            }
        }
        return bytes;
    }

    std::array<queue, max_ports> _queues{};
    std::array<uint16_t, max_ports> _pending{};
    uint16_t _pending_count = 0;
    uint16_t _tx_queue = 0;
    capture_tap* _capture = nullptr;
    const vtep_table* _vxlan = nullptr;
};

} // namespace vx

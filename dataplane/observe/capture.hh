// SPDX-License-Identifier: MIT
#pragma once

// capture: copies of the frames a port receives, sends and drops, for `vxctl capture`.
//
// Zero cost when off: a worker loads its tap pointer once per poll round and tests it once
// per burst (and egress_queues once per send); with no capture running that branch is never
// taken, and nothing else changes. When a capture runs, each worker has its own tap: the
// frames that match its filter are copied (rte_pktmbuf_copy, into the capture's own pool, so
// a capture never holds the switch's buffers) into a single-producer ring that the control
// thread drains. The worker never waits: a full ring or an empty pool loses the copy and
// counts it (lost), and the frame itself goes on as if nobody watched.
//
// A dropped frame is copied where it is dropped, with its reason: at the end of forward for
// drops on ingress (parse, vlan_ingress, fdb_lookup, split horizon, flood_empty), at
// emit for the egress port's refusals, and at the transmit call for egress_queue_full.
//
// Lifetime: the control thread creates a capture_session, which arms every worker; ending
// the session disarms them, waits one RCU grace period (no worker still holds a tap), then
// frees what is left.

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "counters/counters.hh"
#include "observe/worker_rings.hh"
#include "packet/burst.hh"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

namespace vx {

class worker;

// Where in the switch a frame was seen.
enum class capture_point : uint8_t {
    received,       // as it arrived on the port
    sent,           // as it left the port (tags set for that port)
    dropped_rx,     // dropped on the way in, on the port it arrived on
    dropped_tx,     // refused by the egress port
};

struct capture_record {
    rte_mbuf* frame = nullptr; // a copy from the capture pool; whoever takes the record frees it
    uint64_t tsc = 0;
    uint16_t port = 0;
    capture_point point = capture_point::received;
    drop_reason why = drop_reason::truncated; // when point is dropped_*
};

struct capture_filter {
    uint16_t port = 0; // port index
    bool rx = true;
    bool tx = true;
    bool drops = false;
};

// One worker's side of a capture. Every method but lost() runs on that worker.
class capture_tap {
public:
    capture_tap(const capture_filter& f, rte_ring* ring, rte_mempool* pool) : _filter(f), _ring(ring), _pool(pool) {}

    // A burst fresh from its port.
    void received(const burst& b) {
        if (b.ingress == _filter.port && _filter.rx) {
            for (uint16_t i = 0; i < b.count; ++i) {
                put(copy(b.pkts[i]), b.ingress, capture_point::received, drop_reason::truncated);
            }
        }
    }
    // The frames of a burst that forward drops under b.why (ingress drops).
    void dropped(const burst& b);
    // One frame refused by egress port `port`, about to be freed.
    void dropped_on_egress(uint16_t port, const rte_mbuf* m, drop_reason why) {
        if (port == _filter.port && _filter.tx && _filter.drops) {
            put(copy(m), port, capture_point::dropped_tx, why);
        }
    }

    // Transmit, in two steps: copy what is about to be sent (the device owns the frames once
    // they are handed over), then file the first `sent` copies as sent and the rest as dropped
    // (egress_queue_full).
    struct held {
        std::array<rte_mbuf*, burst::capacity> copies{};
        uint16_t count = 0;
    };
    held hold_sent(uint16_t port, rte_mbuf* const* pkts, uint16_t n);
    void file_sent(uint16_t port, held& h, uint16_t sent);

    // Control thread: frames lost because the ring was full or the pool empty.
    uint64_t lost() const { return _lost.load(std::memory_order_relaxed); }
    rte_ring* ring() const { return _ring; }

private:
    rte_mbuf* copy(const rte_mbuf* m);
    void put(rte_mbuf* copy, uint16_t port, capture_point p, drop_reason why);

    capture_filter _filter;
    rte_ring* _ring;
    rte_mempool* _pool;
    std::atomic<uint64_t> _lost{0}; // written by the worker only
};

// A running capture, on the control thread.
class capture_session {
public:
    // Arms every worker with a tap. Throws std::runtime_error when a ring cannot be created.
    capture_session(const capture_filter& f, const std::vector<std::unique_ptr<worker>>& workers, rte_rcu_qsbr* rcu,
                    rte_mempool* pool, uint32_t id);
    // Disarms the workers, waits until none can still hold a tap, frees every copy left.
    ~capture_session();
    capture_session(const capture_session&) = delete;
    capture_session& operator=(const capture_session&) = delete;

    // Moves what the workers captured into the session's queue, in time order within a round.
    // Frames beyond `max_queued` are freed and counted as lost.
    void collect();
    // Takes up to `n` of the oldest frames; the caller frees their mbufs.
    std::vector<capture_record> take(size_t n);
    uint64_t lost() const;
    uint64_t captured() const { return _captured; }
    const capture_filter& filter() const { return _filter; }

    static constexpr size_t max_queued = 65536;

private:
    capture_filter _filter;
    const std::vector<std::unique_ptr<worker>>& _workers;
    rte_rcu_qsbr* _rcu;
    worker_rings _rings;
    std::vector<std::unique_ptr<capture_tap>> _taps;
    std::deque<capture_record> _queue;
    uint64_t _captured = 0;
    uint64_t _overflow = 0;
};

// The pool capture copies come from: small, apart from the switch's packet pool. Throws
// std::runtime_error when the EAL has no memory left for it.
struct capture_pool_deleter {
    void operator()(rte_mempool* p) const;
};
using capture_pool = std::unique_ptr<rte_mempool, capture_pool_deleter>;
capture_pool make_capture_pool();

} // namespace vx

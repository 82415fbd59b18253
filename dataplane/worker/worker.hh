// SPDX-License-Identifier: MIT
#pragma once

// worker: one poll-mode loop over a set of (port, RX queue) pairs: its list in the published
// snapshot (snapshot::polls), read every round, so ports come and go without a lock.
//
// Per round: receive a burst from each queue, run the pipeline on it, send what it queued;
// then report an RCU quiescent state (the worker holds no shared pointer between rounds).
// Each worker transmits on its own TX queue of every port (queue id = worker id). The
// worker writes only its own counters; busy and idle cycles say how loaded the core
// really is, since a poll-mode core always looks 100 % busy to the OS.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "counters/counters.hh"
#include "worker/clock.hh"
#include "worker/context.hh"
#include "worker/egress_queues.hh"
#include "observe/trace.hh"
#include "worker/pipeline.hh"

struct rte_ring;
struct rte_mempool;

namespace vx {

class fdb;

struct worker_shared {
    const snapshot_holder* state = nullptr;
    const fdb* macs = nullptr;
    rte_rcu_qsbr* rcu = nullptr;
    rte_mempool* pool = nullptr;
    const coarse_clock* clock = nullptr;
    uint32_t idle_sleep_us = 0;
};

class worker {
public:
    // Throws std::runtime_error when the learn ring cannot be created.
    worker(uint16_t id, const worker_shared& shared);
    ~worker();
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;

    // The poll loop; returns when `stop` becomes true. Registers with RCU for its lifetime.
    void run(const std::atomic<bool>& stop);
    // One round over all queues, at most `burst_size` frames per receive; returns frames
    // received. Used by run() and by the deterministic single-thread mode.
    uint32_t poll_once(uint16_t burst_size = burst::capacity);

    uint16_t id() const { return _id; }
    rte_ring* learn_ring() const { return _learn_ring; }
    // VXLAN: events for the control plane (tables/vtep_control.hh), and frames it hands this
    // worker to send on the underlay port (ARP requests), drained once per round.
    rte_ring* vtep_events() const { return _vtep_events; }
    rte_ring* inject_ring() const { return _inject; }
    const worker_counter_block& counters() const { return *_counters; }
    // Control thread: arms (or, with null, disarms) a capture on this worker. The worker sees
    // it from its next round; after a disarm, the tap may be freed after an RCU grace period.
    void observe(capture_tap* tap) { _capture.store(tap, std::memory_order_release); }
    // The same for a trace.
    void observe(frame_tracer* tracer) { _trace.store(tracer, std::memory_order_release); }

private:
    rte_ring* make_ring(const std::string& name, unsigned element_size, unsigned size) const;
    void send_injected(const snapshot& state);

    uint16_t _id;
    worker_shared _shared;
    rte_ring* _learn_ring = nullptr;
    rte_ring* _vtep_events = nullptr;
    rte_ring* _inject = nullptr;
    std::unique_ptr<worker_counter_block> _counters;
    std::unique_ptr<egress_queues> _egress;
    std::unique_ptr<burst> _burst;
    l2_pipeline _pipeline;
    underlay_pipeline _underlay_pipeline;
    std::atomic<capture_tap*> _capture{nullptr};
    std::atomic<frame_tracer*> _trace{nullptr};
};

} // namespace vx

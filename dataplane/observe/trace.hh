// SPDX-License-Identifier: MIT
#pragma once

// trace: follows chosen frames through every stage of the pipeline, for `vxctl trace`.
//
// Zero cost when off, as capture (observe/capture.hh): a worker loads its tracer pointer once
// per round and tests it once per burst; only a burst that holds a frame the filter picks runs
// the pipeline's observed instantiation (pipeline::run_observed), where a burst_trace is told
// before and after each stage. The stages themselves record nothing and do not change: the
// decisions are read from what each stage wrote into the burst (l2, bd, out, why), and the two
// that the burst does not show are read from the same tables the stage reads, just before it
// runs: fdb_learn's (new, known, moved, static conflict: a lookup of the source) and forward's
// (each output port, or why that port refuses the frame: stages/vlan_egress.hh's
// egress_refusal). Finished frames go into the worker's own SPSC ring for the control thread;
// a full ring loses them (counted).

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "counters/counters.hh"
#include "packet/burst.hh"
#include "observe/worker_rings.hh"
#include "packet/ether.hh"
#include "worker/context.hh"

struct rte_ring;
struct rte_rcu_qsbr;

namespace vx {

class worker;
class parse;
class vlan_ingress;
class fdb_learn;
class fdb_lookup;
class forward;
class vxlan_decap;

enum class trace_stage : uint8_t { parse, vlan_ingress, fdb_learn, fdb_lookup, forward, vxlan_decap };

enum class trace_decision : uint8_t {
    dropped,          // why
    parsed,           // a: tags read, b: outer VID, c: inner VID
    domain,           // a: bridge domain, b: ingress tags that are the port's (strip)
    learn_new,        // (the source MAC is not in the table: an event for the learner)
    learn_known,      // (already learned on this port)
    learn_moved,      // a: the port (or remote) it was learned on
    learn_static,     // a: the port it is static on: not moved, counted static_mac_conflict
    hit,              // a: the port (or remote) the destination was learned on
    flood_group,      // (group destination)
    flood_unknown,    // (unicast destination not in the table)
    out,              // a: the port (or remote) the frame (or a copy) is queued on
    refused,          // a: the egress port that refuses it, why
    decapsulated,     // a: bridge domain, c: VNI
    arp_taken,        // (an ARP frame the VTEP answered or took)
    goodbye_taken,    // (a vxvde goodbye: the endpoint's MACs are flushed)
};

struct trace_step {
    trace_stage stage;
    trace_decision what;
    drop_reason why = drop_reason::truncated;
    uint8_t pad = 0;
    uint16_t a = 0;
    uint16_t b = 0;
    uint32_t c = 0;
};
static_assert(sizeof(trace_step) == 12);

// One followed frame, as the worker hands it over.
struct frame_trace {
    static constexpr size_t head_bytes = 64;
    static constexpr size_t max_steps = 24;

    uint64_t tsc = 0;
    uint32_t length = 0;
    uint16_t worker = 0;
    uint16_t ingress = 0;
    uint8_t head_len = 0;
    uint8_t steps_len = 0;
    uint8_t steps_dropped = 0; // steps that did not fit (a flood to many ports)
    std::array<uint8_t, head_bytes> head{}; // the frame's first bytes as it arrived
    std::array<trace_step, max_steps> steps{};

    void add(const trace_step& s) {
        if (steps_len < max_steps) {
            steps[steps_len++] = s;
        } else {
            ++steps_dropped;
        }
    }
};

// Which frames to follow: all the given fields must match the frame as it arrives.
struct trace_filter {
    std::optional<uint16_t> port;      // ingress port index
    std::optional<mac_addr> src;
    std::optional<mac_addr> dst;
    std::optional<mac_addr> mac;       // source or destination
    std::optional<uint16_t> vlan;      // outer tag's VID (any TPID)
    std::optional<uint16_t> ethertype; // behind the tags

    bool matches(uint16_t ingress, const uint8_t* data, uint32_t len) const;
};

// One worker's side of a trace.
class frame_tracer {
public:
    frame_tracer(const trace_filter& f, rte_ring* ring, uint64_t budget) : _filter(f), _ring(ring), _budget(budget) {}

    // Runs pipeline `p` over `b`, observed when a frame of `b` is to be followed.
    template <class Pipeline>
    void run(Pipeline& p, burst& b, worker_ctx& w, uint16_t worker_id);

    uint64_t lost() const { return _lost.load(std::memory_order_relaxed); }
    rte_ring* ring() const { return _ring; }

private:
    friend class burst_trace;
    void publish(const frame_trace& t);

    trace_filter _filter;
    rte_ring* _ring;
    uint64_t _budget; // frames this worker may still follow
    std::atomic<uint64_t> _lost{0};
};

// The frames of one burst being followed, told before and after each stage.
class burst_trace {
public:
    burst_trace(frame_tracer& t, const burst& b, uint16_t worker_id, uint64_t budget);
    bool empty() const { return _count == 0; }
    uint16_t count() const { return _count; }
    void publish();

    template <class Stage>
    void before(const Stage&, const burst&, const worker_ctx&) {}
    void before(const vxlan_decap&, const burst& b, const worker_ctx& w);
    void before(const fdb_learn&, const burst& b, const worker_ctx& w);
    void before(const forward&, const burst& b, const worker_ctx& w);

    template <class Stage>
    void after(const Stage&, const burst&, const worker_ctx&) {}
    void after(const parse&, const burst& b, const worker_ctx& w);
    void after(const vlan_ingress&, const burst& b, const worker_ctx& w);
    void after(const fdb_lookup&, const burst& b, const worker_ctx& w);
    void after(const forward&, const burst& b, const worker_ctx& w);
    void after(const vxlan_decap&, const burst& b, const worker_ctx& w);

private:
    static constexpr uint16_t untraced = 0xffff;
    // The record of burst slot i, or null when frame i is not followed.
    frame_trace* of(uint16_t i) { return _slot[i] == untraced ? nullptr : &_frames[_slot[i]]; }
    // A drop stage `s` decided (the frame was live before it).
    void note_new_drops(trace_stage s, const burst& b);
    void plan_output(frame_trace& t, const burst& b, uint16_t i, uint16_t port, const worker_ctx& w);

    frame_tracer& _tracer;
    std::array<frame_trace, burst::capacity> _frames;
    std::array<uint16_t, burst::capacity> _slot;       // burst index -> record, or untraced
    std::array<bool, burst::capacity> _dropped{};      // by record: a drop was noted
    std::array<const void*, burst::capacity> _mbuf{};  // by record, before vxlan_decap
    uint16_t _count = 0;
};

template <class Pipeline>
void frame_tracer::run(Pipeline& p, burst& b, worker_ctx& w, uint16_t worker_id) {
    if (_budget == 0) {
        p.run(b, w);
        return;
    }
    burst_trace t(*this, b, worker_id, _budget);
    if (t.empty()) {
        p.run(b, w);
        return;
    }
    _budget -= t.count();
    p.run_observed(b, w, t);
    t.publish();
}

// A running trace, on the control thread (as capture_session).
class trace_session {
public:
    trace_session(const trace_filter& f, uint64_t count, const std::vector<std::unique_ptr<worker>>& workers,
                  rte_rcu_qsbr* rcu, uint32_t id);
    ~trace_session();
    trace_session(const trace_session&) = delete;
    trace_session& operator=(const trace_session&) = delete;

    void collect();
    std::vector<frame_trace> take(size_t n);
    uint64_t lost() const;

private:
    const std::vector<std::unique_ptr<worker>>& _workers;
    rte_rcu_qsbr* _rcu;
    worker_rings _rings;
    std::vector<std::unique_ptr<frame_tracer>> _tracers;
    std::deque<frame_trace> _queue;
};

std::string_view stage_name(trace_stage s);

} // namespace vx

// SPDX-License-Identifier: MIT
#include "worker/worker.hh"

#include <rte_ethdev.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <fmt/format.h>

#include <stdexcept>
#include <thread>

#include "tables/fdb.hh"

namespace vx {

namespace {
constexpr unsigned learn_ring_size = 4096;
constexpr unsigned vtep_ring_size = 256;
} // namespace

worker::worker(uint16_t id, const worker_shared& shared)
    : _id(id), _shared(shared), _counters(std::make_unique<worker_counter_block>()),
      _egress(std::make_unique<egress_queues>()), _burst(std::make_unique<burst>()) {
    _learn_ring = make_ring(fmt::format("vx_learn_{}", id), sizeof(learn_event), learn_ring_size);
    _egress->set_tx_queue(id);
    _vtep_events = make_ring(fmt::format("vx_vtep_ev_{}", id), sizeof(vtep_event), vtep_ring_size);
    _inject = make_ring(fmt::format("vx_inject_{}", id), sizeof(rte_mbuf*), vtep_ring_size);
}

worker::~worker() {
    rte_ring_free(_learn_ring);
    rte_ring_free(_vtep_events);
    if (_inject != nullptr) {
        rte_mbuf* m = nullptr;
        while (rte_ring_dequeue(_inject, reinterpret_cast<void**>(&m)) == 0) {
            rte_pktmbuf_free(m);
        }
        rte_ring_free(_inject);
    }
}

rte_ring* worker::make_ring(const std::string& name, unsigned element_size, unsigned size) const {
    rte_ring* r = rte_ring_create_elem(name.c_str(), element_size, size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (r == nullptr) {
        throw std::runtime_error(fmt::format("worker {}: cannot create ring {}: {}", _id, name, rte_strerror(rte_errno)));
    }
    return r;
}

void worker::send_injected(const snapshot& state) {
    std::array<rte_mbuf*, burst::capacity> pkts;
    const unsigned n = rte_ring_sc_dequeue_burst(_inject, reinterpret_cast<void**>(pkts.data()), pkts.size(), nullptr);
    for (unsigned i = 0; i < n; ++i) {
        _egress->push(state.vxlan.underlay, state.device[state.vxlan.underlay], pkts[i], not_counted, *_counters);
    }
}

uint32_t worker::poll_once(uint16_t burst_size) {
    const snapshot& state = _shared.state->current();
    worker_ctx ctx{&state,       _shared.macs,          _learn_ring,     _vtep_events,
                   _shared.pool, _shared.clock->now_s(), _counters.get(), _egress.get(),
                   _capture.load(std::memory_order_acquire), _trace.load(std::memory_order_acquire)};
    _egress->observe(ctx.capture, &state.vxlan);
    if (state.vxlan.enabled()) {
        send_injected(state);
        _egress->flush(*_counters);
    }
    uint32_t received = 0;
    burst& b = *_burst;
    for (const auto& q : state.polls[_id]) {
        b.count = rte_eth_rx_burst(state.device[q.port], q.queue, b.pkts.data(), burst_size);
        if (b.count == 0) {
            continue;
        }
        b.ingress = q.port;
        received += b.count;
        if (ctx.capture != nullptr) [[unlikely]] {
            ctx.capture->received(b);
        }
        if (ctx.trace != nullptr) [[unlikely]] {
            if (q.port == state.vxlan.underlay) {
                ctx.trace->run(_underlay_pipeline, b, ctx, _id);
            } else {
                ctx.trace->run(_pipeline, b, ctx, _id);
            }
        } else if (q.port == state.vxlan.underlay) {
            _underlay_pipeline.run(b, ctx);
        } else {
            _pipeline.run(b, ctx);
        }
        _egress->flush(*_counters);
        _counters->add(worker_counter::bursts);
    }
    _counters->add(worker_counter::packets, received);
    return received;
}

void worker::run(const std::atomic<bool>& stop) {
    rte_rcu_qsbr_thread_register(_shared.rcu, _id);
    rte_rcu_qsbr_thread_online(_shared.rcu, _id);
    auto& c = *_counters;
    while (!stop.load(std::memory_order_relaxed)) {
        const uint64_t start = rte_rdtsc();
        const uint32_t received = poll_once();
        rte_rcu_qsbr_quiescent(_shared.rcu, _id);
        const uint64_t spent = rte_rdtsc() - start;
        c.add(worker_counter::polls);
        if (received != 0) {
            c.add(worker_counter::busy_polls);
            c.add(worker_counter::busy_cycles, spent);
        } else {
            c.add(worker_counter::idle_cycles, spent);
            if (_shared.idle_sleep_us != 0) {
                rte_rcu_qsbr_thread_offline(_shared.rcu, _id);
                std::this_thread::sleep_for(std::chrono::microseconds(_shared.idle_sleep_us));
                rte_rcu_qsbr_thread_online(_shared.rcu, _id);
            }
        }
    }
    rte_rcu_qsbr_thread_offline(_shared.rcu, _id);
    rte_rcu_qsbr_thread_unregister(_shared.rcu, _id);
}

} // namespace vx

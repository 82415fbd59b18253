// SPDX-License-Identifier: MIT
#include "observe/capture.hh"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "worker/worker.hh"

namespace vx {

namespace {
constexpr unsigned tap_ring_size = 1024;   // per worker: a few bursts of every port
constexpr unsigned capture_pool_size = 4095; // at most this many copies in flight
} // namespace

void capture_pool_deleter::operator()(rte_mempool* p) const {
    rte_mempool_free(p);
}

capture_pool make_capture_pool() {
    rte_mempool* p = rte_pktmbuf_pool_create("vx_capture", capture_pool_size, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                             SOCKET_ID_ANY);
    if (p == nullptr) {
        throw std::runtime_error(fmt::format("cannot create the capture pool: {}", rte_strerror(rte_errno)));
    }
    return capture_pool(p);
}

// ---- worker side ----

rte_mbuf* capture_tap::copy(const rte_mbuf* m) {
    return rte_pktmbuf_copy(m, _pool, 0, UINT32_MAX);
}

void capture_tap::put(rte_mbuf* copy, uint16_t port, capture_point p, drop_reason why) {
    if (copy != nullptr) {
        capture_record r{copy, rte_rdtsc(), port, p, why};
        if (rte_ring_sp_enqueue_elem(_ring, &r, sizeof(r)) == 0) {
            return;
        }
        rte_pktmbuf_free(copy);
    }
    _lost.store(_lost.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void capture_tap::dropped(const burst& b) {
    if (b.ingress != _filter.port || !_filter.rx || !_filter.drops) {
        return;
    }
    for (uint16_t i = 0; i < b.count; ++i) {
        if (b.out[i].is_drop()) {
            put(copy(b.pkts[i]), b.ingress, capture_point::dropped_rx, b.why[i]);
        }
    }
}

capture_tap::held capture_tap::hold_sent(uint16_t port, rte_mbuf* const* pkts, uint16_t n) {
    held h;
    if (port == _filter.port && _filter.tx) {
        for (uint16_t i = 0; i < n; ++i) {
            h.copies[i] = copy(pkts[i]);
        }
        h.count = n;
    }
    return h;
}

void capture_tap::file_sent(uint16_t port, held& h, uint16_t sent) {
    for (uint16_t i = 0; i < h.count; ++i) {
        if (i < sent) {
            put(h.copies[i], port, capture_point::sent, drop_reason::truncated);
        } else if (_filter.drops) {
            put(h.copies[i], port, capture_point::dropped_tx, drop_reason::egress_queue_full);
        } else {
            rte_pktmbuf_free(h.copies[i]);
        }
    }
}

// ---- control side ----

capture_session::capture_session(const capture_filter& f, const std::vector<std::unique_ptr<worker>>& workers,
                                 rte_rcu_qsbr* rcu, rte_mempool* pool, uint32_t id)
    : _filter(f), _workers(workers), _rcu(rcu), _rings("vx_cap", id, workers.size(), sizeof(capture_record),
                                                       tap_ring_size) {
    for (size_t i = 0; i < workers.size(); ++i) {
        _taps.push_back(std::make_unique<capture_tap>(f, _rings[i], pool));
        workers[i]->observe(_taps[i].get());
    }
    wait_for_new_round(_rcu);
}

capture_session::~capture_session() {
    for (const auto& w : _workers) {
        w->observe(static_cast<capture_tap*>(nullptr));
    }
    wait_for_new_round(_rcu);
    collect();
    for (auto& r : _queue) {
        rte_pktmbuf_free(r.frame);
    }
}

void capture_session::collect() {
    const size_t first_new = _queue.size();
    for (const auto& t : _taps) {
        std::array<capture_record, 64> got;
        unsigned n = 0;
        while ((n = rte_ring_sc_dequeue_burst_elem(t->ring(), got.data(), sizeof(capture_record), got.size(),
                                                   nullptr)) != 0) {
            for (unsigned k = 0; k < n; ++k) {
                if (_queue.size() < max_queued) {
                    _queue.push_back(got[k]);
                } else {
                    rte_pktmbuf_free(got[k].frame);
                    ++_overflow;
                }
            }
        }
    }
    // Each worker's frames are in order; frames of several workers interleave by time.
    std::stable_sort(_queue.begin() + static_cast<std::ptrdiff_t>(first_new), _queue.end(),
                     [](const capture_record& a, const capture_record& b) { return a.tsc < b.tsc; });
    _captured += _queue.size() - first_new;
}

std::vector<capture_record> capture_session::take(size_t n) {
    std::vector<capture_record> out;
    while (!_queue.empty() && out.size() < n) {
        out.push_back(_queue.front());
        _queue.pop_front();
    }
    return out;
}

uint64_t capture_session::lost() const {
    uint64_t n = _overflow;
    for (const auto& t : _taps) {
        n += t->lost();
    }
    return n;
}

} // namespace vx

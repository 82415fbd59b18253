// SPDX-License-Identifier: MIT
#include "stages/fdb_learn.hh"

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <algorithm>

#include "tables/fdb.hh"

namespace vx {

void fdb_learn::process(burst& b, worker_ctx& w) const {
    std::array<fdb_key, burst::capacity> keys;
    uint32_t n = 0;
    for (uint16_t i = 0; i < b.count; ++i) {
        if (b.live(i)) {
            const auto key = fdb_key::make(b.l2[i].src, b.bd[i]);
            if (n == 0 || keys[n - 1] != key) {
                keys[n++] = key;
            }
        }
    }
    std::array<uint16_t, burst::capacity> sources;
    std::fill_n(sources.begin(), n, b.ingress);
    learn_sources(keys.data(), sources.data(), n, b.ingress, w);
}

void learn_sources(const fdb_key* keys, const uint16_t* sources, uint32_t n, uint16_t counted_on, worker_ctx& w) {
    if (n == 0) {
        return;
    }
    std::array<fdb_hit, burst::capacity> hits;
    const uint64_t hit_mask = w.macs->lookup_bulk(keys, n, hits.data());

    std::array<learn_event, burst::capacity> events;
    uint32_t n_events = 0;
    auto& pc = w.port(counted_on);
    for (uint32_t k = 0; k < n; ++k) {
        if ((hit_mask >> k) & 1) {
            if (hits[k].port() == sources[k]) {
                w.macs->touch(hits[k], w.now_s);
                continue;
            }
            if (hits[k].is_static()) {
                pc.add(port_counter::static_mac_conflict);
                continue;
            }
        }
        events[n_events++] = learn_event{keys[k], sources[k], {}};
    }
    if (n_events == 0) {
        return;
    }
    const unsigned queued =
        rte_ring_sp_enqueue_burst_elem(w.learn_ring, events.data(), sizeof(learn_event), n_events, nullptr);
    pc.add(port_counter::learn_events, queued);
    pc.add(port_counter::learn_queue_full, n_events - queued);
}

} // namespace vx

// SPDX-License-Identifier: MIT
#include "tables/learner.hh"

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <spdlog/spdlog.h>

#include <array>

namespace vx {

size_t learner::drain() {
    std::array<learn_event, 64> events;
    size_t total = 0;
    const uint32_t now = _clock.now_s();
    for (rte_ring* ring : _rings) {
        unsigned n = 0;
        do {
            n = rte_ring_sc_dequeue_burst_elem(ring, events.data(), sizeof(learn_event), events.size(), nullptr);
            for (unsigned i = 0; i < n; ++i) {
                const auto& e = events[i];
                if (const auto r = _macs.learn(e.key, e.port, now); r.outcome == learn_outcome::moved) {
                    log_move(e.key, r.previous_port, e.port);
                }
            }
            total += n;
        } while (n == events.size());
    }
    return total;
}

void learner::log_move(fdb_key key, uint16_t from_port, uint16_t to_port) const {
    const snapshot& s = _state.current();
    const uint16_t vlan = key.bd() < s.l2.domains.size() ? s.l2.domains[key.bd()].vlan : 0;
    auto name = [&](uint16_t p) { return p < s.names.size() ? s.names[p] : std::to_string(p); };
    spdlog::info("mac move: {} vlan {} from port {} to port {}", key.mac().to_string(), vlan, name(from_port),
                 name(to_port));
}

void learner::tick() {
    const uint32_t now = _clock.now_s();
    if (now == _last_aging) {
        return;
    }
    _last_aging = now;
    if (const size_t aged = _macs.age(now); aged != 0) {
        spdlog::debug("fdb: aged out {} entries", aged);
    }
}

} // namespace vx

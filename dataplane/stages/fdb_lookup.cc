// SPDX-License-Identifier: MIT
#include "stages/fdb_lookup.hh"

#include "tables/fdb.hh"

namespace vx {

void fdb_lookup::process(burst& b, worker_ctx& w) const {
    std::array<fdb_key, burst::capacity> keys;
    std::array<uint16_t, burst::capacity> index;
    uint32_t n = 0;
    for (uint16_t i = 0; i < b.count; ++i) {
        if (b.live(i) && !b.l2[i].dst.is_group()) {
            keys[n] = fdb_key::make(b.l2[i].dst, b.bd[i]);
            index[n++] = i;
        }
    }
    if (n == 0) {
        return;
    }
    std::array<fdb_hit, burst::capacity> hits;
    const uint64_t hit_mask = w.macs->lookup_bulk(keys.data(), n, hits.data());
    uint64_t unknown = 0;
    for (uint32_t k = 0; k < n; ++k) {
        const uint16_t i = index[k];
        if (((hit_mask >> k) & 1) == 0) {
            ++unknown; // stays verdict::flood() from parse
        } else if (hits[k].port() == b.ingress) {
            b.drop(i, drop_reason::same_port);
        } else {
            b.out[i] = verdict::to_port(hits[k].port());
        }
    }
    w.port(b.ingress).add(port_counter::unknown_unicast, unknown);
}

} // namespace vx

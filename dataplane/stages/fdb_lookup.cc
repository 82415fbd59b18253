// SPDX-License-Identifier: MIT
#include "stages/fdb_lookup.hh"

#include "tables/fdb.hh"

namespace vx {

void fdb_lookup::process(burst& b, worker_ctx& w) const {
    // Frames of one flow arrive in runs: a run shares one key, looked up once.
    constexpr uint8_t no_key = 0xff;
    std::array<fdb_key, burst::capacity> keys;
    std::array<uint8_t, burst::capacity> key_of; // frame -> its index in keys, or no_key
    uint32_t n = 0;
    for (uint16_t i = 0; i < b.count; ++i) {
        key_of[i] = no_key;
        if (b.live(i) && !b.l2[i].dst.is_group()) {
            const auto key = fdb_key::make(b.l2[i].dst, b.bd[i]);
            if (n == 0 || keys[n - 1] != key) {
                keys[n++] = key;
            }
            key_of[i] = static_cast<uint8_t>(n - 1);
        }
    }
    if (n == 0) {
        return;
    }
    std::array<fdb_hit, burst::capacity> hits;
    const uint64_t hit_mask = w.macs->lookup_bulk(keys.data(), n, hits.data());
    uint64_t unknown = 0;
    const uint16_t ingress = b.ingress; // read once: the counts below may alias the burst
    for (uint16_t i = 0; i < b.count; ++i) {
        const uint8_t k = key_of[i];
        if (k == no_key) {
            continue;
        }
        if (((hit_mask >> k) & 1) == 0) {
            ++unknown; // stays verdict::flood() from parse
            w.domain(b.bd[i]).add(domain_counter::unknown_unicast);
        } else if (hits[k].port() == ingress) {
            b.drop(i, drop_reason::same_port);
        } else {
            b.out[i] = verdict::to_port(hits[k].port());
        }
    }
    w.port(ingress).add(port_counter::unknown_unicast, unknown);
}

} // namespace vx

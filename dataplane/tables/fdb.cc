// SPDX-License-Identifier: MIT
#include "tables/fdb.hh"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_rcu_qsbr.h>

#include <fmt/format.h>

#include <cstring>
#include <stdexcept>

namespace vx {

namespace {
// The key is one 8-byte word: hash and compare it as one. rte_hash's generic CRC loops over
// the length, and its compare falls back to memcmp for lengths it has no vector routine for
// (8 is one), which together were a sixth of the pipeline's time.
uint32_t hash_key(const void* key, uint32_t /*len*/, uint32_t init) {
    uint64_t word;
    std::memcpy(&word, key, sizeof word);
    return rte_hash_crc_8byte(word, init);
}
int compare_keys(const void* a, const void* b, size_t /*len*/) {
    uint64_t x;
    uint64_t y;
    std::memcpy(&x, a, sizeof x);
    std::memcpy(&y, b, sizeof y);
    return x != y ? 1 : 0;
}

// A worker's clock may run a tick ahead of the learner's: that is idle 0, not 4 billion.
uint32_t idle_seconds(uint32_t now, const std::atomic<uint32_t>& seen) {
    const auto diff = static_cast<int32_t>(now - seen.load(std::memory_order_relaxed));
    return diff > 0 ? static_cast<uint32_t>(diff) : 0;
}
} // namespace

fdb::fdb(const params& p) : _rcu(p.rcu), _max_entries(p.max_entries), _aging_s(p.aging_s) {
    if (p.max_entries == 0) {
        throw std::runtime_error("fdb: max_entries must be at least 1");
    }
    rte_hash_parameters hp{};
    hp.name = p.name.c_str();
    // rte_hash wants room for at least 8 keys (one bucket).
    hp.entries = std::max<uint32_t>(p.max_entries, 8);
    hp.key_len = sizeof(fdb_key);
    hp.hash_func = hash_key;
    hp.socket_id = p.socket;
    // Lock-free readers with one writer; extendable buckets so that max_entries keys always
    // fit whatever their hashes. RW_CONCURRENCY_LF implies NO_FREE_ON_DEL: we free positions
    // ourselves after a grace period (erase()).
    hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
    _hash = rte_hash_create(&hp);
    if (_hash == nullptr) {
        throw std::runtime_error(
            fmt::format("fdb: cannot create a hash table of {} entries: {}", p.max_entries, rte_strerror(rte_errno)));
    }
    rte_hash_set_cmp_func(_hash, compare_keys);
    _last_seen = std::make_unique<std::atomic<uint32_t>[]>(p.max_entries);
    _owners.resize(p.max_entries);
    _free_slots.reserve(p.max_entries);
    for (uint32_t s = p.max_entries; s > 0; --s) {
        _free_slots.push_back(s - 1);
    }
}

fdb::~fdb() {
    rte_hash_free(_hash);
}

uint64_t fdb::lookup_bulk(const fdb_key* keys, uint32_t n, fdb_hit* hits) const {
    const void* key_ptrs[RTE_HASH_LOOKUP_BULK_MAX];
    void* data[RTE_HASH_LOOKUP_BULK_MAX];
    for (uint32_t i = 0; i < n; ++i) {
        key_ptrs[i] = &keys[i];
    }
    uint64_t hit_mask = 0;
    rte_hash_lookup_bulk_data(_hash, key_ptrs, n, &hit_mask, data);
    for (uint64_t m = hit_mask; m != 0; m &= m - 1) {
        const auto i = static_cast<uint32_t>(__builtin_ctzll(m));
        hits[i] = fdb_hit{reinterpret_cast<uintptr_t>(data[i])};
    }
    return hit_mask;
}

std::optional<fdb_hit> fdb::find(fdb_key key) const {
    void* data = nullptr;
    if (rte_hash_lookup_data(_hash, &key, &data) < 0) {
        return std::nullopt;
    }
    return fdb_hit{reinterpret_cast<uintptr_t>(data)};
}

// Adds the key, or replaces its data word atomically when it is already there.
bool fdb::store(fdb_key key, fdb_hit hit) {
    // NOLINTNEXTLINE(performance-no-int-to-ptr): rte_hash stores our data word as a pointer.
    return rte_hash_add_key_data(_hash, &key, reinterpret_cast<void*>(hit.raw)) == 0;
}

bool fdb::insert(fdb_key key, uint16_t port, bool is_static, uint32_t now) {
    if (_free_slots.empty()) {
        ++_stats.refused_full;
        return false;
    }
    const uint32_t slot = _free_slots.back();
    const auto hit = fdb_hit::make(port, is_static, slot);
    _last_seen[slot].store(now, std::memory_order_relaxed);
    if (!store(key, hit)) {
        ++_stats.refused_full;
        return false;
    }
    _free_slots.pop_back();
    _owners[slot] = {key, hit, true};
    ++_stats.added;
    return true;
}

learn_result fdb::learn(fdb_key key, uint16_t port, uint32_t now) {
    const auto old = find(key);
    if (!old) {
        return {insert(key, port, false, now) ? learn_outcome::added : learn_outcome::table_full};
    }
    if (old->is_static()) {
        return {old->port() == port ? learn_outcome::refreshed : learn_outcome::static_conflict, old->port()};
    }
    _last_seen[old->slot()].store(now, std::memory_order_relaxed);
    if (old->port() == port) {
        return {learn_outcome::refreshed, port};
    }
    const auto moved = fdb_hit::make(port, false, old->slot());
    store(key, moved); // the key exists, so this only swaps the data word
    _owners[old->slot()].hit = moved;
    ++_stats.moved;
    return {learn_outcome::moved, old->port()};
}

bool fdb::add_static(fdb_key key, uint16_t port) {
    if (const auto old = find(key)) {
        const auto hit = fdb_hit::make(port, true, old->slot());
        store(key, hit);
        _owners[old->slot()].hit = hit;
        return true;
    }
    return insert(key, port, true, 0);
}

void fdb::erase(const std::vector<uint32_t>& slots) {
    if (slots.empty()) {
        return;
    }
    std::vector<int32_t> positions;
    positions.reserve(slots.size());
    for (uint32_t s : slots) {
        positions.push_back(rte_hash_del_key(_hash, &_owners[s].key));
    }
    // Workers may still hold these hash positions and slots from a lookup that started
    // before the delete; wait until each has passed a quiescent state.
    if (_rcu != nullptr) {
        rte_rcu_qsbr_synchronize(_rcu, RTE_QSBR_THRID_INVALID);
    }
    for (size_t i = 0; i < slots.size(); ++i) {
        if (positions[i] >= 0) {
            rte_hash_free_key_with_position(_hash, positions[i]);
        }
        _owners[slots[i]] = {};
        _free_slots.push_back(slots[i]);
    }
}

bool fdb::remove(fdb_key key) {
    const auto old = find(key);
    if (!old) {
        return false;
    }
    erase({old->slot()});
    return true;
}

size_t fdb::age(uint32_t now) {
    if (_aging_s == 0) {
        return 0;
    }
    std::vector<uint32_t> expired;
    for (uint32_t s = 0; s < _max_entries; ++s) {
        const auto& o = _owners[s];
        if (o.in_use && !o.hit.is_static() && idle_seconds(now, _last_seen[s]) > _aging_s) {
            expired.push_back(s);
        }
    }
    erase(expired);
    _stats.aged += expired.size();
    return expired.size();
}

size_t fdb::flush(int port, int bd) {
    return flush_where([&](const slot_owner& o) { return (port < 0 || o.hit.port() == port) && (bd < 0 || o.key.bd() == bd); });
}

size_t fdb::flush_from(uint16_t first_port, uint16_t bd) {
    return flush_where([&](const slot_owner& o) { return o.hit.port() >= first_port && o.key.bd() == bd; });
}

template <class Match>
size_t fdb::flush_where(const Match& match) {
    std::vector<uint32_t> doomed;
    for (uint32_t s = 0; s < _max_entries; ++s) {
        const auto& o = _owners[s];
        if (o.in_use && !o.hit.is_static() && match(o)) {
            doomed.push_back(s);
        }
    }
    erase(doomed);
    return doomed.size();
}

std::vector<fdb_entry> fdb::entries(uint32_t now) const {
    std::vector<fdb_entry> out;
    out.reserve(size());
    for (uint32_t s = 0; s < _max_entries; ++s) {
        const auto& o = _owners[s];
        if (o.in_use) {
            const uint32_t idle = o.hit.is_static() ? 0 : idle_seconds(now, _last_seen[s]);
            out.push_back({o.key, o.hit.port(), o.hit.is_static(), idle});
        }
    }
    return out;
}

} // namespace vx

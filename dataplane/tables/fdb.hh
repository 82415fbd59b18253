// SPDX-License-Identifier: MIT
#pragma once

// fdb: the MAC table. Key = (bridge domain, MAC), value = the port the MAC sits behind.
//
// Who writes, who reads, how memory comes back:
// - Workers only read. They look keys up in bulk (rte_hash with lock-free reader/writer
//   concurrency), read the slot of each hit, and write one thing: a slot's last_seen tick,
//   and only when it changed (once a second per active MAC, not per packet), so a hot MAC
//   does not bounce its cache line between workers.
// - Exactly one thread writes keys and ports: the learner, on the control thread. Workers
//   send it (key, port) events for new and moved MACs (fdb_learn stage), so learning costs
//   the hot path one ring enqueue and no lock.
// - A hit's port comes with the key in one 64-bit data word (port, static flag, slot index),
//   published atomically by the hash, so a reader never sees a key with another key's port.
//   The slot index points at the entry's last_seen tick.
// - Deletion (aging, flush) is batched: keys leave the hash, then the learner waits for one
//   RCU grace period (every worker passes a quiescent state) and only then frees the hash
//   positions and slots, so no worker can touch a slot that already belongs to another MAC.
//
// Capacity is fixed at creation (max_entries; the hash uses extendable buckets so every one
// of them fits): a full table refuses new MACs and counts them, and never grows.

#include <atomic>
#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "packet/ether.hh"

struct rte_hash;
struct rte_rcu_qsbr;

namespace vx {

// The key, hit and event types below are trivial (no member initialisers): stages keep
// burst-sized scratch arrays of them on the stack, and zeroing those arrays on every burst
// cost more than the lookups themselves (measured: `rep stos` was a third of fdb_lookup).
// Value-initialise (`fdb_key k{}`) where a zero is meant.

// MAC:48 | bridge domain:16, as one integer so lookups hash and compare 8 bytes.
struct fdb_key {
    uint64_t raw;

    static constexpr fdb_key make(const mac_addr& mac, uint16_t bd) { return {(mac.to_u64() << 16) | bd}; }
    constexpr mac_addr mac() const { return mac_addr::from_u64(raw >> 16); }
    constexpr uint16_t bd() const { return static_cast<uint16_t>(raw & 0xffff); }
    auto operator<=>(const fdb_key&) const = default;
};
static_assert(sizeof(fdb_key) == 8);

// What a worker asks the learner to do: "this key was seen on this port".
struct learn_event {
    fdb_key key;
    uint16_t port;
    uint16_t pad[3];
};
static_assert(sizeof(learn_event) == 16);

// The data word stored with each key: port:16 | static:1 | unused:15 | slot:32.
struct fdb_hit {
    uint64_t raw;

    static constexpr fdb_hit make(uint16_t port, bool is_static, uint32_t slot) {
        return {uint64_t{port} | (uint64_t{is_static} << 16) | (uint64_t{slot} << 32)};
    }
    constexpr uint16_t port() const { return static_cast<uint16_t>(raw & 0xffff); }
    constexpr bool is_static() const { return ((raw >> 16) & 1) != 0; }
    constexpr uint32_t slot() const { return static_cast<uint32_t>(raw >> 32); }
};
static_assert(sizeof(fdb_hit) == 8);

enum class learn_outcome : uint8_t { added, moved, refreshed, table_full, static_conflict };

struct learn_result {
    learn_outcome outcome;
    uint16_t previous_port = 0; // where the MAC was, for moved and static_conflict
};

struct fdb_entry {
    fdb_key key{};
    uint16_t port = 0;
    bool is_static = false;
    uint32_t idle_s = 0; // seconds since last seen (0 for static entries)
};

class fdb {
public:
    struct params {
        std::string name = "fdb";
        uint32_t max_entries = 1u << 20;
        uint32_t aging_s = 300;      // 0: learned entries never age
        rte_rcu_qsbr* rcu = nullptr; // the workers' QSBR variable; null only without readers
        int socket = -1;
    };
    struct stats {
        uint64_t added = 0;
        uint64_t moved = 0;
        uint64_t aged = 0;
        uint64_t refused_full = 0;
    };

    // Throws std::runtime_error naming what DPDK refused.
    explicit fdb(const params& p);
    ~fdb();
    fdb(const fdb&) = delete;
    fdb& operator=(const fdb&) = delete;

    // ---- reader side (workers; lock-free, any number of threads) ----

    // Looks up n <= 64 keys; bit i of the result is set when keys[i] hit, and hits[i] is then
    // its entry.
    uint64_t lookup_bulk(const fdb_key* keys, uint32_t n, fdb_hit* hits) const;
    // Marks the entry as seen at `now` (seconds); writes only when the tick changed.
    void touch(fdb_hit hit, uint32_t now) const {
        auto& seen = _last_seen[hit.slot()];
        if (seen.load(std::memory_order_relaxed) != now) {
            seen.store(now, std::memory_order_relaxed);
        }
    }

    // ---- writer side (the control thread only) ----

    learn_result learn(fdb_key key, uint16_t port, uint32_t now);
    // Adds or overwrites a static entry (never ages, never moves). False when full.
    bool add_static(fdb_key key, uint16_t port);
    bool remove(fdb_key key);
    // Removes learned entries idle for more than aging_s; returns how many.
    size_t age(uint32_t now);
    // Removes learned entries matching the filters (nullopt-like: -1 = any).
    size_t flush(int port = -1, int bd = -1);
    // Removes the learned entries of domain `bd` whose destination is `first_port` or above
    // (the remote VTEPs, tables/vtep_table.hh); returns how many.
    size_t flush_from(uint16_t first_port, uint16_t bd);

    std::vector<fdb_entry> entries(uint32_t now) const;
    size_t size() const { return _max_entries - _free_slots.size(); }
    uint32_t capacity() const { return _max_entries; }
    uint32_t aging_s() const { return _aging_s; }
    const stats& statistics() const { return _stats; }

private:
    struct slot_owner {
        fdb_key key{};
        fdb_hit hit{};
        bool in_use = false;
    };
    bool store(fdb_key key, fdb_hit hit);
    bool insert(fdb_key key, uint16_t port, bool is_static, uint32_t now);
    // Removes the keys of these slots and frees them after a grace period.
    void erase(const std::vector<uint32_t>& slots);
    // Removes the learned entries `match(slot_owner)` picks.
    template <class Match>
    size_t flush_where(const Match& match);
    std::optional<fdb_hit> find(fdb_key key) const;

    rte_hash* _hash = nullptr;
    rte_rcu_qsbr* _rcu = nullptr;
    uint32_t _max_entries;
    uint32_t _aging_s;
    std::unique_ptr<std::atomic<uint32_t>[]> _last_seen; // by slot; written by workers
    std::vector<slot_owner> _owners;                     // by slot; control thread only
    std::vector<uint32_t> _free_slots;                   // control thread only
    stats _stats;
};

} // namespace vx

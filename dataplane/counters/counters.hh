// SPDX-License-Identifier: MIT
#pragma once

// Counters are per worker, plain uint64_t in blocks: a worker writes only its own, with no
// atomics; readers (the control thread) sum over workers and accept a value that is a few
// packets stale. The names and help texts come from counters.def, so the enums and what is
// printed can never disagree.
//
// Three kinds of block, one template: per port (every drop reason), per bridge domain (the
// reasons of scope domain and vni) and per VXLAN segment (scope vni), each counted where the
// frame's port, domain or segment is known. The per-VNI counts are a block of their own per
// segment, not the overlay part of its domain's block shown by VNI, because a segment and a
// domain part at runtime: `vxctl vni set 42 --vlan 30` moves VNI 42 to another domain, and
// `vni remove 42` then `vni add 43 --vlan 10` gives domain 10 another VNI; with the counts in
// the domain's block, either would hand one VNI's figures to the other (and workers still on
// the old snapshot for a grace period would count into the wrong one). A segment's block is
// found through its domain (vtep_table::segment_of_bd) in the snapshot the worker holds, and
// its slot belongs to that segment for the switch's life (tables/vtep_table.hh).
//
// Memory, per worker: 256 port blocks of 320 bytes (80 KiB), 4096 domain blocks of 128 bytes
// (512 KiB) and 4096 segment blocks of 80 bytes (320 KiB). A worker touches only the lines of
// the ports, domains and segments its frames belong to: two lines per domain, the six
// counters of the hot path in the first.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bpf/steer_common.h" // the XDP steering program's decision counters (VX_STEER_COUNTERS)

namespace vx {

inline constexpr uint16_t max_ports = 256;
// A bridge domain is a 12-bit index (an ingress rule holds it: tables/l2_tables.hh), and a
// domain keeps its index for the switch's life, one per VLAN 1..4094 at most.
inline constexpr uint16_t max_domains = 4096;
// Counter slots of VXLAN segments and vxvde networks: one per (UDP port, VNI) configured since
// the start, never reused (tables/vtep_table.hh).
inline constexpr uint16_t max_segments = 4096;
// A domain or segment index that counts nowhere: a frame the switch made itself (an ARP reply
// of the VTEP), a domain with no segment.
inline constexpr uint16_t not_counted = 0xffff;

// Where a drop reason is counted besides the port (counters.def). Ordered: each scope's
// blocks count the reasons of its scope and of the wider ones after it.
enum class drop_scope : uint8_t { port, domain, vni };

enum class drop_reason : uint8_t {
#define VX_DROP(name, scope, help) name,
#include "counters/counters.def"
};
enum class port_counter : uint8_t {
#define VX_PORT_COUNTER(name, help) name,
#include "counters/counters.def"
};
enum class domain_counter : uint8_t {
#define VX_DOMAIN_COUNTER(name, help) name,
#include "counters/counters.def"
};
enum class vni_counter : uint8_t {
#define VX_VNI_COUNTER(name, help) name,
#include "counters/counters.def"
};
enum class worker_counter : uint8_t {
#define VX_WORKER_COUNTER(name, help) name,
#include "counters/counters.def"
};

struct counter_info {
    std::string_view name;
    std::string_view help;
};

inline constexpr std::array drop_reasons{
#define VX_DROP(name, scope, help) counter_info{#name, help},
#include "counters/counters.def"
};
inline constexpr std::array drop_scopes{
#define VX_DROP(name, scope, help) drop_scope::scope,
#include "counters/counters.def"
};
inline constexpr std::array port_counters{
#define VX_PORT_COUNTER(name, help) counter_info{#name, help},
#include "counters/counters.def"
};
inline constexpr std::array domain_counters{
#define VX_DOMAIN_COUNTER(name, help) counter_info{#name, help},
#include "counters/counters.def"
};
inline constexpr std::array vni_counters{
#define VX_VNI_COUNTER(name, help) counter_info{#name, help},
#include "counters/counters.def"
};
inline constexpr std::array worker_counters{
#define VX_WORKER_COUNTER(name, help) counter_info{#name, help},
#include "counters/counters.def"
};

// The decisions of the XDP steering program of af_xdp ports (bpf/steer.bpf.c), indexed by
// enum vx_steer_counter: per-CPU counters in a BPF map, which the daemon sums (ports/xdp_steer).
inline constexpr std::array<counter_info, VX_CNT_COUNT> steer_counters{{
#define VX_X(id, name, help) counter_info{name, help},
    VX_STEER_COUNTERS(VX_X)
#undef VX_X
}};

inline constexpr size_t drop_reason_count = drop_reasons.size();
inline constexpr size_t port_counter_count = port_counters.size();
inline constexpr size_t worker_counter_count = worker_counters.size();

constexpr counter_info info(drop_reason r) {
    return drop_reasons[static_cast<size_t>(r)];
}

// Whether reason r is counted on blocks of scope s (a domain's, a segment's) as well.
constexpr bool counted_at(drop_reason r, drop_scope s) {
    return drop_scopes[static_cast<size_t>(r)] >= s;
}

// The drop reasons blocks of scope S count, in counters.def order, and where each reason is
// in such a block's drops.
template <drop_scope S>
struct scoped_drops {
    static constexpr size_t count = [] {
        size_t n = 0;
        for (const drop_scope s : drop_scopes) {
            n += s >= S ? 1 : 0;
        }
        return n;
    }();
    static constexpr std::array<drop_reason, count> reasons = [] {
        std::array<drop_reason, count> out{};
        size_t n = 0;
        for (size_t k = 0; k < drop_reason_count; ++k) {
            if (drop_scopes[k] >= S) {
                out[n++] = static_cast<drop_reason>(k);
            }
        }
        return out;
    }();
    static constexpr uint8_t none = 0xff; // not counted at this scope
    static constexpr std::array<uint8_t, drop_reason_count> index = [] {
        std::array<uint8_t, drop_reason_count> out{};
        uint8_t n = 0;
        for (size_t k = 0; k < drop_reason_count; ++k) {
            out[k] = drop_scopes[k] >= S ? n++ : none;
        }
        return out;
    }();
};

// What a worker counts for one port, domain or segment: the counters `Names` lists (indexed
// by Counter) and the drop reasons of scope S. The control thread sums blocks over the workers
// (+=) and takes baselines off them (-=).
template <class Counter, const auto& Names, drop_scope S>
struct counter_block {
    static constexpr const auto& names = Names;
    static constexpr const auto& drop_list = scoped_drops<S>::reasons;

    std::array<uint64_t, Names.size()> counter{};
    std::array<uint64_t, scoped_drops<S>::count> drops{}; // as drop_list orders them

    void add(Counter c, uint64_t n = 1) { counter[static_cast<size_t>(c)] += n; }
    // Takes back what add() counted too early (a frame the device then refused).
    void take_back(Counter c, uint64_t n) { counter[static_cast<size_t>(c)] -= n; }
    // r must be counted at this scope (counted_at(r, S)).
    void drop(drop_reason r, uint64_t n = 1) { drops[at(r)] += n; }
    uint64_t get(Counter c) const { return counter[static_cast<size_t>(c)]; }
    uint64_t get(drop_reason r) const { return drops[at(r)]; }
    uint64_t drops_total() const {
        uint64_t n = 0;
        for (const uint64_t d : drops) {
            n += d;
        }
        return n;
    }

    counter_block& operator+=(const counter_block& o) {
        for (size_t k = 0; k < counter.size(); ++k) {
            counter[k] += o.counter[k];
        }
        for (size_t k = 0; k < drops.size(); ++k) {
            drops[k] += o.drops[k];
        }
        return *this;
    }
    counter_block& operator-=(const counter_block& o) {
        for (size_t k = 0; k < counter.size(); ++k) {
            counter[k] -= o.counter[k];
        }
        for (size_t k = 0; k < drops.size(); ++k) {
            drops[k] -= o.drops[k];
        }
        return *this;
    }

private:
    static constexpr size_t at(drop_reason r) {
        if constexpr (S == drop_scope::port) {
            return static_cast<size_t>(r); // every reason, in order
        } else {
            return scoped_drops<S>::index[static_cast<size_t>(r)];
        }
    }
};

struct alignas(64) port_counter_block : counter_block<port_counter, port_counters, drop_scope::port> {};
struct alignas(64) domain_counter_block : counter_block<domain_counter, domain_counters, drop_scope::domain> {};
struct vni_counter_block : counter_block<vni_counter, vni_counters, drop_scope::vni> {};
static_assert(sizeof(domain_counter_block) == 128, "two cache lines per domain (see above)");
static_assert(sizeof(vni_counter_block) == 80);

// Everything one worker counts. Lives in the worker's own memory; never shared for writing.
struct alignas(64) worker_counter_block {
    std::array<uint64_t, worker_counter_count> counter{};
    std::array<port_counter_block, max_ports> ports{};
    std::array<domain_counter_block, max_domains> domains{}; // by bridge domain index
    std::array<vni_counter_block, max_segments> segments{};  // by segment counter slot

    void add(worker_counter c, uint64_t n = 1) { counter[static_cast<size_t>(c)] += n; }
    uint64_t get(worker_counter c) const { return counter[static_cast<size_t>(c)]; }
};

// Frames counted a run of one key (a bridge domain) at a time. A burst's frames are mostly of
// one domain, so a frame costs a compare and two register adds, and the domain's counters are
// written once per run rather than once per frame: `flush(key, packets, bytes)` writes them.
// A frame of key not_counted is not counted.
class run_tally {
public:
    template <class Flush>
    void add(uint16_t key, uint64_t bytes, Flush&& flush) {
        if (key != _key) [[unlikely]] {
            done(flush);
            _key = key;
        }
        ++_packets;
        _bytes += bytes;
    }
    // Hands the run so far to `flush`; call it once the loop is done.
    template <class Flush>
    void done(Flush&& flush) {
        if (_packets != 0 && _key != not_counted) {
            flush(_key, _packets, _bytes);
        }
        _packets = 0;
        _bytes = 0;
    }

private:
    uint16_t _key = not_counted;
    uint32_t _packets = 0;
    uint64_t _bytes = 0;
};

} // namespace vx

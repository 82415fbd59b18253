// SPDX-License-Identifier: MIT
#pragma once

// burst: the one packet representation of the pipeline. A fixed array of mbufs received
// together from one port, plus parallel per-packet arrays that the stages fill in turn
// (struct of arrays, so that a stage's loop touches only what it needs and bulk table
// lookups take the keys as an array). Trivially copyable; no stage allocates.

#include <array>
#include <cstdint>
#include <span>
#include <type_traits>

#include "counters/counters.hh"
#include "packet/ether.hh"

struct rte_mbuf;

namespace vx {

// What parse found in a frame's L2 header.
struct l2_header {
    mac_addr dst;
    mac_addr src;
    tci tag;           // outer tag's TCI, 0 when untagged
    tci inner_tag;     // C-tag's TCI inside it, 0 when tags < 2
    uint8_t tags = 0;  // tags read by parse: the port's TPID, then a C-tag (0..2)
    uint8_t strip = 0; // how many of them belong to the ingress port (set by vlan_ingress)
};
static_assert(sizeof(l2_header) == 18);

// Where a packet goes. A port index, or one of the two markers.
struct verdict {
    uint16_t raw = flood_marker;

    static constexpr uint16_t flood_marker = 0xfffe;
    static constexpr uint16_t drop_marker = 0xffff;

    static constexpr verdict to_port(uint16_t port) { return {port}; }
    static constexpr verdict flood() { return {flood_marker}; }
    static constexpr verdict drop() { return {drop_marker}; }
    constexpr bool is_drop() const { return raw == drop_marker; }
    constexpr bool is_flood() const { return raw == flood_marker; }
    constexpr bool is_unicast() const { return raw < flood_marker; }
    constexpr uint16_t port() const { return raw; }
};

struct burst {
    static constexpr uint16_t capacity = 32;

    std::array<rte_mbuf*, capacity> pkts{};
    std::array<l2_header, capacity> l2{};
    std::array<uint16_t, capacity> bd{};     // bridge domain, set by vlan_ingress
    std::array<verdict, capacity> out{};     // set by parse (drops) and fdb_lookup
    std::array<drop_reason, capacity> why{}; // meaningful where out[i].is_drop()
    uint16_t count = 0;
    uint16_t ingress = 0; // port index the burst came from
    uint32_t bytes = 0;   // of all its frames, as received: summed by parse

    std::span<rte_mbuf*> packets() { return {pkts.data(), count}; }
    void drop(uint16_t i, drop_reason r) {
        out[i] = verdict::drop();
        why[i] = r;
    }
    bool live(uint16_t i) const { return !out[i].is_drop(); }
};
static_assert(std::is_trivially_copyable_v<burst>);

} // namespace vx

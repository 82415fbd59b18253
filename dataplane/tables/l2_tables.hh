// SPDX-License-Identifier: MIT
#pragma once

// l2_tables: the VLAN rules of every port and the members of every bridge domain, as the
// workers read them. Built whole from a config::model on the control thread and published
// as one immutable snapshot (worker/snapshot.hh): a worker sees the old tables or the new
// ones, never a mix, and never takes a lock.
//
// A bridge domain is a dense index (0..n-1) inside the switch; the configuration names it by
// a number 1..4094 (`vlan` here), the VLAN it is on access ports and plain trunks. What a
// port carries, and with which tags, comes from config/port_vlans.hh.

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/model.hh"
#include "counters/counters.hh"

namespace vx {

// The tags a frame of a bridge domain wears when it leaves a port, or "not a member".
// Tags are the port's TPID (outer) and, for 2:1 translations, a C-tag inside it.
struct egress_rule {
    uint32_t raw = 0; // member:1 | unused:1 | tags:2 | vid:12 | inner vid:12 (bits 31..0)

    static constexpr egress_rule not_member() { return {}; }
    static constexpr egress_rule untagged() { return {0x8000'0000}; }
    static constexpr egress_rule tagged(uint16_t vid) { return {0x9000'0000 | (uint32_t{vid} & 0xfff) << 12}; }
    static constexpr egress_rule double_tagged(uint16_t vid, uint16_t inner_vid) {
        return {0xa000'0000 | (uint32_t{vid} & 0xfff) << 12 | (inner_vid & 0xfff)};
    }
    constexpr bool member() const { return (raw & 0x8000'0000) != 0; }
    constexpr uint8_t tags() const { return static_cast<uint8_t>((raw >> 28) & 3); }
    constexpr bool is_tagged() const { return tags() != 0; }
    constexpr uint16_t vid() const { return static_cast<uint16_t>((raw >> 12) & 0xfff); }
    constexpr uint16_t inner_vid() const { return static_cast<uint16_t>(raw & 0xfff); }
};

// Result of classifying a frame's outer VID on ingress: a bridge domain and how many of the
// frame's tags belong to the port (and are replaced on egress: `strip`), a pointer to the
// port's 2:1 table (the inner C-VID decides), or why the frame is dropped.
struct ingress_rule {
    uint16_t raw = drop_flag | static_cast<uint16_t>(drop_reason::vlan_not_allowed);

    static constexpr uint16_t drop_flag = 0x8000;
    static constexpr uint16_t by_inner_flag = 0x4000;
    static constexpr ingress_rule domain(uint16_t bd, uint8_t strip) {
        return {static_cast<uint16_t>((strip & 3) << 12 | (bd & 0xfff))};
    }
    static constexpr ingress_rule by_inner_vid() { return {by_inner_flag}; }
    static constexpr ingress_rule drop(drop_reason r) {
        return {static_cast<uint16_t>(drop_flag | static_cast<uint16_t>(r))};
    }
    constexpr bool admits() const { return (raw & (drop_flag | by_inner_flag)) == 0; }
    constexpr bool needs_inner_vid() const { return raw == by_inner_flag; }
    constexpr uint16_t bd() const { return raw & 0xfff; }
    constexpr uint8_t strip() const { return static_cast<uint8_t>((raw >> 12) & 3); }
    constexpr drop_reason reason() const { return static_cast<drop_reason>(raw & 0xff); }
};

// A 2:1 translation as ingress sees it: outer and inner VID, and the domain they mean.
struct pair_rule {
    uint32_t key = 0; // outer vid << 12 | inner vid: the table is sorted by it
    ingress_rule rule;

    static constexpr uint32_t key_of(uint16_t vid, uint16_t inner_vid) { return uint32_t{vid} << 12 | inner_vid; }
};

struct port_vlan_rules {
    uint16_t tpid = config::c_tag_tpid;
    bool drop_foreign_tpid = false;
    uint16_t max_untagged_frame = config::default_mtu + 14; // +4 when the frame keeps a tag
    // By VID of the frame's outer tag (0: priority-tagged), and untagged frames at untagged_slot.
    static constexpr uint16_t untagged_slot = 4096;
    std::array<ingress_rule, 4097> ingress{};
    std::vector<pair_rule> pairs;    // 2:1 translations, sorted by key
    std::vector<egress_rule> egress; // by bridge domain
    // The domain of every frame the port admits, when it carries one alone (an access or a
    // customer port, a trunk of one VLAN); not_counted when it carries several, or none.
    uint16_t only_domain = not_counted;

    ingress_rule pair(uint16_t vid, uint16_t inner_vid) const;
};

struct bridge_domain {
    uint16_t vlan = 0; // the domain's number in the configuration
    std::vector<uint16_t> members; // ports that carry this domain
};

struct l2_tables {
    std::vector<port_vlan_rules> ports;      // by port index (the config's order)
    std::vector<bridge_domain> domains;      // by bridge domain index
    std::array<uint16_t, 4096> bd_of_vlan{}; // VLAN -> domain, no_domain where none

    static constexpr uint16_t no_domain = 0xffff;

    // The model must have passed config::validate(). With `running`, the tables a runtime
    // change replaces, every domain keeps its index; one no port carries any more keeps its
    // index with no members and no VLAN mapped to it.
    static l2_tables build(const config::model& m, const l2_tables* running = nullptr);

    // The VLANs some port carries, ascending, each with its domain (vxctl and the state file
    // show domains by them).
    std::vector<std::pair<uint16_t, uint16_t>> carried() const;
};

} // namespace vx

// SPDX-License-Identifier: MIT
#pragma once

// l2_tables: the VLAN rules of every port and the members of every bridge domain, as the
// workers read them. Built whole from a config::model on the control thread and published
// as one immutable snapshot (worker/snapshot.hh): a worker sees the old tables or the new
// ones, never a mix, and never takes a lock.
//
// A bridge domain is a dense index (0..n-1), not a VLAN number, so that QinQ domains and
// VNIs can map onto the same index space later. Today each 802.1Q VLAN is one domain.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "config/model.hh"
#include "counters/counters.hh"

namespace vx {

// What to do with a frame of a bridge domain when it leaves a port.
struct egress_rule {
    uint16_t raw = 0; // member:1 | tagged:1 | unused:2 | vid:12

    static constexpr egress_rule not_member() { return {}; }
    static constexpr egress_rule untagged() { return {0x8000}; }
    static constexpr egress_rule tagged(uint16_t vid) { return {static_cast<uint16_t>(0xc000 | (vid & 0x0fff))}; }
    constexpr bool member() const { return (raw & 0x8000) != 0; }
    constexpr bool is_tagged() const { return (raw & 0x4000) != 0; }
    constexpr uint16_t vid() const { return raw & 0x0fff; }
};

// Result of classifying a frame's VID on ingress: a bridge domain, or why it is dropped.
struct ingress_rule {
    uint16_t raw = drop_base | static_cast<uint16_t>(drop_reason::vlan_not_allowed);

    static constexpr uint16_t drop_base = 0xff00;
    static constexpr ingress_rule domain(uint16_t bd) { return {bd}; }
    static constexpr ingress_rule drop(drop_reason r) {
        return {static_cast<uint16_t>(drop_base | static_cast<uint16_t>(r))};
    }
    constexpr bool admits() const { return raw < drop_base; }
    constexpr uint16_t bd() const { return raw; }
    constexpr drop_reason reason() const { return static_cast<drop_reason>(raw & 0xff); }
};

struct port_vlan_rules {
    uint16_t tpid = 0x8100;
    // By VID of the frame's tag; index 0 stands for untagged and priority-tagged frames.
    std::array<ingress_rule, 4096> ingress{};
    std::vector<egress_rule> egress; // by bridge domain
};

struct bridge_domain {
    uint16_t vlan = 0;
    std::vector<uint16_t> members; // ports that carry this domain
};

struct l2_tables {
    std::vector<port_vlan_rules> ports;      // by port index (the config's order)
    std::vector<bridge_domain> domains;      // by bridge domain index
    std::array<uint16_t, 4096> bd_of_vlan{}; // VLAN -> domain, no_domain where none

    static constexpr uint16_t no_domain = 0xffff;

    // The model must have passed config::validate().
    static l2_tables build(const config::model& m);
};

} // namespace vx

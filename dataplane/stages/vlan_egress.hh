// SPDX-License-Identifier: MIT
#pragma once

// vlan_egress: makes a frame's tags what the egress port wants for its bridge domain.
//
// Frames keep the tags they arrived with until here (no strip on ingress, no re-push on
// egress). On the way out the `strip` leading tags that belonged to the ingress port are
// replaced by the egress rule's tags (none, one of the port's TPID, or that one and a C-tag
// for a 2:1 translation); tags behind them (a customer's C-tag, deeper stacks) are carried
// untouched. So access-to-access forwarding touches no byte, a retag writes four, and a
// push or pop moves only the 12 MAC bytes.
//
// PCP and DEI travel with the frame: every tag the switch writes carries the priority bits
// of the frame's outer tag as it arrived (0 for an untagged frame). A customer's C-tag
// priority thus becomes the S-tag's, as provider bridges do by default.

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include <cstring>
#include <optional>

#include "config/model.hh"
#include "packet/burst.hh"
#include "tables/l2_tables.hh"

namespace vx {

namespace detail {
// Moves the 12 MAC bytes by one load and one store: they overlap their new place by 4 or 8
// bytes, and std::memmove of them was a library call per frame.
inline void move_macs(uint8_t* to, const uint8_t* from) {
    std::array<uint8_t, 12> macs;
    std::memcpy(macs.data(), from, macs.size());
    std::memcpy(to, macs.data(), macs.size());
}
// Two byte swaps and one 4-byte store (the tag assembled byte by byte took 20 instructions).
inline void store_tag(uint8_t* p, uint16_t tpid, uint16_t tci_value) {
    const std::array<uint16_t, 2> tag{rte_cpu_to_be_16(tpid), rte_cpu_to_be_16(tci_value)};
    std::memcpy(p, tag.data(), sizeof(tag));
}
} // namespace detail

// The frame's length once vlan_egress has set its tags for `rule`.
inline uint32_t egress_length(const rte_mbuf* m, const l2_header& h, egress_rule rule) {
    return rte_pktmbuf_pkt_len(m) + vlan_tag_len * rule.tags() - vlan_tag_len * h.strip;
}

// Whether the frame still wears a tag once vlan_egress has set its tags for `rule`.
inline bool egress_tagged(const l2_header& h, egress_rule rule) {
    return h.tags - h.strip + rule.tags() > 0;
}

// Why a frame cannot leave a port with the tags `rule` gives it, if it cannot: the port does
// not carry its domain, or the frame would be longer than the port's MTU allows.
inline std::optional<drop_reason> egress_refusal(const rte_mbuf* m, const l2_header& h, egress_rule rule,
                                                 const port_vlan_rules& rules) {
    if (!rule.member()) {
        return drop_reason::egress_not_member;
    }
    const uint32_t limit = rules.max_untagged_frame + (egress_tagged(h, rule) ? vlan_tag_len : 0);
    if (egress_length(m, h, rule) > limit) {
        return drop_reason::egress_mtu_exceeded;
    }
    return std::nullopt;
}

// Returns false when tags must be pushed and the mbuf has no headroom for them.
// Push and pop are one move of the MACs by `grow` bytes and one update of the mbuf's offset
// and lengths, written here rather than through rte_pktmbuf_prepend/adj: a pop needs none of
// adj's length check (parse found the stripped tags in the first segment) and neither needs
// the data pointer recomputed after it, which took a third of a pop's instructions.
inline bool vlan_egress(rte_mbuf* m, const l2_header& h, egress_rule rule, uint16_t tpid) {
    constexpr uint32_t macs_len = 12;
    const int tags = rule.tags();
    if (tags == 0 && h.strip == 0) {
        return true;
    }
    auto* p = rte_pktmbuf_mtod(m, uint8_t*);
    const int grow = (tags - h.strip) * static_cast<int>(vlan_tag_len);
    if (grow != 0) {
        if (grow > static_cast<int>(rte_pktmbuf_headroom(m))) {
            return false;
        }
        p -= grow; // push: open a gap after the MACs; pop: slide the MACs over the tags
        detail::move_macs(p, p + grow);
        m->data_off = static_cast<uint16_t>(m->data_off - grow);
        m->data_len = static_cast<uint16_t>(m->data_len + grow);
        m->pkt_len = static_cast<uint32_t>(static_cast<int>(m->pkt_len) + grow);
    }
    if (tags == 0) {
        return true;
    }
    const tci priority{h.tags != 0 ? h.tag.priority_bits() : uint16_t{0}};
    detail::store_tag(p + macs_len, tpid, priority.with_vid(rule.vid()).value);
    if (tags == 2) {
        detail::store_tag(p + macs_len + vlan_tag_len, config::c_tag_tpid, priority.with_vid(rule.inner_vid()).value);
    }
    return true;
}

} // namespace vx

// SPDX-License-Identifier: MIT
#pragma once

// vlan_egress: makes a frame's outer tag what the egress port wants for its bridge domain.
//
// Frames keep the tag they arrived with until here (no strip on ingress, no re-push on
// egress), so trunk-to-trunk and access-to-access forwarding touch no header byte; only a
// change of tagging moves the 12 MAC bytes. PCP and DEI travel with the frame: a tag that
// is rewritten or popped and pushed again keeps them; a tag pushed on an untagged frame
// carries priority 0.

#include <rte_mbuf.h>

#include <cstring>

#include "packet/burst.hh"
#include "tables/l2_tables.hh"

namespace vx {

// Returns false when a tag must be pushed and the mbuf has no headroom for it.
inline bool vlan_egress(rte_mbuf* m, const l2_header& h, egress_rule rule, uint16_t tpid) {
    constexpr uint32_t macs_len = 12;
    if (!rule.is_tagged()) {
        if (h.tags != 0) { // pop: slide the MACs over the tag
            auto* p = rte_pktmbuf_mtod(m, uint8_t*);
            std::memmove(p + vlan_tag_len, p, macs_len);
            rte_pktmbuf_adj(m, vlan_tag_len);
        }
        return true;
    }
    uint8_t* p = rte_pktmbuf_mtod(m, uint8_t*);
    if (h.tags == 0) { // push: open a gap after the MACs
        p = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, vlan_tag_len));
        if (p == nullptr) {
            return false;
        }
        std::memmove(p, p + vlan_tag_len, macs_len);
    }
    const uint16_t tag = tci{h.tags != 0 ? h.tag.value : uint16_t{0}}.with_vid(rule.vid()).value;
    const std::array<uint8_t, 4> bytes{static_cast<uint8_t>(tpid >> 8), static_cast<uint8_t>(tpid),
                                       static_cast<uint8_t>(tag >> 8), static_cast<uint8_t>(tag)};
    std::memcpy(p + macs_len, bytes.data(), bytes.size());
    return true;
}

} // namespace vx

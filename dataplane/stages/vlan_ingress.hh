// SPDX-License-Identifier: MIT
#pragma once

// vlan_ingress: puts each frame into its bridge domain by the ingress port's VLAN rules.
//
// In: l2[i].tags/tag/inner_tag from parse. Out: bd[i] and l2[i].strip (how many leading tags
// are the port's, to be replaced on egress), or a drop. One table read per frame: the port's
// ingress table is indexed by outer VID (and a slot for untagged frames) and holds the
// domain or the drop reason (tagged_on_access, vlan_not_allowed, untagged_on_trunk,
// c_vlan_not_allowed), so the access/trunk/native/customer logic was done once, when the
// table was built. Only a 2:1 translation (S-VID + C-VID -> domain) takes a second lookup,
// a binary search in the port's short table of pairs.
// Counts each admitted frame into its domain (rx_packets, rx_bytes), a run of frames of one
// domain at a time (counters/counters.hh: run_counter), so an access port's burst writes its
// domain's block once.

#include <rte_mbuf.h>

#include "packet/burst.hh"
#include "worker/context.hh"

namespace vx {

class vlan_ingress final {
public:
    void process(burst& b, worker_ctx& w) const {
        const auto& rules = w.state->l2.ports[b.ingress];
        domain_rx_run received{w.counters->domains.data()};
        for (uint16_t i = 0; i < b.count; ++i) {
            if (!b.live(i)) {
                continue;
            }
            l2_header& h = b.l2[i];
            ingress_rule r = rules.ingress[h.tags != 0 ? h.tag.vid() : port_vlan_rules::untagged_slot];
            if (r.needs_inner_vid()) [[unlikely]] {
                r = h.tags == 2 ? rules.pair(h.tag.vid(), h.inner_tag.vid())
                                : ingress_rule::drop(drop_reason::vlan_not_allowed);
            }
            if (r.admits()) {
                b.bd[i] = r.bd();
                h.strip = r.strip();
                received.add(r.bd(), rte_pktmbuf_pkt_len(b.pkts[i]));
            } else {
                b.drop(i, r.reason());
            }
        }
        received.flush();
    }
};

} // namespace vx

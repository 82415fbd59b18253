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
// Counts each admitted frame into its domain (rx_packets, rx_bytes) at no cost per frame when
// the port carries one domain alone (port_vlan_rules::only_domain: its bytes are the burst's,
// less those of the frames refused), else a run of frames of one domain at a time
// (counters/counters.hh: run_tally). Measured: docs/performance.md.

#include <rte_mbuf.h>

#include "packet/burst.hh"
#include "worker/context.hh"

namespace vx {

class vlan_ingress final {
public:
    void process(burst& b, worker_ctx& w) const {
        const auto& rules = w.state->l2.ports[b.ingress];
        if (rules.only_domain != not_counted) {
            classify<true>(b, w, rules);
        } else {
            classify<false>(b, w, rules);
        }
    }

private:
    template <bool OneDomain>
    static void classify(burst& b, worker_ctx& w, const port_vlan_rules& rules) {
        run_tally received;
        const auto count_received = [&w](uint16_t bd, uint64_t packets, uint64_t bytes) {
            w.domain(bd).add(domain_counter::rx_packets, packets);
            w.domain(bd).add(domain_counter::rx_bytes, bytes);
        };
        uint16_t refused = 0;        // OneDomain: frames not admitted, parse's drops included,
        uint64_t refused_bytes = 0; // and their bytes
        for (uint16_t i = 0; i < b.count; ++i) {
            if (!b.live(i)) {
                if constexpr (OneDomain) {
                    ++refused;
                    refused_bytes += rte_pktmbuf_pkt_len(b.pkts[i]);
                }
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
                if constexpr (!OneDomain) {
                    received.add(r.bd(), rte_pktmbuf_pkt_len(b.pkts[i]), count_received);
                }
            } else {
                b.drop(i, r.reason());
                if constexpr (OneDomain) {
                    ++refused;
                    refused_bytes += rte_pktmbuf_pkt_len(b.pkts[i]);
                }
            }
        }
        if constexpr (OneDomain) {
            auto& d = w.domain(rules.only_domain);
            d.add(domain_counter::rx_packets, b.count - refused);
            d.add(domain_counter::rx_bytes, b.bytes - refused_bytes);
        } else {
            received.done(count_received);
        }
    }
};

} // namespace vx

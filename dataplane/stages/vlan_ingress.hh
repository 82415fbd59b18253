// SPDX-License-Identifier: MIT
#pragma once

// vlan_ingress: puts each frame into its bridge domain by the ingress port's VLAN rules.
//
// In: l2[i].tags/tag from parse. Out: bd[i], or a drop. One table read per frame: the port's
// ingress table is indexed by VID (0 = untagged or priority-tagged) and holds either the
// domain or the drop reason (tagged_on_access, vlan_not_allowed, untagged_on_trunk), so the
// access/trunk/native logic was done once, when the table was built.

#include "packet/burst.hh"
#include "worker/context.hh"

namespace vx {

class vlan_ingress final {
public:
    void process(burst& b, worker_ctx& w) const {
        const auto& rules = w.state->l2.ports[b.ingress].ingress;
        for (uint16_t i = 0; i < b.count; ++i) {
            if (!b.live(i)) {
                continue;
            }
            const uint16_t vid = b.l2[i].tags != 0 ? b.l2[i].tag.vid() : 0;
            const ingress_rule r = rules[vid];
            if (r.admits()) {
                b.bd[i] = r.bd();
            } else {
                b.drop(i, r.reason());
            }
        }
    }
};

} // namespace vx

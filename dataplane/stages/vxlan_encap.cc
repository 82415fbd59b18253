// SPDX-License-Identifier: MIT
#include "stages/vxlan_encap.hh"

#include <rte_mbuf.h>

#include "stages/vlan_egress.hh"

namespace vx {

namespace {
// Why the frame cannot go out encapsulated, or nullopt once it is queued.
std::optional<drop_reason> try_encap(rte_mbuf* m, const l2_header& h, uint16_t bd, const remote_vtep& r,
                                     worker_ctx& w) {
    const vtep_table& t = w.state->vxlan;
    if (!r.resolved) {
        return drop_reason::vxlan_no_next_hop;
    }
    vlan_egress(m, h, egress_rule::untagged(), 0); // only pops: cannot fail
    const uint32_t inner_len = rte_pktmbuf_pkt_len(m);
    const uint16_t overhead = r.outer.overhead();
    if (inner_len + overhead > w.state->l2.ports[t.underlay].max_untagged_frame) {
        return drop_reason::egress_mtu_exceeded;
    }
    // vxvde: the network's own port, where the endpoints learn us; VXLAN: per-flow entropy.
    const uint16_t source_port = t.source_port_of_bd[bd] != 0
                                     ? t.source_port_of_bd[bd]
                                     : vxlan::source_port(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m));
    auto* outer = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, overhead));
    if (outer == nullptr) {
        return drop_reason::egress_no_headroom;
    }
    vxlan::write_outer(outer, r.outer, t.vni_of_bd[bd], source_port, static_cast<uint16_t>(inner_len));
    w.port(t.underlay).add(port_counter::vxlan_encapsulated);
    w.egress->push(t.underlay, w.state->device[t.underlay], m, bd, *w.counters);
    return std::nullopt;
}
} // namespace

bool vxlan_encap(rte_mbuf* m, const l2_header& h, uint16_t bd, uint16_t remote, worker_ctx& w) {
    const vtep_table& t = w.state->vxlan;
    const auto why = try_encap(m, h, bd, t.remotes[remote], w);
    if (!why) {
        return true;
    }
    w.port(t.underlay).drop(*why);
    w.overlay_drop(bd, *why);
    rte_pktmbuf_free(m);
    return false;
}

} // namespace vx

// SPDX-License-Identifier: MIT
#include "stages/forward.hh"

#include <rte_mbuf.h>

#include "observe/capture.hh"

#include "stages/vlan_egress.hh"
#include "stages/vxlan_encap.hh"

namespace vx {

namespace {

// Edits the tags for `port` and queues the frame there; false if it had to be dropped.
bool emit(rte_mbuf* m, const l2_header& h, uint16_t bd, uint16_t port, worker_ctx& w) {
    if (is_remote_port(port)) {
        return vxlan_encap(m, h, bd, static_cast<uint16_t>(port - remote_port_base), w);
    }
    const auto& rules = w.state->l2.ports[port];
    const egress_rule rule = rules.egress[bd];
    auto why = egress_refusal(m, h, rule, rules);
    if (!why) {
        if (vlan_egress(m, h, rule, rules.tpid)) {
            w.egress->push(port, w.state->device[port], m, bd, *w.counters);
            return true;
        }
        why = drop_reason::egress_no_headroom;
    }
    w.port(port).drop(*why);
    w.domain(bd).drop(*why);
    if (w.capture != nullptr) [[unlikely]] {
        w.capture->dropped_on_egress(port, m, *why);
    }
    rte_pktmbuf_free(m);
    return false;
}

} // namespace

void forward::process(burst& b, worker_ctx& w) const {
    uint64_t flooded = 0;
    for (uint16_t i = 0; i < b.count; ++i) {
        if (b.out[i].is_unicast()) {
            // Split horizon: what came from the overlay never goes back into it.
            if (is_remote_port(b.out[i].port()) && b.ingress == w.state->vxlan.underlay) {
                b.drop(i, drop_reason::vxlan_split_horizon); // free_drops counts it on the port and domain
                if (vni_counter_block* s = w.segment_of(b.bd[i])) {
                    s->drop(drop_reason::vxlan_split_horizon);
                }
            } else {
                emit(b.pkts[i], b.l2[i], b.bd[i], b.out[i].port(), w);
            }
        } else if (b.out[i].is_flood()) {
            if (flood(b, i, w)) {
                ++flooded;
                w.domain(b.bd[i]).add(domain_counter::flooded);
            } else {
                b.drop(i, drop_reason::flood_empty);
            }
        }
    }
    w.port(b.ingress).add(port_counter::flooded, flooded);
    free_drops(b, w);
}

bool forward::flood(burst& b, uint16_t i, worker_ctx& w) {
    const auto& members = w.state->l2.domains[b.bd[i]].members;
    const vtep_table& vx = w.state->vxlan;
    // The domain's remote VTEPs (head-end replication list, multicast group), unless the frame
    // came from the overlay: split horizon, a VTEP floods only what its own ports sent.
    const bool to_overlay = vx.enabled() && b.ingress != vx.underlay;
    const size_t n_remotes = to_overlay ? vx.flood_of_bd[b.bd[i]].size() : 0;
    int last = -1; // the local member that gets the original, when no remote follows
    for (size_t k = members.size(); k-- > 0;) {
        if (members[k] != b.ingress) {
            last = static_cast<int>(k);
            break;
        }
    }
    if (last < 0 && n_remotes == 0) {
        return false;
    }
    // A copy for every target but the final one, which takes the original.
    const auto send = [&](uint16_t port, bool final) {
        rte_mbuf* m = final ? b.pkts[i] : rte_pktmbuf_copy(b.pkts[i], w.pool, 0, UINT32_MAX);
        if (m == nullptr) {
            if (is_remote_port(port)) {
                w.port(vx.underlay).drop(drop_reason::no_buffer);
                w.overlay_drop(b.bd[i], drop_reason::no_buffer);
            } else {
                w.port(port).drop(drop_reason::no_buffer);
                w.domain(b.bd[i]).drop(drop_reason::no_buffer);
            }
            return;
        }
        emit(m, b.l2[i], b.bd[i], port, w);
    };
    for (int k = 0; k <= last; ++k) {
        const uint16_t port = members[static_cast<size_t>(k)];
        if (port != b.ingress) {
            send(port, k == last && n_remotes == 0);
        }
    }
    for (size_t k = 0; k < n_remotes; ++k) {
        send(static_cast<uint16_t>(remote_port_base + vx.flood_of_bd[b.bd[i]][k]), k + 1 == n_remotes);
    }
    return true;
}

void forward::free_drops(burst& b, worker_ctx& w) {
    std::array<rte_mbuf*, burst::capacity> dropped;
    unsigned n = 0;
    auto& pc = w.port(b.ingress);
    for (uint16_t i = 0; i < b.count; ++i) {
        if (b.out[i].is_drop()) {
            pc.drop(b.why[i]);
            // bd[i] is the frame's only once a domain is known: those reasons are the others'.
            if (counted_at(b.why[i], drop_scope::domain)) {
                w.domain(b.bd[i]).drop(b.why[i]);
            }
            dropped[n++] = b.pkts[i];
        }
    }
    if (n != 0) {
        if (w.capture != nullptr) [[unlikely]] {
            w.capture->dropped(b);
        }
        rte_pktmbuf_free_bulk(dropped.data(), n);
    }
}

} // namespace vx

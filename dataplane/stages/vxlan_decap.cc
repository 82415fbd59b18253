// SPDX-License-Identifier: MIT
#include "stages/vxlan_decap.hh"

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "config/model.hh"
#include "packet/membership.hh"
#include "packet/neighbour.hh"
#include "packet/vxlan.hh"
#include "stages/fdb_learn.hh"
#include "stages/parse.hh"
#include "tables/fdb.hh"

namespace vx {

namespace {
// Frames decapsulated into domain bd: counted on it and on its segment (bytes as the underlay
// port received them, both).
void count_decapsulated(worker_ctx& w, uint16_t bd, uint64_t packets, uint64_t bytes) {
    auto& d = w.domain(bd);
    d.add(domain_counter::rx_packets, packets);
    d.add(domain_counter::rx_bytes, bytes);
    if (vni_counter_block* s = w.segment_of(bd)) {
        s->add(vni_counter::decapsulated_packets, packets);
        s->add(vni_counter::decapsulated_bytes, bytes);
    }
}

void tell_control(worker_ctx& w, const vtep_event& e) {
    // A full ring loses the event: the next ARP or frame from that VTEP tells it again.
    vtep_event copy = e; // DPDK 22.11 takes the element through a non-const pointer
    rte_ring_sp_enqueue_elem(w.vtep_events, &copy, sizeof(copy));
}
} // namespace

void vxlan_decap::process(burst& b, worker_ctx& w) const {
    const vtep_table& t = w.state->vxlan;
    const vxlan::local_endpoint local = t.endpoint();
    std::array<fdb_key, burst::capacity> keys;
    std::array<uint16_t, burst::capacity> sources;
    uint32_t n_keys = 0;
    uint16_t kept = 0;
    uint64_t bytes = 0;
    uint64_t decapsulated = 0;
    uint64_t unknown_vtep = 0;
    run_tally decapsulated_run; // a run of frames of one domain at a time
    const auto count_run = [&w](uint16_t bd, uint64_t packets, uint64_t bytes) {
        count_decapsulated(w, bd, packets, bytes);
    };
    std::optional<remote_key> reported;
    const uint16_t received = b.count;
    for (uint16_t i = 0; i < received; ++i) {
        rte_mbuf* m = b.pkts[i];
        const uint32_t outer_len = rte_pktmbuf_pkt_len(m);
        bytes += outer_len;
        const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
        const uint32_t len = rte_pktmbuf_data_len(m);
        if (vxlan::maybe_control(data, len) && take_control(m, b.ingress, w)) [[unlikely]] {
            continue;
        }
        const auto r = vxlan::classify(data, len, local);
        const auto bd = r.ok ? t.bd_of(r.local_port, r.vni) : std::nullopt;
        // The sender's identity: a vxvde endpoint is its address and port, a VXLAN VTEP its address.
        const remote_key sender{r.remote, r.vxvde ? r.remote_port : uint16_t{0}};
        if (r.goodbye && bd) {
            take_goodbye(m, sender, b.ingress, w);
            continue;
        }
        const uint16_t k = kept++;
        b.pkts[k] = m;
        b.out[k] = verdict::flood();
        b.l2[k] = {};
        if (!r.ok) {
            b.drop(k, r.why);
            continue;
        }
        if (!bd) {
            b.drop(k, drop_reason::vxlan_unknown_vni);
            continue;
        }
        // strip stays 0: inner tags are the overlay's payload
        const auto inner = parse_l2_into(data + r.inner_offset, r.inner_len, config::c_tag_tpid, b.l2[k]);
        if (!inner.ok) {
            b.drop(k, inner.why);
            continue;
        }
        rte_pktmbuf_adj(m, r.inner_offset);
        rte_pktmbuf_trim(m, static_cast<uint16_t>(rte_pktmbuf_pkt_len(m) - r.inner_len));
        b.bd[k] = *bd;
        ++decapsulated;
        decapsulated_run.add(*bd, outer_len, count_run);
        if (const auto remote = t.remote_of(sender.ip, sender.port)) {
            keys[n_keys] = fdb_key::make(b.l2[k].src, *bd);
            sources[n_keys++] = static_cast<uint16_t>(remote_port_base + *remote);
        } else {
            ++unknown_vtep;
            if (reported != sender) {
                tell_control(w, {vtep_event::kind::remote_seen, 0, {}, sender.ip, 0, sender.port});
                reported = sender;
            }
        }
    }
    b.count = kept;
    decapsulated_run.done(count_run);
    auto& pc = w.port(b.ingress);
    pc.add(port_counter::rx_packets, received);
    pc.add(port_counter::rx_bytes, bytes);
    pc.add(port_counter::vxlan_decapsulated, decapsulated);
    pc.add(port_counter::vxlan_unknown_vtep, unknown_vtep);
    learn_sources(keys.data(), sources.data(), n_keys, b.ingress, w);
}

void vxlan_decap::take_goodbye(rte_mbuf* m, const remote_key& sender, uint16_t ingress, worker_ctx& w) {
    tell_control(w, {vtep_event::kind::goodbye, 0, {}, sender.ip, 0, sender.port});
    w.port(ingress).add(port_counter::vxvde_goodbyes);
    rte_pktmbuf_free(m);
}

bool vxlan_decap::take_control(rte_mbuf* m, uint16_t ingress, worker_ctx& w) {
    const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
    const uint32_t len = rte_pktmbuf_data_len(m);
    if (const auto arp = vxlan::read_arp(data, len)) {
        take_arp(m, *arp, ingress, w);
        return true;
    }
    if (const auto nd = neighbour::read(data, len); nd.status != neighbour::read_status::not_neighbour) {
        take_neighbour(m, nd, ingress, w);
        return true;
    }
    if (const auto mm = membership::read(data, len); mm.status != membership::read_status::not_membership) {
        take_membership(m, mm, ingress, w);
        return true;
    }
    return false; // other ICMPv6 or IGMP-looking bytes: the VXLAN checks refuse and count it
}

void vxlan_decap::note_neighbour(const ip_address& ip, const mac_addr& mac, bool answer, worker_ctx& w) {
    const vtep_table& t = w.state->vxlan;
    if (const auto remote = t.any_remote_at(ip); remote && !t.next_hop) {
        const remote_vtep& r = t.remotes[*remote];
        if (answer || !r.resolved || r.outer.dst_mac != mac) {
            tell_control(w, {vtep_event::kind::neighbour, 0, mac, ip});
        }
    }
}

void vxlan_decap::take_arp(rte_mbuf* m, const vxlan::arp_view& arp, uint16_t ingress, worker_ctx& w) {
    const vtep_table& t = w.state->vxlan;
    note_neighbour(arp.sender_ip, arp.sender_mac, arp.op == 2, w);
    if (arp.op == 1 && t.v4 && arp.target_ip == *t.v4) {
        vxlan::make_arp_reply(rte_pktmbuf_mtod(m, uint8_t*), t.mac);
        w.port(ingress).add(port_counter::arp_replies);
        w.egress->push(ingress, w.state->device[ingress], m, not_counted, *w.counters);
        return;
    }
    rte_pktmbuf_free(m);
}

void vxlan_decap::take_neighbour(rte_mbuf* m, const neighbour::read_result& nd, uint16_t ingress, worker_ctx& w) {
    if (nd.status == neighbour::read_status::invalid) {
        w.port(ingress).drop(drop_reason::underlay_bad_control);
        rte_pktmbuf_free(m);
        return;
    }
    const vtep_table& t = w.state->vxlan;
    const neighbour::message& msg = nd.msg;
    // An advertisement tells where its target is; a solicitation, where its sender is.
    if (msg.advertisement) {
        note_neighbour(msg.target, msg.link_layer.value_or(msg.eth_src), true, w);
    } else if (msg.link_layer) {
        note_neighbour(msg.src, *msg.link_layer, false, w);
    }
    // The solicitation becomes our advertisement in its own buffer (86 bytes: a solicitation
    // without its option is shorter, one with more options longer).
    if (!msg.advertisement && t.v6 && msg.target == *t.v6 && m->nb_segs == 1) {
        const uint16_t have = rte_pktmbuf_data_len(m);
        const bool fits = have >= neighbour::frame_len
                              ? rte_pktmbuf_trim(m, static_cast<uint16_t>(have - neighbour::frame_len)) == 0
                              : rte_pktmbuf_append(m, static_cast<uint16_t>(neighbour::frame_len - have)) != nullptr;
        if (fits) {
            neighbour::write_advertisement(rte_pktmbuf_mtod(m, uint8_t*), t.mac, msg);
            w.port(ingress).add(port_counter::neighbour_adverts);
            w.egress->push(ingress, w.state->device[ingress], m, not_counted, *w.counters);
            return;
        }
    }
    rte_pktmbuf_free(m);
}

void vxlan_decap::take_membership(rte_mbuf* m, const membership::read_result& mm, uint16_t ingress, worker_ctx& w) {
    rte_pktmbuf_free(m);
    if (mm.status == membership::read_status::invalid) {
        w.port(ingress).drop(drop_reason::underlay_bad_control);
        return;
    }
    w.port(ingress).add(port_counter::membership_messages);
    // Reports of other hosts need nothing from us; a query is answered by the control thread.
    if (mm.msg.query && !w.state->vxlan.groups.empty()) {
        tell_control(w, {vtep_event::kind::membership_query, 0, {}, mm.msg.group, mm.msg.max_delay_ms});
    }
}

} // namespace vx

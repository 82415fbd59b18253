// SPDX-License-Identifier: MIT
#include "observe/trace.hh"

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <algorithm>
#include <cstring>

#include "stages/vlan_egress.hh"
#include "tables/fdb.hh"
#include "worker/worker.hh"

namespace vx {

namespace {

constexpr unsigned trace_ring_size = 256; // per worker

} // namespace

std::string_view stage_name(trace_stage s) {
    switch (s) {
    case trace_stage::parse:
        return "parse";
    case trace_stage::vlan_ingress:
        return "vlan_ingress";
    case trace_stage::fdb_learn:
        return "fdb_learn";
    case trace_stage::fdb_lookup:
        return "fdb_lookup";
    case trace_stage::forward:
        return "forward";
    case trace_stage::vxlan_decap:
        return "vxlan_decap";
    }
    return "?";
}

bool trace_filter::matches(uint16_t ingress, const uint8_t* data, uint32_t len) const {
    if (port && *port != ingress) {
        return false;
    }
    if (len < ether_header_len) {
        return !src && !dst && !mac && !vlan && !ethertype;
    }
    const mac_addr d = mac_addr::load(data);
    const mac_addr s = mac_addr::load(data + 6);
    if ((src && *src != s) || (dst && *dst != d) || (mac && *mac != s && *mac != d)) {
        return false;
    }
    uint32_t at = 12;
    uint16_t type = load_be16(data + at);
    if (vlan && (!is_well_known_tpid(type) || len < at + 4 || (load_be16(data + at + 2) & 0xfff) != *vlan)) {
        return false;
    }
    while (is_well_known_tpid(type) && len >= at + 6) {
        at += 4;
        type = load_be16(data + at);
    }
    return !ethertype || *ethertype == type;
}

// ---- worker side ----

void frame_tracer::publish(const frame_trace& t) {
    if (rte_ring_sp_enqueue_elem(_ring, const_cast<frame_trace*>(&t), sizeof(t)) != 0) {
        _lost.store(_lost.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
}

burst_trace::burst_trace(frame_tracer& t, const burst& b, uint16_t worker_id, uint64_t budget) : _tracer(t) {
    _slot.fill(untraced);
    const uint64_t now = rte_rdtsc();
    for (uint16_t i = 0; i < b.count && _count < budget; ++i) {
        const rte_mbuf* m = b.pkts[i];
        const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
        if (!t._filter.matches(b.ingress, data, rte_pktmbuf_data_len(m))) {
            continue;
        }
        frame_trace& f = _frames[_count];
        f = {};
        f.tsc = now;
        f.length = rte_pktmbuf_pkt_len(m);
        f.worker = worker_id;
        f.ingress = b.ingress;
        f.head_len = static_cast<uint8_t>(std::min<uint32_t>(rte_pktmbuf_data_len(m), frame_trace::head_bytes));
        std::memcpy(f.head.data(), data, f.head_len);
        _mbuf[_count] = m;
        _slot[i] = _count++;
    }
}

void burst_trace::publish() {
    for (uint16_t k = 0; k < _count; ++k) {
        _tracer.publish(_frames[k]);
    }
}

void burst_trace::note_new_drops(trace_stage s, const burst& b) {
    for (uint16_t i = 0; i < b.count; ++i) {
        if (_slot[i] != untraced && b.out[i].is_drop() && !_dropped[_slot[i]]) {
            _dropped[_slot[i]] = true;
            _frames[_slot[i]].add({s, trace_decision::dropped, b.why[i]});
        }
    }
}

void burst_trace::after(const parse&, const burst& b, const worker_ctx&) {
    note_new_drops(trace_stage::parse, b);
    for (uint16_t i = 0; i < b.count; ++i) {
        if (auto* t = of(i); t != nullptr && b.live(i)) {
            const l2_header& h = b.l2[i];
            t->add({trace_stage::parse, trace_decision::parsed, {}, 0, h.tags,
                    h.tags > 0 ? h.tag.vid() : uint16_t{0}, h.tags > 1 ? h.inner_tag.vid() : 0u});
        }
    }
}

void burst_trace::after(const vlan_ingress&, const burst& b, const worker_ctx&) {
    note_new_drops(trace_stage::vlan_ingress, b);
    for (uint16_t i = 0; i < b.count; ++i) {
        if (auto* t = of(i); t != nullptr && b.live(i)) {
            t->add({trace_stage::vlan_ingress, trace_decision::domain, {}, 0, b.bd[i], b.l2[i].strip, 0});
        }
    }
}

void burst_trace::before(const fdb_learn&, const burst& b, const worker_ctx& w) {
    for (uint16_t i = 0; i < b.count; ++i) {
        auto* t = of(i);
        if (t == nullptr || !b.live(i)) {
            continue;
        }
        const auto key = fdb_key::make(b.l2[i].src, b.bd[i]);
        fdb_hit hit;
        trace_step s{trace_stage::fdb_learn, trace_decision::learn_new};
        if (w.macs->lookup_bulk(&key, 1, &hit) != 0) {
            s.a = hit.port();
            s.what = hit.port() == b.ingress ? trace_decision::learn_known
                     : hit.is_static()       ? trace_decision::learn_static
                                             : trace_decision::learn_moved;
        }
        t->add(s);
    }
}

void burst_trace::after(const fdb_lookup&, const burst& b, const worker_ctx&) {
    note_new_drops(trace_stage::fdb_lookup, b);
    for (uint16_t i = 0; i < b.count; ++i) {
        auto* t = of(i);
        if (t == nullptr || !b.live(i)) {
            continue;
        }
        if (b.out[i].is_unicast()) {
            t->add({trace_stage::fdb_lookup, trace_decision::hit, {}, 0, b.out[i].port()});
        } else {
            t->add({trace_stage::fdb_lookup,
                    b.l2[i].dst.is_group() ? trace_decision::flood_group : trace_decision::flood_unknown});
        }
    }
}

// Where frame i goes on `port`, or why that port refuses it: what forward's emit will find.
void burst_trace::plan_output(frame_trace& t, const burst& b, uint16_t i, uint16_t port, const worker_ctx& w) {
    if (is_remote_port(port)) {
        t.add({trace_stage::forward, trace_decision::out, {}, 0, port});
        return;
    }
    const auto& rules = w.state->l2.ports[port];
    if (const auto why = egress_refusal(b.pkts[i], b.l2[i], rules.egress[b.bd[i]], rules)) {
        t.add({trace_stage::forward, trace_decision::refused, *why, 0, port});
    } else {
        t.add({trace_stage::forward, trace_decision::out, {}, 0, port});
    }
}

void burst_trace::before(const forward&, const burst& b, const worker_ctx& w) {
    const vtep_table& vx = w.state->vxlan;
    for (uint16_t i = 0; i < b.count; ++i) {
        auto* t = of(i);
        if (t == nullptr || !b.live(i)) {
            continue;
        }
        if (b.out[i].is_unicast()) {
            if (!(is_remote_port(b.out[i].port()) && b.ingress == vx.underlay)) { // else: split horizon
                plan_output(*t, b, i, b.out[i].port(), w);
            }
            continue;
        }
        for (const uint16_t port : w.state->l2.domains[b.bd[i]].members) {
            if (port != b.ingress) {
                plan_output(*t, b, i, port, w);
            }
        }
        if (vx.enabled() && b.ingress != vx.underlay) {
            for (const uint16_t r : vx.flood_of_bd[b.bd[i]]) {
                plan_output(*t, b, i, static_cast<uint16_t>(remote_port_base + r), w);
            }
        }
    }
}

void burst_trace::after(const forward&, const burst& b, const worker_ctx&) {
    note_new_drops(trace_stage::forward, b);
}

void burst_trace::before(const vxlan_decap&, const burst&, const worker_ctx&) {}

void burst_trace::after(const vxlan_decap&, const burst& b, const worker_ctx& w) {
    // vxlan_decap keeps the frames it does not take (control frames, vxvde goodbyes) in order, at lower
    // indices: find each followed frame by its mbuf.
    std::array<uint16_t, burst::capacity> slot;
    slot.fill(untraced);
    for (uint16_t k = 0; k < _count; ++k) {
        const auto* at = std::find(b.pkts.begin(), b.pkts.begin() + b.count, _mbuf[k]);
        if (at == b.pkts.begin() + b.count) {
            // Taken: a control frame (ARP, neighbour discovery, IGMP/MLD), else a vxvde goodbye.
            const bool control = vxlan::maybe_control(_frames[k].head.data(), _frames[k].head_len);
            _frames[k].add(
                {trace_stage::vxlan_decap, control ? trace_decision::arp_taken : trace_decision::goodbye_taken});
            _dropped[k] = true; // nothing more happens to it
            continue;
        }
        const auto i = static_cast<uint16_t>(at - b.pkts.begin());
        slot[i] = k;
        if (b.out[i].is_drop()) {
            _dropped[k] = true;
            _frames[k].add({trace_stage::vxlan_decap, trace_decision::dropped, b.why[i]});
        } else {
            _frames[k].add({trace_stage::vxlan_decap, trace_decision::decapsulated, {}, 0, b.bd[i], 0,
                            w.state->vxlan.vni_of_bd[b.bd[i]]});
        }
    }
    _slot = slot;
}

// ---- control side ----

trace_session::trace_session(const trace_filter& f, uint64_t count, const std::vector<std::unique_ptr<worker>>& workers,
                             rte_rcu_qsbr* rcu, uint32_t id)
    : _workers(workers), _rcu(rcu), _rings("vx_trace", id, workers.size(), sizeof(frame_trace), trace_ring_size) {
    for (size_t i = 0; i < workers.size(); ++i) {
        _tracers.push_back(std::make_unique<frame_tracer>(f, _rings[i], count));
        workers[i]->observe(_tracers[i].get());
    }
    wait_for_new_round(_rcu);
}

trace_session::~trace_session() {
    for (const auto& w : _workers) {
        w->observe(static_cast<frame_tracer*>(nullptr));
    }
    wait_for_new_round(_rcu);
}

void trace_session::collect() {
    const size_t first_new = _queue.size();
    for (const auto& t : _tracers) {
        frame_trace f;
        while (rte_ring_sc_dequeue_elem(t->ring(), &f, sizeof(f)) == 0) {
            _queue.push_back(f);
        }
    }
    std::stable_sort(_queue.begin() + static_cast<std::ptrdiff_t>(first_new), _queue.end(),
                     [](const frame_trace& a, const frame_trace& b) { return a.tsc < b.tsc; });
}

std::vector<frame_trace> trace_session::take(size_t n) {
    std::vector<frame_trace> out;
    while (!_queue.empty() && out.size() < n) {
        out.push_back(_queue.front());
        _queue.pop_front();
    }
    return out;
}

uint64_t trace_session::lost() const {
    uint64_t n = 0;
    for (const auto& t : _tracers) {
        n += t->lost();
    }
    return n;
}

} // namespace vx

// SPDX-License-Identifier: MIT
#include "tables/vtep_control.hh"

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <memory>
#include <random>

#include "config/vxlan.hh"
#include "packet/ipv6.hh"
#include "packet/membership.hh"
#include "packet/neighbour.hh"

#include <fmt/format.h>

namespace vx {

namespace {

// The remote's index, adding it (unresolved) when it is new. `vxvde_port`: a vxvde endpoint's
// (or group's) UDP port, which frames to it go to; 0: a VXLAN VTEP, reached on udp_port.
uint16_t add_remote(vtep_table& t, const ip_address& ip, bool is_group, uint16_t vxvde_port = 0) {
    remote_vtep r;
    r.outer.src_mac = t.mac;
    r.outer.src_ip = ip.is_v4() ? *t.v4 : *t.v6;
    r.outer.dst_ip = ip;
    r.outer.dst_port = vxvde_port != 0 ? vxvde_port : t.udp_port;
    r.outer.ttl = t.ttl;
    r.outer.dscp = t.dscp;
    r.is_group = is_group;
    r.vxvde = vxvde_port != 0;
    if (is_group && !std::binary_search(t.groups.begin(), t.groups.end(), ip)) {
        t.groups.insert(std::lower_bound(t.groups.begin(), t.groups.end(), ip), ip);
    }
    for (size_t i = 0; i < t.remotes.size(); ++i) {
        if (!t.remotes[i].retired && t.remotes[i].key() == r.key() && t.remotes[i].is_group == is_group) {
            return static_cast<uint16_t>(i); // kept: its index and its next hop
        }
    }
    if (const auto sibling = t.any_remote_at(ip); sibling && !is_group) {
        r.outer.dst_mac = t.remotes[*sibling].outer.dst_mac; // one next hop per address
        r.resolved = t.remotes[*sibling].resolved;
    } else if (!is_group && t.next_hop) {
        r.outer.dst_mac = *t.next_hop;
        r.resolved = true;
    }
    if (is_group) {
        r.outer.dst_mac = vxlan::group_mac(ip);
        r.resolved = true;
    }
    const auto index = static_cast<uint16_t>(t.remotes.size());
    t.remotes.push_back(r);
    if (!is_group) {
        const auto at = std::lower_bound(t.unicast_remotes.begin(), t.unicast_remotes.end(), r.key(),
                                         [](const auto& e, const remote_key& k) { return e.first < k; });
        t.unicast_remotes.insert(at, {r.key(), index});
    }
    return index;
}

uint64_t now_ms() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
}

// A VXLAN VTEP and vxvde endpoints may share an address, and so a next hop: one of them (the
// first in the sorted index) stands for the address when it is resolved and refreshed.
bool speaks_for_its_address(const vtep_table& t, size_t index) {
    return t.any_remote_at(t.remotes[index].outer.dst_ip) == index;
}

std::string remote_name(const ip_address& ip, uint16_t vxvde_port) {
    return vxvde_port == 0 ? fmt::format("VTEP {}", ip.to_string())
                           : fmt::format("vxvde endpoint {}", remote_key{ip, vxvde_port}.to_string());
}

// The segment's counter slot: the one it has had since it was first configured, or a new one
// (vtep_table.hh: slots are never reused); not_counted once max_segments are taken.
uint16_t counter_slot(vtep_table& t, uint16_t port, uint32_t vni) {
    if (const auto slot = t.slot_of(port, vni)) {
        return *slot;
    }
    if (t.segment_slots.size() >= max_segments) {
        spdlog::warn("vxlan: vni {} (UDP port {}) is not counted: {} segments have had counters since the start "
                     "(a restart counts it)",
                     vni, port, max_segments);
        return not_counted;
    }
    const auto entry = std::pair{vtep_table::segment_key(port, vni), static_cast<uint16_t>(t.segment_slots.size())};
    t.segment_slots.insert(std::lower_bound(t.segment_slots.begin(), t.segment_slots.end(), entry), entry);
    return entry.second;
}

// The per-domain part of the table, from the segments: VNI <-> domain, counter slots, flood
// lists, groups, vxvde ports. Remotes and counter slots already in `t` keep their index.
void add_segments(vtep_table& t, const config::vtep& v, const l2_tables& l2) {
    t.vni_of_bd.assign(l2.domains.size(), 0);
    t.source_port_of_bd.assign(l2.domains.size(), 0);
    t.flood_of_bd.assign(l2.domains.size(), {});
    t.segment_of_bd.assign(l2.domains.size(), not_counted);
    for (const auto& s : v.segments) {
        const uint16_t bd = l2.bd_of_vlan[s.vlan];
        const uint16_t port = config::segment_udp_port(v, s);
        t.vni_of_bd[bd] = s.vni;
        t.segment_of_bd[bd] = counter_slot(t, port, s.vni);
        t.bd_of_segment.emplace_back(vtep_table::segment_key(port, s.vni), bd);
        if (s.vxvde) {
            t.source_port_of_bd[bd] = port; // vxvde endpoints learn vxswitch at (address, this port)
            t.vxvde_ports.push_back(port);
        }
        for (const auto& text : s.remotes) {
            t.flood_of_bd[bd].push_back(add_remote(t, *ip_address::parse(text), false));
        }
        if (!s.group.empty()) {
            t.flood_of_bd[bd].push_back(add_remote(t, *ip_address::parse(s.group), true, s.vxvde ? port : 0));
        }
    }
    std::sort(t.bd_of_segment.begin(), t.bd_of_segment.end());
    std::sort(t.vxvde_ports.begin(), t.vxvde_ports.end());
    t.vxvde_ports.erase(std::unique(t.vxvde_ports.begin(), t.vxvde_ports.end()), t.vxvde_ports.end());
}

// Every remote index some flood list names: the configured remotes and groups.
std::vector<bool> flood_targets(const vtep_table& t) {
    std::vector<bool> out(t.remotes.size(), false);
    for (const auto& list : t.flood_of_bd) {
        for (const uint16_t r : list) {
            out[r] = true;
        }
    }
    return out;
}

void retire(vtep_table& t, uint16_t index) {
    remote_vtep& r = t.remotes[index];
    r.retired = true;
    r.resolved = false; // a frame still sent to it (its MACs are flushed after the grace period) is dropped
    std::erase_if(t.unicast_remotes, [&](const auto& e) { return e.second == index; });
}

} // namespace

vtep_control::rebuilt vtep_control::rebuild(const vtep_table& running, const config::model& m, const l2_tables& l2) {
    rebuilt out;
    vtep_table& t = out.table;
    t = running; // the local endpoint (restart-only), every remote in its slot with its next hop
    t.groups.clear();
    t.vxvde_ports.clear();
    t.bd_of_segment.clear();
    add_segments(t, *m.vxlan, l2);
    const auto before = flood_targets(running);
    const auto after = flood_targets(t);
    for (size_t i = 0; i < before.size(); ++i) {
        if (before[i] && !after[i]) {
            retire(t, static_cast<uint16_t>(i));
            out.retired.push_back(static_cast<uint16_t>(remote_port_base + i));
        }
    }
    // Domain indices stay across changes (l2_tables::build), so the running table's are the same domains.
    for (uint16_t bd = 0; bd < running.vni_of_bd.size(); ++bd) {
        const bool had = running.vni_of_bd[bd] != 0;
        const bool same = bd < t.vni_of_bd.size() && t.vni_of_bd[bd] == running.vni_of_bd[bd] &&
                          t.source_port_of_bd[bd] == running.source_port_of_bd[bd];
        if (had && !same) {
            out.domains.push_back(bd);
        }
    }
    return out;
}

vtep_table vtep_control::build(const config::model& m, const l2_tables& l2, const mac_addr& underlay_mac) {
    vtep_table t;
    if (!m.vxlan) {
        return t;
    }
    const auto& v = *m.vxlan;
    for (size_t i = 0; i < m.ports.size(); ++i) {
        if (config::is_underlay(m, i)) {
            t.underlay = static_cast<uint16_t>(i);
        }
    }
    t.mac = underlay_mac;
    t.v4 = v.address.empty() ? std::nullopt : ip_address::parse(v.address);
    t.v6 = v.address6.empty() ? std::nullopt : ip_address::parse(v.address6);
    t.udp_port = v.udp_port;
    t.ttl = v.ttl;
    t.dscp = v.dscp;
    t.next_hop = mac_addr::parse(v.next_hop_mac);
    add_segments(t, v, l2);
    return t;
}

void vtep_control::adopt_groups(const std::vector<ip_address>& groups) {
    _membership.change_groups(groups, now_ms());
}


vtep_control::vtep_control(snapshot_holder& state, rte_mempool* pool, const coarse_clock& clock)
    : _state(state), _pool(pool), _clock(clock), _membership(state.current().vxlan.groups, std::random_device{}()) {}

size_t vtep_control::drain() {
    std::array<vtep_event, 32> events;
    size_t total = 0;
    std::unique_ptr<vtep_table> changed;
    bool any_change = false; // a confirmation of what is known publishes nothing
    for (rte_ring* ring : _events) {
        unsigned n = 0;
        do {
            n = rte_ring_sc_dequeue_burst_elem(ring, events.data(), sizeof(vtep_event), events.size(), nullptr);
            for (unsigned i = 0; i < n; ++i) {
                if (events[i].what == vtep_event::kind::membership_query) { // no table change
                    _membership.query(events[i].ip, events[i].max_delay_ms, now_ms());
                    continue;
                }
                if (!changed) {
                    changed = std::make_unique<vtep_table>(_state.current().vxlan);
                }
                any_change = apply(events[i], *changed) || any_change;
            }
            total += n;
        } while (n == events.size());
    }
    if (any_change) {
        publish(std::move(*changed));
    }
    return total;
}

bool vtep_control::apply(const vtep_event& e, vtep_table& t) {
    switch (e.what) {
    case vtep_event::kind::remote_seen:
        if (t.remote_of(e.ip, e.port) || !(e.ip.is_v4() ? t.v4 : t.v6)) {
            return false; // already added (several workers may report it), or a family we do not speak
        }
        add_remote(t, e.ip, false, e.port);
        spdlog::info("vxlan: remote {} discovered", remote_name(e.ip, e.port));
        return true;
    case vtep_event::kind::goodbye:
        if (const auto index = t.remote_of(e.ip, e.port)) {
            _departed.push_back(static_cast<uint16_t>(remote_port_base + *index));
        }
        return false; // the table stays: the MAC table forgets the endpoint (take_departed)
    case vtep_event::kind::neighbour:
        break;
    case vtep_event::kind::membership_query:
        return false; // drain() hands queries to the membership state, never here
    }
    if (!t.any_remote_at(e.ip) || t.next_hop) {
        return false; // not a remote of ours, or all of them go through the static next hop
    }
    _refresh.confirmed(e.ip, _clock.now_s());
    bool changed = false; // every remote at that address: a VTEP and vxvde endpoints may share it
    for (auto& r : t.remotes) {
        if (r.is_group || r.retired || r.outer.dst_ip != e.ip || (r.resolved && r.outer.dst_mac == e.mac)) {
            continue;
        }
        r.outer.dst_mac = e.mac;
        r.resolved = true;
        changed = true;
    }
    if (changed) {
        spdlog::info("vxlan: remote VTEP {} is at {}", e.ip.to_string(), e.mac.to_string());
    }
    return changed;
}

void vtep_control::publish(vtep_table t) {
    auto next = std::make_unique<snapshot>(_state.current());
    next->vxlan = std::move(t);
    _state.publish(std::move(next));
}

void vtep_control::tick() {
    send_reports(_state.current().vxlan);
    const uint32_t now = _clock.now_s();
    if (now == _last_tick) {
        return;
    }
    _last_tick = now;
    refresh_next_hops(now);
    request_next_hops(_state.current().vxlan);
}

void vtep_control::refresh_next_hops(uint32_t now_s) {
    const vtep_table& t = _state.current().vxlan;
    if (!t.enabled() || t.next_hop) {
        return; // a static next hop is the operator's to keep right
    }
    std::unique_ptr<vtep_table> changed;
    for (size_t i = 0; i < t.remotes.size(); ++i) {
        const remote_vtep& r = t.remotes[i];
        if (r.is_group || !r.resolved || !speaks_for_its_address(t, i)) {
            continue;
        }
        switch (_refresh.due(r.outer.dst_ip, now_s)) {
        case next_hop_refresh::action::none:
            break;
        case next_hop_refresh::action::probe:
            send_request(t, r.outer.dst_ip);
            break;
        case next_hop_refresh::action::unresolve:
            spdlog::info("vxlan: remote VTEP {} at {} no longer answers: resolving it again", r.outer.dst_ip.to_string(),
                         r.outer.dst_mac.to_string());
            if (!changed) {
                changed = std::make_unique<vtep_table>(t);
            }
            for (auto& sharing : changed->remotes) { // the VTEP and vxvde endpoints at that address
                sharing.resolved = sharing.resolved && (sharing.is_group || sharing.outer.dst_ip != r.outer.dst_ip);
            }
            break;
        }
    }
    if (changed) {
        publish(std::move(*changed));
    }
}

void vtep_control::send_reports(const vtep_table& t) {
    if (!t.enabled() || _inject == nullptr) {
        return;
    }
    const uint64_t now = now_ms();
    if (!_joined) {
        _membership.joined(now);
        _joined = true;
    }
    for (const auto& r : _membership.due(now)) {
        // IGMP from the VTEP's IPv4 address; MLD from the link-local one (RFC 3810 5.2.13).
        const bool v4 = r.groups.front().is_v4();
        const ip_address src = v4 ? *t.v4 : ipv6::link_local(t.mac);
        rte_mbuf* m = new_frame(membership::report_len(v4, r.groups.size()));
        if (m == nullptr) {
            return; // the pool is exhausted: a lost report, as on a lossy link
        }
        membership::write_report(rte_pktmbuf_mtod(m, uint8_t*), t.mac, src, r.type, r.groups);
        if (!send(m)) {
            return;
        }
    }
}

rte_mbuf* vtep_control::new_frame(uint32_t len) const {
    rte_mbuf* m = rte_pktmbuf_alloc(_pool);
    if (m != nullptr && rte_pktmbuf_append(m, static_cast<uint16_t>(len)) == nullptr) {
        rte_pktmbuf_free(m);
        return nullptr;
    }
    return m;
}

bool vtep_control::send(rte_mbuf* m) const {
    if (rte_ring_sp_enqueue(_inject, m) != 0) {
        rte_pktmbuf_free(m);
        return false;
    }
    return true;
}

void vtep_control::request_next_hops(const vtep_table& t) const {
    if (!t.enabled() || _inject == nullptr) {
        return;
    }
    for (size_t i = 0; i < t.remotes.size(); ++i) {
        if (!t.remotes[i].resolved && speaks_for_its_address(t, i) && !send_request(t, t.remotes[i].outer.dst_ip)) {
            return;
        }
    }
}

bool vtep_control::send_request(const vtep_table& t, const ip_address& remote) const {
    const bool v4 = remote.is_v4();
    if (!(v4 ? t.v4 : t.v6)) {
        return true; // a family we do not speak (a remote seen but not configured)
    }
    rte_mbuf* m = new_frame(v4 ? ether_header_len + vxlan::arp_len : neighbour::frame_len);
    if (m == nullptr) {
        return false; // the pool is exhausted: next second
    }
    auto* p = rte_pktmbuf_mtod(m, uint8_t*);
    if (v4) {
        vxlan::write_arp_request(p, t.mac, *t.v4, remote);
    } else {
        neighbour::write_solicitation(p, t.mac, *t.v6, remote);
    }
    return send(m);
}

} // namespace vx

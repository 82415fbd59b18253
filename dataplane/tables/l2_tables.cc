// SPDX-License-Identifier: MIT
#include "tables/l2_tables.hh"

#include <algorithm>

#include "config/port_vlans.hh"
#include "config/vxlan.hh"

namespace vx {

namespace {

using config::wire_binding;

// Untagged frames, and priority-tagged ones (VID 0: 802.1Q treats them as untagged, and their
// tag is the port's to replace, keeping its PCP). On a customer port every C-tag, priority
// tag included, is payload: the frame joins the S-VLAN with its tags untouched.
void untagged_rules(const config::port& p, uint16_t bd, port_vlan_rules& r) {
    r.ingress[port_vlan_rules::untagged_slot] = ingress_rule::domain(bd, 0);
    r.ingress[0] = ingress_rule::domain(bd, 1);
    switch (p.mode) {
    case config::port_mode::access:
        break;
    case config::port_mode::trunk:
    case config::port_mode::s_trunk:
        r.ingress[p.native_vlan.value_or(0)] = ingress_rule::domain(bd, 1); // native VLAN, tagged, too
        break;
    case config::port_mode::customer:
        if (p.c_vlans.empty()) {
            r.ingress.fill(ingress_rule::domain(bd, 0));
        } else {
            r.ingress[port_vlan_rules::untagged_slot] = ingress_rule::drop(drop_reason::c_vlan_not_allowed);
            r.ingress[0] = r.ingress[port_vlan_rules::untagged_slot];
            for (uint16_t c : p.c_vlans) {
                r.ingress[c] = ingress_rule::domain(bd, 0);
            }
        }
        break;
    }
}

// Ingress: every VID starts as a drop with the reason that suits the port's mode; then each
// binding opens the VIDs (or the untagged slot 0, or a 2:1 pair) that lead to its domain.
port_vlan_rules ingress_rules(const config::port& p, const std::vector<wire_binding>& bindings, const l2_tables& t) {
    port_vlan_rules r;
    r.tpid = p.tpid;
    r.drop_foreign_tpid = p.foreign_tpid == config::foreign_tpid_action::drop;
    r.max_untagged_frame = static_cast<uint16_t>(p.mtu.value_or(config::default_mtu) + 14);
    switch (p.mode) {
    case config::port_mode::access:
        r.ingress.fill(ingress_rule::drop(drop_reason::tagged_on_access));
        break;
    case config::port_mode::customer:
        r.ingress.fill(ingress_rule::drop(drop_reason::c_vlan_not_allowed));
        break;
    case config::port_mode::trunk:
    case config::port_mode::s_trunk:
        r.ingress.fill(ingress_rule::drop(drop_reason::vlan_not_allowed));
        r.ingress[port_vlan_rules::untagged_slot] = ingress_rule::drop(drop_reason::untagged_on_trunk);
        r.ingress[0] = r.ingress[port_vlan_rules::untagged_slot];
        break;
    }
    for (const auto& b : bindings) {
        const uint16_t bd = t.bd_of_vlan[b.domain];
        r.only_domain = &b == &bindings.front() || r.only_domain == bd ? bd : not_counted;
        switch (b.tags) {
        case 0:
            untagged_rules(p, bd, r);
            break;
        case 1:
            r.ingress[b.vid] = ingress_rule::domain(bd, 1);
            break;
        default:
            r.ingress[b.vid] = ingress_rule::by_inner_vid();
            r.pairs.push_back({pair_rule::key_of(b.vid, b.inner_vid), ingress_rule::domain(bd, 2)});
            break;
        }
    }
    std::sort(r.pairs.begin(), r.pairs.end(), [](const pair_rule& a, const pair_rule& b) { return a.key < b.key; });
    return r;
}

egress_rule egress_of(const wire_binding& b) {
    switch (b.tags) {
    case 0:
        return egress_rule::untagged();
    case 1:
        return egress_rule::tagged(b.vid);
    default:
        return egress_rule::double_tagged(b.vid, b.inner_vid);
    }
}

} // namespace

ingress_rule port_vlan_rules::pair(uint16_t vid, uint16_t inner_vid) const {
    const uint32_t key = pair_rule::key_of(vid, inner_vid);
    const auto it =
        std::lower_bound(pairs.begin(), pairs.end(), key, [](const pair_rule& p, uint32_t k) { return p.key < k; });
    return it != pairs.end() && it->key == key ? it->rule : ingress_rule::drop(drop_reason::vlan_not_allowed);
}

l2_tables l2_tables::build(const config::model& m, const l2_tables* running) {
    l2_tables t;
    t.bd_of_vlan.fill(no_domain);
    // A runtime change keeps every domain's index: fdb keys and learn events in flight name
    // domains by index. Domains nobody carries any more keep theirs too, unmapped (below).
    for (size_t bd = 0; running != nullptr && bd < running->domains.size(); ++bd) {
        t.bd_of_vlan[running->domains[bd].vlan] = static_cast<uint16_t>(bd);
        t.domains.push_back({running->domains[bd].vlan, {}});
    }
    std::vector<std::vector<wire_binding>> bindings;
    for (size_t i = 0; i < m.ports.size(); ++i) {
        // The VXLAN underlay port carries no domain: its frames are decapsulated into them.
        // A vacant slot (a removed port's) carries nothing either.
        const bool carries = !config::is_underlay(m, i) && !m.ports[i].vacant();
        bindings.push_back(carries ? config::bindings_of(m.ports[i]) : std::vector<wire_binding>{});
        for (const auto& b : bindings.back()) {
            if (t.bd_of_vlan[b.domain] == no_domain) {
                t.bd_of_vlan[b.domain] = static_cast<uint16_t>(t.domains.size());
                t.domains.push_back({b.domain, {}});
            }
        }
    }
    for (size_t i = 0; i < m.ports.size(); ++i) {
        auto rules = ingress_rules(m.ports[i], bindings[i], t);
        rules.egress.assign(t.domains.size(), egress_rule::not_member());
        for (const auto& b : bindings[i]) {
            const uint16_t bd = t.bd_of_vlan[b.domain];
            rules.egress[bd] = egress_of(b);
            t.domains[bd].members.push_back(static_cast<uint16_t>(i));
        }
        t.ports.push_back(std::move(rules));
    }
    for (size_t bd = 0; running != nullptr && bd < running->domains.size(); ++bd) {
        if (t.domains[bd].members.empty()) {
            t.bd_of_vlan[t.domains[bd].vlan] = no_domain;
        }
    }
    return t;
}

std::vector<std::pair<uint16_t, uint16_t>> l2_tables::carried() const {
    std::vector<std::pair<uint16_t, uint16_t>> out;
    for (uint16_t vlan = config::min_vlan; vlan <= config::max_vlan; ++vlan) {
        if (bd_of_vlan[vlan] != no_domain) {
            out.emplace_back(vlan, bd_of_vlan[vlan]);
        }
    }
    return out;
}

} // namespace vx

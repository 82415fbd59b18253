// SPDX-License-Identifier: MIT
#include "tables/l2_tables.hh"

#include <algorithm>

namespace vx {

namespace {

// The VLANs a port carries, and which one (if any) travels untagged on it.
struct port_vlans {
    std::vector<uint16_t> carried;
    int untagged = -1;
};

port_vlans vlans_of(const config::port& p) {
    if (p.mode == config::port_mode::access) {
        return {{p.access_vlan}, p.access_vlan};
    }
    return {p.allowed_vlans, p.native_vlan ? *p.native_vlan : -1};
}

port_vlan_rules ingress_rules(const config::port& p, const port_vlans& v, const l2_tables& t) {
    port_vlan_rules r;
    r.tpid = p.tpid;
    const bool access = p.mode == config::port_mode::access;
    r.ingress.fill(ingress_rule::drop(access ? drop_reason::tagged_on_access : drop_reason::vlan_not_allowed));
    r.ingress[0] = v.untagged >= 0 ? ingress_rule::domain(t.bd_of_vlan[static_cast<size_t>(v.untagged)])
                                   : ingress_rule::drop(drop_reason::untagged_on_trunk);
    if (!access) {
        for (uint16_t vlan : v.carried) {
            r.ingress[vlan] = ingress_rule::domain(t.bd_of_vlan[vlan]);
        }
    }
    return r;
}

} // namespace

l2_tables l2_tables::build(const config::model& m) {
    l2_tables t;
    t.bd_of_vlan.fill(no_domain);
    std::vector<port_vlans> vlans;
    for (const auto& p : m.ports) {
        vlans.push_back(vlans_of(p));
        for (uint16_t vlan : vlans.back().carried) {
            if (t.bd_of_vlan[vlan] == no_domain) {
                t.bd_of_vlan[vlan] = static_cast<uint16_t>(t.domains.size());
                t.domains.push_back({vlan, {}});
            }
        }
    }
    for (size_t i = 0; i < m.ports.size(); ++i) {
        auto rules = ingress_rules(m.ports[i], vlans[i], t);
        rules.egress.assign(t.domains.size(), egress_rule::not_member());
        for (uint16_t vlan : vlans[i].carried) {
            const uint16_t bd = t.bd_of_vlan[vlan];
            rules.egress[bd] = vlan == vlans[i].untagged ? egress_rule::untagged() : egress_rule::tagged(vlan);
            t.domains[bd].members.push_back(static_cast<uint16_t>(i));
        }
        t.ports.push_back(std::move(rules));
    }
    return t;
}

} // namespace vx

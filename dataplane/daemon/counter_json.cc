// SPDX-License-Identifier: MIT
#include "daemon/counter_json.hh"

#include "config/vxlan.hh"

namespace vx {

using nlohmann::json;

json segment_json(const config::vtep& v, const config::vxlan_segment& s) {
    return {{"vni", s.vni},
            {"vlan", s.vlan},
            {"protocol", s.vxvde ? "vxvde" : "vxlan"},
            {"port", config::segment_udp_port(v, s)}};
}

json vlans_json(const l2_tables& l2, const std::vector<domain_counter_block>& totals, std::optional<uint16_t> only) {
    json out = json::array();
    for (const auto& [vlan, bd] : l2.carried()) {
        if (only && bd != *only) {
            continue;
        }
        json d = block_json(bd < totals.size() ? totals[bd] : domain_counter_block{});
        d["vlan"] = vlan;
        out.push_back(std::move(d));
    }
    return out;
}

std::optional<uint16_t> slot_of(const config::vtep& v, const vtep_table& t, const config::vxlan_segment& s) {
    return t.slot_of(config::segment_udp_port(v, s), s.vni);
}

json vnis_json(const config::vtep& v, const vtep_table& t, const std::vector<vni_counter_block>& totals,
               std::optional<size_t> only) {
    json out = json::array();
    for (size_t i = 0; i < v.segments.size(); ++i) {
        if (only && i != *only) {
            continue;
        }
        const auto slot = slot_of(v, t, v.segments[i]);
        json s = segment_json(v, v.segments[i]);
        s.update(block_json(slot && *slot < totals.size() ? totals[*slot] : vni_counter_block{}));
        out.push_back(std::move(s));
    }
    return out;
}

} // namespace vx

// SPDX-License-Identifier: MIT
#include "config/port_vlans.hh"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>

namespace vx::config {

namespace {

std::vector<wire_binding> trunk_bindings(const port& p) {
    std::vector<wire_binding> out;
    for (uint16_t vlan : p.allowed_vlans) {
        if (vlan == p.native_vlan) {
            out.push_back({vlan, 0, 0, 0, fmt::format("native_vlan {}", vlan)});
        } else {
            out.push_back({vlan, 1, vlan, 0, fmt::format("vlans {}", vlan)});
        }
    }
    for (size_t i = 0; i < p.translations.size(); ++i) {
        const auto& t = p.translations[i];
        const auto origin = fmt::format("translate[{}]", i);
        if (t.c_vlan) {
            out.push_back({t.domain, 2, t.vlan, *t.c_vlan, origin});
        } else {
            out.push_back({t.domain, 1, t.vlan, 0, origin});
        }
    }
    return out;
}

// The tags a frame of `b` may wear when it arrives: its own, and the C-tag that S-trunks
// and customer ports carry inside as payload.
int arriving_tags(const port& p, const wire_binding& b) {
    const bool carries_c_tags = p.mode == port_mode::s_trunk || p.mode == port_mode::customer;
    return b.tags + (carries_c_tags ? 1 : 0);
}

// The longest frame a port sends or receives with `tags` tags: the MTU counts the payload
// after the Ethernet header and the first tag (1500 -> 1518-byte tagged frames, as in
// 802.3 and Linux); every further tag counts against it.
int max_frame(const port& p, int tags) {
    return p.mtu.value_or(default_mtu) + 14 + (tags > 0 ? 4 : 0);
}

} // namespace

std::vector<wire_binding> bindings_of(const port& p) {
    switch (p.mode) {
    case port_mode::access:
        return {{p.access_vlan, 0, 0, 0, "vlan"}};
    case port_mode::customer:
        return {{p.s_vlan, 0, 0, 0, "s_vlan"}};
    case port_mode::trunk:
    case port_mode::s_trunk:
        return trunk_bindings(p);
    }
    return {};
}

bool carries(const port& p, uint16_t domain) {
    const auto b = bindings_of(p);
    return std::any_of(b.begin(), b.end(), [&](const wire_binding& w) { return w.domain == domain; });
}

uint16_t default_tpid(port_mode mode) {
    return mode == port_mode::s_trunk ? s_tag_tpid : c_tag_tpid;
}

std::string_view mode_name(port_mode mode) {
    switch (mode) {
    case port_mode::access:
        return "access";
    case port_mode::trunk:
        return "trunk";
    case port_mode::s_trunk:
        return "s-trunk";
    case port_mode::customer:
        return "customer";
    }
    return "?";
}

std::string describe_vlans(const port& p) {
    std::string out{mode_name(p.mode)};
    if (p.tpid != default_tpid(p.mode)) {
        out += fmt::format(" tpid {:#06x}", p.tpid);
    }
    switch (p.mode) {
    case port_mode::access:
        return out + fmt::format(" vlan {}", p.access_vlan);
    case port_mode::customer:
        out += fmt::format(" s_vlan {}", p.s_vlan);
        return p.c_vlans.empty() ? out : out + fmt::format(" c_vlans {}", fmt::join(p.c_vlans, ","));
    case port_mode::trunk:
    case port_mode::s_trunk:
        break;
    }
    if (!p.allowed_vlans.empty()) {
        out += fmt::format(" vlans {}", fmt::join(p.allowed_vlans, ","));
    }
    if (p.native_vlan) {
        out += fmt::format(" native {}", *p.native_vlan);
    }
    for (const auto& t : p.translations) {
        out += t.c_vlan ? fmt::format(" translate {}+{}>{}", t.vlan, *t.c_vlan, t.domain)
                        : fmt::format(" translate {}>{}", t.vlan, t.domain);
    }
    return out;
}

void check_bindings(const port& p, const std::string& label, std::vector<std::string>& errors) {
    std::map<uint16_t, std::string> by_domain;
    std::map<uint32_t, std::string> by_wire; // (tags, vid, inner vid) -> origin
    std::set<uint16_t> outer_of_pairs;
    std::set<uint16_t> single_tags;
    for (const auto& b : bindings_of(p)) {
        if (const auto [it, fresh] = by_domain.emplace(b.domain, b.origin); !fresh) {
            errors.push_back(fmt::format("{}: {} and {} both carry bridge domain {}: frames leaving the port "
                                         "could not say which tag to wear",
                                         label, it->second, b.origin, b.domain));
        }
        const uint32_t wire = (uint32_t{b.tags} << 24) | (uint32_t{b.vid} << 12) | b.inner_vid;
        if (const auto [it, fresh] = by_wire.emplace(wire, b.origin); !fresh) {
            errors.push_back(fmt::format("{}: {} and {} map the same wire tags to two bridge domains", label,
                                         it->second, b.origin));
        }
        (b.tags == 2 ? outer_of_pairs : single_tags).insert(b.vid);
        if (b.tags == 2 && single_tags.contains(b.vid)) {
            errors.push_back(fmt::format("{}: VLAN {} is both a VLAN of its own and the outer VLAN of {}", label,
                                         b.vid, b.origin));
        } else if (b.tags == 1 && outer_of_pairs.contains(b.vid)) {
            errors.push_back(fmt::format("{}: VLAN {} ({}) is already the outer VLAN of a 2:1 translation", label,
                                         b.vid, b.origin));
        }
    }
}

std::vector<std::string> mtu_warnings(const model& m) {
    std::vector<std::string> warnings;
    std::set<std::pair<size_t, size_t>> warned;
    for (size_t in = 0; in < m.ports.size(); ++in) {
        for (const auto& from : bindings_of(m.ports[in])) {
            for (size_t out = 0; out < m.ports.size(); ++out) {
                const auto to_bindings = bindings_of(m.ports[out]);
                const auto to = std::find_if(to_bindings.begin(), to_bindings.end(),
                                             [&](const wire_binding& b) { return b.domain == from.domain; });
                // Only paths that add tags: a frame that loses tags shrinks.
                if (out == in || to == to_bindings.end() || to->tags <= from.tags || warned.contains({in, out})) {
                    continue;
                }
                const int tags_in = arriving_tags(m.ports[in], from);
                const int tags_out = tags_in - from.tags + to->tags;
                const int longest = max_frame(m.ports[in], tags_in) + 4 * (to->tags - from.tags);
                const int limit = max_frame(m.ports[out], tags_out);
                if (longest > limit) {
                    warned.insert({in, out});
                    warnings.push_back(fmt::format(
                        "ports '{}' (mtu {}) and '{}' (mtu {}) share bridge domain {}: a {}-byte frame from '{}' "
                        "leaves '{}' as {} bytes, over its limit of {} (such frames are dropped and counted as "
                        "egress_mtu_exceeded); raise '{}''s mtu to {}",
                        m.ports[in].name, m.ports[in].mtu.value_or(default_mtu), m.ports[out].name,
                        m.ports[out].mtu.value_or(default_mtu), from.domain, max_frame(m.ports[in], tags_in),
                        m.ports[in].name, m.ports[out].name, longest, limit, m.ports[out].name,
                        m.ports[out].mtu.value_or(default_mtu) + longest - limit));
                }
            }
        }
    }
    return warnings;
}

} // namespace vx::config

// SPDX-License-Identifier: MIT
#include "config/xdp_steering.hh"

#include <arpa/inet.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "config/port_vlans.hh"
#include "packet/ether.hh"

namespace vx::config {

namespace {

template <class T>
void sort_unique(std::vector<T>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

std::optional<uint16_t> parse_port_number(std::string_view text) {
    uint32_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty() || v == 0 || v > 65535) {
        return std::nullopt;
    }
    return static_cast<uint16_t>(v);
}

template <class T, class Parse>
std::vector<T> parsed_list(const std::vector<std::string>& texts, Parse parse) {
    std::vector<T> out;
    for (const auto& t : texts) {
        if (const auto v = parse(t)) {
            out.push_back(*v);
        }
    }
    sort_unique(out);
    return out;
}

std::string join_or_dash(const std::vector<std::string>& items) {
    return items.empty() ? "-" : fmt::format("{}", fmt::join(items, ","));
}

template <class T>
std::vector<std::string> texts_of(const std::vector<T>& items) {
    std::vector<std::string> out;
    for (const auto& i : items) {
        if constexpr (std::is_integral_v<T>) {
            out.push_back(std::to_string(i));
        } else {
            out.push_back(to_string(i));
        }
    }
    return out;
}

// An entry found in both a steer list and its drop list: the map holds one action per key.
template <class T>
void check_disjoint(const std::vector<T>& steered, const std::vector<T>& dropped, const std::string& label,
                    const char* what, std::vector<std::string>& errors) {
    for (const auto& v : steered) {
        if (std::binary_search(dropped.begin(), dropped.end(), v)) {
            errors.push_back(fmt::format("{}: {} {} is both steered (steer.{}) and dropped (drop.{})", label, what,
                                         texts_of(std::vector<T>{v}).front(), what, what));
        }
    }
}

void check_texts(const std::vector<std::string>& texts, bool valid(std::string_view), const std::string& label,
                 const char* key, const char* form, std::vector<std::string>& errors) {
    for (const auto& t : texts) {
        if (!valid(t)) {
            errors.push_back(fmt::format("{}: {}: '{}' is not {}", label, key, t, form));
        }
    }
}

void check_capacity(size_t n, size_t max, const std::string& label, const char* what,
                    std::vector<std::string>& errors) {
    if (n > max) {
        errors.push_back(fmt::format("{}: {} {}, the steering program holds at most {}", label, n, what, max));
    }
}

} // namespace

std::optional<udp_dest> parse_udp_dest(std::string_view text) {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    const auto port = parse_port_number(text.substr(colon + 1));
    std::string_view host = text.substr(0, colon);
    if (!port || host.empty()) {
        return std::nullopt;
    }
    udp_dest d;
    d.port = *port;
    if (host == "*") {
        return d; // IPv4, any address; check_steering adds nothing for IPv6: see steer_rules_of
    }
    const bool v6 = host.front() == '[';
    if (v6) {
        if (host.size() < 3 || host.back() != ']') {
            return std::nullopt;
        }
        host = host.substr(1, host.size() - 2);
    }
    const std::string h(host);
    d.family = v6 ? 6 : 4;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, h.c_str(), d.addr.data()) != 1) {
        return std::nullopt;
    }
    return d;
}

std::optional<mac_range> parse_mac_range(std::string_view text) {
    constexpr size_t mac_len = 17;
    if (text.size() == mac_len) {
        const auto m = mac_addr::parse(text);
        return m ? std::optional{mac_range{m->to_u64(), m->to_u64()}} : std::nullopt;
    }
    if (text.size() != 2 * mac_len + 1 || text[mac_len] != '-') {
        return std::nullopt;
    }
    const auto lo = mac_addr::parse(text.substr(0, mac_len));
    const auto hi = mac_addr::parse(text.substr(mac_len + 1));
    if (!lo || !hi || lo->to_u64() > hi->to_u64()) {
        return std::nullopt;
    }
    return mac_range{lo->to_u64(), hi->to_u64()};
}

std::string to_string(const udp_dest& d) {
    if (d.any_address()) {
        return fmt::format("{}:{}", d.family == 6 ? "[::]" : "*", d.port);
    }
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(d.family == 6 ? AF_INET6 : AF_INET, d.addr.data(), buf, sizeof(buf));
    return d.family == 6 ? fmt::format("[{}]:{}", buf, d.port) : fmt::format("{}:{}", buf, d.port);
}

std::string to_string(const mac_range& r) {
    const auto lo = mac_addr::from_u64(r.lo).to_string();
    return r.lo == r.hi ? lo : lo + "-" + mac_addr::from_u64(r.hi).to_string();
}

std::vector<uint16_t> tagged_vlans(const port& p) {
    std::vector<uint16_t> out;
    if (p.mode == port_mode::trunk || p.mode == port_mode::s_trunk) {
        out = p.allowed_vlans;
        for (const auto& t : p.translations) {
            out.push_back(t.vlan);
        }
    }
    sort_unique(out);
    return out;
}

steer_rules steer_rules_of(const port& p) {
    const xdp_steering& x = *p.xdp;
    steer_rules r;
    r.own = x.own;
    r.tpid = p.tpid;
    if (!x.own) {
        r.vlans = x.vlans.value_or(tagged_vlans(p));
        sort_unique(r.vlans);
    }
    // "*:port" is any address of either family: the program looks the wildcard up per family.
    auto both_families = [](std::vector<udp_dest> v) {
        std::vector<udp_dest> out;
        for (auto d : v) {
            out.push_back(d);
            if (d.any_address()) {
                d.family = 6;
                out.push_back(d);
            }
        }
        sort_unique(out);
        return out;
    };
    r.udp = both_families(parsed_list<udp_dest>(x.udp, parse_udp_dest));
    r.macs = parsed_list<mac_range>(x.macs, parse_mac_range);
    r.drop_vlans = x.drop_vlans;
    sort_unique(r.drop_vlans);
    r.drop_ethertypes = x.drop_ethertypes;
    sort_unique(r.drop_ethertypes);
    for (const auto& m : parsed_list<mac_range>(x.drop_src_macs, parse_mac_range)) {
        r.drop_src_macs.push_back(m.lo);
    }
    r.drop_udp = both_families(parsed_list<udp_dest>(x.drop_udp, parse_udp_dest));
    return r;
}

std::string describe_steering(const steer_rules& r) {
    std::string out = r.own ? "own (every frame to the switch)"
                            : fmt::format("steer vlans {} udp {} macs {}", join_or_dash(texts_of(r.vlans)),
                                          join_or_dash(texts_of(r.udp)), join_or_dash(texts_of(r.macs)));
    std::vector<std::string> ethertypes;
    for (uint16_t e : r.drop_ethertypes) {
        ethertypes.push_back(fmt::format("{:#06x}", e));
    }
    std::vector<std::string> src_macs;
    for (uint64_t m : r.drop_src_macs) {
        src_macs.push_back(mac_addr::from_u64(m).to_string());
    }
    if (!r.drop_vlans.empty() || !ethertypes.empty() || !src_macs.empty() || !r.drop_udp.empty()) {
        out += fmt::format("; drop vlans {} ethertypes {} src_macs {} udp {}", join_or_dash(texts_of(r.drop_vlans)),
                           join_or_dash(ethertypes), join_or_dash(src_macs), join_or_dash(texts_of(r.drop_udp)));
    }
    return out;
}

void check_steering(const port& p, const std::string& label, std::vector<std::string>& errors) {
    const xdp_steering& x = *p.xdp;
    constexpr size_t ifname_max = 15; // IFNAMSIZ less its NUL
    if (x.iface.empty() || x.iface.size() > ifname_max || x.iface.find_first_of("/ ,=") != std::string::npos) {
        errors.push_back(fmt::format("{}: iface '{}' is not an interface name (1-{} characters, no '/', ' ', ',', '=')",
                                     label, x.iface, ifname_max));
    }
    const size_t before = errors.size();
    check_texts(x.udp, [](std::string_view t) { return parse_udp_dest(t).has_value(); }, label, "steer.udp",
                "a UDP destination (192.0.2.1:4789, [2001:db8::1]:4789, *:4789)", errors);
    check_texts(x.drop_udp, [](std::string_view t) { return parse_udp_dest(t).has_value(); }, label, "drop.udp",
                "a UDP destination (192.0.2.1:4789, [2001:db8::1]:4789, *:4789)", errors);
    check_texts(x.macs, [](std::string_view t) { return parse_mac_range(t).has_value(); }, label, "steer.macs",
                "a MAC or a range of MACs (02:aa:00:00:00:00-02:aa:00:ff:ff:ff)", errors);
    check_texts(x.drop_src_macs, [](std::string_view t) { return mac_addr::parse(t).has_value(); }, label,
                "drop.src_macs", "a MAC address", errors);
    if (errors.size() != before) {
        return;
    }
    if (x.own && (x.vlans || !x.udp.empty() || !x.macs.empty())) {
        errors.push_back(fmt::format("{}: own: true takes every frame to the switch; steer rules would mean nothing "
                                     "(remove one or the other)",
                                     label));
        return;
    }
    const steer_rules r = steer_rules_of(p);
    const auto carried = tagged_vlans(p);
    for (uint16_t v : r.vlans) {
        if (!std::binary_search(carried.begin(), carried.end(), v)) {
            errors.push_back(fmt::format("{}: steer.vlans: the port does not carry VLAN {} tagged ({}): the switch "
                                         "would drop what the program steers to it",
                                         label, v, carried.empty() ? "it carries none" : "it carries " +
                                         join_or_dash(texts_of(carried))));
        }
    }
    if (!r.own && r.vlans.empty() && r.udp.empty() && r.macs.empty()) {
        errors.push_back(fmt::format("{}: the steering program would send nothing to the switch: a {} port carries "
                                     "no tagged VLAN; give steer.macs or steer.udp, or own: true",
                                     label, mode_name(p.mode)));
    }
    check_disjoint(r.vlans, r.drop_vlans, label, "vlans", errors);
    check_disjoint(r.udp, r.drop_udp, label, "udp", errors);
    check_capacity(r.macs.size(), max_mac_ranges, label, "MAC ranges in steer.macs", errors);
    check_capacity(r.udp.size() + r.drop_udp.size(), max_udp_rules, label, "UDP rules (an * counts twice)", errors);
    check_capacity(r.drop_ethertypes.size(), max_ethertype_rules, label, "EtherTypes in drop.ethertypes", errors);
    check_capacity(r.drop_src_macs.size(), max_src_mac_rules, label, "MACs in drop.src_macs", errors);
}

std::string af_xdp_device(const std::string& port_name, const std::string& iface, uint16_t queues) {
    return fmt::format("net_af_xdp_{},iface={},start_queue=0,queue_count={}", port_name, iface, queues);
}

} // namespace vx::config

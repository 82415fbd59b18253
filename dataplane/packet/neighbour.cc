// SPDX-License-Identifier: MIT
#include "packet/neighbour.hh"

#include <cstring>

#include "packet/ipv6.hh"

namespace vx::neighbour {

namespace {

constexpr uint32_t icmp_len = frame_len - ether_header_len - ipv6::header_len; // 32
constexpr uint32_t body_len = 24; // type, code, checksum, flags/reserved, target
constexpr uint8_t option_source_link_layer = 1;
constexpr uint8_t option_target_link_layer = 2;
constexpr uint8_t flag_solicited = 0x40;
constexpr uint8_t flag_override = 0x20;

// The link-layer address option of `kind` among the options; `valid` false if an option
// has length 0 (RFC 4861 section 4.6: such a message is discarded) or runs past the end.
struct options_found {
    bool valid = true;
    std::optional<mac_addr> link_layer;
};
options_found find_link_layer(const uint8_t* opt, uint32_t len, uint8_t kind) {
    options_found f;
    for (uint32_t at = 0; at < len;) {
        const uint32_t opt_len = len - at >= 2 ? opt[at + 1] * 8u : 0;
        if (opt_len == 0 || at + opt_len > len) {
            f.valid = false;
            return f;
        }
        if (opt[at] == kind && opt_len >= 8) {
            f.link_layer = mac_addr::load(opt + at + 2);
        }
        at += opt_len;
    }
    return f;
}

void write_message(uint8_t* out, const mac_addr& mac, const mac_addr& dst_mac, const ip_address& src,
                   const ip_address& dst, uint8_t type, uint8_t flags, const ip_address& target, uint8_t option) {
    uint8_t* icmp = ipv6::write_headers(out, mac, dst_mac, src, dst, ipv6::next_icmpv6, 255, icmp_len);
    icmp[0] = type;
    icmp[1] = 0;
    store_be16(icmp + 2, 0);
    icmp[4] = flags;
    icmp[5] = icmp[6] = icmp[7] = 0;
    std::memcpy(icmp + 8, target.bytes.data(), 16);
    icmp[24] = option;
    icmp[25] = 1; // in units of 8 bytes
    std::memcpy(icmp + 26, mac.bytes.data(), 6);
    const uint16_t sum = ipv6::upper_checksum(src, dst, ipv6::next_icmpv6, icmp, icmp_len);
    std::memcpy(icmp + 2, &sum, 2); // computed in memory order: stored as is
}

} // namespace

read_result read(const uint8_t* frame, uint32_t len) {
    read_result r;
    const auto icmp = ipv6::find_icmpv6(frame, len);
    if (!icmp || (icmp->msg[0] != type_solicitation && icmp->msg[0] != type_advertisement)) {
        return r;
    }
    r.status = read_status::invalid;
    const uint8_t* m = icmp->msg;
    if (icmp->hop_limit != 255 || m[1] != 0 || icmp->len < body_len || !icmp->checksum_ok) {
        return r;
    }
    message& msg = r.msg;
    msg.advertisement = m[0] == type_advertisement;
    msg.solicited = msg.advertisement && (m[4] & flag_solicited) != 0;
    msg.eth_src = mac_addr::load(frame + 6);
    msg.src = icmp->src;
    msg.target = ip_address::v6(m + 8);
    const auto options = find_link_layer(m + body_len, icmp->len - body_len,
                                         msg.advertisement ? option_target_link_layer : option_source_link_layer);
    if (!options.valid || msg.target.is_multicast()) {
        return r;
    }
    msg.link_layer = options.link_layer;
    r.status = read_status::ok;
    return r;
}

void write_solicitation(uint8_t* out, const mac_addr& mac, const ip_address& src, const ip_address& target) {
    const ip_address group = ipv6::solicited_node(target);
    write_message(out, mac, vxlan::group_mac(group), src, group, type_solicitation, 0, target,
                  option_source_link_layer);
}

void write_advertisement(uint8_t* out, const mac_addr& mac, const message& solicitation) {
    const bool probe = solicitation.src == ip_address{}; // from :: : duplicate address detection
    const ip_address dst = probe ? ipv6::all_nodes() : solicitation.src;
    const mac_addr dst_mac = probe ? vxlan::group_mac(dst) : solicitation.link_layer.value_or(solicitation.eth_src);
    const auto flags = static_cast<uint8_t>(flag_override | (probe ? 0 : flag_solicited));
    write_message(out, mac, dst_mac, solicitation.target, dst, type_advertisement, flags, solicitation.target,
                  option_target_link_layer);
}

} // namespace vx::neighbour

// SPDX-License-Identifier: MIT
#include "packet/ipv6.hh"

#include <rte_ip.h>

#include <array>
#include <cstring>

namespace vx::ipv6 {

namespace {
ip_address from_bytes(std::array<uint8_t, 16> b) {
    return ip_address::v6(b.data());
}
} // namespace

ip_address link_local(const mac_addr& mac) {
    const auto& m = mac.bytes;
    return from_bytes({0xfe, 0x80, 0, 0, 0, 0, 0, 0, static_cast<uint8_t>(m[0] ^ 0x02), m[1], m[2], 0xff, 0xfe, m[3],
                       m[4], m[5]});
}

ip_address solicited_node(const ip_address& ip) {
    const auto& a = ip.bytes;
    return from_bytes({0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, a[13], a[14], a[15]});
}

ip_address all_nodes() {
    return from_bytes({0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01});
}

ip_address all_mldv2_routers() {
    return from_bytes({0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16});
}

uint16_t upper_checksum(const ip_address& src, const ip_address& dst, uint8_t upper, const uint8_t* msg, uint32_t len) {
    std::array<uint8_t, 40> pseudo{};
    std::memcpy(pseudo.data(), src.bytes.data(), 16);
    std::memcpy(pseudo.data() + 16, dst.bytes.data(), 16);
    store_be16(pseudo.data() + 32, static_cast<uint16_t>(len >> 16));
    store_be16(pseudo.data() + 34, static_cast<uint16_t>(len));
    pseudo[39] = upper;
    uint32_t sum = __rte_raw_cksum(pseudo.data(), pseudo.size(), 0);
    sum = __rte_raw_cksum(msg, len, sum);
    return static_cast<uint16_t>(~__rte_raw_cksum_reduce(sum));
}

uint8_t* write_headers(uint8_t* out, const mac_addr& src_mac, const mac_addr& dst_mac, const ip_address& src,
                       const ip_address& dst, uint8_t next_header, uint8_t hop_limit, uint16_t payload_len) {
    std::memcpy(out, dst_mac.bytes.data(), 6);
    std::memcpy(out + 6, src_mac.bytes.data(), 6);
    store_be16(out + 12, ethertype::ipv6);
    uint8_t* ip = out + ether_header_len;
    ip[0] = 0x60;
    ip[1] = ip[2] = ip[3] = 0;
    store_be16(ip + 4, payload_len);
    ip[6] = next_header;
    ip[7] = hop_limit;
    std::memcpy(ip + 8, src.bytes.data(), 16);
    std::memcpy(ip + 24, dst.bytes.data(), 16);
    return ip + header_len;
}

namespace {
// Whether the TLV options of a hop-by-hop header (its bytes after the first two) hold a
// Router Alert (type 5, RFC 2711).
bool has_router_alert(const uint8_t* opt, uint32_t len) {
    for (uint32_t at = 0; at < len;) {
        if (opt[at] == 0) { // Pad1: one byte, no length
            ++at;
            continue;
        }
        if (at + 2 > len || at + 2 + opt[at + 1] > len) {
            return false;
        }
        if (opt[at] == 5) {
            return true;
        }
        at += 2u + opt[at + 1];
    }
    return false;
}
} // namespace

std::optional<icmpv6_view> find_icmpv6(const uint8_t* frame, uint32_t len) {
    if (len < ether_header_len + header_len || load_be16(frame + 12) != ethertype::ipv6) {
        return std::nullopt;
    }
    const uint8_t* ip = frame + ether_header_len;
    const uint32_t payload_len = load_be16(ip + 4);
    if ((ip[0] >> 4) != 6 || ether_header_len + header_len + payload_len > len) {
        return std::nullopt;
    }
    icmpv6_view v;
    v.src = ip_address::v6(ip + 8);
    v.dst = ip_address::v6(ip + 24);
    v.hop_limit = ip[7];
    const uint8_t* at = ip + header_len;
    uint32_t left = payload_len;
    uint8_t next = ip[6];
    if (next == next_hop_by_hop) {
        if (left < 8) {
            return std::nullopt;
        }
        const uint32_t ext_len = (at[1] + 1u) * 8u;
        if (ext_len > left) {
            return std::nullopt;
        }
        next = at[0];
        v.router_alert = has_router_alert(at + 2, ext_len - 2);
        at += ext_len;
        left -= ext_len;
    }
    if (next != next_icmpv6 || left < 4) {
        return std::nullopt;
    }
    v.msg = at;
    v.len = left;
    v.checksum_ok = upper_checksum(v.src, v.dst, next_icmpv6, at, left) == 0;
    return v;
}

} // namespace vx::ipv6

// SPDX-License-Identifier: MIT
#include "packet/membership.hh"

#include <rte_ip.h>

#include <cstring>

#include "packet/ipv6.hh"

namespace vx::membership {

namespace {

constexpr uint8_t ip_proto_igmp = 2;
constexpr uint32_t igmp_ip_header_len = 24; // 20 + the Router Alert option
constexpr uint32_t igmp_record_len = 8;     // type, aux length, sources, group
constexpr uint32_t mld_hop_by_hop_len = 8;  // next header, length, Router Alert, PadN
constexpr uint32_t mld_record_len = 20;
constexpr uint32_t report_header_len = 8; // type, reserved, checksum, reserved, record count

constexpr uint8_t igmp_query = 0x11;
constexpr uint8_t igmp_v3_report = 0x22;
constexpr uint8_t mld_query = 130;
constexpr uint8_t mld_v1_report = 131;
constexpr uint8_t mld_done = 132;
constexpr uint8_t mld_v2_report = 143;

const ip_address igmpv3_routers = *ip_address::parse("224.0.0.22");

// IGMPv3's and MLDv2's floating-point maximum response codes (RFC 3376 4.1.1, RFC 3810
// 5.1.3): below the threshold the code is the value, above it a 3-bit exponent and a mantissa.
uint32_t decode_max_resp(uint32_t code, uint32_t mant_bits) {
    if (code < (1u << (mant_bits + 3))) {
        return code;
    }
    const uint32_t exp = (code >> mant_bits) & 0x7;
    const uint32_t mant = code & ((1u << mant_bits) - 1);
    return (mant | (1u << mant_bits)) << (exp + 3);
}

void write_records(uint8_t* at, record type, std::span<const ip_address> groups, bool v4) {
    for (const auto& g : groups) {
        at[0] = static_cast<uint8_t>(type);
        at[1] = 0;
        store_be16(at + 2, 0); // no source: any-source membership, or leave
        if (v4) {
            std::memcpy(at + 4, g.v4_bytes(), 4);
            at += igmp_record_len;
        } else {
            std::memcpy(at + 4, g.bytes.data(), 16);
            at += mld_record_len;
        }
    }
}

read_result read_igmp(const uint8_t* frame, uint32_t len) {
    read_result r;
    const uint8_t* ip = frame + ether_header_len;
    const uint32_t ihl = (ip[0] & 0x0fu) * 4;
    if ((ip[0] >> 4) != 4 || ip[9] != ip_proto_igmp) {
        return r;
    }
    r.status = read_status::invalid;
    const uint32_t total = load_be16(ip + 2);
    if (ihl < 20 || total < ihl + 8 || ether_header_len + total > len) {
        return r;
    }
    const uint8_t* igmp = ip + ihl;
    const uint32_t igmp_len = total - ihl;
    if (rte_raw_cksum(igmp, igmp_len) != 0xffff) {
        return r;
    }
    r.msg.v4 = true;
    r.msg.query = igmp[0] == igmp_query;
    r.msg.group = ip_address::v4(igmp + 4);
    if (r.msg.query) {
        // IGMPv1 queries say 0: 10 s (RFC 2236 section 4); IGMPv2 and v3 count tenths of a second.
        const bool v1 = igmp_len < 12 && igmp[1] == 0;
        const uint32_t code = v1 ? 100 : igmp_len >= 12 ? decode_max_resp(igmp[1], 4) : igmp[1];
        r.msg.max_delay_ms = code * 100;
    }
    r.status = read_status::ok;
    return r;
}

read_result read_mld(const uint8_t* frame, uint32_t len) {
    read_result r;
    const auto icmp = ipv6::find_icmpv6(frame, len);
    if (!icmp) {
        return r;
    }
    const uint8_t type = icmp->msg[0];
    if (type != mld_query && type != mld_v1_report && type != mld_done && type != mld_v2_report) {
        return r;
    }
    r.status = read_status::invalid;
    const uint32_t fixed = type == mld_v2_report ? report_header_len : 24;
    if (icmp->len < fixed || !icmp->checksum_ok) {
        return r;
    }
    r.msg.query = type == mld_query;
    if (r.msg.query) {
        r.msg.group = ip_address::v6(icmp->msg + 8);
        const uint32_t code = load_be16(icmp->msg + 4);
        r.msg.max_delay_ms = icmp->len >= 28 ? decode_max_resp(code, 12) : code; // MLDv2 : MLDv1
    }
    r.status = read_status::ok;
    return r;
}

} // namespace

ip_address unspecified(bool v4) {
    const uint8_t zero[4] = {};
    return v4 ? ip_address::v4(zero) : ip_address{};
}

uint32_t report_len(bool v4, size_t groups) {
    return v4 ? ether_header_len + igmp_ip_header_len + report_header_len + igmp_record_len * groups
              : ether_header_len + ipv6::header_len + mld_hop_by_hop_len + report_header_len + mld_record_len * groups;
}

uint32_t write_report(uint8_t* out, const mac_addr& mac, const ip_address& src, record type,
                      std::span<const ip_address> groups) {
    const bool v4 = src.is_v4();
    const uint32_t len = report_len(v4, groups.size());
    uint8_t* msg = nullptr;
    if (v4) {
        std::memcpy(out, vxlan::group_mac(igmpv3_routers).bytes.data(), 6);
        std::memcpy(out + 6, mac.bytes.data(), 6);
        store_be16(out + 12, ethertype::ipv4);
        uint8_t* ip = out + ether_header_len;
        ip[0] = 0x46; // IHL 6: the Router Alert option
        ip[1] = 0xc0; // internetwork control, as every IGMPv3 host sends it
        store_be16(ip + 2, static_cast<uint16_t>(len - ether_header_len));
        store_be16(ip + 4, 0);
        store_be16(ip + 6, 0x4000);
        ip[8] = 1;
        ip[9] = ip_proto_igmp;
        store_be16(ip + 10, 0);
        std::memcpy(ip + 12, src.v4_bytes(), 4);
        std::memcpy(ip + 16, igmpv3_routers.v4_bytes(), 4);
        ip[20] = 0x94; // Router Alert (RFC 2113): copied, type 20, length 4, value 0
        ip[21] = 4;
        ip[22] = ip[23] = 0;
        const uint16_t sum = rte_ipv4_cksum(reinterpret_cast<const rte_ipv4_hdr*>(ip));
        std::memcpy(ip + 10, &sum, 2);
        msg = ip + igmp_ip_header_len;
        msg[0] = igmp_v3_report;
    } else {
        const ip_address dst = ipv6::all_mldv2_routers();
        uint8_t* hop = ipv6::write_headers(out, mac, vxlan::group_mac(dst), src, dst, ipv6::next_hop_by_hop, 1,
                                           static_cast<uint16_t>(len - ether_header_len - ipv6::header_len));
        hop[0] = ipv6::next_icmpv6;
        hop[1] = 0;                   // 8 bytes
        hop[2] = 5;                   // Router Alert (RFC 2711), 2 bytes, value 0: MLD
        hop[3] = 2;
        hop[4] = hop[5] = 0;
        hop[6] = 1;                   // PadN, 0 bytes of padding
        hop[7] = 0;
        msg = hop + mld_hop_by_hop_len;
        msg[0] = mld_v2_report;
    }
    msg[1] = 0;
    store_be16(msg + 2, 0);
    store_be16(msg + 4, 0);
    store_be16(msg + 6, static_cast<uint16_t>(groups.size()));
    write_records(msg + report_header_len, type, groups, v4);
    const uint32_t msg_len = static_cast<uint32_t>(out + len - msg);
    const uint16_t sum = v4 ? static_cast<uint16_t>(~rte_raw_cksum(msg, msg_len))
                            : ipv6::upper_checksum(src, ipv6::all_mldv2_routers(), ipv6::next_icmpv6, msg, msg_len);
    std::memcpy(msg + 2, &sum, 2);
    return len;
}

read_result read(const uint8_t* frame, uint32_t len) {
    if (len < ether_header_len + 20) {
        return {};
    }
    const uint16_t type = load_be16(frame + 12);
    return type == ethertype::ipv4 ? read_igmp(frame, len) : type == ethertype::ipv6 ? read_mld(frame, len) : read_result{};
}

} // namespace vx::membership

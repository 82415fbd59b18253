// SPDX-License-Identifier: MIT
#include "packet/vxlan.hh"

#include <arpa/inet.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>

#include <algorithm>
#include <cstring>

namespace vx {

std::optional<ip_address> ip_address::parse(std::string_view text) {
    const std::string s(text);
    std::array<uint8_t, 16> raw{};
    if (inet_pton(AF_INET, s.c_str(), raw.data()) == 1) {
        return v4(raw.data());
    }
    if (s.find(':') != std::string::npos && inet_pton(AF_INET6, s.c_str(), raw.data()) == 1) {
        const auto a = v6(raw.data());
        if (a.is_v4()) {
            return std::nullopt; // "::ffff:1.2.3.4": say 1.2.3.4
        }
        return a;
    }
    return std::nullopt;
}

std::string ip_address::to_string() const {
    std::array<char, INET6_ADDRSTRLEN> text{};
    if (is_v4()) {
        inet_ntop(AF_INET, v4_bytes(), text.data(), text.size());
    } else {
        inet_ntop(AF_INET6, bytes.data(), text.data(), text.size());
    }
    return text.data();
}

namespace vxlan {

namespace {

constexpr uint32_t ipv4_header_len = 20;
constexpr uint32_t ipv6_header_len = 40;
constexpr uint32_t udp_header_len = 8;
constexpr uint32_t vxlan_header_len = 8;

} // namespace

mac_addr group_mac(const ip_address& group) {
    if (group.is_v4()) {
        const uint8_t* a = group.v4_bytes();
        return {{0x01, 0x00, 0x5e, static_cast<uint8_t>(a[1] & 0x7f), a[2], a[3]}};
    }
    return {{0x33, 0x33, group.bytes[12], group.bytes[13], group.bytes[14], group.bytes[15]}};
}

namespace {
constexpr uint16_t ethertype_ipv4 = 0x0800;
constexpr uint16_t ethertype_ipv6 = 0x86dd;

uint32_t load_u32(const uint8_t* p) {
    uint32_t v = 0;
    std::memcpy(&v, p, sizeof v);
    return v;
}

bool has_ports(uint8_t protocol) {
    return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == IPPROTO_SCTP;
}

// The flow hash's L3/L4 part: addresses, protocol and ports, where the frame has them.
uint32_t hash_ip_flow(const uint8_t* inner, uint32_t len, uint32_t h) {
    if (len < ether_header_len) {
        return h;
    }
    const uint8_t* ip = inner + ether_header_len;
    const uint32_t ip_len = len - ether_header_len;
    const uint16_t ethertype = static_cast<uint16_t>(inner[12] << 8 | inner[13]);
    if (ethertype == ethertype_ipv4 && ip_len >= 20 && (ip[0] >> 4) == 4) {
        const uint32_t header_len = (ip[0] & 0x0fu) * 4u;
        const uint8_t protocol = ip[9];
        h = rte_hash_crc(ip + 12, 8, rte_hash_crc_1byte(protocol, h)); // source, destination
        const bool first_fragment_only = (((ip[6] & 0x1fu) << 8) | ip[7]) == 0 && (ip[6] & 0x20u) == 0;
        if (has_ports(protocol) && first_fragment_only && header_len >= 20 && ip_len >= header_len + 4) {
            h = rte_hash_crc_4byte(load_u32(ip + header_len), h);
        }
    } else if (ethertype == ethertype_ipv6 && ip_len >= 40) {
        const uint8_t next_header = ip[6];
        h = rte_hash_crc(ip + 8, 32, rte_hash_crc_1byte(next_header, h));
        if (has_ports(next_header) && ip_len >= 44) {
            h = rte_hash_crc_4byte(load_u32(ip + 40), h);
        }
    }
    return h;
}
} // namespace

uint16_t source_port(const uint8_t* inner, uint32_t len) {
    uint32_t h = rte_hash_crc(inner, ether_header_len, 0x5678'1234);
    h = hash_ip_flow(inner, len, h);
    // Fold the high bits in: a CRC's low bits alone vary too little between close MACs.
    return static_cast<uint16_t>(0xc000 | ((h ^ (h >> 16)) & 0x3fff));
}

namespace {
// The IPv4 header checksum (RFC 1071) of the header write_outer writes, summed from the field
// values rather than read back from the header just written: a 16-byte load over bytes that
// narrower stores have just written cannot be forwarded from them and waits for the stores to
// reach the cache (measured: a fifth of the encap pipeline's time on that one load).
uint16_t outer_ipv4_checksum(const outer_template& t, uint16_t total_len) {
    const uint8_t* src = t.src_ip.v4_bytes();
    const uint8_t* dst = t.dst_ip.v4_bytes();
    uint32_t sum = (0x45u << 8 | static_cast<uint8_t>(t.dscp << 2)) + total_len + 0x4000u +
                   (uint32_t{t.ttl} << 8 | ip_proto_udp);
    sum += load_be16(src) + load_be16(src + 2) + load_be16(dst) + load_be16(dst + 2);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}
} // namespace

void write_outer(uint8_t* out, const outer_template& t, uint32_t vni, uint16_t src_port, uint16_t inner_len) {
    const bool v4 = t.dst_ip.is_v4();
    std::memcpy(out, t.dst_mac.bytes.data(), 6);
    std::memcpy(out + 6, t.src_mac.bytes.data(), 6);
    store_be16(out + 12, v4 ? ethertype::ipv4 : ethertype::ipv6);
    uint8_t* ip = out + ether_header_len;
    const uint32_t udp_len = udp_header_len + vxlan_header_len + inner_len;
    uint8_t* udp = nullptr;
    if (v4) {
        ip[0] = 0x45;
        ip[1] = static_cast<uint8_t>(t.dscp << 2);
        store_be16(ip + 2, static_cast<uint16_t>(ipv4_header_len + udp_len));
        store_be16(ip + 4, 0);      // identification: DF is set, nothing to reassemble
        store_be16(ip + 6, 0x4000); // DF: the overlay's MTU is the operator's to get right
        ip[8] = t.ttl;
        ip[9] = ip_proto_udp;
        store_be16(ip + 10, outer_ipv4_checksum(t, static_cast<uint16_t>(ipv4_header_len + udp_len)));
        std::memcpy(ip + 12, t.src_ip.v4_bytes(), 4);
        std::memcpy(ip + 16, t.dst_ip.v4_bytes(), 4);
        udp = ip + ipv4_header_len;
    } else {
        const uint32_t word = (6u << 28) | (uint32_t{t.dscp} << 22); // version, traffic class; flow label 0
        store_be16(ip, static_cast<uint16_t>(word >> 16));
        store_be16(ip + 2, static_cast<uint16_t>(word));
        store_be16(ip + 4, static_cast<uint16_t>(udp_len));
        ip[6] = ip_proto_udp;
        ip[7] = t.ttl;
        std::memcpy(ip + 8, t.src_ip.bytes.data(), 16);
        std::memcpy(ip + 24, t.dst_ip.bytes.data(), 16);
        udp = ip + ipv6_header_len;
    }
    store_be16(udp, src_port);
    store_be16(udp + 2, t.dst_port);
    store_be16(udp + 4, static_cast<uint16_t>(udp_len));
    store_be16(udp + 6, 0);
    uint8_t* vx = udp + udp_header_len;
    vx[0] = flag_i;
    vx[1] = vx[2] = vx[3] = 0;
    vx[4] = static_cast<uint8_t>(vni >> 16);
    vx[5] = static_cast<uint8_t>(vni >> 8);
    vx[6] = static_cast<uint8_t>(vni);
    vx[7] = 0;
    if (!v4) {
        // Over the pseudo-header, the UDP header, VXLAN and the inner frame, which follow.
        const uint16_t sum = rte_ipv6_udptcp_cksum(reinterpret_cast<const rte_ipv6_hdr*>(ip), udp);
        std::memcpy(udp + 6, &sum, 2); // never 0: DPDK returns 0xffff for a zero sum
    }
}

bool local_endpoint::accepts(const ip_address& dst) const {
    if ((v4 && dst == *v4) || (v6 && dst == *v6)) {
        return true;
    }
    return group_count != 0 && std::binary_search(groups, groups + group_count, dst);
}

bool local_endpoint::is_vxvde_port(uint16_t port) const {
    return vxvde_port_count != 0 && std::binary_search(vxvde_ports, vxvde_ports + vxvde_port_count, port);
}

namespace {
// vdeplug4 compares the 8 bytes with its own header: flags exactly the I flag, reserved zero.
bool is_exact_vxvde_header(const uint8_t* vx) {
    return vx[0] == flag_i && vx[1] == 0 && vx[2] == 0 && vx[3] == 0 && vx[7] == 0;
}
} // namespace

decap_result classify(const uint8_t* frame, uint32_t len, const local_endpoint& local) {
    decap_result r;
    if (len < ether_header_len) {
        return r;
    }
    const uint16_t type = load_be16(frame + 12);
    const uint8_t* ip = frame + ether_header_len;
    const uint32_t ip_room = len - ether_header_len;
    const uint8_t* udp = nullptr;
    ip_address dst;
    if (type == ethertype::ipv4) {
        if (ip_room < ipv4_header_len) {
            return r;
        }
        const uint32_t ihl = (ip[0] & 0x0fu) * 4;
        if ((ip[0] >> 4) != 4 || ihl < ipv4_header_len || ip_room < ihl) {
            return r;
        }
        dst = ip_address::v4(ip + 16);
        // A fragment (MF set or an offset) carries no whole UDP datagram: not ours to take.
        if (ip[9] != ip_proto_udp || (load_be16(ip + 6) & 0x3fff) != 0 || !local.accepts(dst)) {
            r.why = drop_reason::vxlan_wrong_destination;
            return r;
        }
        r.remote = ip_address::v4(ip + 12);
        udp = ip + ihl;
    } else if (type == ethertype::ipv6) {
        if (ip_room < ipv6_header_len) {
            return r;
        }
        dst = ip_address::v6(ip + 24);
        // Extension headers are not followed: a VTEP's peers do not send them.
        if ((ip[0] >> 4) != 6 || ip[6] != ip_proto_udp || !local.accepts(dst)) {
            r.why = drop_reason::vxlan_wrong_destination;
            return r;
        }
        r.remote = ip_address::v6(ip + 8);
        udp = ip + ipv6_header_len;
    } else {
        r.why = drop_reason::underlay_other;
        return r;
    }
    const auto udp_at = static_cast<uint32_t>(udp - frame);
    if (len < udp_at + udp_header_len) {
        return r;
    }
    r.remote_port = load_be16(udp);
    r.local_port = load_be16(udp + 2);
    r.vxvde = local.is_vxvde_port(r.local_port);
    if (r.local_port != local.dst_port && !r.vxvde) {
        r.why = drop_reason::vxlan_wrong_destination;
        return r;
    }
    // The frame may carry Ethernet padding after the datagram; the UDP length says where it ends.
    const uint32_t header_end = udp_at + udp_header_len + vxlan_header_len;
    const uint32_t udp_len = load_be16(udp + 4);
    if (len < header_end || udp_len < udp_header_len + vxlan_header_len || udp_at + udp_len > len) {
        return r;
    }
    const uint8_t* vx = udp + udp_header_len;
    if (r.vxvde ? !is_exact_vxvde_header(vx) : (vx[0] & flag_i) == 0) {
        r.why = r.vxvde ? drop_reason::vxvde_bad_header : drop_reason::vxlan_bad_flags;
        return r;
    }
    r.vni = uint32_t{vx[4]} << 16 | uint32_t{vx[5]} << 8 | vx[6];
    const uint32_t inner_len = udp_len - udp_header_len - vxlan_header_len;
    r.goodbye = r.vxvde && inner_len == 0;
    if (!r.goodbye && inner_len < (r.vxvde ? vxvde::min_frame : ether_header_len)) {
        return r;
    }
    r.inner_offset = static_cast<uint16_t>(header_end);
    r.inner_len = static_cast<uint16_t>(inner_len);
    r.ok = true;
    return r;
}

std::optional<arp_view> read_arp(const uint8_t* frame, uint32_t len) {
    if (len < ether_header_len + arp_len || load_be16(frame + 12) != ethertype::arp) {
        return std::nullopt;
    }
    const uint8_t* a = frame + ether_header_len;
    // Ethernet (1), IPv4, 6-byte and 4-byte addresses.
    if (load_be16(a) != 1 || load_be16(a + 2) != ethertype::ipv4 || a[4] != 6 || a[5] != 4) {
        return std::nullopt;
    }
    arp_view v;
    v.op = load_be16(a + 6);
    v.sender_mac = mac_addr::load(a + 8);
    v.sender_ip = ip_address::v4(a + 14);
    v.target_mac = mac_addr::load(a + 18);
    v.target_ip = ip_address::v4(a + 24);
    return v;
}

void make_arp_reply(uint8_t* frame, const mac_addr& ours) {
    uint8_t* a = frame + ether_header_len;
    std::array<uint8_t, 10> sender{}; // requester's MAC and IP become the target
    std::memcpy(sender.data(), a + 8, 10);
    std::memcpy(a + 8, ours.bytes.data(), 6);
    std::memcpy(a + 14, a + 24, 4); // the address asked for is ours
    std::memcpy(a + 18, sender.data(), 10);
    store_be16(a + 6, 2);
    std::memcpy(frame, sender.data(), 6);
    std::memcpy(frame + 6, ours.bytes.data(), 6);
}

void write_arp_request(uint8_t* out, const mac_addr& mac, const ip_address& ip, const ip_address& target) {
    std::memcpy(out, mac_addr::broadcast().bytes.data(), 6);
    std::memcpy(out + 6, mac.bytes.data(), 6);
    store_be16(out + 12, ethertype::arp);
    uint8_t* a = out + ether_header_len;
    store_be16(a, 1);
    store_be16(a + 2, ethertype::ipv4);
    a[4] = 6;
    a[5] = 4;
    store_be16(a + 6, 1);
    std::memcpy(a + 8, mac.bytes.data(), 6);
    std::memcpy(a + 14, ip.v4_bytes(), 4);
    std::memset(a + 18, 0, 6);
    std::memcpy(a + 24, target.v4_bytes(), 4);
}

} // namespace vxlan
} // namespace vx

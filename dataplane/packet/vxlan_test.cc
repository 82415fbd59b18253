// SPDX-License-Identifier: MIT
// The VXLAN wire format against bytes written by an independent implementation (scapy 2.5),
// checksums included, and every way decapsulation refuses a frame.

#include "packet/vxlan.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/dpdk_env.hh"

namespace vx {
namespace {

using testing::bytes;
using testing::from_hex;
using testing::ip;
using testing::mac;

// The inner frame of every vector: scapy
//   Ether(dst='02:00:00:00:00:0b', src='02:00:00:00:00:0a', type=0x0800)/Raw(bytes(range(46)))
bytes inner_frame() {
    return testing::frame("02:00:00:00:00:0b", "02:00:00:00:00:0a");
}

// scapy: Ether(dst='02:00:00:00:01:02', src='02:00:00:00:01:01')
//   /IP(src='192.0.2.1', dst='192.0.2.2', ttl=64, tos=46<<2, id=0, flags='DF')
//   /UDP(sport=0xc123, dport=4789, chksum=0)/VXLAN(flags=0x08, vni=42)/inner
// (the outer headers only; scapy's IPv4 header checksum is 0xb5d1)
constexpr std::string_view v4_outer = "020000000102020000000101080045b80060000040004011b5d1c0000201c0000202"
                                      "c12312b5004c00000800000000002a00";
// scapy: Ether(dst='02:00:00:00:01:02', src='02:00:00:00:01:01')
//   /IPv6(src='2001:db8::1', dst='2001:db8::2', hlim=64, tc=46<<2, fl=0)
//   /UDP(sport=0xc123, dport=4789)/VXLAN(flags=0x08, vni=0x123456)/inner
// (the outer headers only; scapy's UDP checksum over the pseudo-header and payload is 0x57ac)
constexpr std::string_view v6_outer = "02000000010202000000010186dd6b800000004c114020010db8000000000000000000000001"
                                      "20010db8000000000000000000000002c12312b5004c57ac0800000012345600";

vxlan::outer_template template_for(std::string_view local, std::string_view remote) {
    vxlan::outer_template t;
    t.src_mac = mac("02:00:00:00:01:01");
    t.dst_mac = mac("02:00:00:00:01:02");
    t.src_ip = ip(local);
    t.dst_ip = ip(remote);
    t.ttl = 64;
    t.dscp = 46; // EF
    return t;
}

// The encapsulated frame: outer headers written by write_outer in front of the inner frame.
bytes encapsulate(const vxlan::outer_template& t, uint32_t vni) {
    const bytes inner = inner_frame();
    bytes out(t.overhead(), 0);
    out.insert(out.end(), inner.begin(), inner.end());
    vxlan::write_outer(out.data(), t, vni, 0xc123, static_cast<uint16_t>(inner.size()));
    return out;
}

bytes with_inner(std::string_view outer_hex) {
    bytes f = from_hex(outer_hex);
    const bytes inner = inner_frame();
    f.insert(f.end(), inner.begin(), inner.end());
    return f;
}

TEST(vxlan_encap, ipv4_matches_scapy_including_header_checksum) {
    const auto t = template_for("192.0.2.1", "192.0.2.2");
    EXPECT_EQ(t.overhead(), 50);
    EXPECT_EQ(encapsulate(t, 42), with_inner(v4_outer));
}

TEST(vxlan_encap, ipv6_matches_scapy_including_udp_checksum) {
    const auto t = template_for("2001:db8::1", "2001:db8::2");
    EXPECT_EQ(t.overhead(), 70);
    EXPECT_EQ(encapsulate(t, 0x123456), with_inner(v6_outer));
}

TEST(vxlan_encap, source_port_is_dynamic_and_follows_the_inner_flow) {
    const bytes a = inner_frame();
    bytes b = a;
    b[5] ^= 1; // another destination MAC
    const uint16_t pa = vxlan::source_port(a.data(), static_cast<uint32_t>(a.size()));
    EXPECT_GE(pa, 49152);
    EXPECT_EQ(pa, vxlan::source_port(a.data(), static_cast<uint32_t>(a.size()))) << "one flow, one port (one ECMP path)";
    EXPECT_NE(pa, vxlan::source_port(b.data(), static_cast<uint32_t>(b.size()))) << "another flow, another port";
    // Over many flows the ports spread: no more than a handful of collisions in 256.
    std::vector<uint16_t> ports;
    for (int i = 0; i < 256; ++i) {
        b[11] = static_cast<uint8_t>(i);
        ports.push_back(vxlan::source_port(b.data(), static_cast<uint32_t>(b.size())));
        EXPECT_GE(ports.back(), 49152);
    }
    std::sort(ports.begin(), ports.end());
    EXPECT_GT(std::unique(ports.begin(), ports.end()) - ports.begin(), 240);
}

// scapy: Ether(dst='02:00:00:00:00:0a', src='02:00:00:00:00:0b')/IP(src='10.0.0.1',
//   dst='10.0.0.2')/UDP(sport=1000, dport=2000)/b'x' 
constexpr std::string_view inner_udp4 = "02000000000a02000000000b08004500001d000100004011"
                                        "66cd0a0000010a00000203e807d00009682178";
// scapy: Ether(...)/IPv6(src='2001:db8::1', dst='2001:db8::2')/TCP(sport=1000, dport=2000)
constexpr std::string_view inner_tcp6 = "02000000000a02000000000b86dd6000000000140640"
                                        "20010db800000000000000000000000120010db8000000000000000000000002"
                                        "03e807d000000000000000005002200028b60000";

uint16_t port_of(const bytes& frame) {
    return vxlan::source_port(frame.data(), static_cast<uint32_t>(frame.size()));
}

TEST(vxlan_encap, source_port_follows_the_inner_ip_flow) {
    for (const auto hex : {inner_udp4, inner_tcp6}) {
        const bytes f = from_hex(hex);
        const bool v4 = f.at(12) == 0x08;
        const size_t l4 = v4 ? 34 : 54;
        ASSERT_GE(f.size(), l4 + 4) << "a whole L4 port pair";
        const size_t addr = v4 ? 29 : 37; // a byte of the source address
        bytes other_port = f;
        other_port.at(l4 + 1) ^= 1; // another source port, the same hosts
        bytes other_host = f;
        other_host.at(addr) ^= 1;
        bytes payload = f;
        payload.back() ^= 1;
        EXPECT_NE(port_of(f), port_of(other_port)) << (v4 ? "IPv4" : "IPv6") << ": the L4 ports are hashed";
        EXPECT_NE(port_of(f), port_of(other_host)) << (v4 ? "IPv4" : "IPv6") << ": the addresses are hashed";
        EXPECT_EQ(port_of(f), port_of(payload)) << "the payload is not";
        bytes truncated(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(l4 + 2));
        EXPECT_GE(port_of(truncated), 49152) << "a frame cut in its L4 header still gets a port";
    }
    // An IPv4 fragment after the first has no ports: all fragments of a packet take one path.
    bytes later_fragment = from_hex(inner_udp4);
    later_fragment.at(21) = 0x10; // fragment offset 16 (x 8 bytes)
    bytes other_port = later_fragment;
    other_port.at(35) ^= 1;
    EXPECT_EQ(port_of(later_fragment), port_of(other_port)) << "no ports read in a non-first fragment";
}

TEST(vxlan_encap, group_macs) {
    EXPECT_EQ(vxlan::group_mac(ip("239.129.2.3")), mac("01:00:5e:01:02:03")) << "the 24th bit is dropped";
    EXPECT_EQ(vxlan::group_mac(ip("ff05::1:2:3:4")), mac("33:33:00:03:00:04"));
}

TEST(ip_address, parses_both_families_and_refuses_the_rest) {
    EXPECT_TRUE(ip("192.0.2.1").is_v4());
    EXPECT_EQ(ip("192.0.2.1").to_string(), "192.0.2.1");
    EXPECT_FALSE(ip("2001:db8::1").is_v4());
    EXPECT_EQ(ip("2001:DB8:0::1").to_string(), "2001:db8::1");
    EXPECT_TRUE(ip("239.1.1.1").is_multicast());
    EXPECT_TRUE(ip("ff02::1").is_multicast());
    EXPECT_FALSE(ip("192.0.2.1").is_multicast());
    for (const char* bad : {"", "192.0.2", "192.0.2.256", "::ffff:192.0.2.1", "host", "1.2.3.4 "}) {
        EXPECT_FALSE(ip_address::parse(bad).has_value()) << bad;
    }
}

// ---- decapsulation

struct local_vtep {
    std::vector<ip_address> groups{ip("239.1.1.1")};
    vxlan::local_endpoint endpoint() const {
        vxlan::local_endpoint e;
        e.v4 = ip("192.0.2.2");
        e.v6 = ip("2001:db8::2");
        e.groups = groups.data();
        e.group_count = static_cast<uint16_t>(groups.size());
        return e;
    }
};

vxlan::decap_result classify(const bytes& f) {
    const local_vtep local;
    return vxlan::classify(f.data(), static_cast<uint32_t>(f.size()), local.endpoint());
}

TEST(vxlan_decap, ipv4_and_ipv6_frames_for_the_local_vtep) {
    for (const auto& [outer, vni, remote, offset] :
         {std::tuple{v4_outer, 42u, "192.0.2.1", 50}, std::tuple{v6_outer, 0x123456u, "2001:db8::1", 70}}) {
        const auto r = classify(with_inner(outer));
        ASSERT_TRUE(r.ok) << info(r.why).name;
        EXPECT_EQ(r.vni, vni);
        EXPECT_EQ(r.remote, ip(remote));
        EXPECT_EQ(r.inner_offset, offset);
        EXPECT_EQ(r.inner_len, inner_frame().size());
    }
}

TEST(vxlan_decap, ethernet_padding_after_the_datagram_is_ignored) {
    bytes f = with_inner(v4_outer);
    f.resize(f.size() + 20, 0);
    const auto r = classify(f);
    EXPECT_TRUE(r.ok);
    EXPECT_EQ(r.inner_len, inner_frame().size()) << "the padding is not part of the inner frame";
}

TEST(vxlan_decap, multicast_group_destination_is_accepted) {
    bytes f = with_inner(v4_outer);
    const bytes group = {239, 1, 1, 1};
    std::copy(group.begin(), group.end(), f.begin() + 30); // the IPv4 destination
    EXPECT_TRUE(classify(f).ok);
    f[33] = 2; // 239.1.1.2: a group we did not join
    EXPECT_EQ(classify(f).why, drop_reason::vxlan_wrong_destination);
}

struct refusal {
    std::string name;
    bytes frame;
    drop_reason why;
};

bytes edited(std::string_view outer, size_t at, uint8_t value) {
    bytes f = with_inner(outer);
    f[at] = value;
    return f;
}

bytes cut(std::string_view outer, size_t len) {
    bytes f = with_inner(outer);
    f.resize(len);
    return f;
}

TEST(vxlan_decap, each_refusal_has_its_own_reason) {
    const std::vector<refusal> cases{
        {"arp_ethertype", edited(v4_outer, 13, 0x06), drop_reason::underlay_other},
        {"runt", cut(v4_outer, 13), drop_reason::vxlan_truncated},
        {"ipv4_header_cut", cut(v4_outer, 30), drop_reason::vxlan_truncated},
        {"ipv4_bad_ihl", edited(v4_outer, 14, 0x44), drop_reason::vxlan_truncated},
        {"ipv4_not_udp", edited(v4_outer, 23, 6), drop_reason::vxlan_wrong_destination},
        {"ipv4_other_host", edited(v4_outer, 33, 9), drop_reason::vxlan_wrong_destination},
        {"ipv4_more_fragments", edited(v4_outer, 20, 0x20), drop_reason::vxlan_wrong_destination},
        {"ipv4_fragment_offset", edited(v4_outer, 21, 0x01), drop_reason::vxlan_wrong_destination},
        {"udp_other_port", edited(v4_outer, 37, 0xb6), drop_reason::vxlan_wrong_destination},
        {"udp_header_cut", cut(v4_outer, 40), drop_reason::vxlan_truncated},
        {"vxlan_header_cut", cut(v4_outer, 46), drop_reason::vxlan_truncated},
        {"inner_ethernet_cut", cut(v4_outer, 60), drop_reason::vxlan_truncated},
        {"udp_length_past_frame", edited(v4_outer, 38, 0x10), drop_reason::vxlan_truncated},
        {"udp_length_short", edited(v4_outer, 39, 0x10), drop_reason::vxlan_truncated},
        {"no_i_flag", edited(v4_outer, 42, 0x00), drop_reason::vxlan_bad_flags},
        {"ipv6_header_cut", cut(v6_outer, 40), drop_reason::vxlan_truncated},
        {"ipv6_other_host", edited(v6_outer, 53, 9), drop_reason::vxlan_wrong_destination},
        {"ipv6_next_header_not_udp", edited(v6_outer, 20, 0), drop_reason::vxlan_wrong_destination},
        {"ipv6_no_i_flag", edited(v6_outer, 62, 0x0c & ~vxlan::flag_i), drop_reason::vxlan_bad_flags},
    };
    for (const auto& c : cases) {
        const auto r = classify(c.frame);
        EXPECT_FALSE(r.ok) << c.name;
        EXPECT_EQ(info(r.why).name, info(c.why).name) << c.name;
    }
}

TEST(vxlan_decap, reserved_bits_and_other_flags_are_ignored_as_rfc_7348_says) {
    bytes f = edited(v4_outer, 42, 0xff);
    f[43] = 0xff;
    f[49] = 0xff;
    const auto r = classify(f);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.vni, 42u);
}

TEST(vxlan_decap, decapsulates_what_encap_wrote) {
    const auto t = template_for("2001:db8::1", "2001:db8::2");
    const auto r = classify(encapsulate(t, 7));
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.vni, 7u);
}

// ---- ARP

// scapy: Ether(dst='ff:ff:ff:ff:ff:ff', src='02:00:00:00:01:02')/ARP(op=1, hwsrc='02:00:00:00:01:02',
//   psrc='192.0.2.2', hwdst='00:00:00:00:00:00', pdst='192.0.2.1')
constexpr std::string_view arp_request =
    "ffffffffffff02000000010208060001080006040001020000000102c0000202000000000000c0000201";
// scapy: Ether(dst='02:00:00:00:01:02', src='02:00:00:00:01:01')/ARP(op=2, hwsrc='02:00:00:00:01:01',
//   psrc='192.0.2.1', hwdst='02:00:00:00:01:02', pdst='192.0.2.2')
constexpr std::string_view arp_reply =
    "02000000010202000000010108060001080006040002020000000101c0000201020000000102c0000202";

TEST(vxlan_arp, request_reply_round_trip_matches_scapy) {
    bytes req(42, 0);
    vxlan::write_arp_request(req.data(), mac("02:00:00:00:01:02"), ip("192.0.2.2"), ip("192.0.2.1"));
    EXPECT_EQ(req, from_hex(arp_request));

    const auto v = vxlan::read_arp(req.data(), static_cast<uint32_t>(req.size()));
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->op, 1);
    EXPECT_EQ(v->sender_mac, mac("02:00:00:00:01:02"));
    EXPECT_EQ(v->sender_ip, ip("192.0.2.2"));
    EXPECT_EQ(v->target_ip, ip("192.0.2.1"));

    vxlan::make_arp_reply(req.data(), mac("02:00:00:00:01:01"));
    EXPECT_EQ(req, from_hex(arp_reply));
}

TEST(vxlan_arp, refuses_what_is_not_ethernet_ipv4_arp) {
    const bytes good = from_hex(arp_request);
    EXPECT_FALSE(vxlan::read_arp(good.data(), 41).has_value()) << "cut";
    for (size_t at : {12u, 15u, 17u, 18u, 19u}) {
        bytes bad = good;
        bad[at] ^= 0x40;
        EXPECT_FALSE(vxlan::read_arp(bad.data(), static_cast<uint32_t>(bad.size())).has_value()) << at;
    }
}

} // namespace
} // namespace vx

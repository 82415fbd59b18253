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
    std::optional<ip_address> v4 = ip("192.0.2.2");
    std::optional<ip_address> v6 = ip("2001:db8::2");
    std::vector<ip_address> groups{ip("239.1.1.1")};
    std::vector<uint16_t> vxvde_ports{};
    vxlan::local_endpoint endpoint() const {
        vxlan::local_endpoint e;
        e.v4 = v4;
        e.v6 = v6;
        e.groups = groups.data();
        e.group_count = static_cast<uint16_t>(groups.size());
        e.vxvde_ports = vxvde_ports.data();
        e.vxvde_port_count = static_cast<uint16_t>(vxvde_ports.size());
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

// ---- vxvde: datagrams captured from the real vde_plug (Debian vdeplug 4.0.1, tcpdump on the
// underlay veth): `vde_plug vxvde://239.1.2.3/vni=42/if=va tap://ta` at 192.0.2.11 (UDP source
// port 36059, ephemeral) and the same at 192.0.2.12 (port 48754).

// 192.0.2.11:36059 -> 239.1.2.3:14789, TTL 1, DF, kernel UDP checksum; header 08 000000 00002a 00;
// inner: the tap's ARP request for 10.7.0.2 (42 bytes, unpadded: vde_plug reads the tap).
constexpr std::string_view vxvde_group_arp =
    "01005e0102033a37d5344b6c08004500004e31eb4000011194a4c000020bef0102038cdb39c5003ab35b0800000000002a00"
    "ffffffffffff02000000000a0806000108000604000102000000000a0a0700010000000000000a070002";
// 192.0.2.11:36059 -> 192.0.2.12:48754: a known unicast (an ICMP echo), to the learned
// endpoint's own port, not to 14789.
constexpr std::string_view vxvde_unicast_icmp =
    "86924b88962f3a37d5344b6c080045000086633240000111921dc000020bc000020c8cdbbe720072849b0800000000002a00"
    "02000000000b02000000000a0800450000545a5040004001cc480a0700010a070002080058405f960001776b046b00000000"
    "037f020000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637";
// 192.0.2.12:48754 -> 239.1.2.3:14789 on SIGTERM: the goodbye, a header and nothing else.
constexpr std::string_view vxvde_goodbye =
    "01005e01020386924b88962f080045000024985d400001112e5bc000020cef010203be7239c50010b3320800000000002a00";

// vxswitch as a third endpoint of that network, at 192.0.2.13.
local_vtep local_vxvde() {
    return {ip("192.0.2.13"), std::nullopt, {ip("239.1.2.3")}, {vxvde::default_port}};
}

vxlan::decap_result classify_vxvde(const bytes& f) {
    const local_vtep local = local_vxvde();
    return vxlan::classify(f.data(), static_cast<uint32_t>(f.size()), local.endpoint());
}

TEST(vxvde_decap, group_datagram_from_vde_plug) {
    const auto r = classify_vxvde(from_hex(vxvde_group_arp));
    ASSERT_TRUE(r.ok) << info(r.why).name;
    EXPECT_TRUE(r.vxvde);
    EXPECT_FALSE(r.goodbye);
    EXPECT_EQ(r.vni, 42u);
    EXPECT_EQ(r.remote, ip("192.0.2.11"));
    EXPECT_EQ(r.remote_port, 36059) << "the endpoint's identity is (address, source port)";
    EXPECT_EQ(r.local_port, 14789);
    EXPECT_EQ(r.inner_offset, 50);
    EXPECT_EQ(r.inner_len, 42) << "an unpadded 42-byte ARP: vxvde frames need not be 60 bytes";
}

TEST(vxvde_decap, goodbye_from_vde_plug) {
    const auto r = classify_vxvde(from_hex(vxvde_goodbye));
    ASSERT_TRUE(r.ok) << info(r.why).name;
    EXPECT_TRUE(r.goodbye);
    EXPECT_EQ(r.vni, 42u);
    EXPECT_EQ(r.remote, ip("192.0.2.12"));
    EXPECT_EQ(r.remote_port, 48754);
    EXPECT_EQ(r.inner_len, 0);
}

TEST(vxvde_decap, unicast_to_another_endpoints_port_is_not_ours) {
    bytes f = from_hex(vxvde_unicast_icmp);
    std::copy_n(from_hex("c000020d").begin(), 4, f.begin() + 30); // to us, 192.0.2.13
    EXPECT_EQ(classify_vxvde(f).why, drop_reason::vxlan_wrong_destination) << "port 48754 is vde_plug's";
    f[36] = 0x39;
    f[37] = 0xc5; // to 14789: what vde_plug sends once it has learned vxswitch at (192.0.2.13, 14789)
    const auto r = classify_vxvde(f);
    ASSERT_TRUE(r.ok) << info(r.why).name;
    EXPECT_EQ(r.inner_len, 98);
    EXPECT_FALSE(r.goodbye);
}

TEST(vxvde_decap, the_whole_header_is_compared_as_vdeplug4_does) {
    // byte 42: flags, 43..45 reserved, 46..48 VNI, 49 reserved.
    for (const auto& [at, value] : {std::pair{42, 0x0c}, {42, 0x00}, {43, 0x01}, {45, 0x80}, {49, 0x01}}) {
        bytes f = from_hex(vxvde_group_arp);
        f[static_cast<size_t>(at)] = static_cast<uint8_t>(value);
        EXPECT_EQ(info(classify_vxvde(f).why).name, std::string_view("vxvde_bad_header")) << at;
        bytes g = from_hex(vxvde_goodbye);
        g[static_cast<size_t>(at)] = static_cast<uint8_t>(value);
        EXPECT_FALSE(classify_vxvde(g).ok) << "goodbye, byte " << at;
        f[37] = 0xb5; // the same datagram on VXLAN's port 4789: RFC 7348 ignores reserved bits
        f[36] = 0x12;
        EXPECT_NE(info(classify_vxvde(f).why).name, std::string_view("vxvde_bad_header")) << at;
    }
}

TEST(vxvde_decap, frames_of_14_bytes_or_fewer_are_dropped) {
    for (const uint8_t n : {uint8_t{1}, uint8_t{13}, uint8_t{14}, uint8_t{15}}) {
        bytes f = from_hex(vxvde_goodbye);
        f.resize(f.size() + n, 0xee);
        f[39] = static_cast<uint8_t>(16 + n); // the UDP length
        const auto r = classify_vxvde(f);
        EXPECT_EQ(r.ok, n >= 15) << int{n};
        EXPECT_FALSE(r.goodbye) << int{n};
        if (!r.ok) {
            EXPECT_EQ(r.why, drop_reason::vxlan_truncated) << int{n};
        }
    }
}

// vxswitch's own datagram, written by write_outer with the network's port as source port, has
// the bytes vde_plug expects where vde_plug looks: ports, header (it learns (address, 14789)).
TEST(vxvde_encap, header_and_ports_as_vde_plug_writes_them) {
    const bytes captured = from_hex(vxvde_group_arp);
    const bytes inner(captured.begin() + 50, captured.end());
    vxlan::outer_template t;
    t.src_mac = mac("02:00:00:00:01:01");
    t.dst_mac = vxlan::group_mac(ip("239.1.2.3"));
    t.src_ip = ip("192.0.2.13");
    t.dst_ip = ip("239.1.2.3");
    t.dst_port = vxvde::default_port;
    t.ttl = 1;
    bytes out(t.overhead(), 0);
    out.insert(out.end(), inner.begin(), inner.end());
    vxlan::write_outer(out.data(), t, 42, vxvde::default_port, static_cast<uint16_t>(inner.size()));
    EXPECT_EQ(bytes(out.begin(), out.begin() + 6), bytes(captured.begin(), captured.begin() + 6)) << "group MAC";
    EXPECT_EQ(bytes(out.begin() + 36, out.begin() + 40), from_hex("39c5003a")) << "to 14789, UDP length 8 + 8 + 42";
    EXPECT_EQ(bytes(out.begin() + 34, out.begin() + 36), from_hex("39c5")) << "from 14789";
    EXPECT_EQ(bytes(out.begin() + 42, out.end()), bytes(captured.begin() + 42, captured.end())) << "header, frame";
    EXPECT_EQ(out[22], 1) << "TTL 1, as vde_plug's default";
    const local_vtep local = local_vxvde();
    auto e = local.endpoint();
    e.v4 = ip("192.0.2.11");
    const auto r = vxlan::classify(out.data(), static_cast<uint32_t>(out.size()), e);
    ASSERT_TRUE(r.ok) << info(r.why).name;
    EXPECT_EQ(r.remote_port, 14789);
}

} // namespace
} // namespace vx

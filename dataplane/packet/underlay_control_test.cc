// SPDX-License-Identifier: MIT
// The VTEP's control messages on an IPv6 or IPv4 underlay, beside VXLAN itself: neighbour
// discovery (packet/neighbour.hh) and IGMPv3/MLDv2 (packet/membership.hh), against frames
// written by an independent implementation (scapy 2.5), checksums included, and every way a
// received one is refused.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "packet/ipv6.hh"
#include "packet/membership.hh"
#include "packet/neighbour.hh"
#include "testing/dpdk_env.hh"

namespace vx {
namespace {

using testing::bytes;
using testing::from_hex;
using testing::ip;
using testing::mac;

const mac_addr ours = mac("02:00:00:00:01:01");
const mac_addr peer = mac("02:00:00:00:01:02");

// ---- neighbour discovery. scapy, with OURS = 02:00:00:00:01:01, PEER = 02:00:00:00:01:02:

// Ether(src=OURS, dst='33:33:ff:00:00:02')/IPv6(src='2001:db8::1', dst='ff02::1:ff00:2', hlim=255)
//   /ICMPv6ND_NS(tgt='2001:db8::2')/ICMPv6NDOptSrcLLAddr(lladdr=OURS)        (checksum 0x1b27)
constexpr std::string_view our_solicitation =
    "3333ff00000202000000010186dd6000000000203aff20010db8000000000000000000000001ff020000000000000000"
    "0001ff00000287001b270000000020010db80000000000000000000000020101020000000101";
// The peer's for our address: Ether(src=PEER, dst='33:33:ff:00:00:01')/IPv6(src='2001:db8::2',
//   dst='ff02::1:ff00:1', hlim=255)/ICMPv6ND_NS(tgt='2001:db8::1')/ICMPv6NDOptSrcLLAddr(lladdr=PEER)
constexpr std::string_view peer_solicitation =
    "3333ff00000102000000010286dd6000000000203aff20010db8000000000000000000000002ff020000000000000000"
    "0001ff00000187001b270000000020010db80000000000000000000000010101020000000102";
// Our answer: Ether(src=OURS, dst=PEER)/IPv6(src='2001:db8::1', dst='2001:db8::2', hlim=255)
//   /ICMPv6ND_NA(tgt='2001:db8::1', R=0, S=1, O=1)/ICMPv6NDOptDstLLAddr(lladdr=OURS)  (0x8973)
constexpr std::string_view our_advertisement =
    "02000000010202000000010186dd6000000000203aff20010db800000000000000000000000120010db80000000000"
    "00000000000002880089736000000020010db80000000000000000000000010201020000000101";
// Duplicate address detection: Ether(src=PEER, dst='33:33:ff:00:00:01')/IPv6(src='::',
//   dst='ff02::1:ff00:1', hlim=255)/ICMPv6ND_NS(tgt='2001:db8::1')   (no option)
constexpr std::string_view dad_solicitation =
    "3333ff00000102000000010286dd6000000000183aff00000000000000000000000000000000ff02000000000000000000"
    "01ff00000187004ced0000000020010db8000000000000000000000001";
// ... answered to all nodes, without S: Ether(src=OURS, dst='33:33:00:00:00:01')/IPv6(src='2001:db8::1',
//   dst='ff02::1', hlim=255)/ICMPv6ND_NA(tgt='2001:db8::1', R=0, S=0, O=1)/ICMPv6NDOptDstLLAddr(lladdr=OURS)
constexpr std::string_view dad_advertisement =
    "33330000000102000000010186dd6000000000203aff20010db8000000000000000000000001ff0200000000000000000000"
    "000000018800f82a2000000020010db80000000000000000000000010201020000000101";
// The peer's answer to ours: Ether(src=PEER, dst=OURS)/IPv6(src='2001:db8::2', dst='2001:db8::1',
//   hlim=255)/ICMPv6ND_NA(tgt='2001:db8::2', R=0, S=1, O=1)/ICMPv6NDOptDstLLAddr(lladdr=PEER)
constexpr std::string_view peer_advertisement =
    "02000000010102000000010286dd6000000000203aff20010db800000000000000000000000220010db80000000000"
    "00000000000001880089716000000020010db80000000000000000000000020201020000000102";

TEST(ipv6_addresses, link_local_and_solicited_node) {
    EXPECT_EQ(ipv6::link_local(ours), ip("fe80::ff:fe00:101")); // the U/L bit flipped, ff:fe inserted
    EXPECT_EQ(ipv6::link_local(mac("00:11:22:33:44:55")), ip("fe80::211:22ff:fe33:4455"));
    EXPECT_EQ(ipv6::solicited_node(ip("2001:db8::abcd:1234:5678")), ip("ff02::1:ff34:5678"));
    EXPECT_EQ(vxlan::group_mac(ipv6::solicited_node(ip("2001:db8::2"))), mac("33:33:ff:00:00:02"));
}

TEST(neighbour, solicitation_matches_scapy_including_checksum) {
    bytes f(neighbour::frame_len, 0);
    neighbour::write_solicitation(f.data(), ours, ip("2001:db8::1"), ip("2001:db8::2"));
    EXPECT_EQ(f, from_hex(our_solicitation));
}

TEST(neighbour, reads_a_solicitation_and_answers_it_as_scapy_does) {
    const bytes ns = from_hex(peer_solicitation);
    const auto r = neighbour::read(ns.data(), static_cast<uint32_t>(ns.size()));
    ASSERT_EQ(r.status, neighbour::read_status::ok);
    EXPECT_FALSE(r.msg.advertisement);
    EXPECT_EQ(r.msg.src, ip("2001:db8::2"));
    EXPECT_EQ(r.msg.target, ip("2001:db8::1"));
    EXPECT_EQ(r.msg.link_layer, peer);
    bytes na(neighbour::frame_len, 0);
    neighbour::write_advertisement(na.data(), ours, r.msg);
    EXPECT_EQ(na, from_hex(our_advertisement));
}

TEST(neighbour, duplicate_address_detection_is_answered_to_all_nodes) {
    const bytes ns = from_hex(dad_solicitation);
    const auto r = neighbour::read(ns.data(), static_cast<uint32_t>(ns.size()));
    ASSERT_EQ(r.status, neighbour::read_status::ok);
    EXPECT_FALSE(r.msg.link_layer.has_value());
    bytes na(neighbour::frame_len, 0);
    neighbour::write_advertisement(na.data(), ours, r.msg);
    EXPECT_EQ(na, from_hex(dad_advertisement));
}

TEST(neighbour, reads_the_peers_advertisement) {
    const bytes na = from_hex(peer_advertisement);
    const auto r = neighbour::read(na.data(), static_cast<uint32_t>(na.size()));
    ASSERT_EQ(r.status, neighbour::read_status::ok);
    EXPECT_TRUE(r.msg.advertisement);
    EXPECT_TRUE(r.msg.solicited);
    EXPECT_EQ(r.msg.target, ip("2001:db8::2"));
    EXPECT_EQ(r.msg.link_layer, peer);
}

TEST(neighbour, refuses_what_rfc_4861_says_to_discard) {
    const bytes good = from_hex(peer_advertisement);
    auto status = [](bytes f) { return neighbour::read(f.data(), static_cast<uint32_t>(f.size())).status; };
    auto changed = [&](size_t at, uint8_t value) {
        bytes f = good;
        f[at] = value;
        return f;
    };
    constexpr size_t hop_limit = 14 + 7;
    constexpr size_t icmp = 14 + 40;
    EXPECT_EQ(status(changed(hop_limit, 254)), neighbour::read_status::invalid); // may come from off-link
    EXPECT_EQ(status(changed(icmp + 1, 1)), neighbour::read_status::invalid);    // code
    EXPECT_EQ(status(changed(icmp + 2, 0)), neighbour::read_status::invalid);    // checksum
    EXPECT_EQ(status(changed(icmp + 25, 0)), neighbour::read_status::invalid);   // an option of length 0
    EXPECT_EQ(status(bytes(good.begin(), good.end() - 1)), neighbour::read_status::not_neighbour); // short of its payload
    EXPECT_EQ(status(changed(icmp, 128)), neighbour::read_status::not_neighbour); // echo request
    EXPECT_EQ(status(changed(14 + 6, 17)), neighbour::read_status::not_neighbour); // UDP
    EXPECT_EQ(status(from_hex(dad_solicitation)), neighbour::read_status::ok);
}

// ---- IGMPv3 / MLDv2 reports

// Ether(src=OURS, dst='01:00:5e:00:00:16')/IP(src='192.0.2.1', dst='224.0.0.22', ttl=1, tos=0xc0,
//   flags='DF', id=0, options=[IPOption_Router_Alert()])/IGMPv3(type=0x22)/IGMPv3mr(records=[
//   IGMPv3gr(rtype=4, maddr='239.1.1.1'), IGMPv3gr(rtype=4, maddr='239.1.1.2')])
//   (IP header checksum 0x41f0, IGMP checksum 0xf5f6)
constexpr std::string_view igmp_join =
    "01005e000016020000000101080046c0003000004000010241f0c0000201e0000016940400002200f5f60000000204000000"
    "ef01010104000000ef010102";
// Ether(src=OURS, dst='33:33:00:00:00:16')/IPv6(src='fe80::ff:fe00:101', dst='ff02::16', hlim=1)
//   /IPv6ExtHdrHopByHop(options=[RouterAlert(value=0), PadN(optdata=b'')])
//   /ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(rtype=2, dst='ff05::42')])   (checksum 0x71c5)
constexpr std::string_view mld_current =
    "33330000001602000000010186dd6000000000240001fe80000000000000000000fffe000101ff020000000000000000000000"
    "0000163a000502000001008f0071c50000000102000000ff050000000000000000000000000042";

TEST(membership, igmpv3_report_matches_scapy_including_both_checksums) {
    const std::vector<ip_address> groups{ip("239.1.1.1"), ip("239.1.1.2")};
    bytes f(membership::report_len(true, groups.size()), 0);
    EXPECT_EQ(membership::write_report(f.data(), ours, ip("192.0.2.1"), membership::record::change_to_exclude, groups),
              f.size());
    EXPECT_EQ(f, from_hex(igmp_join));
}

TEST(membership, mldv2_report_matches_scapy_including_the_pseudo_header_of_icmpv6) {
    const std::vector<ip_address> groups{ip("ff05::42")};
    bytes f(membership::report_len(false, groups.size()), 0);
    EXPECT_EQ(membership::write_report(f.data(), ours, ipv6::link_local(ours), membership::record::mode_is_exclude,
                                       groups),
              f.size());
    EXPECT_EQ(f, from_hex(mld_current));
}

// Leaving (a runtime change dropped the group): "change to include {}", RFC 3376 5.1 / RFC 3810 6.1.
// The IPv4 report as igmp_join with IGMPv3gr(rtype=3, maddr='239.1.1.1') alone
//   (IP header checksum 0x41f8, IGMP checksum 0xeafb);
constexpr std::string_view igmp_leave =
    "01005e000016020000000101080046c0002800004000010241f8c0000201e0000016940400002200eafb0000000103000000"
    "ef010101";
// the IPv6 one as mld_current with ICMPv6MLDMultAddrRec(rtype=3, dst='ff05::42')   (checksum 0x70c5)
constexpr std::string_view mld_leave =
    "33330000001602000000010186dd6000000000240001fe80000000000000000000fffe000101ff020000000000000000000000"
    "0000163a000502000001008f0070c50000000103000000ff050000000000000000000000000042";

TEST(membership, leave_reports_match_scapy) {
    const std::vector<ip_address> v4{ip("239.1.1.1")};
    bytes f(membership::report_len(true, v4.size()), 0);
    membership::write_report(f.data(), ours, ip("192.0.2.1"), membership::record::change_to_include, v4);
    EXPECT_EQ(f, from_hex(igmp_leave));
    const std::vector<ip_address> v6{ip("ff05::42")};
    bytes g(membership::report_len(false, v6.size()), 0);
    membership::write_report(g.data(), ours, ipv6::link_local(ours), membership::record::change_to_include, v6);
    EXPECT_EQ(g, from_hex(mld_leave));
}

TEST(membership, the_largest_reports_fit_a_1500_byte_mtu) {
    EXPECT_LE(membership::report_len(true, membership::max_records), 1514u);
    EXPECT_LE(membership::report_len(false, membership::max_records), 1514u);
}

// ---- queries of every version, and others' messages. scapy, with PEER as the querier:
struct query_case {
    const char* what;
    std::string_view hex;
    bool query;
    const char* group; // "" : a report
    uint32_t max_delay_ms;
};
const query_case queries[] = {
    // IP(src='192.0.2.9', dst='224.0.0.1', ttl=1, options=[IPOption_Router_Alert()])
    //   /IGMPv3(type=0x11, mrcode=100)/IGMPv3mq(gaddr='0.0.0.0')
    {"IGMPv3 general query, 10 s",
     "01005e000001020000000102080046c000240001000001028208c0000209e0000001940400001164ee9b0000000000000000", true,
     "0.0.0.0", 10000},
    // IP(src='192.0.2.9', dst='239.1.1.1', ttl=1)/IGMPv3(type=0x11, mrcode=0x8c)/IGMPv3mq(gaddr='239.1.1.1'):
    // exponent 0, mantissa 0xc: (0x10 | 0xc) << 3 = 224 tenths
    {"IGMPv3 group query, floating-point code",
     "01005e010101020000000102080045c000200001000001020710c0000209ef010101118cfe70ef01010100000000", true,
     "239.1.1.1", 22400},
    // IP(src='192.0.2.9', dst='239.1.1.1', ttl=1)/IGMP(type=0x11, mrcode=20, gaddr='239.1.1.1')
    {"IGMPv2 group query, 2 s", "01005e01010102000000010208004500001c00010000010207d4c0000209ef0101011114fee8ef010101",
     true, "239.1.1.1", 2000},
    // IP(src='192.0.2.9', dst='224.0.0.1', ttl=1)/IGMP(type=0x11, mrcode=0, gaddr='0.0.0.0')
    {"IGMPv1 query: 10 s", "01005e00000102000000010208004500001c00010000010217d5c0000209e00000011100eeff00000000", true,
     "0.0.0.0", 10000},
    // IP(src='192.0.2.9', dst='239.1.1.1', ttl=1)/IGMP(type=0x16, gaddr='239.1.1.1')
    {"IGMPv2 report", "01005e01010102000000010208004500001c00010000010207d4c0000209ef0101011614f9e8ef010101", false, "",
     0},
    // IPv6(src='fe80::2', dst='ff02::1', hlim=1)/IPv6ExtHdrHopByHop(options=[RouterAlert(value=0),
    //   PadN(optdata=b'')])/ICMPv6MLQuery2(mrd=10000)
    {"MLDv2 general query, 10 s",
     "33330000000102000000010286dd6000000000240001fe800000000000000000000000000002ff02000000000000000000000000"
     "00013a0005020000010082005912271000000000000000000000000000000000000000000000",
     true, "::", 10000},
    // ... dst='ff05::42' ... /ICMPv6MLQuery2(mrd=0x9234, mladdr='ff05::42'): exponent 1, mantissa
    // 0x234: (0x1000 | 0x234) << 4 ms
    {"MLDv2 group query, floating-point code",
     "33330000004202000000010286dd6000000000240001fe800000000000000000000000000002ff05000000000000000000000000"
     "00423a000502000001008200ee6192340000ff05000000000000000000000000004200000000",
     true, "ff05::42", 0x12340},
    // ... /ICMPv6MLQuery(mrd=2500, mladdr='ff05::42')
    {"MLDv1 group query, 2.5 s",
     "33330000004202000000010286dd6000000000200001fe800000000000000000000000000002ff05000000000000000000000000"
     "00423a00050200000100820076d609c40000ff050000000000000000000000000042",
     true, "ff05::42", 2500},
    // ... dst='ff02::16' ... /ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(rtype=4, dst='ff02::1:ff00:2')])
    {"MLDv2 report of another host",
     "33330000001602000000010286dd6000000000240001fe800000000000000000000000000002ff02000000000000000000000000"
     "00163a000502000001008f0071050000000104000000ff0200000000000000000001ff000002",
     false, "", 0},
};

TEST(membership, reads_queries_of_every_version_and_others_reports) {
    for (const auto& c : queries) {
        const bytes f = from_hex(c.hex);
        const auto r = membership::read(f.data(), static_cast<uint32_t>(f.size()));
        ASSERT_EQ(r.status, membership::read_status::ok) << c.what;
        EXPECT_EQ(r.msg.query, c.query) << c.what;
        if (c.query) {
            EXPECT_EQ(r.msg.group, ip(c.group)) << c.what;
            EXPECT_EQ(r.msg.max_delay_ms, c.max_delay_ms) << c.what;
        }
    }
}

TEST(membership, refuses_bad_checksums_and_short_messages) {
    for (const auto& c : queries) {
        bytes f = from_hex(c.hex);
        f.back() ^= 0x01; // inside the checksummed message, in every case
        EXPECT_EQ(membership::read(f.data(), static_cast<uint32_t>(f.size())).status, membership::read_status::invalid)
            << c.what;
    }
    // An IPv4 header whose total length runs past the frame.
    bytes cut = from_hex(queries[2].hex);
    cut.pop_back();
    EXPECT_EQ(membership::read(cut.data(), static_cast<uint32_t>(cut.size())).status, membership::read_status::invalid);
    // Neither IGMP nor MLD: a neighbour solicitation, ARP.
    const bytes ns = from_hex(peer_solicitation);
    EXPECT_EQ(membership::read(ns.data(), static_cast<uint32_t>(ns.size())).status,
              membership::read_status::not_membership);
    const bytes arp = testing::frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:01:02", {}, 0x0806, 28);
    EXPECT_EQ(membership::read(arp.data(), static_cast<uint32_t>(arp.size())).status,
              membership::read_status::not_membership);
}

} // namespace
} // namespace vx

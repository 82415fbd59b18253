// SPDX-License-Identifier: MIT
#include "stages/vlan_egress.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "stages/parse.hh"
#include "testing/dpdk_env.hh"

namespace vx {
namespace {

using testing::bytes;
using testing::frame;

constexpr auto dst = "02:00:00:00:00:0b";
constexpr auto src = "02:00:00:00:00:0a";

struct egress_case {
    std::string name;
    bytes in;
    uint16_t in_tpid; // the ingress port's TPID (what parse calls a tag)
    egress_rule rule;
    uint16_t out_tpid; // the egress port's TPID
    bytes expected;
    std::optional<uint8_t> strip = {}; // tags of the ingress port; default: the outer one, if any
};

std::vector<egress_case> cases() {
    return {
        {"untagged_to_access", frame(dst, src), 0x8100, egress_rule::untagged(), 0x8100, frame(dst, src)},
        {"untagged_push_vid10", frame(dst, src), 0x8100, egress_rule::tagged(10), 0x8100,
         frame(dst, src, {{0x8100, 10}})},
        {"tagged_pop", frame(dst, src, {{0x8100, 0xa00a}}), 0x8100, egress_rule::untagged(), 0x8100, frame(dst, src)},
        {"tagged_keep_pcp_dei", frame(dst, src, {{0x8100, 0xb00a}}), 0x8100, egress_rule::tagged(10), 0x8100,
         frame(dst, src, {{0x8100, 0xb00a}})},
        {"retag_keeps_pcp", frame(dst, src, {{0x8100, 0xe005}}), 0x8100, egress_rule::tagged(300), 0x8100,
         frame(dst, src, {{0x8100, 0xe12c}})},
        {"priority_tag_to_trunk_keeps_pcp", frame(dst, src, {{0x8100, 0x6000}}), 0x8100, egress_rule::tagged(20),
         0x8100, frame(dst, src, {{0x8100, 0x6014}})},
        {"push_with_port_tpid_88a8", frame(dst, src), 0x8100, egress_rule::tagged(100), 0x88a8,
         frame(dst, src, {{0x88a8, 100}})},
        {"pop_outer_keeps_inner", frame(dst, src, {{0x8100, 100}, {0x8100, 10}}), 0x8100, egress_rule::untagged(),
         0x8100, frame(dst, src, {{0x8100, 10}})},
        {"push_s_and_c", frame(dst, src), 0x8100, egress_rule::double_tagged(300, 10), 0x88a8,
         frame(dst, src, {{0x88a8, 300}, {0x8100, 10}})},
        {"retag_and_push_c_keeps_pcp", frame(dst, src, {{0x8100, 0xa00a}}), 0x8100, egress_rule::double_tagged(300, 10),
         0x88a8, frame(dst, src, {{0x88a8, 0xa12c}, {0x8100, 0xa00a}})},
        {"pop_s_and_c", frame(dst, src, {{0x88a8, 0x212c}, {0x8100, 10}}), 0x88a8, egress_rule::untagged(), 0x8100,
         frame(dst, src), 2},
        {"customer_frame_keeps_c_tag", frame(dst, src, {{0x8100, 10}}), 0x8100, egress_rule::tagged(100), 0x88a8,
         frame(dst, src, {{0x88a8, 100}, {0x8100, 10}}), 0},
        {"short_frame_push", frame(dst, src, {}, 0x0806, 0), 0x8100, egress_rule::tagged(7), 0x8100,
         frame(dst, src, {{0x8100, 7}}, 0x0806, 0)},
    };
}

class vlan_egress_table : public ::testing::TestWithParam<egress_case> {};

TEST_P(vlan_egress_table, rewrites_to_the_expected_bytes) {
    const auto& c = GetParam();
    rte_mbuf* m = testing::make_mbuf(c.in);
    const auto h = parse_l2(c.in.data(), static_cast<uint32_t>(c.in.size()), c.in_tpid);
    ASSERT_TRUE(h.ok);
    l2_header header = h.header;
    header.strip = c.strip.value_or(std::min<uint8_t>(header.tags, 1)); // vlan_ingress's part
    ASSERT_TRUE(vlan_egress(m, header, c.rule, c.out_tpid));
    EXPECT_EQ(testing::mbuf_bytes(m), c.expected);
    EXPECT_EQ(rte_pktmbuf_pkt_len(m), c.expected.size());
    rte_pktmbuf_free(m);
}

INSTANTIATE_TEST_SUITE_P(frames, vlan_egress_table, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

TEST(vlan_egress, push_without_headroom_fails_and_leaves_the_frame) {
    const bytes in = frame(dst, src);
    rte_mbuf* m = testing::make_mbuf(in);
    rte_pktmbuf_prepend(m, rte_pktmbuf_headroom(m)); // use the headroom up
    rte_pktmbuf_adj(m, 0);
    const uint16_t len = rte_pktmbuf_data_len(m);
    l2_header h;
    EXPECT_FALSE(vlan_egress(m, h, egress_rule::tagged(10), 0x8100));
    EXPECT_EQ(rte_pktmbuf_data_len(m), len);
    rte_pktmbuf_free(m);
}

} // namespace
} // namespace vx

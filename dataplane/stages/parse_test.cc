// SPDX-License-Identifier: MIT
#include "stages/parse.hh"

#include <gtest/gtest.h>

#include "testing/dpdk_env.hh"

namespace vx {
namespace {

using testing::bytes;
using testing::frame;
using testing::tag;

constexpr auto host_a = "02:00:00:00:00:0a";
constexpr auto host_b = "02:00:00:00:00:0b";

struct parse_case {
    std::string name;
    bytes data;
    uint16_t tpid;
    bool ok;
    drop_reason why;
    uint8_t tags;
    uint16_t tci;
    uint16_t inner_tci = 0;
    bool foreign = false; // starts with a well-known TPID other than the port's
};

bytes truncate(bytes b, size_t n) {
    b.resize(n);
    return b;
}

std::vector<parse_case> cases() {
    return {
        {"untagged", frame(host_b, host_a), 0x8100, true, {}, 0, 0},
        {"dot1q_pcp5_vid10", frame(host_b, host_a, {{0x8100, 0xa00a}}), 0x8100, true, {}, 1, 0xa00a},
        {"dot1q_dei_vid4094", frame(host_b, host_a, {{0x8100, 0x1ffe}}), 0x8100, true, {}, 1, 0x1ffe},
        {"priority_tagged", frame(host_b, host_a, {{0x8100, 0x6000}}), 0x8100, true, {}, 1, 0x6000},
        {"two_c_tags", frame(host_b, host_a, {{0x8100, 100}, {0x8100, 10}}), 0x8100, true, {}, 2, 100, 10},
        {"three_tags_third_is_payload",
         frame(host_b, host_a, {{0x8100, 1}, {0x8100, 2}, {0x8100, 3}}),
         0x8100,
         true,
         {},
         2,
         1,
         2},
        {"s_tag_on_c_port_is_foreign", frame(host_b, host_a, {{0x88a8, 100}, {0x8100, 10}}), 0x8100, true, {}, 0, 0,
         0, true},
        {"s_and_c_tag_on_s_port", frame(host_b, host_a, {{0x88a8, 0x2064}, {0x8100, 0xa00a}}), 0x88a8, true, {}, 2,
         0x2064, 0xa00a},
        {"s_tag_alone_on_s_port", frame(host_b, host_a, {{0x88a8, 100}}), 0x88a8, true, {}, 1, 100},
        {"s_s_c_stack_reads_two", frame(host_b, host_a, {{0x88a8, 100}, {0x88a8, 200}, {0x8100, 10}}), 0x88a8, true,
         {}, 1, 100},
        {"c_tag_on_s_port_is_foreign", frame(host_b, host_a, {{0x8100, 10}}), 0x88a8, true, {}, 0, 0, 0, true},
        {"odd_tpid_9100", frame(host_b, host_a, {{0x9100, 7}}), 0x9100, true, {}, 1, 7},
        {"odd_tpid_9100_with_c_tag", frame(host_b, host_a, {{0x9100, 7}, {0x8100, 8}}), 0x9100, true, {}, 2, 7, 8},
        {"any_tpid_1234", frame(host_b, host_a, {{0x1234, 0x300f}}), 0x1234, true, {}, 1, 0x300f},
        {"9200_on_1234_port_is_foreign", frame(host_b, host_a, {{0x9200, 5}}), 0x1234, true, {}, 0, 0, 0, true},
        {"ipv4_is_not_foreign", frame(host_b, host_a, {}, 0x0800), 0x88a8, true, {}, 0, 0},
        {"s_tag_cut_before_c_tag_type", truncate(frame(host_b, host_a, {{0x88a8, 1}, {0x8100, 2}}), 21), 0x88a8, false,
         drop_reason::truncated, 0, 0},
        {"minimal_14_bytes", frame(host_b, host_a, {}, 0x0800, 0), 0x8100, true, {}, 0, 0},
        {"broadcast_dst_ok", frame("ff:ff:ff:ff:ff:ff", host_a), 0x8100, true, {}, 0, 0},
        {"empty", {}, 0x8100, false, drop_reason::truncated, 0, 0},
        {"runt_13_bytes", truncate(frame(host_b, host_a), 13), 0x8100, false, drop_reason::truncated, 0, 0},
        {"tag_cut_after_tpid", truncate(frame(host_b, host_a, {{0x8100, 10}}), 14), 0x8100, false,
         drop_reason::truncated, 0, 0},
        {"tag_without_ethertype", truncate(frame(host_b, host_a, {{0x8100, 10}}), 17), 0x8100, false,
         drop_reason::truncated, 0, 0},
        {"second_tag_cut", truncate(frame(host_b, host_a, {{0x8100, 10}, {0x8100, 20}}), 21), 0x8100, false,
         drop_reason::truncated, 0, 0},
        {"multicast_source", frame(host_b, "01:00:5e:00:00:01"), 0x8100, false, drop_reason::source_group_mac, 0, 0},
        {"broadcast_source", frame(host_b, "ff:ff:ff:ff:ff:ff"), 0x8100, false, drop_reason::source_group_mac, 0, 0},
    };
}

class parse_table : public ::testing::TestWithParam<parse_case> {};

TEST_P(parse_table, reads_header_or_names_the_drop) {
    const auto& c = GetParam();
    const auto r = parse_l2(c.data.data(), static_cast<uint32_t>(c.data.size()), c.tpid);
    ASSERT_EQ(r.ok, c.ok);
    if (!c.ok) {
        EXPECT_EQ(r.why, c.why);
        return;
    }
    EXPECT_EQ(r.header.dst, mac_addr::load(c.data.data()));
    EXPECT_EQ(r.header.src, mac_addr::load(c.data.data() + 6));
    EXPECT_EQ(r.header.tags, c.tags);
    EXPECT_EQ(r.header.tag.value, c.tci);
    EXPECT_EQ(r.header.inner_tag.value, c.inner_tci);
    EXPECT_EQ(r.foreign_tpid, c.foreign);
}

INSTANTIATE_TEST_SUITE_P(frames, parse_table, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

// Every length from 0 to a full double-tagged header: never reads past the end (run under
// ASan/valgrind to see it), and accepts exactly the lengths that hold the headers.
TEST(parse, every_prefix_length_is_accepted_or_truncated) {
    const bytes full = frame(host_b, host_a, {{0x8100, 10}, {0x8100, 20}}, 0x0800, 0);
    for (size_t n = 0; n <= full.size(); ++n) {
        const bytes cut(full.begin(), full.begin() + static_cast<long>(n));
        const auto r = parse_l2(cut.data(), static_cast<uint32_t>(n), 0x8100);
        EXPECT_EQ(r.ok, n == full.size()) << "length " << n;
    }
}

} // namespace
} // namespace vx

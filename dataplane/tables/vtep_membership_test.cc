// SPDX-License-Identifier: MIT
// When the VTEP reports its groups: the join and its repetition, answers to general and
// group-specific queries within the maximum response time, and what an earlier answer covers.

#include "tables/vtep_membership.hh"

#include <gtest/gtest.h>

#include <set>

#include "testing/dpdk_env.hh"

namespace vx {
namespace {

using testing::ip;

using record = membership::record;
const ip_address v4_group = ip("239.1.1.1");
const ip_address v4_other = ip("239.1.1.2");
const ip_address v6_group = ip("ff05::42");

vtep_membership with_groups(uint32_t seed = 1) {
    return vtep_membership({v4_group, v4_other, v6_group}, seed);
}

TEST(vtep_membership, joins_each_family_now_and_once_more_a_second_later) {
    auto m = with_groups();
    m.joined(5000);
    const auto now = m.due(5000);
    ASSERT_EQ(now.size(), 2u); // one IGMPv3 report with both IPv4 groups, one MLDv2 report
    EXPECT_EQ(now[0].type, record::change_to_exclude);
    EXPECT_EQ(now[0].groups, (std::vector{v4_group, v4_other}));
    EXPECT_EQ(now[1].groups, (std::vector{v6_group}));
    EXPECT_TRUE(m.due(5999).empty());
    EXPECT_EQ(m.due(6000).size(), 2u);
    EXPECT_TRUE(m.due(60000).empty());
}

TEST(vtep_membership, answers_a_general_query_at_a_random_time_within_its_maximum) {
    std::set<uint64_t> times;
    for (uint32_t seed = 1; seed <= 20; ++seed) {
        auto m = with_groups(seed);
        m.query(membership::unspecified(true), 1000, 10000);
        uint64_t t = 10000;
        while (m.due(t).empty()) {
            ASSERT_LE(++t, 11000u) << "no answer within the maximum response time";
        }
        times.insert(t);
    }
    EXPECT_GT(times.size(), 5u) << "the delay is not random";
}

TEST(vtep_membership, a_general_query_is_answered_for_its_family_only) {
    auto m = with_groups();
    m.query(membership::unspecified(false), 0, 100);
    const auto r = m.due(100);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].type, record::mode_is_exclude);
    EXPECT_EQ(r[0].groups, (std::vector{v6_group}));
}

TEST(vtep_membership, group_queries_for_our_groups_only) {
    auto m = with_groups();
    m.query(ip("239.9.9.9"), 0, 100);
    m.query(ip("ff05::99"), 0, 100);
    EXPECT_TRUE(m.due(100).empty());
    m.query(v4_other, 0, 100);
    const auto r = m.due(100);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].groups, (std::vector{v4_other}));
}

TEST(vtep_membership, an_earlier_general_answer_covers_a_later_group_query) {
    auto m = with_groups();
    m.query(membership::unspecified(true), 0, 100); // due at 100
    m.query(v4_group, 0, 200);                      // covered
    EXPECT_EQ(m.due(100).size(), 1u);
    EXPECT_TRUE(m.due(1000).empty());
}

TEST(vtep_membership, a_repeated_query_keeps_the_earlier_answer) {
    auto m = with_groups();
    m.query(v6_group, 0, 100);
    m.query(v6_group, 0, 150);
    EXPECT_EQ(m.due(100).size(), 1u);
    EXPECT_TRUE(m.due(1000).empty());
}

TEST(vtep_membership, no_groups_no_reports) {
    vtep_membership m({}, 1);
    m.joined(0);
    m.query(membership::unspecified(true), 0, 0);
    EXPECT_TRUE(m.due(10000).empty());
}

TEST(vtep_membership, many_groups_are_split_into_reports_of_max_records) {
    std::vector<ip_address> groups;
    for (uint32_t i = 0; i < membership::max_records + 1; ++i) {
        const uint8_t a[4] = {239, 2, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
        groups.push_back(ip_address::v4(a));
    }
    vtep_membership m(groups, 1);
    m.joined(0);
    const auto r = m.due(0);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].groups.size(), membership::max_records);
    EXPECT_EQ(r[1].groups.size(), 1u);
}

// A runtime change of the segments: new groups joined, groups gone left, each now and a second
// later, one report per family and kind; nothing more is said for a group gone.
TEST(vtep_membership, a_change_joins_new_groups_and_leaves_those_gone) {
    auto m = with_groups();
    m.joined(0);
    m.due(1000);
    m.query(v4_other, 5000, 2000); // an answer pending for a group about to go
    const ip_address v4_new = ip("239.1.1.3");
    const ip_address v6_new = ip("ff05::43");
    m.change_groups({v4_group, v4_new, v6_new}, 2000);
    const auto now = m.due(2000);
    ASSERT_EQ(now.size(), 4u);
    EXPECT_EQ(now[0].type, record::change_to_exclude);
    EXPECT_EQ(now[0].groups, (std::vector{v4_new}));
    EXPECT_EQ(now[1].type, record::change_to_exclude);
    EXPECT_EQ(now[1].groups, (std::vector{v6_new}));
    EXPECT_EQ(now[2].type, record::change_to_include);
    EXPECT_EQ(now[2].groups, (std::vector{v4_other}));
    EXPECT_EQ(now[3].type, record::change_to_include);
    EXPECT_EQ(now[3].groups, (std::vector{v6_group}));
    EXPECT_TRUE(m.due(2999).empty());
    EXPECT_EQ(m.due(3000).size(), 4u) << "robustness 2: once more a second later";
    EXPECT_TRUE(m.due(100000).empty()) << "the query's answer for the group gone is not sent";
    // A general query now answers for the new set.
    m.query(membership::unspecified(true), 0, 200000);
    const auto answer = m.due(200000);
    ASSERT_EQ(answer.size(), 1u);
    EXPECT_EQ(answer[0].groups, (std::vector{v4_group, v4_new}));
}

TEST(vtep_membership, a_group_left_and_joined_again_before_its_reports_went_is_joined) {
    auto m = with_groups();
    m.change_groups({v4_other, v6_group}, 0);
    m.change_groups({v4_group, v4_other, v6_group}, 10);
    const auto r = m.due(10);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].type, record::change_to_exclude);
    EXPECT_EQ(r[0].groups, (std::vector{v4_group}));
}

} // namespace
} // namespace vx

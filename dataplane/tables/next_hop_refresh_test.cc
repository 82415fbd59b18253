// SPDX-License-Identifier: MIT
// When a resolved next hop is probed and given up: after the reachable time without an
// answer, `probes` probes a second apart, then unresolved; an answer at any point confirms it.

#include "tables/next_hop_refresh.hh"

#include <gtest/gtest.h>

#include <vector>

#include "testing/dpdk_env.hh"

namespace vx {
namespace {

using action = next_hop_refresh::action;
using testing::ip;

std::vector<action> seconds(next_hop_refresh& r, const ip_address& a, uint32_t from, uint32_t to) {
    std::vector<action> out;
    for (uint32_t t = from; t <= to; ++t) {
        out.push_back(r.due(a, t));
    }
    return out;
}

TEST(next_hop_refresh, probes_after_the_reachable_time_then_gives_up) {
    next_hop_refresh r({.reachable_s = 5, .probes = 3});
    const auto a = ip("192.0.2.2");
    r.confirmed(a, 100);
    EXPECT_EQ(seconds(r, a, 100, 104), std::vector<action>(5, action::none));
    EXPECT_EQ(seconds(r, a, 105, 107), std::vector<action>(3, action::probe));
    EXPECT_EQ(r.due(a, 108), action::unresolve);
    // Resolved again later: counted from then.
    EXPECT_EQ(r.due(a, 200), action::none);
    EXPECT_EQ(r.due(a, 204), action::none);
    EXPECT_EQ(r.due(a, 205), action::probe);
}

TEST(next_hop_refresh, an_answer_while_probing_confirms_it) {
    next_hop_refresh r({.reachable_s = 5, .probes = 3});
    const auto a = ip("2001:db8::2");
    r.confirmed(a, 0);
    EXPECT_EQ(r.due(a, 6), action::probe);
    r.confirmed(a, 6);
    EXPECT_EQ(seconds(r, a, 7, 10), std::vector<action>(4, action::none));
    EXPECT_EQ(r.due(a, 11), action::probe);
}

TEST(next_hop_refresh, a_remote_never_confirmed_counts_from_its_first_check) {
    next_hop_refresh r; // the defaults: 30 s, 3 probes
    const auto a = ip("192.0.2.3");
    EXPECT_EQ(r.due(a, 1000), action::none);
    EXPECT_EQ(r.due(a, 1029), action::none);
    EXPECT_EQ(r.due(a, 1030), action::probe);
    EXPECT_EQ(r.due(a, 1033), action::unresolve);
}

TEST(next_hop_refresh, remotes_are_timed_apart) {
    next_hop_refresh r({.reachable_s = 5, .probes = 1});
    const auto a = ip("192.0.2.2");
    const auto b = ip("192.0.2.3");
    r.confirmed(a, 0);
    r.confirmed(b, 3);
    EXPECT_EQ(r.due(a, 5), action::probe);
    EXPECT_EQ(r.due(b, 5), action::none);
    EXPECT_EQ(r.due(a, 6), action::unresolve);
    EXPECT_EQ(r.due(b, 8), action::probe);
}

} // namespace
} // namespace vx

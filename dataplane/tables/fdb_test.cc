// SPDX-License-Identifier: MIT
#include "tables/fdb.hh"

#include <gtest/gtest.h>

#include "testing/dpdk_env.hh"

namespace vx {
namespace {

fdb_key key(uint64_t mac, uint16_t bd) {
    return fdb_key::make(mac_addr::from_u64(0x020000000000ull | mac), bd);
}

std::optional<fdb_hit> lookup(const fdb& t, fdb_key k) {
    fdb_hit hit;
    if (t.lookup_bulk(&k, 1, &hit) == 0) {
        return std::nullopt;
    }
    return hit;
}

class fdb_test : public ::testing::Test {
protected:
    void SetUp() override { testing::start_eal(); }
    static fdb make(uint32_t max, uint32_t aging = 300) {
        static int n = 0;
        return fdb({"fdb_test_" + std::to_string(n++), max, aging, nullptr, SOCKET_ID_ANY});
    }
};

TEST(fdb_key, packs_mac_and_domain) {
    const auto mac = *mac_addr::parse("02:11:22:33:44:55");
    const auto k = fdb_key::make(mac, 0x1234);
    EXPECT_EQ(k.mac(), mac);
    EXPECT_EQ(k.bd(), 0x1234);
    EXPECT_NE(fdb_key::make(mac, 1), fdb_key::make(mac, 2));
}

TEST_F(fdb_test, learn_then_lookup_per_domain) {
    auto t = make(16);
    EXPECT_EQ(t.learn(key(1, 10), 3, 0).outcome, learn_outcome::added);
    ASSERT_TRUE(lookup(t, key(1, 10)));
    EXPECT_EQ(lookup(t, key(1, 10))->port(), 3);
    EXPECT_FALSE(lookup(t, key(1, 20))) << "the same MAC in another domain is another entry";
    EXPECT_EQ(t.learn(key(1, 20), 4, 0).outcome, learn_outcome::added);
    EXPECT_EQ(lookup(t, key(1, 20))->port(), 4);
    EXPECT_EQ(lookup(t, key(1, 10))->port(), 3);
    EXPECT_EQ(t.size(), 2u);
}

TEST_F(fdb_test, move_is_relearned_and_counted) {
    auto t = make(16);
    t.learn(key(1, 1), 0, 0);
    const auto r = t.learn(key(1, 1), 2, 1);
    EXPECT_EQ(r.outcome, learn_outcome::moved);
    EXPECT_EQ(r.previous_port, 0);
    EXPECT_EQ(lookup(t, key(1, 1))->port(), 2);
    EXPECT_EQ(t.learn(key(1, 1), 2, 1).outcome, learn_outcome::refreshed);
    EXPECT_EQ(t.statistics().moved, 1u);
    EXPECT_EQ(t.size(), 1u);
}

TEST_F(fdb_test, static_entries_never_move_or_age) {
    auto t = make(16, 10);
    ASSERT_TRUE(t.add_static(key(1, 1), 5));
    const auto r = t.learn(key(1, 1), 2, 0);
    EXPECT_EQ(r.outcome, learn_outcome::static_conflict);
    EXPECT_EQ(lookup(t, key(1, 1))->port(), 5);
    EXPECT_TRUE(lookup(t, key(1, 1))->is_static());
    EXPECT_EQ(t.age(1000), 0u);
    EXPECT_EQ(t.flush(), 0u);
    EXPECT_TRUE(lookup(t, key(1, 1)));
}

TEST_F(fdb_test, aging_removes_only_idle_entries) {
    auto t = make(16, 10);
    t.learn(key(1, 1), 0, 0);
    t.learn(key(2, 1), 0, 0);
    const fdb_hit hit = *lookup(t, key(2, 1));
    t.touch(hit, 8); // a worker saw MAC 2 at t=8
    EXPECT_EQ(t.age(10), 0u) << "10 s idle is not more than aging_s";
    EXPECT_EQ(t.age(11), 1u);
    EXPECT_FALSE(lookup(t, key(1, 1)));
    EXPECT_TRUE(lookup(t, key(2, 1)));
    EXPECT_EQ(t.statistics().aged, 1u);
}

TEST_F(fdb_test, aging_zero_never_ages) {
    auto t = make(16, 0);
    t.learn(key(1, 1), 0, 0);
    EXPECT_EQ(t.age(1'000'000), 0u);
}

TEST_F(fdb_test, a_clock_a_tick_ahead_is_not_idle) {
    auto t = make(16, 10);
    t.learn(key(1, 1), 0, 5);
    t.touch(*lookup(t, key(1, 1)), 6); // worker's tick ran ahead of the learner's
    EXPECT_EQ(t.age(5), 0u);
}

TEST_F(fdb_test, full_table_refuses_and_counts_then_recovers) {
    auto t = make(8);
    for (uint64_t i = 0; i < 8; ++i) {
        ASSERT_EQ(t.learn(key(i, 1), 0, 0).outcome, learn_outcome::added);
    }
    EXPECT_EQ(t.learn(key(100, 1), 0, 0).outcome, learn_outcome::table_full);
    EXPECT_EQ(t.statistics().refused_full, 1u);
    EXPECT_FALSE(lookup(t, key(100, 1)));
    EXPECT_EQ(t.learn(key(3, 1), 1, 0).outcome, learn_outcome::moved) << "a move needs no new slot";
    ASSERT_TRUE(t.remove(key(0, 1)));
    EXPECT_EQ(t.learn(key(100, 1), 0, 0).outcome, learn_outcome::added);
    EXPECT_EQ(t.size(), 8u);
}

TEST_F(fdb_test, flush_by_port_and_domain) {
    auto t = make(16);
    t.learn(key(1, 1), 0, 0);
    t.learn(key(2, 1), 1, 0);
    t.learn(key(3, 2), 1, 0);
    EXPECT_EQ(t.flush(1, 1), 1u);
    EXPECT_FALSE(lookup(t, key(2, 1)));
    EXPECT_EQ(t.flush(-1, 2), 1u);
    EXPECT_EQ(t.flush(), 1u);
    EXPECT_EQ(t.size(), 0u);
}

TEST_F(fdb_test, bulk_lookup_mixes_hits_and_misses) {
    auto t = make(64);
    std::vector<fdb_key> keys;
    for (uint64_t i = 0; i < 64; ++i) {
        keys.push_back(key(i, 7));
        if (i % 3 == 0) {
            t.learn(keys.back(), static_cast<uint16_t>(i), 0);
        }
    }
    std::vector<fdb_hit> hits(64);
    const uint64_t mask = t.lookup_bulk(keys.data(), 64, hits.data());
    for (uint64_t i = 0; i < 64; ++i) {
        ASSERT_EQ(((mask >> i) & 1) != 0, i % 3 == 0) << i;
        if (i % 3 == 0) {
            EXPECT_EQ(hits[i].port(), i);
        }
    }
}

TEST_F(fdb_test, holds_a_million_entries) {
    constexpr uint32_t million = 1u << 20;
    auto t = make(million);
    for (uint32_t i = 0; i < million; ++i) {
        ASSERT_EQ(t.learn(key(i, static_cast<uint16_t>(i & 0xff)), static_cast<uint16_t>(i & 0x3f), 0).outcome,
                  learn_outcome::added)
            << i;
    }
    EXPECT_EQ(t.size(), million);
    EXPECT_EQ(t.learn(key(million, 0), 0, 0).outcome, learn_outcome::table_full);
    for (uint32_t i = 0; i < million; i += 4099) {
        const auto hit = lookup(t, key(i, static_cast<uint16_t>(i & 0xff)));
        ASSERT_TRUE(hit) << i;
        EXPECT_EQ(hit->port(), i & 0x3f);
    }
}

} // namespace
} // namespace vx

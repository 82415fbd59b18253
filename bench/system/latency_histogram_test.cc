// SPDX-License-Identifier: MIT
// vxgen's latency histogram and frame stamp: bucket bounds, percentiles against exact ones,
// and the stamp read back from the end of a frame.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "frame_stamp.hh"
#include "latency_histogram.hh"

namespace vx::bench {
namespace {

using H = latency_histogram;

TEST(LatencyHistogram, EveryValueLiesInItsBucketAndBucketsAreNarrow) {
    std::mt19937_64 rng(3);
    std::vector<uint64_t> values{0, 1, 31, 32, 33, 63, 64, 65, 1000, 4095, 4096, 1u << 20, (1ull << 40) + 12345,
                                 std::numeric_limits<uint64_t>::max()};
    for (int i = 0; i < 10000; ++i) {
        values.push_back(rng() >> (rng() % 64));
    }
    for (uint64_t v : values) {
        const size_t b = H::bucket_of(v);
        ASSERT_LT(b, H::bucket_count) << v;
        EXPECT_LE(H::bucket_low(b), v) << v;
        EXPECT_GE(H::bucket_high(b), v) << v;
        // At most 1/32 of the bucket's lowest value wide (exact below 32).
        EXPECT_LE(H::bucket_high(b) - H::bucket_low(b), H::bucket_low(b) / H::sub_count) << v;
    }
}

TEST(LatencyHistogram, BucketsAreContiguousAndOrdered) {
    for (size_t b = 1; b < H::bucket_count; ++b) {
        ASSERT_EQ(H::bucket_low(b), H::bucket_high(b - 1) + 1) << b;
        ASSERT_EQ(H::bucket_of(H::bucket_low(b)), b);
        ASSERT_EQ(H::bucket_of(H::bucket_high(b)), b);
    }
    EXPECT_EQ(H::bucket_high(H::bucket_count - 1), std::numeric_limits<uint64_t>::max());
}

TEST(LatencyHistogram, SmallValuesAreExact) {
    H h;
    for (uint64_t v = 0; v < 32; ++v) {
        h.record(v);
    }
    EXPECT_EQ(h.count(), 32u);
    EXPECT_EQ(h.min(), 0u);
    EXPECT_EQ(h.max(), 31u);
    EXPECT_EQ(h.percentile(0.5), 15u); // rank 16 of 0..31
    EXPECT_EQ(h.percentile(0.9), 28u); // rank ceil(28.8) = 29
    EXPECT_EQ(h.percentile(1.0), 31u);
    EXPECT_EQ(h.percentile(0.0), 0u);
}

TEST(LatencyHistogram, PercentilesWithinABucketOfTheExactOnes) {
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> dist(9.0, 1.0); // ~8000 ticks median, a long tail
    std::vector<uint64_t> values;
    H h;
    for (int i = 0; i < 100000; ++i) {
        const auto v = static_cast<uint64_t>(dist(rng));
        values.push_back(v);
        h.record(v);
    }
    std::sort(values.begin(), values.end());
    for (double q : {0.5, 0.9, 0.99, 0.999}) {
        const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
        const uint64_t exact = values[rank - 1];
        const uint64_t got = h.percentile(q);
        EXPECT_GE(got, exact) << q;                         // never below
        EXPECT_LE(got, exact + exact / H::sub_count) << q;  // at most one bucket above
    }
    EXPECT_EQ(h.min(), values.front());
    EXPECT_EQ(h.max(), values.back());
    EXPECT_EQ(h.percentile(1.0), values.back());
}

TEST(LatencyHistogram, OneOutlierShowsOnlyAtTheTop) {
    H h;
    for (int i = 0; i < 999; ++i) {
        h.record(1000);
    }
    h.record(1'000'000);
    EXPECT_LE(h.percentile(0.99), 1000u + 1000 / H::sub_count);
    EXPECT_EQ(h.percentile(0.999), h.percentile(0.99));
    EXPECT_EQ(h.percentile(1.0), 1'000'000u);
    EXPECT_EQ(h.max(), 1'000'000u);
}

TEST(LatencyHistogram, EmptyAndMergedAndReset) {
    H a, b;
    EXPECT_EQ(a.percentile(0.5), 0u);
    EXPECT_EQ(a.min(), 0u);
    EXPECT_EQ(a.max(), 0u);
    a.record(100);
    b.record(5);
    b.record(7000);
    a.merge(b);
    EXPECT_EQ(a.count(), 3u);
    EXPECT_EQ(a.min(), 5u);
    EXPECT_EQ(a.max(), 7000u);
    EXPECT_GE(a.percentile(0.5), 100u);
    EXPECT_LE(a.percentile(0.5), 103u);
    a.reset();
    EXPECT_EQ(a.count(), 0u);
    EXPECT_EQ(a.percentile(0.99), 0u);
}

TEST(FrameStamp, ReadBackFromTheEndOfAFrame) {
    std::array<uint8_t, 64> frame{};
    frame.fill(0xee);
    const frame_stamp s{0xdeadbeef, 0x0123456789abcdefull};
    auto tail = std::span(frame).last<frame_stamp::size>();
    s.write(tail);
    EXPECT_EQ(frame[64 - frame_stamp::size - 1], 0xee); // nothing before the stamp touched
    const auto got = frame_stamp::read(std::span<const uint8_t, frame_stamp::size>(tail));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->seq, s.seq);
    EXPECT_EQ(got->tsc, s.tsc);
}

TEST(FrameStamp, AFrameWithoutTheMagicHasNoStamp) {
    std::array<uint8_t, frame_stamp::size> tail{};
    EXPECT_FALSE(frame_stamp::read(std::span<const uint8_t, frame_stamp::size>(tail)));
    frame_stamp{1, 2}.write(tail);
    tail[0] ^= 1;
    EXPECT_FALSE(frame_stamp::read(std::span<const uint8_t, frame_stamp::size>(tail)));
}

} // namespace
} // namespace vx::bench

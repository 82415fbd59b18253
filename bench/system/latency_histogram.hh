// SPDX-License-Identifier: MIT
#pragma once

// A log-linear histogram of latencies (in any unit: vxgen records TSC ticks), fixed in size,
// so that recording a value allocates nothing and costs a bit scan and an increment.
//
// Values below 2^sub_bits are counted exactly. Above, each power of two [2^e, 2^(e+1)) is
// split into 2^sub_bits equal buckets, so a bucket is at most 2^-sub_bits of the values in
// it wide (3.1 % with 5 bits) at any magnitude: the HdrHistogram layout, without its
// configurable range (Debian packages no C or C++ HdrHistogram). Percentiles report the
// highest value of the bucket the rank falls in (never below the true value), clamped to the
// exact maximum; min and max are kept exactly.

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace vx::bench {

class latency_histogram {
public:
    static constexpr unsigned sub_bits = 5;
    static constexpr uint64_t sub_count = uint64_t{1} << sub_bits;
    static constexpr size_t bucket_count = sub_count + (64 - sub_bits) * sub_count;

    static constexpr size_t bucket_of(uint64_t v) noexcept {
        if (v < sub_count) {
            return v;
        }
        const unsigned msb = 63 - static_cast<unsigned>(std::countl_zero(v));
        const unsigned shift = msb - sub_bits;
        const uint64_t sub = (v >> shift) - sub_count; // the sub_bits below the top bit
        return sub_count + shift * sub_count + sub;
    }

    static constexpr uint64_t bucket_low(size_t b) noexcept {
        if (b < sub_count) {
            return b;
        }
        const uint64_t k = b - sub_count;
        const unsigned shift = static_cast<unsigned>(k / sub_count);
        return (sub_count + k % sub_count) << shift;
    }

    static constexpr uint64_t bucket_high(size_t b) noexcept {
        if (b < sub_count) {
            return b;
        }
        const unsigned shift = static_cast<unsigned>((b - sub_count) / sub_count);
        return bucket_low(b) + ((uint64_t{1} << shift) - 1);
    }

    void record(uint64_t v) noexcept {
        ++counts_[bucket_of(v)];
        ++total_;
        min_ = std::min(min_, v);
        max_ = std::max(max_, v);
    }

    void merge(const latency_histogram& o) noexcept {
        for (size_t b = 0; b < bucket_count; ++b) {
            counts_[b] += o.counts_[b];
        }
        total_ += o.total_;
        min_ = std::min(min_, o.min_);
        max_ = std::max(max_, o.max_);
    }

    void reset() noexcept { *this = latency_histogram{}; }

    uint64_t count() const noexcept { return total_; }
    uint64_t min() const noexcept { return total_ ? min_ : 0; }
    uint64_t max() const noexcept { return max_; }

    // The value at quantile q (0..1): the smallest bucket holding at least ceil(q x count)
    // values at or below it, reported as that bucket's highest value (at most the maximum).
    // 0 when empty; q = 0 gives the minimum.
    uint64_t percentile(double q) const noexcept {
        if (total_ == 0) {
            return 0;
        }
        if (q <= 0) {
            return min_;
        }
        const double want = std::ceil(std::min(q, 1.0) * static_cast<double>(total_));
        const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(want));
        uint64_t seen = 0;
        for (size_t b = 0; b < bucket_count; ++b) {
            seen += counts_[b];
            if (seen >= rank) {
                return std::clamp(bucket_high(b), min_, max_);
            }
        }
        return max_;
    }

private:
    std::array<uint64_t, bucket_count> counts_{};
    uint64_t total_ = 0;
    uint64_t min_ = std::numeric_limits<uint64_t>::max();
    uint64_t max_ = 0;
};

} // namespace vx::bench

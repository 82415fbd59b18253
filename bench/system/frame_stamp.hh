// SPDX-License-Identifier: MIT
#pragma once

// The stamp vxgen writes into every frame it sends: a magic value, a sequence number and the
// TSC at sending, in the frame's last `size` bytes.
//
// Why the end: every workload keeps the end of a frame intact. VLAN push/pop and QinQ change
// bytes after the MACs, VXLAN encapsulation grows the frame at the front and decapsulation
// shrinks it there, so the stamp stays at the same distance from the end whatever the switch
// did. vxbench's frames carry at least `size` bytes of UDP payload (64-byte frames with two
// tags have exactly 14), so the stamp never overlaps a header.

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

namespace vx::bench {

struct frame_stamp {
    static constexpr uint16_t magic = 0x7658; // "vX"
    static constexpr size_t size = 14;        // magic (2), sequence (4), TSC (8); host byte order

    uint32_t seq;
    uint64_t tsc;

    // The last `size` bytes of `tail` (at least `size` bytes, the end of a frame).
    void write(std::span<uint8_t, size> tail) const noexcept {
        std::memcpy(tail.data(), &magic, 2);
        std::memcpy(tail.data() + 2, &seq, 4);
        std::memcpy(tail.data() + 6, &tsc, 8);
    }

    // The stamp in these bytes, or nothing when they do not start with the magic value (a
    // frame vxgen did not send, e.g. one of the learning frames flooded back).
    static std::optional<frame_stamp> read(std::span<const uint8_t, size> tail) noexcept {
        uint16_t m;
        std::memcpy(&m, tail.data(), 2);
        if (m != magic) {
            return std::nullopt;
        }
        frame_stamp s{};
        std::memcpy(&s.seq, tail.data() + 2, 4);
        std::memcpy(&s.tsc, tail.data() + 6, 8);
        return s;
    }
};

} // namespace vx::bench

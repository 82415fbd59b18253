// SPDX-License-Identifier: MIT
#pragma once

// What the VDE I/O thread counts per endpoint, on top of the port counters the workers keep
// (the ring ethdev is an ordinary port to them). Written by the I/O thread only, read by the
// control thread (state file, vxctl): relaxed atomics, a reader may be a few frames behind.

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "counters/counters.hh"

namespace vx::vde {

// One list: the enum and the names the state file prints come from it.
#define VX_VDE_COUNTERS(X)                                                                     \
    X(frames_in, "frames received from the VDE peer and handed to the workers")              \
    X(frames_out, "frames the workers switched to this endpoint and the peer was sent")       \
    X(in_ring_full, "received frames dropped: the workers' ring was full (never: room is checked first)") \
    X(in_held, "receive rounds skipped: the workers' ring was full, the peer's frames wait in its socket") \
    X(in_no_mbuf, "receive rounds cut short: the packet pool was empty")                      \
    X(in_oversize, "received frames dropped: longer than the port's buffers hold")            \
    X(in_discarded, "received datagrams dropped: shorter than an Ethernet header")            \
    X(out_socket_full, "frames dropped: the peer's socket was full (never blocks)")           \
    X(out_no_peer, "frames dropped: no VDE client is connected to this port")                 \
    X(out_error, "frames dropped: the socket refused them (peer gone, too large)")

enum class counter : uint8_t {
#define VX_VDE_ENUM(name, help) name,
    VX_VDE_COUNTERS(VX_VDE_ENUM)
#undef VX_VDE_ENUM
        count
};

inline constexpr size_t counter_count = static_cast<size_t>(counter::count);

// Names and help texts, as the workers' counters have them (the state file, vxctl, metrics).
inline constexpr std::array<counter_info, counter_count> counter_infos{{
#define VX_VDE_INFO(name, help) counter_info{#name, help},
    VX_VDE_COUNTERS(VX_VDE_INFO)
#undef VX_VDE_INFO
}};

struct counters {
    std::array<std::atomic<uint64_t>, counter_count> value{};

    void add(counter c, uint64_t n) {
        auto& v = value[static_cast<size_t>(c)];
        v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); // one writer
    }
    uint64_t get(counter c) const { return value[static_cast<size_t>(c)].load(std::memory_order_relaxed); }
};

} // namespace vx::vde

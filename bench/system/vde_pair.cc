// SPDX-License-Identifier: MIT
// vde_pair: frames per second through a VDE switch, between two endpoints of it.
//
//   vde_pair --from URL --to URL [--frames N] [--size BYTES] [--rate FRAMES_PER_S] [--json]
//
// Opens both URLs with libvdeplug (as any VDE client does: vde_plug, qemu, vdens), makes the
// switch learn both MACs (one frame each way), then sends N frames of one size from `from` to
// `to`, while a second thread receives on `to`. Reports frames sent and received, the window
// from the first send to the last frame received, frames/s, and the rate the sender achieved.
//
// Without --rate the sender goes as fast as the sending socket takes frames: a unix datagram
// send blocks while the switch's socket is full, so it runs at the switch's intake pace, and
// what the switch drops on the way to `to` shows as loss. With --rate it paces itself: each
// frame has a due time on a steady schedule, and ahead of it the sender sleeps rather than
// spins (it shares the cores with the switch under test); after a sleep it sends every frame
// already due back to back. A switch that holds the sender back (a blocking send) shows as an
// achieved rate below the one asked. bench/system/vdebench runs it against vxswitchd and
// Debian's vde_switch in one run, and searches the highest rate each passes without loss.

extern "C" { // libvdeplug.h declares C functions without saying so
#include <libvdeplug.h>
}
#include <fcntl.h>
#include <poll.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

constexpr std::array<uint8_t, 6> sender_mac{0x02, 0x76, 0x64, 0x65, 0x00, 0x01};
constexpr std::array<uint8_t, 6> receiver_mac{0x02, 0x76, 0x64, 0x65, 0x00, 0x02};
constexpr uint16_t bench_ethertype = 0x88b5; // IEEE local experimental: no stack answers it

std::vector<uint8_t> make_frame(const std::array<uint8_t, 6>& dst, const std::array<uint8_t, 6>& src, size_t size) {
    std::vector<uint8_t> f(size, 0);
    std::memcpy(f.data(), dst.data(), 6);
    std::memcpy(f.data() + 6, src.data(), 6);
    f[12] = bench_ethertype >> 8;
    f[13] = bench_ethertype & 0xff;
    return f;
}

struct endpoint {
    VDECONN* conn = nullptr;

    endpoint(const std::string& url, const char* who) {
        std::string u = url;
        std::string descr = fmt::format("vde_pair {}", who);
        conn = vde_open(u.data(), descr.data(), nullptr);
        if (conn == nullptr) {
            throw std::runtime_error(fmt::format("vde_open {}: {}", url, std::strerror(errno)));
        }
    }
    ~endpoint() { vde_close(conn); }
    endpoint(const endpoint&) = delete;
    endpoint& operator=(const endpoint&) = delete;

    bool readable(int timeout_ms) const {
        pollfd p{vde_datafd(conn), POLLIN, 0};
        return poll(&p, 1, timeout_ms) > 0;
    }
};

// Sends `f` on `from` until a frame with `f`'s source MAC arrives on `to`, or gives up.
bool teach(endpoint& from, endpoint& to, const std::vector<uint8_t>& f) {
    std::array<uint8_t, 65536> buf{};
    for (int attempt = 0; attempt < 50; ++attempt) {
        vde_send(from.conn, f.data(), f.size(), 0);
        while (to.readable(20)) {
            const ssize_t n = vde_recv(to.conn, buf.data(), buf.size(), 0);
            if (n >= 12 && std::memcmp(buf.data() + 6, f.data() + 6, 6) == 0) {
                return true;
            }
        }
    }
    return false;
}

struct result {
    uint64_t sent = 0;
    uint64_t received = 0;
    double seconds = 0;      // first send to last frame received
    double send_seconds = 0; // first send to last send
};

// Waits until frame `n` of a schedule of `rate` frames per second from `start` is due. Sleeps
// only when it is at least `min_sleep` ahead: the sleep's own cost (tens of microseconds)
// would otherwise make the sender late by itself.
void wait_due(clock_type::time_point start, uint64_t n, double rate) {
    constexpr auto min_sleep = std::chrono::microseconds(50);
    const auto due = start + std::chrono::duration_cast<clock_type::duration>(
                                 std::chrono::duration<double>(static_cast<double>(n) / rate));
    if (due - clock_type::now() >= min_sleep) {
        std::this_thread::sleep_until(due);
    }
}

result run(endpoint& from, endpoint& to, uint64_t frames, size_t size, double rate) {
    const auto frame = make_frame(receiver_mac, sender_mac, size);
    std::atomic<uint64_t> received{0};
    std::atomic<bool> sending{true};
    clock_type::time_point last_rx{};
    std::thread rx([&] {
        std::vector<uint8_t> buf(65536);
        const int fd = vde_datafd(to.conn);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        // Drain without waiting (vde_recv ignores MSG_DONTWAIT, so the socket itself is made
        // non-blocking); poll only when it is empty. Stop once the sender is
        // done and nothing arrived for 300 ms.
        while (true) {
            const ssize_t n = vde_recv(to.conn, buf.data(), buf.size(), 0);
            if (n < 0) {
                if (!to.readable(300) && !sending.load()) {
                    return;
                }
                continue;
            }
            if (n == static_cast<ssize_t>(size) && std::memcmp(buf.data() + 6, sender_mac.data(), 6) == 0) {
                received.fetch_add(1, std::memory_order_relaxed);
                last_rx = clock_type::now();
            }
        }
    });
    const auto start = clock_type::now();
    uint64_t sent = 0;
    for (; sent < frames; ++sent) {
        if (rate > 0) {
            wait_due(start, sent, rate);
        }
        if (vde_send(from.conn, frame.data(), frame.size(), 0) < 0) {
            break;
        }
    }
    const auto sent_at = clock_type::now();
    sending.store(false);
    rx.join();
    const auto end = received.load() != 0 ? last_rx : clock_type::now();
    return {sent, received.load(), std::chrono::duration<double>(end - start).count(),
            std::chrono::duration<double>(sent_at - start).count()};
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"vde_pair: frames per second between two endpoints of a VDE switch"};
    std::string from_url;
    std::string to_url;
    uint64_t frames = 1'000'000;
    size_t size = 64;
    double rate = 0;
    bool json = false;
    app.add_option("--from", from_url, "sending endpoint's URL, e.g. vde:///run/sw")->required();
    app.add_option("--to", to_url, "receiving endpoint's URL")->required();
    app.add_option("--frames", frames, "frames to send")->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
    app.add_option("--size", size, "frame size in bytes, without FCS")->check(CLI::Range(60, 65535));
    app.add_option("--rate", rate, "frames per second the sender paces itself to; 0: as fast as it can")
        ->check(CLI::Range(0.0, 1e9));
    app.add_flag("--json", json, "one JSON object instead of a line of text");
    CLI11_PARSE(app, argc, argv);
    try {
        endpoint to(to_url, "receiver");
        endpoint from(from_url, "sender");
        if (!teach(to, from, make_frame(sender_mac, receiver_mac, 60)) ||
            !teach(from, to, make_frame(receiver_mac, sender_mac, 60))) {
            fmt::print(stderr, "vde_pair: no frame got through between {} and {}\n", from_url, to_url);
            return 1;
        }
        const result r = run(from, to, frames, size, rate);
        const double fps = r.seconds > 0 ? static_cast<double>(r.received) / r.seconds : 0;
        const double sent_fps = r.send_seconds > 0 ? static_cast<double>(r.sent) / r.send_seconds : 0;
        if (json) {
            fmt::print("{{\"sent\": {}, \"received\": {}, \"seconds\": {:.6f}, \"frames_per_s\": {:.0f}, "
                       "\"rate_asked\": {:.0f}, \"rate_sent\": {:.0f}, \"size\": {}}}\n",
                       r.sent, r.received, r.seconds, fps, rate, sent_fps, size);
        } else {
            fmt::print("sent {} at {:.0f}/s, received {} ({:.2f} % lost) in {:.3f} s: {:.0f} frames/s of {} bytes\n",
                       r.sent, sent_fps, r.received,
                       r.sent ? 100.0 * static_cast<double>(r.sent - r.received) / static_cast<double>(r.sent) : 0.0,
                       r.seconds, fps, size);
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "vde_pair: {}\n", e.what());
        return 1;
    }
    return 0;
}

// SPDX-License-Identifier: MIT
// An endpoint joined to a real unix datagram socket pair: frames both ways through the ring
// ethdev, runts and oversize datagrams counted, a peer that never reads costs only its own
// frames (counted), never a blocked I/O thread, and workers that do not keep up hold the peer
// back: its frames wait in its socket, none is lost.
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cstring>

#include "vde_ports.hh"
#include "vuos-bridge/vde_endpoint.hh"

namespace vx::vde {
namespace {

using vx::testing::bytes;
using vx::testing::frame;

class endpoint_test : public ::testing::Test {
protected:
    void SetUp() override {
        vx::testing::start_eal();
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, fds.data()), 0);
        ep = std::make_unique<endpoint>(index, 1, vx::testing::test_pool());
        port = testing::start_port(ep->device());
        ep->attach(std::make_unique<datagram_link>(fds[0], "test peer"));
    }
    void TearDown() override {
        testing::stop_port(port);
        ep.reset();
        ::close(fds[1]);
    }
    bytes peer_receives() {
        bytes buf(16384);
        const ssize_t n = ::recv(fds[1], buf.data(), buf.size(), MSG_DONTWAIT);
        buf.resize(n < 0 ? 0 : static_cast<size_t>(n));
        return buf;
    }
    uint64_t count(counter c) const { return ep->stats().get(c); }

    static inline unsigned next_index = 200; // ring and ethdev names are fresh per endpoint, as the bridge makes them
    unsigned index = next_index++;
    std::array<int, 2> fds{};
    std::unique_ptr<endpoint> ep;
    uint16_t port = 0;
};

TEST_F(endpoint_test, frames_from_the_peer_reach_the_workers_in_order) {
    const bytes a = frame("02:00:00:00:00:01", "02:00:00:00:00:02", {}, 0x0800, 46);
    const bytes b = frame("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:02", {{0x8100, 10}}, 0x0806, 100);
    ASSERT_EQ(::send(fds[1], a.data(), a.size(), 0), static_cast<ssize_t>(a.size()));
    ASSERT_EQ(::send(fds[1], "runt", 4, 0), 4);
    ASSERT_EQ(::send(fds[1], b.data(), b.size(), 0), static_cast<ssize_t>(b.size()));
    EXPECT_EQ(ep->pump(), 2u) << "the runt is no frame";
    std::array<rte_mbuf*, 8> got{};
    ASSERT_EQ(rte_eth_rx_burst(port, 0, got.data(), got.size()), 2);
    EXPECT_EQ(vx::testing::mbuf_bytes(got[0]), a);
    EXPECT_EQ(vx::testing::mbuf_bytes(got[1]), b);
    rte_pktmbuf_free_bulk(got.data(), 2);
    EXPECT_EQ(count(counter::frames_in), 2u);
    EXPECT_EQ(count(counter::in_discarded), 1u);
}

TEST_F(endpoint_test, a_datagram_larger_than_a_buffer_is_dropped_and_counted) {
    const bytes big(9000, 0xab);
    ASSERT_EQ(::send(fds[1], big.data(), big.size(), 0), static_cast<ssize_t>(big.size()));
    ep->pump();
    std::array<rte_mbuf*, 8> got{};
    EXPECT_EQ(rte_eth_rx_burst(port, 0, got.data(), got.size()), 0);
    EXPECT_EQ(count(counter::in_oversize), 1u);
}

TEST_F(endpoint_test, frames_from_the_workers_reach_the_peer) {
    const bytes a = frame("02:00:00:00:00:02", "02:00:00:00:00:01");
    testing::worker_sends(port, a);
    EXPECT_EQ(ep->pump(), 1u);
    EXPECT_EQ(peer_receives(), a);
    EXPECT_EQ(count(counter::frames_out), 1u);
}

TEST_F(endpoint_test, a_peer_that_never_reads_costs_only_its_frames) {
    const bytes a = frame("02:00:00:00:00:02", "02:00:00:00:00:01");
    constexpr unsigned frames = 3000; // far more than a unix datagram queue holds
    for (unsigned i = 0; i < frames; ++i) {
        testing::worker_sends(port, a);
        if (i % 32 == 31) {
            ep->pump(); // returns: MSG_DONTWAIT, never a wait on the full socket
        }
    }
    while (ep->pump() != 0) {
    }
    EXPECT_GT(count(counter::out_socket_full), 0u);
    EXPECT_EQ(count(counter::frames_out) + count(counter::out_socket_full), frames);
    size_t delivered = 0;
    while (!peer_receives().empty()) {
        ++delivered;
    }
    EXPECT_EQ(delivered, count(counter::frames_out));
}

TEST_F(endpoint_test, without_a_peer_frames_are_dropped_as_no_peer) {
    ep->detach();
    testing::worker_sends(port, frame("02:00:00:00:00:02", "02:00:00:00:00:01"));
    ep->pump();
    EXPECT_EQ(count(counter::out_no_peer), 1u);
    EXPECT_EQ(ep->peer(), "");
}

// The peer's frame number i (in its payload).
bytes numbered(uint32_t i) {
    bytes f = frame("02:00:00:00:00:01", "02:00:00:00:00:02", {}, 0x88b5, 46);
    std::memcpy(f.data() + 14, &i, sizeof i);
    return f;
}

TEST_F(endpoint_test, workers_that_fall_behind_hold_the_peer_back_and_lose_nothing) {
    // Fill the workers' ring (nobody drains it), feeding the socket as it takes frames.
    uint32_t sent = 0;
    for (int round = 0; round < 10000 && ep->takes_frames(); ++round) {
        while (sent < 4 * endpoint::ring_size) {
            const bytes f = numbered(sent);
            if (::send(fds[1], f.data(), f.size(), 0) < 0) {
                break; // the socket is full: let the endpoint read
            }
            ++sent;
        }
        ep->pump();
    }
    ASSERT_FALSE(ep->takes_frames()) << "the ring filled";
    // More frames wait in the socket: the endpoint leaves them there.
    uint32_t waiting_from = static_cast<uint32_t>(count(counter::frames_in));
    for (int i = 0; i < 10; ++i, ++sent) {
        const bytes f = numbered(sent);
        ASSERT_EQ(::send(fds[1], f.data(), f.size(), 0), static_cast<ssize_t>(f.size()));
    }
    EXPECT_EQ(ep->pump(), 0u) << "nothing read while the ring is full";
    EXPECT_GT(count(counter::in_held), 0u);
    EXPECT_EQ(count(counter::in_ring_full), 0u);
    // The workers catch up: everything arrives, in order.
    uint32_t next = 0;
    std::array<rte_mbuf*, 32> got{};
    for (int round = 0; round < 10000 && next < sent; ++round) {
        const uint16_t n = rte_eth_rx_burst(port, 0, got.data(), got.size());
        for (uint16_t k = 0; k < n; ++k) {
            uint32_t i = 0;
            std::memcpy(&i, rte_pktmbuf_mtod(got[k], const uint8_t*) + 14, sizeof i);
            EXPECT_EQ(i, next++);
        }
        rte_pktmbuf_free_bulk(got.data(), n);
        ep->pump();
    }
    EXPECT_EQ(next, sent) << "every frame, the " << sent - waiting_from << " that waited too";
    EXPECT_EQ(count(counter::frames_in), sent);
    EXPECT_EQ(count(counter::in_ring_full), 0u);
}

} // namespace
} // namespace vx::vde

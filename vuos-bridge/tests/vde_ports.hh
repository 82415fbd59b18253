// SPDX-License-Identifier: MIT
#pragma once
// What the VDE unit tests share: a ring ethdev configured as the fabric would (one RX queue,
// one TX queue), and frames moved through it.
#include <rte_ethdev.h>

#include <gtest/gtest.h>

#include <string>

#include "testing/dpdk_env.hh"

namespace vx::vde::testing {

inline uint16_t start_port(const std::string& device) {
    uint16_t id = 0;
    EXPECT_EQ(rte_eth_dev_get_port_by_name(device.c_str(), &id), 0) << device;
    rte_eth_conf conf{};
    EXPECT_EQ(rte_eth_dev_configure(id, 1, 1, &conf), 0);
    EXPECT_EQ(rte_eth_rx_queue_setup(id, 0, 1024, SOCKET_ID_ANY, nullptr, vx::testing::test_pool()), 0);
    EXPECT_EQ(rte_eth_tx_queue_setup(id, 0, 1024, SOCKET_ID_ANY, nullptr), 0);
    EXPECT_EQ(rte_eth_dev_start(id), 0);
    return id;
}

// Stops and closes the ethdev, as the fabric does before the endpoint goes (the endpoint
// removes its device).
inline void stop_port(uint16_t id) {
    rte_eth_dev_stop(id);
    rte_eth_dev_close(id);
}

// Sends one frame as a worker would.
inline void worker_sends(uint16_t port, const vx::testing::bytes& frame) {
    rte_mbuf* m = vx::testing::make_mbuf(frame);
    ASSERT_EQ(rte_eth_tx_burst(port, 0, &m, 1), 1);
}

} // namespace vx::vde::testing

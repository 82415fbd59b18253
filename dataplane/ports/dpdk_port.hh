// SPDX-License-Identifier: MIT
#pragma once

// dpdk_port: a switch port backed by a DPDK ethdev, any PMD: a PCI NIC or a virtual device
// (net_af_xdp, net_tap, net_memif, net_vhost, net_pcap, net_ring, net_null, ...).
//
// Cold path only: probing, queue set-up, start and stop. The workers use the port id with
// rte_eth_rx_burst/rte_eth_tx_burst directly.

#include <cstdint>
#include <string>
#include <vector>

#include "config/model.hh"

struct rte_mempool;
struct rte_device;
struct rte_eth_dev_info;

namespace vx {

// True for "0000:01:00.0" and "01:00.0": such devices are given to the EAL's allow-list.
bool is_pci_address(const std::string& device);
// The ethdev name DPDK gives the device ("net_tap0" for "net_tap0,iface=x").
std::string device_name(const std::string& device);

// The packet pool every port receives into: `buffers` mbufs with a per-lcore cache of
// `cache`. When any port is a net_af_xdp device the pool is laid out as that PMD's UMEM
// needs (see dpdk_port.cc), and refused if it is not. Throws std::runtime_error.
rte_mempool* create_packet_pool(const std::vector<config::port>& ports, uint32_t buffers, unsigned cache);
// True when `pool` is laid out as net_af_xdp's UMEM needs (one page per buffer, back to back):
// the pool is made at start, so an af_xdp port added at runtime needs one made so then.
bool pool_fits_af_xdp(rte_mempool* pool);

class dpdk_port {
public:
    // Probes (if the EAL did not already) and configures the device: cfg.queues RX queues,
    // one TX queue per worker. Throws std::runtime_error with the port's name and DPDK's reason.
    // The destructor stops and closes it, and detaches a virtual device it probed.
    dpdk_port(const config::port& cfg, uint16_t tx_queues, rte_mempool* pool);
    ~dpdk_port();
    dpdk_port(const dpdk_port&) = delete;
    dpdk_port& operator=(const dpdk_port&) = delete;

    uint16_t id() const { return _id; }
    const std::string& name() const { return _name; }
    const std::string& driver() const { return _driver; }
    // Descriptors this port may hold: what the mempool must have room for.
    static uint32_t buffers_needed(uint16_t rx_queues, uint16_t tx_queues);

private:
    void start(const config::port& cfg, const rte_eth_dev_info& info, uint16_t tx_queues, rte_mempool* pool);
    void release();

    uint16_t _id = 0;
    std::string _name;
    std::string _driver;
    rte_device* _probed_vdev = nullptr;
};

} // namespace vx

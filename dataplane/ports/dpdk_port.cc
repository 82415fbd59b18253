// SPDX-License-Identifier: MIT
#include "ports/dpdk_port.hh"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <regex>
#include <stdexcept>

namespace vx {

namespace {

constexpr uint16_t rx_descriptors = 1024;
constexpr uint16_t tx_descriptors = 1024;

std::runtime_error port_error(const std::string& port, const std::string& what, int err) {
    return std::runtime_error(fmt::format("port '{}': {}: {}", port, what, rte_strerror(err < 0 ? -err : err)));
}

// The ethdev of `name`, probing the device first when the EAL has not.
uint16_t attach(const config::port& cfg) {
    std::string name = device_name(cfg.device);
    if (is_pci_address(name) && name.size() == 7) {
        name = "0000:" + name; // the EAL names PCI ports by their full address
    }
    uint16_t id = 0;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &id) == 0) {
        return id;
    }
    if (const int rc = rte_dev_probe(cfg.device.c_str()); rc < 0) {
        // Drivers mostly answer -1 whatever went wrong: their own log line above says what.
        throw std::runtime_error(fmt::format("port '{}': the driver refused device '{}'{} (see the driver's message above)",
                                             cfg.name, cfg.device,
                                             rc == -1 ? "" : fmt::format(": {}", rte_strerror(-rc))));
    }
    if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0) {
        throw std::runtime_error(fmt::format("port '{}': device '{}' was probed but created no ethdev named '{}'",
                                             cfg.name, cfg.device, name));
    }
    return id;
}

} // namespace

bool is_pci_address(const std::string& device) {
    static const std::regex pci{R"(^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$)"};
    return std::regex_match(device_name(device), pci);
}

std::string device_name(const std::string& device) {
    return device.substr(0, device.find(','));
}

uint32_t dpdk_port::buffers_needed(uint16_t rx_queues, uint16_t tx_queues) {
    return uint32_t{rx_queues} * rx_descriptors + uint32_t{tx_queues} * tx_descriptors;
}

dpdk_port::dpdk_port(const config::port& cfg, uint16_t tx_queues, rte_mempool* pool) : _name(cfg.name) {
    _id = attach(cfg);
    rte_eth_dev_info info{};
    if (const int rc = rte_eth_dev_info_get(_id, &info); rc != 0) {
        throw port_error(cfg.name, "cannot read device info", rc);
    }
    _driver = info.driver_name;
    if (cfg.queues > info.max_rx_queues || tx_queues > info.max_tx_queues) {
        throw std::runtime_error(fmt::format(
            "port '{}': {} offers {} RX and {} TX queues; the switch needs {} RX (queues) and {} TX (one per worker)",
            cfg.name, _driver, info.max_rx_queues, info.max_tx_queues, cfg.queues, tx_queues));
    }
    rte_eth_conf conf{};
    if (const int rc = rte_eth_dev_configure(_id, cfg.queues, tx_queues, &conf); rc != 0) {
        throw port_error(cfg.name, "cannot configure the device", rc);
    }
    uint16_t nb_rx = rx_descriptors;
    uint16_t nb_tx = tx_descriptors;
    rte_eth_dev_adjust_nb_rx_tx_desc(_id, &nb_rx, &nb_tx);
    const int socket = rte_eth_dev_socket_id(_id);
    for (uint16_t q = 0; q < cfg.queues; ++q) {
        if (const int rc = rte_eth_rx_queue_setup(_id, q, nb_rx, socket, nullptr, pool); rc != 0) {
            throw port_error(cfg.name, fmt::format("cannot set up RX queue {}", q), rc);
        }
    }
    for (uint16_t q = 0; q < tx_queues; ++q) {
        if (const int rc = rte_eth_tx_queue_setup(_id, q, nb_tx, socket, nullptr); rc != 0) {
            throw port_error(cfg.name, fmt::format("cannot set up TX queue {}", q), rc);
        }
    }
    if (cfg.mtu) {
        // Virtual devices without an MTU of their own (net_null, net_ring, ...) say ENOTSUP:
        // the switch still holds frames to the MTU on egress, so that is no reason to stop.
        if (const int rc = rte_eth_dev_set_mtu(_id, *cfg.mtu); rc == -ENOTSUP) {
            spdlog::info("port '{}': the device has no MTU setting; mtu {} is enforced on egress only", cfg.name,
                         *cfg.mtu);
        } else if (rc != 0) {
            throw port_error(cfg.name, fmt::format("cannot set MTU {}", *cfg.mtu), rc);
        }
    }
    if (const int rc = rte_eth_dev_start(_id); rc != 0) {
        throw port_error(cfg.name, "cannot start the device", rc);
    }
    // A switch must see every MAC; PMDs without the notion (pcap, ring, null) say ENOTSUP.
    if (const int rc = rte_eth_promiscuous_enable(_id); rc != 0 && rc != -ENOTSUP) {
        spdlog::warn("port '{}': cannot enable promiscuous mode: {}", cfg.name, rte_strerror(-rc));
    }
}

dpdk_port::~dpdk_port() {
    rte_eth_dev_stop(_id);
    rte_eth_dev_close(_id);
}

} // namespace vx

// SPDX-License-Identifier: MIT
#pragma once

// The configuration model: one typed value that says what the switch should be.
//
// It is built from a YAML file (config/load.hh) and, later, by vxctl commands; both paths
// end in the same validate() so the grammar is the same at start-up and at runtime. The
// model holds no DPDK state: turning it into forwarding tables is tables/l2_tables.hh's job.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vx::config {

inline constexpr uint16_t min_vlan = 1;
inline constexpr uint16_t max_vlan = 4094;

enum class port_mode : uint8_t {
    access, // untagged in and out, one VLAN (the PVID)
    trunk,  // tagged with an allowed VLAN list, optional native VLAN carried untagged
};

struct port {
    std::string name;    // operator's name, unique ("uplink", "host1")
    std::string device;  // DPDK devargs: PCI address or "net_xxx0,key=val,..."
    uint16_t queues = 1; // RX queues, spread over the workers
    port_mode mode = port_mode::access;
    uint16_t access_vlan = 1;            // access: the PVID
    std::vector<uint16_t> allowed_vlans; // trunk: sorted, unique
    std::optional<uint16_t> native_vlan; // trunk: sent and received untagged
    uint16_t tpid = 0x8100;              // tag protocol identifier of the port's tags
    std::optional<uint16_t> mtu;         // set on the device when given
    int line = 0;                        // where it was declared, for later messages
};

struct static_mac {
    std::string mac; // "02:00:00:00:00:01"
    uint16_t vlan = 1;
    std::string port;
    int line = 0;
};

struct dataplane {
    uint16_t workers = 1;              // poll-mode worker lcores
    std::vector<uint16_t> cpus;        // CPU of each worker (cycled); empty: 1, 2, ... mod nproc
    uint32_t mbufs = 16383;            // packet buffers in the pool
    uint32_t memory_mb = 512;          // DPDK memory when running without hugepages
    uint32_t idle_sleep_us = 0;        // sleep after an empty poll round; 0 = pure poll mode
    std::vector<std::string> eal_args; // extra EAL arguments, passed through
};

struct fdb {
    uint32_t max_entries = 1u << 20; // learned + static MACs, over all bridge domains
    uint32_t aging_s = 300;          // 0 = never age
    std::vector<static_mac> statics;
};

struct model {
    dataplane dp;
    fdb mac_table;
    std::vector<port> ports;
};

} // namespace vx::config

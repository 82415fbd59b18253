// SPDX-License-Identifier: MIT
#pragma once

// What more than one group of control commands reads (daemon/control_*.cc): a port's link,
// the MAC table counted by VLAN (mac count and the metrics), a segment named by its VNI (vni
// set and remove, counters.vni).

#include <cstdint>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "config/model.hh"

namespace vx {
class fabric;
}

namespace vx::control {

// {up, speed_mbps, duplex} of a DPDK port, nulls when the device cannot say.
nlohmann::json link_json(uint16_t port_id);

struct mac_tally {
    uint64_t learned = 0;
    uint64_t statics = 0;
};
// MAC table entries by VLAN (learned, static), with optional port and VLAN filters.
std::map<uint16_t, mac_tally> count_macs(fabric& f, std::optional<uint16_t> port, std::optional<uint16_t> vlan);

// The index of the segment `vni` names (on UDP port `udp_port` when given); throws
// ctl::request_error when none is, or when VXLAN and vxvde both have that VNI and no port says
// which (daemon/control_vnis.cc).
size_t segment_index(const config::vtep& v, uint32_t vni, std::optional<int64_t> udp_port);

} // namespace vx::control

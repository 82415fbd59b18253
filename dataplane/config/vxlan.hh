// SPDX-License-Identifier: MIT
#pragma once

// The checks of a model's `vxlan:` section (docs/vxlan.md), kept beside the VLAN rules
// (config/port_vlans.hh) because they read them: a VNI extends a bridge domain that local
// ports carry, and the underlay port carries none.

#include <string>
#include <vector>

#include "config/model.hh"

namespace vx::config {

// Whether ports[index] is the VXLAN underlay port: it carries no bridge domain of its own.
bool is_underlay(const model& m, size_t index);

// The UDP port a segment's datagrams go to: the VTEP's udp_port for VXLAN, the network's own
// (default 14789) for vxvde. Together with the VNI it names the segment on the wire.
uint16_t segment_udp_port(const vtep& v, const vxlan_segment& s);

// Errors, each naming the key: addresses of the wrong family or kind, a VNI or VLAN listed
// twice (a VNI: on the same UDP port), a VLAN no port carries, an underlay that is not a plain
// port of the model; a vxvde network without a group, with remotes, or on VXLAN's UDP port.
void check_vxlan(const model& m, std::vector<std::string>& errors);

// A segment in words, as vxctl shows a change: "vlan 10, group 239.1.1.1, remotes 192.0.2.2",
// "vlan 20, vxvde port 14789, group 239.2.2.2".
std::string describe_segment(const vtep& v, const vxlan_segment& s);
// The segments' differences between two vxlan: sections, one line each ("vni 43: added
// (vlan 20, ...)", "vni 43: vlan 20 -> 30", "vni 43: removed (...)"); a segment is named by
// its VNI and, for vxvde, its UDP port.
std::vector<std::string> segment_changes(const vtep& running, const vtep& next);

// Warnings: a port whose largest frame no longer fits the underlay's MTU once the 50-byte
// (IPv4) or 70-byte (IPv6) VXLAN overhead is added; such frames are dropped and counted.
std::vector<std::string> vxlan_mtu_warnings(const model& m);

} // namespace vx::config

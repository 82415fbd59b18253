// SPDX-License-Identifier: MIT
#pragma once

// How each port carries bridge domains on the wire: the one place that turns a port's mode,
// VLAN lists and translations into (domain, tags) pairs. The forwarding tables
// (tables/l2_tables.hh), the validation rules and the MTU warnings all read this, so that
// they can never disagree about what a port carries.
//
// A bridge domain is named by a number 1..4094, the VLAN it is on access ports and plain
// trunks; an S-VLAN is a domain number too. Translations map other wire VLANs onto it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hh"

namespace vx::config {

// One bridge domain of a port, and the tags its frames wear on that port's wire.
struct wire_binding {
    uint16_t domain = 0;
    uint8_t tags = 0;       // 0 untagged, 1 one tag (the port's TPID), 2 outer + C-tag (2:1)
    uint16_t vid = 0;       // outer tag's VID, when tags >= 1
    uint16_t inner_vid = 0; // C-tag's VID, when tags == 2
    std::string origin;     // the configuration key it comes from, for messages
};

std::vector<wire_binding> bindings_of(const port& p);
bool carries(const port& p, uint16_t domain);

uint16_t default_tpid(port_mode mode);
std::string_view mode_name(port_mode mode); // as written in the configuration file

// One line saying how a port carries its domains: "access vlan 10", "s-trunk tpid 0x88a8
// vlans 100,200 translate 300+10>10", "customer s_vlan 100 c_vlans 10,20".
std::string describe_vlans(const port& p);

// Problems with one port's bindings: a domain carried twice, a wire VLAN that means two
// domains. Each message starts with `label`.
void check_bindings(const port& p, const std::string& label, std::vector<std::string>& errors);

// Warnings, not errors: pairs of ports sharing a domain where the largest frame one admits
// no longer fits the other's MTU once tags are added on the way (a customer port's C-tagged
// frames under the S-tag of a trunk with the same MTU, typically).
std::vector<std::string> mtu_warnings(const model& m);

} // namespace vx::config

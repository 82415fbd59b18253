// SPDX-License-Identifier: MIT
#pragma once

// What a runtime configuration change does: the difference between the running model and a
// validated new one, as the steps the switch applies (fabric::reconfigure) and the lines
// vxctl shows. Both `vxctl port set` and `vxctl config apply` end here, so a change reads the
// same whichever way it was asked for (STYLE G10: validate whole, diff, apply).
//
// What can change while the switch forwards: which ports exist (DPDK devices, af_xdp and VDE
// ports, added and removed), a port's mode, VLANs, translations, TPID, foreign-TPID action
// and MTU, an af_xdp port's steering rules (own, steer, drop: its program's maps are
// rewritten), the static MAC entries, the VXLAN segments (vxlan.vnis: VNIs and vxvde networks
// added, removed, their VLAN, group or remotes changed; tables/vtep_control.hh rebuilds the
// VTEP table) and having a vde_switch: section (added or removed whole). Everything else (the
// dataplane's workers and memory, the MAC table's size and aging, the control socket, the rest
// of the vxlan: section and having one at all, the vde_switch: section's keys, the order of
// the ports, a port's device, iface, url, vde_port and queues) needs a restart: such a change
// is refused whole, each difference named, and nothing is applied.

#include <cstdint>
#include <string>
#include <vector>

#include "config/model.hh"

namespace vx::config {

struct change_plan {
    std::vector<std::string> refused; // differences that need a restart, each naming its key
    std::vector<std::string> changes; // what the change does, one line each, for people
    std::vector<std::string> ports;   // names of the kept ports whose VLAN rules, TPID or MTU change
    std::vector<port> ports_added;    // in the new configuration's order
    std::vector<std::string> ports_removed;
    std::vector<static_mac> statics_removed; // including those moved to another port
    std::vector<static_mac> statics_added;

    bool empty() const { return changes.empty(); }
};

// Both models must have passed validate().
change_plan diff(const model& running, const model& next);

// True when two ports forward alike: same mode, VLANs, translations, TPID, foreign-TPID
// action and MTU (names, devices and source lines aside).
bool same_forwarding(const port& a, const port& b);

} // namespace vx::config

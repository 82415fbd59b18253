// SPDX-License-Identifier: MIT
#pragma once

// The configuration vxswitchd runs when it is given none: two kernel tap interfaces on one
// access VLAN. It needs no NIC and no hugepages, and a newcomer can see it switch by moving
// the two taps into network namespaces and pinging across (tools/vx run does exactly that).

#include <string_view>

namespace vx {

inline constexpr std::string_view default_config = R"(# vxswitchd's embedded default (vxswitchd --print-default-config)
dataplane:
  workers: 1
  idle_sleep_us: 100    # a demo should not spin a core; leave 0 for line rate
  # The tap PMD reports, as errors, that it cannot set up the qdiscs of rte_flow (which the
  # switch does not use) when the kernel lacks sch_multiq: keep those lines out of the log.
  eal_args: ["--log-level=pmd.net.tap:critical"]
ports:
  - name: tap0
    device: net_tap0,iface=vxtap0
    mode: access
    vlan: 1
  - name: tap1
    device: net_tap1,iface=vxtap1
    mode: access
    vlan: 1
)";

} // namespace vx

// SPDX-License-Identifier: MIT
#pragma once

// The configuration model back to the YAML of config/load.hh: what `vxctl config dump`
// prints. Loading the text gives a model that dumps to the same text (dump_test.cc checks it
// on every key the loader takes), so a running switch's configuration can be saved and
// restarted from.

#include <string>
#include <vector>

#include "config/model.hh"

namespace vx::config {

std::string dump(const model& m);

// "1,2,3,5,10-20": sorted VLANs with runs of three or more as ranges, as the dump writes
// them in its lists and as vxctl shows them.
std::vector<std::string> vlan_ranges(const std::vector<uint16_t>& sorted);

} // namespace vx::config

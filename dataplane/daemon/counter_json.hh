// SPDX-License-Identifier: MIT
#pragma once

// Counter blocks as JSON, the one shape of the state file (--state-file) and of vxctl's
// counters results (docs/control-protocol.md): {counters, drops, drops_total}, names from
// counters.def, drops only those of the block's scope. Per domain and per segment, each
// entry says which one it is by the configuration's names: a domain by its VLAN, a segment by
// its VNI, VLAN, protocol and UDP port.

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/model.hh"
#include "counters/counters.hh"
#include "tables/l2_tables.hh"
#include "tables/vtep_table.hh"

namespace vx {

template <class Block>
nlohmann::json block_json(const Block& b) {
    nlohmann::json counters = nlohmann::json::object();
    nlohmann::json drops = nlohmann::json::object();
    for (size_t k = 0; k < b.counter.size(); ++k) {
        counters[std::string(Block::names[k].name)] = b.counter[k];
    }
    for (size_t k = 0; k < b.drops.size(); ++k) {
        drops[std::string(info(Block::drop_list[k]).name)] = b.drops[k];
    }
    return {{"counters", counters}, {"drops", drops}, {"drops_total", b.drops_total()}};
}

// {vni, vlan, protocol, port}: which segment it is (port: its UDP port).
nlohmann::json segment_json(const config::vtep& v, const config::vxlan_segment& s);

// Each domain the ports carry, by VLAN (`only`: that domain alone), with its counters from
// `totals` (by domain index): [{vlan, counters, drops, drops_total}].
nlohmann::json vlans_json(const l2_tables& l2, const std::vector<domain_counter_block>& totals,
                          std::optional<uint16_t> only = std::nullopt);

// Each configured segment, in the configuration's order (`only`: the segment at that index
// alone), with its counters from `totals` (by counter slot; zeros for one not counted):
// [{vni, vlan, protocol, port, counters, drops, drops_total}].
nlohmann::json vnis_json(const config::vtep& v, const vtep_table& t, const std::vector<vni_counter_block>& totals,
                         std::optional<size_t> only = std::nullopt);

// The counter slot of a configured segment, if it has one.
std::optional<uint16_t> slot_of(const config::vtep& v, const vtep_table& t, const config::vxlan_segment& s);

// `totals` less `base`, index by index (a baseline taken when there were fewer indices
// subtracts nothing from the later ones).
template <class Block>
std::vector<Block> less_baseline(std::vector<Block> totals, const std::vector<Block>& base) {
    for (size_t i = 0; i < std::min(totals.size(), base.size()); ++i) {
        totals[i] -= base[i];
    }
    return totals;
}

} // namespace vx

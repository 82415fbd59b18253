// SPDX-License-Identifier: MIT
#pragma once

// The EAL command line the daemon builds from the configuration, so that a user never has
// to write one: lcores for the workers, memory (hugepages when mounted, --no-huge
// otherwise), the PCI allow-list, and an in-memory runtime so that several switches (and
// tests) can run side by side.

#include <string>
#include <vector>

#include "config/model.hh"

namespace vx {

struct eal_plan {
    std::vector<std::string> args; // argv, starting with the program name
    bool no_huge = false;
};

// True when a hugetlbfs is mounted and has free pages.
bool hugepages_available();

// `workers` poll-mode lcores besides the main one (0 for the single-thread check mode).
eal_plan plan_eal(const config::model& m, uint16_t workers, bool hugepages);

// Runs rte_eal_init with the plan; throws std::runtime_error with DPDK's reason.
void start_eal(const eal_plan& plan);

} // namespace vx

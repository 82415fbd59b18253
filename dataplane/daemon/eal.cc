// SPDX-License-Identifier: MIT
#include "daemon/eal.hh"

#include <rte_eal.h>
#include <rte_errno.h>

#include <fmt/format.h>
#include <sched.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "ports/dpdk_port.hh"

namespace vx {

namespace {

std::vector<int> allowed_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> cpus;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        for (int c = 0; c < CPU_SETSIZE; ++c) {
            if (CPU_ISSET(c, &set)) {
                cpus.push_back(c);
            }
        }
    }
    if (cpus.empty()) {
        cpus.push_back(0);
    }
    return cpus;
}

// "0@C0,1@C1,...": lcore 0 is the control thread, lcores 1..n the workers. Workers go on the
// configured CPUs, or else on the allowed CPUs after the control thread's, wrapping around.
std::string lcore_map(const config::model& m, uint16_t workers) {
    const auto cpus = allowed_cpus();
    std::string map = fmt::format("0@{}", cpus.front());
    for (uint16_t w = 0; w < workers; ++w) {
        const int cpu = m.dp.cpus.empty() ? cpus[(1 + w) % cpus.size()] : m.dp.cpus[w % m.dp.cpus.size()];
        map += fmt::format(",{}@{}", w + 1, cpu);
    }
    return map;
}

} // namespace

bool hugepages_available() {
    std::ifstream mounts("/proc/mounts");
    std::string line;
    bool mounted = false;
    while (std::getline(mounts, line)) {
        mounted = mounted || line.find(" hugetlbfs ") != std::string::npos;
    }
    if (!mounted) {
        return false;
    }
    std::error_code ec;
    for (const auto& dir : std::filesystem::directory_iterator("/sys/kernel/mm/hugepages", ec)) {
        std::ifstream f(dir.path() / "free_hugepages");
        unsigned long free_pages = 0;
        if (f >> free_pages && free_pages > 0) {
            return true;
        }
    }
    return false;
}

eal_plan plan_eal(const config::model& m, uint16_t workers, bool hugepages) {
    eal_plan plan;
    plan.args = {"vxswitchd", "--lcores", lcore_map(m, workers), "--log-level=lib.eal:warning", "--no-telemetry"};
    // Keep no runtime files, so that any number of switches (and tests) run side by side.
    // --in-memory does that with hugepages; without them, --no-shconf does.
    if (hugepages) {
        plan.args.emplace_back("--in-memory");
    } else {
        plan.no_huge = true;
        plan.args.insert(plan.args.end(), {"--no-huge", "--no-shconf", "-m", std::to_string(m.dp.memory_mb)});
    }
    bool any_pci = false;
    for (const auto& p : m.ports) {
        if (is_pci_address(p.device)) {
            any_pci = true;
            plan.args.insert(plan.args.end(), {"-a", p.device});
        }
    }
    if (!any_pci) {
        plan.args.emplace_back("--no-pci");
    }
    plan.args.insert(plan.args.end(), m.dp.eal_args.begin(), m.dp.eal_args.end());
    return plan;
}

void start_eal(const eal_plan& plan) {
    std::vector<char*> argv;
    for (const auto& a : plan.args) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    if (rte_eal_init(static_cast<int>(plan.args.size()), argv.data()) < 0) {
        std::ostringstream cmd;
        for (const auto& a : plan.args) {
            cmd << ' ' << a;
        }
        throw std::runtime_error(
            fmt::format("cannot start DPDK's EAL: {} (arguments:{})", rte_strerror(rte_errno), cmd.str()));
    }
}

} // namespace vx

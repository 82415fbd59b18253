// SPDX-License-Identifier: MIT
#pragma once

// A switch that tests of the workers drive by hand, with nothing running in the background:
// its ports on net_ring ethdevs whose rings the test feeds and drains, the published snapshot,
// an fdb, a learner and the workers. The test fills the snapshot's tables (l2, vxlan) and poll
// lists; the rig makes the devices and gives the snapshot their ids and names.

#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <memory>
#include <string>
#include <vector>

#include "tables/fdb.hh"
#include "tables/learner.hh"
#include "testing/dpdk_env.hh"
#include "worker/worker.hh"

namespace vx::testing {

class switch_rig {
public:
    // A net_ring ethdev per port name (one RX queue, one TX queue per worker) and `n_workers`
    // workers, worker w polling snap->polls[w]. Starts the EAL if it is not yet.
    switch_rig(const std::vector<std::string>& ports, uint16_t n_workers, std::unique_ptr<snapshot> snap);
    // The workers go, then the devices are stopped and closed.
    ~switch_rig();
    switch_rig(const switch_rig&) = delete;
    switch_rig& operator=(const switch_rig&) = delete;

    // Frame `f` into port's receive ring.
    void inject(uint16_t port, const bytes& f);
    // Each worker one round, then the learner applies what they saw.
    void step();
    // Everything `port` sent, over all its TX queues (the buffers freed).
    std::vector<bytes> sent(uint16_t port);

    coarse_clock clock;                     // made once the EAL runs: the TSC rate is known only then
    std::vector<rte_ring*> rx;              // by port
    std::vector<std::vector<rte_ring*>> tx; // by port, then TX queue (= worker id)
    rte_rcu_qsbr* rcu = nullptr;
    std::unique_ptr<fdb> macs;
    std::unique_ptr<snapshot_holder> state;
    std::unique_ptr<learner> learn;
    std::vector<std::unique_ptr<worker>> workers;
};

} // namespace vx::testing

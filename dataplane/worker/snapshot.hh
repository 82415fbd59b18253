// SPDX-License-Identifier: MIT
#pragma once

// The forwarding state the workers read, published as a whole by the control thread.
//
// Workers load the pointer once per burst and never lock. The control thread builds a new
// snapshot off to the side, swaps the pointer, waits one RCU grace period (every worker has
// finished the burst that might have used the old one) and only then frees the old one.

#include <rte_rcu_qsbr.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "tables/l2_tables.hh"
#include "tables/vtep_table.hh"

namespace vx {

struct rx_queue {
    uint16_t port = 0;  // port index
    uint16_t queue = 0; // RX queue id on that port
};

// A port index is the port's slot in the running switch: it stays the same while the port
// lives (MAC entries, counters and these tables name ports by it), and a removed port's slot
// is vacant (no rules, polled by nobody) until a new port takes it (daemon/fabric.hh).
struct snapshot {
    l2_tables l2;
    std::vector<uint16_t> device;   // DPDK port id, by port index
    std::vector<std::string> names; // operator's port names, by port index ("" for a vacant slot)
    vtep_table vxlan;               // VXLAN; vxlan.enabled() false when not configured
    // What each worker polls, by worker id: a worker reads it every round, so a port added or
    // removed at runtime is picked up (or let go) at the worker's next quiescent point.
    std::vector<std::vector<rx_queue>> polls;
};

class snapshot_holder {
public:
    explicit snapshot_holder(rte_rcu_qsbr* rcu) : _rcu(rcu) {}
    ~snapshot_holder() { delete _current.load(); }
    snapshot_holder(const snapshot_holder&) = delete;
    snapshot_holder& operator=(const snapshot_holder&) = delete;

    // Worker side.
    const snapshot& current() const { return *_current.load(std::memory_order_acquire); }

    // Control side: replaces the snapshot and returns once no worker can still see the old.
    void publish(std::unique_ptr<snapshot> next) {
        std::unique_ptr<const snapshot> old{_current.exchange(next.release(), std::memory_order_acq_rel)};
        if (old != nullptr && _rcu != nullptr) {
            rte_rcu_qsbr_synchronize(_rcu, RTE_QSBR_THRID_INVALID);
        }
    }

private:
    rte_rcu_qsbr* _rcu;
    std::atomic<const snapshot*> _current{nullptr};
};

} // namespace vx

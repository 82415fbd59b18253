// SPDX-License-Identifier: MIT
#pragma once

// What capture and trace sessions share: one single-producer, single-consumer ring per worker
// for what the worker hands the control thread, and the wait that makes arming and disarming
// the workers exact.

#include <cstdint>
#include <string_view>
#include <vector>

struct rte_ring;
struct rte_rcu_qsbr;

namespace vx {

class worker_rings {
public:
    // Rings named "<prefix>_<session>_<worker>". Throws std::runtime_error naming the ring
    // that could not be made (none is left behind).
    worker_rings(std::string_view prefix, uint32_t session, size_t workers, unsigned element_size, unsigned size);
    ~worker_rings();
    worker_rings(const worker_rings&) = delete;
    worker_rings& operator=(const worker_rings&) = delete;

    rte_ring* operator[](size_t worker) const { return _rings[worker]; }

private:
    std::vector<rte_ring*> _rings;
};

// Returns once every worker has begun a new poll round (one RCU grace period): after arming,
// every frame received from then on is seen; after disarming, no worker still holds what it
// was given.
void wait_for_new_round(rte_rcu_qsbr* rcu);

} // namespace vx

// SPDX-License-Identifier: MIT
#include "observe/worker_rings.hh"

#include <rte_errno.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <fmt/format.h>

#include <stdexcept>

namespace vx {

worker_rings::worker_rings(std::string_view prefix, uint32_t session, size_t workers, unsigned element_size,
                           unsigned size) {
    for (size_t w = 0; w < workers; ++w) {
        const auto name = fmt::format("{}_{}_{}", prefix, session, w);
        rte_ring* r = rte_ring_create_elem(name.c_str(), element_size, size, SOCKET_ID_ANY,
                                           RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (r == nullptr) {
            const std::string why = rte_strerror(rte_errno);
            for (rte_ring* made : _rings) {
                rte_ring_free(made);
            }
            throw std::runtime_error(fmt::format("cannot create ring {}: {}", name, why));
        }
        _rings.push_back(r);
    }
}

worker_rings::~worker_rings() {
    for (rte_ring* r : _rings) {
        rte_ring_free(r);
    }
}

void wait_for_new_round(rte_rcu_qsbr* rcu) {
    if (rcu != nullptr) {
        rte_rcu_qsbr_synchronize(rcu, RTE_QSBR_THRID_INVALID);
    }
}

} // namespace vx

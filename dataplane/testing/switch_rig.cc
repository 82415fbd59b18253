// SPDX-License-Identifier: MIT
#include "testing/switch_rig.hh"

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include <fmt/format.h>

#include <stdexcept>

namespace vx::testing {

namespace {
void check(int rc, const std::string& what) {
    if (rc < 0) {
        throw std::runtime_error(fmt::format("{}: {}", what, rte_strerror(-rc)));
    }
}
} // namespace

switch_rig::switch_rig(const std::vector<std::string>& ports, uint16_t n_workers, std::unique_ptr<snapshot> snap)
    : clock((start_eal(), coarse_clock())) {
    static int instance = 0; // device, ring and table names are per process
    ++instance;
    for (size_t p = 0; p < ports.size(); ++p) {
        auto name = [&](const char* what, size_t q) { return fmt::format("rig{}_{}{}_{}", instance, what, p, q); };
        rx.push_back(rte_ring_create(name("rx", 0).c_str(), 1024, SOCKET_ID_ANY, 0));
        std::vector<rte_ring*> txs;
        for (size_t q = 0; q < n_workers; ++q) {
            txs.push_back(rte_ring_create(name("tx", q).c_str(), 1024, SOCKET_ID_ANY, 0));
        }
        tx.push_back(txs);
        const int id = rte_eth_from_rings(name("eth", 0).c_str(), &rx.back(), 1, txs.data(), n_workers, SOCKET_ID_ANY);
        check(id, "rte_eth_from_rings");
        const auto port_id = static_cast<uint16_t>(id);
        rte_eth_conf conf{};
        check(rte_eth_dev_configure(port_id, 1, n_workers, &conf), "configure");
        check(rte_eth_rx_queue_setup(port_id, 0, 1024, SOCKET_ID_ANY, nullptr, test_pool()), "rx queue");
        for (uint16_t q = 0; q < n_workers; ++q) {
            check(rte_eth_tx_queue_setup(port_id, q, 1024, SOCKET_ID_ANY, nullptr), "tx queue");
        }
        check(rte_eth_dev_start(port_id), "start");
        snap->device.push_back(port_id);
        snap->names.push_back(ports[p]);
    }
    rcu = static_cast<rte_rcu_qsbr*>(rte_zmalloc(nullptr, rte_rcu_qsbr_get_memsize(n_workers), 64));
    rte_rcu_qsbr_init(rcu, n_workers);
    macs = std::make_unique<fdb>(fdb::params{fmt::format("rig{}_fdb", instance), 1024, 300, rcu, SOCKET_ID_ANY});
    state = std::make_unique<snapshot_holder>(rcu);
    state->publish(std::move(snap));
    learn = std::make_unique<learner>(*macs, *state, clock);
    const worker_shared shared{state.get(), macs.get(), rcu, test_pool(), &clock, 0};
    for (uint16_t w = 0; w < n_workers; ++w) {
        workers.push_back(std::make_unique<worker>(w, shared));
        learn->watch(workers.back()->learn_ring());
    }
}

switch_rig::~switch_rig() {
    workers.clear();
    for (uint16_t id : state->current().device) {
        rte_eth_dev_stop(id);
        rte_eth_dev_close(id);
    }
    learn.reset();
    state.reset();
    macs.reset();
    rte_free(rcu);
}

void switch_rig::inject(uint16_t port, const bytes& f) {
    if (rte_ring_enqueue(rx[port], make_mbuf(f)) != 0) {
        throw std::runtime_error(fmt::format("port {}: its receive ring is full", port));
    }
}

void switch_rig::step() {
    for (auto& w : workers) {
        w->poll_once();
    }
    learn->drain();
}

std::vector<bytes> switch_rig::sent(uint16_t port) {
    std::vector<bytes> out;
    for (rte_ring* r : tx[port]) {
        void* obj = nullptr;
        while (rte_ring_dequeue(r, &obj) == 0) {
            auto* m = static_cast<rte_mbuf*>(obj);
            out.push_back(mbuf_bytes(m));
            rte_pktmbuf_free(m);
        }
    }
    return out;
}

} // namespace vx::testing

// SPDX-License-Identifier: MIT
#include "ports/dpdk_port.hh"

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_memzone.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <regex>
#include <stdexcept>

#include <unistd.h>

namespace vx {

namespace {

constexpr uint16_t rx_descriptors = 1024;
constexpr uint16_t tx_descriptors = 1024;

std::runtime_error port_error(const std::string& port, const std::string& what, int err) {
    return std::runtime_error(fmt::format("port '{}': {}: {}", port, what, rte_strerror(err < 0 ? -err : err)));
}

// The ethdev of `name`, probing the device first when the EAL has not; `probed` says whether
// this call did.
uint16_t attach(const config::port& cfg, bool& probed) {
    std::string name = device_name(cfg.device);
    if (is_pci_address(name) && name.size() == 7) {
        name = "0000:" + name; // the EAL names PCI ports by their full address
    }
    uint16_t id = 0;
    if (rte_eth_dev_get_port_by_name(name.c_str(), &id) == 0) {
        return id;
    }
    probed = true;
    if (const int rc = rte_dev_probe(cfg.device.c_str()); rc < 0) {
        // Drivers mostly answer -1 whatever went wrong: their own log line above says what.
        throw std::runtime_error(fmt::format("port '{}': the driver refused device '{}'{} (see the driver's message above)",
                                             cfg.name, cfg.device,
                                             rc == -1 ? "" : fmt::format(": {}", rte_strerror(-rc))));
    }
    if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0) {
        throw std::runtime_error(fmt::format("port '{}': device '{}' was probed but created no ethdev named '{}'",
                                             cfg.name, cfg.device, name));
    }
    return id;
}

// DPDK 22.11's net_af_xdp (zero-copy build) registers the packet pool as the UMEM of each of
// its sockets, assuming the pool's objects lie back to back from its first chunk: the UMEM is
// [first chunk's page, + populated_size x object size). A default pool breaks that: objects
// never cross a page, so on 4 KiB pages (no hugepages) every 2368-byte mbuf takes a page of
// its own and only the first 58% of the pool is inside the UMEM (on 2 MiB pages a few mbufs
// per page fall out). The kernel silently skips fill-ring entries outside the UMEM and drops
// TX descriptors there: frames are lost with no counter moving, and a port whose fill ring
// got only such mbufs receives nothing at all. So with net_af_xdp ports, objects are exactly
// one 4 KiB page (header, mbuf, 3776-byte data room after the headroom), on page-aligned
// memory: they tile it, on any page size, at the cost no-hugepage pools already paid.
constexpr size_t umem_object_size = 4096;

bool is_af_xdp(const config::port& p) {
    return device_name(p.device).starts_with("net_af_xdp");
}

void free_memzone(rte_mempool_memhdr* /*chunk*/, void* mz) {
    rte_memzone_free(static_cast<const rte_memzone*>(mz));
}

struct umem_range {
    uintptr_t base = 0;
    uint64_t size = 0;
    uint32_t outside = 0;
};

// How many of the pool's objects lie (partly) outside the UMEM that net_af_xdp registers.
uint32_t objects_outside_umem(rte_mempool* mp) {
    const auto first = reinterpret_cast<uintptr_t>(STAILQ_FIRST(&mp->mem_list)->addr);
    const auto page = static_cast<uintptr_t>(getpagesize()); // as the PMD computes it
    const uint32_t object_size = rte_mempool_calc_obj_size(mp->elt_size, mp->flags, nullptr);
    umem_range umem{first & ~(page - 1), uint64_t{mp->populated_size} * object_size + (first & (page - 1)), 0};
    rte_mempool_obj_iter(
        mp,
        [](rte_mempool* pool, void* arg, void* obj, unsigned /*index*/) {
            auto* u = static_cast<umem_range*>(arg);
            const uintptr_t start = reinterpret_cast<uintptr_t>(obj) - pool->header_size;
            const uint32_t size = rte_mempool_calc_obj_size(pool->elt_size, pool->flags, nullptr);
            u->outside += start < u->base || start - u->base + size > u->size ? 1 : 0;
        },
        &umem);
    return umem.outside;
}

rte_mempool* create_umem_pool(uint32_t buffers, unsigned cache) {
    // No spreading over memory channels: it would pad the object past the page.
    constexpr unsigned flags = RTE_MEMPOOL_F_NO_SPREAD;
    rte_mempool_objsz sz{};
    rte_mempool_calc_obj_size(0, flags, &sz);
    const auto element = static_cast<uint32_t>(umem_object_size - sz.header_size - sz.trailer_size);
    if (rte_mempool_calc_obj_size(element, flags, nullptr) != umem_object_size) {
        throw std::runtime_error("packet pool: cannot lay out page-sized mbufs for net_af_xdp");
    }
    rte_pktmbuf_pool_private priv{};
    priv.mbuf_data_room_size = static_cast<uint16_t>(element - sizeof(rte_mbuf));
    rte_mempool* mp = rte_mempool_create_empty("vx_pool", buffers, element, cache, sizeof(priv), SOCKET_ID_ANY, flags);
    if (mp == nullptr) {
        throw std::runtime_error(fmt::format("cannot create a pool of {} packet buffers: {}", buffers,
                                             rte_strerror(rte_errno)));
    }
    const auto fail = [mp, buffers](const std::string& what) {
        rte_mempool_free(mp);
        return std::runtime_error(fmt::format("packet pool of {} buffers for net_af_xdp: {}", buffers, what));
    };
    if (const int rc = rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), nullptr); rc != 0) {
        throw fail(rte_strerror(-rc));
    }
    rte_pktmbuf_pool_init(mp, &priv);
    const rte_memzone* mz = rte_memzone_reserve_aligned("vx_pool_umem", size_t{buffers} * umem_object_size,
                                                        SOCKET_ID_ANY, 0, umem_object_size);
    if (mz == nullptr) {
        throw fail(fmt::format("cannot reserve {} MiB: {} (raise memory_mb?)",
                               size_t{buffers} * umem_object_size >> 20, rte_strerror(rte_errno)));
    }
    // From here the pool owns the memory zone and frees it with itself (free_memzone). When
    // populating fails early the zone may stay reserved: the daemon exits on that error anyway.
    if (rte_mempool_populate_virt(mp, static_cast<char*>(mz->addr), mz->len, umem_object_size, free_memzone,
                                  const_cast<rte_memzone*>(mz)) != static_cast<int>(buffers)) {
        throw fail("cannot place the buffers in their memory");
    }
    rte_mempool_obj_iter(mp, rte_pktmbuf_init, nullptr);
    if (const uint32_t outside = objects_outside_umem(mp); outside != 0) {
        throw fail(fmt::format("{} buffers lie outside the UMEM net_af_xdp would register; they would lose "
                               "frames silently", outside));
    }
    return mp;
}

} // namespace

bool is_pci_address(const std::string& device) {
    static const std::regex pci{R"(^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$)"};
    return std::regex_match(device_name(device), pci);
}

std::string device_name(const std::string& device) {
    return device.substr(0, device.find(','));
}

rte_mempool* create_packet_pool(const std::vector<config::port>& ports, uint32_t buffers, unsigned cache) {
    if (std::any_of(ports.begin(), ports.end(), is_af_xdp)) {
        return create_umem_pool(buffers, cache);
    }
    rte_mempool* mp = rte_pktmbuf_pool_create("vx_pool", buffers, cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (mp == nullptr) {
        throw std::runtime_error(fmt::format("cannot create a pool of {} packet buffers: {} (raise memory_mb?)",
                                             buffers, rte_strerror(rte_errno)));
    }
    return mp;
}

bool pool_fits_af_xdp(rte_mempool* pool) {
    return rte_mempool_calc_obj_size(pool->elt_size, pool->flags, nullptr) == umem_object_size &&
           objects_outside_umem(pool) == 0;
}

uint32_t dpdk_port::buffers_needed(uint16_t rx_queues, uint16_t tx_queues) {
    return uint32_t{rx_queues} * rx_descriptors + uint32_t{tx_queues} * tx_descriptors;
}

dpdk_port::dpdk_port(const config::port& cfg, uint16_t tx_queues, rte_mempool* pool) : _name(cfg.name) {
    bool probed = false;
    _id = attach(cfg, probed);
    rte_eth_dev_info info{};
    if (const int rc = rte_eth_dev_info_get(_id, &info); rc != 0) {
        throw port_error(cfg.name, "cannot read device info", rc);
    }
    _driver = info.driver_name;
    // A virtual device this port probed goes with it (so that a port removed at runtime can
    // be added again under the same device name); a PCI device stays bound to its driver.
    _probed_vdev = probed && !is_pci_address(cfg.device) ? info.device : nullptr;
    try {
        start(cfg, info, tx_queues, pool);
    } catch (const std::runtime_error&) {
        release(); // a port that failed to open leaves nothing behind: it may be asked for again
        throw;
    }
}

void dpdk_port::start(const config::port& cfg, const rte_eth_dev_info& info, uint16_t tx_queues, rte_mempool* pool) {
    if (cfg.queues > info.max_rx_queues || tx_queues > info.max_tx_queues) {
        throw std::runtime_error(fmt::format(
            "port '{}': {} offers {} RX and {} TX queues; the switch needs {} RX (queues) and {} TX (one per worker)",
            cfg.name, _driver, info.max_rx_queues, info.max_tx_queues, cfg.queues, tx_queues));
    }
    rte_eth_conf conf{};
    if (const int rc = rte_eth_dev_configure(_id, cfg.queues, tx_queues, &conf); rc != 0) {
        throw port_error(cfg.name, "cannot configure the device", rc);
    }
    uint16_t nb_rx = rx_descriptors;
    uint16_t nb_tx = tx_descriptors;
    rte_eth_dev_adjust_nb_rx_tx_desc(_id, &nb_rx, &nb_tx);
    const int socket = rte_eth_dev_socket_id(_id);
    for (uint16_t q = 0; q < cfg.queues; ++q) {
        if (const int rc = rte_eth_rx_queue_setup(_id, q, nb_rx, socket, nullptr, pool); rc != 0) {
            throw port_error(cfg.name, fmt::format("cannot set up RX queue {}", q), rc);
        }
    }
    for (uint16_t q = 0; q < tx_queues; ++q) {
        if (const int rc = rte_eth_tx_queue_setup(_id, q, nb_tx, socket, nullptr); rc != 0) {
            throw port_error(cfg.name, fmt::format("cannot set up TX queue {}", q), rc);
        }
    }
    if (cfg.mtu) {
        // Virtual devices without an MTU of their own (net_null, net_ring, ...) say ENOTSUP:
        // the switch still holds frames to the MTU on egress, so that is no reason to stop.
        if (const int rc = rte_eth_dev_set_mtu(_id, *cfg.mtu); rc == -ENOTSUP) {
            spdlog::info("port '{}': the device has no MTU setting; mtu {} is enforced on egress only", cfg.name,
                         *cfg.mtu);
        } else if (rc != 0) {
            throw port_error(cfg.name, fmt::format("cannot set MTU {}", *cfg.mtu), rc);
        }
    }
    if (const int rc = rte_eth_dev_start(_id); rc != 0) {
        throw port_error(cfg.name, "cannot start the device", rc);
    }
    // A switch must see every MAC; PMDs without the notion (pcap, ring, null) say ENOTSUP.
    if (const int rc = rte_eth_promiscuous_enable(_id); rc != 0 && rc != -ENOTSUP) {
        spdlog::warn("port '{}': cannot enable promiscuous mode: {}", cfg.name, rte_strerror(-rc));
    }
}

void dpdk_port::release() {
    rte_eth_dev_stop(_id);
    rte_eth_dev_close(_id);
    if (_probed_vdev != nullptr) {
        if (const int rc = rte_dev_remove(_probed_vdev); rc != 0) {
            spdlog::warn("port '{}': cannot detach its device: {}", _name, rte_strerror(-rc));
        }
    }
}

dpdk_port::~dpdk_port() {
    release();
}

} // namespace vx

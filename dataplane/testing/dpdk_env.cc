// SPDX-License-Identifier: MIT
#include "testing/dpdk_env.hh"

#include <rte_eal.h>
#include <rte_errno.h>

#include <cstdlib>
#include <stdexcept>

#include "packet/ether.hh"

namespace vx::testing {

void start_eal() {
    static const bool started = [] {
        std::vector<std::string> args{
            "vx_test", "--no-pci", "--lcores", "0@0,1@0,2@0", "--log-level=lib.eal:error", "--no-telemetry"};
        // 4 KiB pages by default, so tests run anywhere. VX_TEST_HUGEPAGES=1 takes hugepages
        // instead (mounted hugetlbfs, vm.nr_hugepages >= 512): what a table of 1M entries
        // costs is then its cache misses, not page walks (bench/micro/fdb_bench.cc).
        if (std::getenv("VX_TEST_HUGEPAGES") != nullptr) {
            args.insert(args.end(), {"--in-memory", "-m", "1024"});
        } else {
            args.insert(args.end(), {"--no-huge", "-m", "512", "--no-shconf"});
        }
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
            throw std::runtime_error(std::string("rte_eal_init: ") + rte_strerror(rte_errno));
        }
        return true;
    }();
    (void)started;
}

rte_mempool* test_pool() {
    start_eal();
    static rte_mempool* pool =
        rte_pktmbuf_pool_create("vx_test_pool", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (pool == nullptr) {
        throw std::runtime_error(std::string("test pool: ") + rte_strerror(rte_errno));
    }
    return pool;
}

rte_mbuf* make_mbuf(const bytes& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(test_pool());
    if (m == nullptr) {
        throw std::runtime_error("test pool is empty");
    }
    auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size())));
    std::copy(frame.begin(), frame.end(), p);
    return m;
}

bytes mbuf_bytes(const rte_mbuf* m) {
    const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
    return {p, p + rte_pktmbuf_data_len(m)};
}

bytes from_hex(std::string_view hex) {
    bytes out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<uint8_t>(std::stoul(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}

ip_address ip(std::string_view text) {
    const auto a = ip_address::parse(text);
    if (!a) {
        throw std::invalid_argument("bad address in test: " + std::string(text));
    }
    return *a;
}

mac_addr mac(std::string_view text) {
    const auto m = mac_addr::parse(text);
    if (!m) {
        throw std::invalid_argument("bad MAC in test: " + std::string(text));
    }
    return *m;
}

bytes frame(const std::string& dst, const std::string& src, const std::vector<tag>& tags, uint16_t ethertype,
            size_t payload) {
    bytes f;
    for (const auto& text : {dst, src}) {
        const auto mac = mac_addr::parse(text);
        if (!mac) {
            throw std::invalid_argument("bad MAC in test: " + text);
        }
        f.insert(f.end(), mac->bytes.begin(), mac->bytes.end());
    }
    auto put16 = [&f](uint16_t v) {
        f.push_back(static_cast<uint8_t>(v >> 8));
        f.push_back(static_cast<uint8_t>(v));
    };
    for (const auto& t : tags) {
        put16(t.tpid);
        put16(t.tci);
    }
    put16(ethertype);
    for (size_t i = 0; i < payload; ++i) {
        f.push_back(static_cast<uint8_t>(i));
    }
    return f;
}

} // namespace vx::testing

// SPDX-License-Identifier: MIT
#pragma once

// Helpers for unit tests that need DPDK: an EAL started once per test binary, without
// hugepages or PCI, a packet pool, and frames built from bytes.

#include <rte_mbuf.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "packet/vxlan.hh"

namespace vx::testing {

using bytes = std::vector<uint8_t>;

// Starts the EAL (once; later calls do nothing) with --no-huge --no-shconf --no-pci.
void start_eal();
// A pool shared by the tests of one binary.
rte_mempool* test_pool();
// An mbuf holding a copy of the frame.
rte_mbuf* make_mbuf(const bytes& frame);
bytes mbuf_bytes(const rte_mbuf* m);
// "0a0b..." as bytes (the frames that tests quote from scapy).
bytes from_hex(std::string_view hex);
// An address or a MAC written as text; std::invalid_argument if it does not parse.
ip_address ip(std::string_view text);
mac_addr mac(std::string_view text);

// Frame builders: a minimal Ethernet frame with optional tags (tpid, tci) and a payload.
struct tag {
    uint16_t tpid = 0x8100;
    uint16_t tci = 0;
};
bytes frame(const std::string& dst, const std::string& src, const std::vector<tag>& tags = {},
            uint16_t ethertype = 0x0800, size_t payload = 46);

} // namespace vx::testing

// SPDX-License-Identifier: MIT
// libFuzzer target for VXLAN decapsulation and the underlay's control readers (ARP, neighbour
// discovery, IGMP/MLD): any bytes, never a crash or a read past the end (AddressSanitizer
// watches), and an accepted frame really holds its outer headers, an I-flagged VXLAN header
// and a whole inner Ethernet header; the readers accept only frames the cheap pre-test
// (vxlan::maybe_control) lets through to them.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "packet/membership.hh"
#include "packet/neighbour.hh"
#include "packet/vxlan.hh"

namespace {
uint16_t be16_at(const std::vector<uint8_t>& f, size_t at) {
    return static_cast<uint16_t>((f[at] << 8) | f[at + 1]);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace vx;
    // A copy of exactly the frame's length, so ASan catches any read past its end.
    const std::vector<uint8_t> frame(data, data + size);
    static const uint8_t v4[4] = {192, 0, 2, 2};
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    static const ip_address groups[1] = {ip_address::v4(std::array<uint8_t, 4>{239, 1, 1, 1}.data())};
    vxlan::local_endpoint local;
    local.v4 = ip_address::v4(v4);
    local.v6 = ip_address::v6(v6);
    local.groups = groups;
    local.group_count = 1;
    const auto r = vxlan::classify(frame.data(), static_cast<uint32_t>(frame.size()), local);
    if (r.ok) {
        const bool is_v4 = be16_at(frame, 12) == ethertype::ipv4;
        const size_t min_offset = is_v4 ? vxlan::ipv4_overhead : vxlan::ipv6_overhead;
        if (r.inner_offset < min_offset || r.inner_len < ether_header_len || r.inner_offset + size_t{r.inner_len} > frame.size() ||
            (frame[r.inner_offset - 8] & vxlan::flag_i) == 0 || be16_at(frame, r.inner_offset - 14) != local.dst_port ||
            r.vni > vxlan::max_vni) {
            std::abort();
        }
    }
    if (const auto arp = vxlan::read_arp(frame.data(), static_cast<uint32_t>(frame.size()))) {
        if (frame.size() < size_t{ether_header_len} + vxlan::arp_len || be16_at(frame, 12) != ethertype::arp) {
            std::abort();
        }
    }
    const auto n = static_cast<uint32_t>(frame.size());
    const bool control = vxlan::maybe_control(frame.data(), n);
    if (neighbour::read(frame.data(), n).status != neighbour::read_status::not_neighbour && !control) {
        std::abort();
    }
    if (membership::read(frame.data(), n).status != membership::read_status::not_membership && !control) {
        std::abort();
    }
    return 0;
}

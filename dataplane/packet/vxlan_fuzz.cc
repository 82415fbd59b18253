// SPDX-License-Identifier: MIT
// libFuzzer target for VXLAN decapsulation and the underlay's control readers (ARP, neighbour
// discovery, IGMP/MLD): any bytes, never a crash or a read past the end (AddressSanitizer
// watches), and an accepted frame really holds its outer headers, an I-flagged VXLAN header
// and a whole inner Ethernet header (on the vxvde port: an exact vxvde header and a frame of
// at least 15 bytes, or nothing for a goodbye); the readers accept only frames the cheap
// pre-test (vxlan::maybe_control) lets through to them.

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
    static const uint16_t vxvde_ports[1] = {vxvde::default_port};
    local.vxvde_ports = vxvde_ports;
    local.vxvde_port_count = 1;
    const auto r = vxlan::classify(frame.data(), static_cast<uint32_t>(frame.size()), local);
    if (r.ok) {
        const bool is_v4 = be16_at(frame, 12) == ethertype::ipv4;
        const size_t min_offset = is_v4 ? vxlan::ipv4_overhead : vxlan::ipv6_overhead;
        const uint32_t min_inner = r.goodbye ? 0 : r.vxvde ? vxvde::min_frame : ether_header_len;
        const uint8_t* vx = frame.data() + r.inner_offset - 8;
        const bool exact = vx[0] == vxlan::flag_i && vx[1] == 0 && vx[2] == 0 && vx[3] == 0 && vx[7] == 0;
        const uint16_t port = be16_at(frame, r.inner_offset - 14);
        if (r.inner_offset < min_offset || r.inner_len < min_inner || (r.goodbye && r.inner_len != 0) ||
            r.inner_offset + size_t{r.inner_len} > frame.size() || (vx[0] & vxlan::flag_i) == 0 ||
            (r.vxvde && !exact) || port != (r.vxvde ? vxvde::default_port : local.dst_port) || r.vni > vxlan::max_vni) {
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

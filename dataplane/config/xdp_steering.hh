// SPDX-License-Identifier: MIT
#pragma once

// The rules of an AF_XDP port's steering program (bpf/steer.bpf.c), from the configuration.
//
// config::xdp_steering keeps the YAML's text; this file parses it (the loader calls the
// parsers, for messages with line and column), checks a port's steering as a whole
// (validate() calls check_steering, so a model built by vxctl is held to the same rules),
// and turns it into steer_rules: typed values, one per map entry the program reads.
// ports/xdp_steer.hh writes steer_rules into the maps. No BPF here.

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.hh"

namespace vx::config {

// A UDP destination: family 4 or 6, an address (all zeroes: any local address), a port.
struct udp_dest {
    uint8_t family = 4;
    uint16_t port = 0; // host order
    std::array<uint8_t, 16> addr{};

    bool any_address() const { return addr == std::array<uint8_t, 16>{}; }
    auto operator<=>(const udp_dest&) const = default;
};

// Destination MACs lo..hi inclusive, as 48-bit numbers (first octet most significant).
struct mac_range {
    uint64_t lo = 0;
    uint64_t hi = 0;
    auto operator<=>(const mac_range&) const = default;
};

// "192.0.2.1:4789", "[2001:db8::1]:4789", "*:4789" (IPv4 and IPv6, any address); else nullopt.
std::optional<udp_dest> parse_udp_dest(std::string_view text);
// "02:aa:00:00:00:01" (that MAC) or "02:aa:00:00:00:00-02:aa:00:ff:ff:ff"; else nullopt.
std::optional<mac_range> parse_mac_range(std::string_view text);
std::string to_string(const udp_dest& d);
std::string to_string(const mac_range& r);

// Capacities of the program's maps (bpf/steer_common.h), checked by check_steering.
inline constexpr size_t max_mac_ranges = 16;
inline constexpr size_t max_udp_rules = 64;
inline constexpr size_t max_ethertype_rules = 64;
inline constexpr size_t max_src_mac_rules = 256;

// What the program does on one port, every list sorted and unique.
struct steer_rules {
    bool own = false;
    uint16_t tpid = c_tag_tpid; // the outer tag the VLAN rules read
    std::vector<uint16_t> vlans;
    std::vector<udp_dest> udp;
    std::vector<mac_range> macs;
    std::vector<uint16_t> drop_vlans;
    std::vector<uint16_t> drop_ethertypes;
    std::vector<uint64_t> drop_src_macs;
    std::vector<udp_dest> drop_udp;

    bool operator==(const steer_rules&) const = default;
};

// The outer VLANs a port carries tagged: what `steer.vlans` defaults to and may choose from.
std::vector<uint16_t> tagged_vlans(const port& p);

// The rules of a port with `xdp` set, which validate() accepted.
steer_rules steer_rules_of(const port& p);

// One line: "own" or "steer vlans 10,20 udp *:4789 macs -; drop ethertypes 0x88cc".
std::string describe_steering(const steer_rules& r);

// Problems with a port's steering; each message starts with `label`.
void check_steering(const port& p, const std::string& label, std::vector<std::string>& errors);

// The device net_af_xdp is given for an af_xdp port.
std::string af_xdp_device(const std::string& port_name, const std::string& iface, uint16_t queues);

} // namespace vx::config

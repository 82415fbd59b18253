// SPDX-License-Identifier: MIT
#pragma once

// Wire value types of the Ethernet layer: MAC addresses, EtherTypes/TPIDs and the 802.1Q
// tag control information. They are trivially copyable values with explicit conversions
// only, so a host-order number can never be written where network order is expected.

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace vx {

// A 16-bit value stored in network byte order, as it sits in a header.
struct [[gnu::packed]] be16 {
    uint16_t raw = 0;

    constexpr be16() = default;
    static constexpr be16 from_host(uint16_t v) { return be16{__builtin_bswap16(v)}; }
    constexpr uint16_t host() const { return __builtin_bswap16(raw); }
    auto operator<=>(const be16&) const = default;

private:
    constexpr explicit be16(uint16_t network) : raw(network) {}
};
static_assert(sizeof(be16) == 2);

struct mac_addr {
    std::array<uint8_t, 6> bytes{};

    static constexpr mac_addr broadcast() { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }

    // The I/G bit: set for broadcast and multicast (group) addresses.
    constexpr bool is_group() const { return (bytes[0] & 0x01) != 0; }
    constexpr bool is_zero() const { return *this == mac_addr{}; }

    // The 48 bits as an integer, first byte most significant (the FDB key's MAC part).
    constexpr uint64_t to_u64() const {
        uint64_t v = 0;
        for (uint8_t b : bytes) {
            v = (v << 8) | b;
        }
        return v;
    }
    static constexpr mac_addr from_u64(uint64_t v) {
        mac_addr m;
        for (int i = 5; i >= 0; --i) {
            m.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(v & 0xff);
            v >>= 8;
        }
        return m;
    }
    static mac_addr load(const uint8_t* p) {
        mac_addr m;
        std::memcpy(m.bytes.data(), p, 6);
        return m;
    }

    // "02:00:5e:10:00:01" (also '-' separated); nullopt on anything else.
    static std::optional<mac_addr> parse(std::string_view text);
    std::string to_string() const;

    auto operator<=>(const mac_addr&) const = default;
};
static_assert(sizeof(mac_addr) == 6);

namespace ethertype {
inline constexpr uint16_t ipv4 = 0x0800;
inline constexpr uint16_t arp = 0x0806;
inline constexpr uint16_t vlan = 0x8100; // 802.1Q C-tag
inline constexpr uint16_t qinq = 0x88a8; // 802.1ad S-tag
inline constexpr uint16_t ipv6 = 0x86dd;
} // namespace ethertype

// EtherTypes that are a VLAN tag on some port of some switch (802.1Q, 802.1ad, and the
// pre-standard 0x9100..0x9300): the parser tells a foreign TPID by them, and vxctl's trace
// steps over them to the EtherType behind.
constexpr bool is_well_known_tpid(uint16_t type) {
    return type == ethertype::vlan || type == ethertype::qinq || type == 0x9100 || type == 0x9200 || type == 0x9300;
}

// A big-endian 16-bit field (EtherType, TCI, IP and UDP fields) at p.
inline uint16_t load_be16(const uint8_t* p) {
    return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
inline void store_be16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

inline constexpr uint16_t ether_header_len = 14;
inline constexpr uint16_t vlan_tag_len = 4;

// 802.1Q tag control information: PCP(3) DEI(1) VID(12), host order.
struct tci {
    uint16_t value = 0;

    constexpr uint16_t vid() const { return value & 0x0fff; }
    constexpr uint16_t priority_bits() const { return value & 0xf000; } // PCP and DEI
    constexpr tci with_vid(uint16_t vid) const { return {static_cast<uint16_t>(priority_bits() | (vid & 0x0fff))}; }
    auto operator<=>(const tci&) const = default;
};

} // namespace vx

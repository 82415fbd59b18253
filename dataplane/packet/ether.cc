// SPDX-License-Identifier: MIT
#include "packet/ether.hh"

#include <fmt/format.h>

namespace vx {

std::optional<mac_addr> mac_addr::parse(std::string_view text) {
    if (text.size() != 17) {
        return std::nullopt;
    }
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    };
    const char sep = text[2];
    if (sep != ':' && sep != '-') {
        return std::nullopt;
    }
    mac_addr m;
    for (size_t i = 0; i < 6; ++i) {
        const size_t at = i * 3;
        const int hi = hex(text[at]);
        const int lo = hex(text[at + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && text[at + 2] != sep)) {
            return std::nullopt;
        }
        m.bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
    }
    return m;
}

std::string mac_addr::to_string() const {
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes[0], bytes[1], bytes[2], bytes[3], bytes[4],
                       bytes[5]);
}

} // namespace vx

// SPDX-License-Identifier: MIT
#pragma once

// A small pcapng writer for `vxctl capture` (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html):
// one Section Header Block, one Interface Description Block per switch port (LINKTYPE_ETHERNET,
// nanosecond timestamps, the port's name), and one Enhanced Packet Block per frame with its
// direction in epb_flags and, for a dropped frame, its drop reason in an opt_comment
// ("dropped: vlan_not_allowed"), which Wireshark and tshark show as the frame's comment.
// Written to any ostream, flushed per frame, so that `-w -` feeds `tcpdump -r -` live.

#include <cstdint>
#include <map>
#include <ostream>
#include <span>
#include <string>

namespace vx::ctl {

class pcapng_writer {
public:
    // Writes the section header.
    explicit pcapng_writer(std::ostream& out);

    enum class direction : uint8_t { inbound = 1, outbound = 2 };
    // `comment` empty: none.
    void frame(const std::string& port, uint64_t time_ns, direction d, std::span<const uint8_t> data,
               const std::string& comment);

private:
    uint32_t interface_of(const std::string& port);

    std::ostream& _out;
    std::map<std::string, uint32_t> _interfaces;
};

} // namespace vx::ctl

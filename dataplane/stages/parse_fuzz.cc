// SPDX-License-Identifier: MIT
// libFuzzer target for the header parser: any bytes, any TPID, never a crash or a read past
// the end (AddressSanitizer watches), and an accepted frame really holds its headers.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "stages/parse.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) {
        return 0;
    }
    const auto tpid = static_cast<uint16_t>((data[0] << 8) | data[1]);
    // A copy of exactly the frame's length, so ASan catches any read past its end.
    const std::vector<uint8_t> frame(data + 2, data + size);
    const auto r = vx::parse_l2(frame.data(), static_cast<uint32_t>(frame.size()), tpid);
    if (r.ok) {
        const size_t needed = vx::ether_header_len + size_t{vx::vlan_tag_len} * r.header.tags;
        if (frame.size() < needed || r.header.tags > 2 || r.header.src.is_group()) {
            std::abort();
        }
        // The tags read are the bytes where tags sit, and a frame with a tag is not foreign.
        const auto tci_at = [&](size_t at) { return static_cast<uint16_t>((frame[at] << 8) | frame[at + 1]); };
        if ((r.header.tags >= 1 && r.header.tag.value != tci_at(14)) ||
            (r.header.tags == 2 && r.header.inner_tag.value != tci_at(18)) ||
            (r.foreign_tpid && r.header.tags != 0)) {
            std::abort();
        }
    }
    return 0;
}

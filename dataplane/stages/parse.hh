// SPDX-License-Identifier: MIT
#pragma once

// parse: reads each frame's Ethernet header and VLAN tags into burst::l2.
//
// In: a burst fresh from a port. Out: l2[i] (MACs, outer TCI, tag count) for every frame,
// out[i] = drop for frames it rejects. Counts rx_packets/rx_bytes on the ingress port.
// Drops: truncated (shorter than 14 bytes, or than its tags), source_group_mac.
//
// Only tags of the ingress port's TPID are tags; up to two are read (an 802.1Q tag, or a
// QinQ pair) and anything deeper stays payload, carried untouched. Headers must sit in the
// first segment, which every PMD guarantees for any sane MTU.

#include "packet/burst.hh"
#include "worker/context.hh"

struct rte_mbuf;

namespace vx {

// One frame's header, from its bytes. Returns the drop reason when it is not a valid frame.
struct parse_result {
    l2_header header;
    bool ok = false;
    drop_reason why = drop_reason::truncated;
};
parse_result parse_l2(const uint8_t* data, uint32_t len, uint16_t tpid);

class parse final {
public:
    void process(burst& b, worker_ctx& w) const;
};

} // namespace vx

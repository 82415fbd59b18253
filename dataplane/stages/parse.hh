// SPDX-License-Identifier: MIT
#pragma once

// parse: reads each frame's Ethernet header and VLAN tags into burst::l2.
//
// In: a burst fresh from a port. Out: l2[i] (MACs, outer TCI, tag count) for every frame,
// out[i] = drop for frames it rejects. Counts rx_packets/rx_bytes on the ingress port.
// Drops: truncated (shorter than 14 bytes, or than its tags), source_group_mac, foreign_tpid.
//
// Tags are read in the order a provider network stacks them: first a tag of the ingress
// port's TPID (0x8100, 0x88a8 or whatever the port is set to), then a C-tag (0x8100) inside
// it. Anything deeper stays payload, carried untouched, so a stack of any depth is switched
// by its outer two tags and never misread. A frame whose outer EtherType is another well-known
// TPID is counted (foreign_tpid_payload) and switched as untagged, or dropped (foreign_tpid)
// when its port says so. Headers must sit in the first segment, which every PMD guarantees
// for any sane MTU.

#include "packet/burst.hh"
#include "worker/context.hh"

struct rte_mbuf;

namespace vx {

// One frame's header, from its bytes. Returns the drop reason when it is not a valid frame.
struct parse_result {
    l2_header header;
    bool ok = false;
    bool foreign_tpid = false; // untagged for this port, but starts with another port's TPID
    drop_reason why = drop_reason::truncated;
};
parse_result parse_l2(const uint8_t* data, uint32_t len, uint16_t tpid);

class parse final {
public:
    void process(burst& b, worker_ctx& w) const;
};

} // namespace vx

// SPDX-License-Identifier: MIT
#pragma once

// parse: reads each frame's Ethernet header and VLAN tags into burst::l2.
//
// In: a burst fresh from a port. Out: l2[i] (MACs, outer TCI, tag count) for every frame,
// out[i] = drop for frames it rejects, and the burst's bytes (b.bytes, which vlan_ingress counts
// into the domain). Counts rx_packets/rx_bytes on the ingress port.
// Drops: truncated (shorter than 14 bytes, or than its tags), source_group_mac, foreign_tpid.
//
// Tags are read in the order a provider network stacks them: first a tag of the ingress
// port's TPID (0x8100, 0x88a8 or whatever the port is set to), then a C-tag (0x8100) inside
// it. Anything deeper stays payload, carried untouched, so a stack of any depth is switched
// by its outer two tags and never misread. A frame whose outer EtherType is another well-known
// TPID is counted (foreign_tpid_payload) and switched as untagged, or dropped (foreign_tpid)
// when its port says so. Headers must sit in the first segment, which every PMD guarantees
// for any sane MTU.

#include "config/model.hh"
#include "packet/burst.hh"
#include "worker/context.hh"

struct rte_mbuf;

namespace vx {

// What parse_l2 found out about one frame, besides its header.
struct parse_status {
    bool ok = false;
    bool foreign_tpid = false; // untagged for this port, but starts with another port's TPID
    drop_reason why = drop_reason::truncated;
};

// Reads one frame's header from its bytes into `h`; says when it is not a valid frame.
// Inline, and writing straight into the caller's header: the parse stage calls it per frame,
// and returning the header through a temporary made the stage's copy of it wait on a failed
// store-to-load forward (two thirds of the stage's time in the profile).
inline parse_status parse_l2_into(const uint8_t* data, uint32_t len, uint16_t tpid, l2_header& h) {
    parse_status r;
    h = l2_header{};
    if (len < ether_header_len) {
        return r;
    }
    h.dst = mac_addr::load(data);
    h.src = mac_addr::load(data + 6);
    if (h.src.is_group()) {
        r.why = drop_reason::source_group_mac;
        return r;
    }
    // Up to two tags: the port's own, then a C-tag inside it. Deeper tags stay payload.
    uint32_t type_at = 12;
    for (const uint16_t expected : {tpid, config::c_tag_tpid}) {
        const uint16_t type = load_be16(data + type_at);
        if (type != expected) {
            r.foreign_tpid = h.tags == 0 && is_well_known_tpid(type);
            break;
        }
        // A tag is 4 bytes and must be followed by the next EtherType.
        if (len < type_at + vlan_tag_len + 2) {
            return r;
        }
        const tci tag{load_be16(data + type_at + 2)};
        (h.tags == 0 ? h.tag : h.inner_tag) = tag;
        ++h.tags;
        type_at += vlan_tag_len;
    }
    r.ok = true;
    return r;
}

// The same, header and status together, for callers off the per-frame path.
struct parse_result : parse_status {
    l2_header header;
};
inline parse_result parse_l2(const uint8_t* data, uint32_t len, uint16_t tpid) {
    parse_result r;
    static_cast<parse_status&>(r) = parse_l2_into(data, len, tpid, r.header);
    return r;
}

class parse final {
public:
    void process(burst& b, worker_ctx& w) const;
};

} // namespace vx

// SPDX-License-Identifier: MIT
#include "stages/parse.hh"

#include <rte_mbuf.h>

#include "config/model.hh"

namespace vx {

parse_result parse_l2(const uint8_t* data, uint32_t len, uint16_t tpid) {
    parse_result r;
    if (len < ether_header_len) {
        return r;
    }
    r.header.dst = mac_addr::load(data);
    r.header.src = mac_addr::load(data + 6);
    if (r.header.src.is_group()) {
        r.why = drop_reason::source_group_mac;
        return r;
    }
    // Up to two tags: the port's own, then a C-tag inside it. Deeper tags stay payload.
    uint32_t type_at = 12;
    for (const uint16_t expected : {tpid, config::c_tag_tpid}) {
        const uint16_t type = load_be16(data + type_at);
        if (type != expected) {
            r.foreign_tpid = r.header.tags == 0 && is_well_known_tpid(type);
            break;
        }
        // A tag is 4 bytes and must be followed by the next EtherType.
        if (len < type_at + vlan_tag_len + 2) {
            return r;
        }
        const tci tag{load_be16(data + type_at + 2)};
        (r.header.tags == 0 ? r.header.tag : r.header.inner_tag) = tag;
        ++r.header.tags;
        type_at += vlan_tag_len;
    }
    r.ok = true;
    return r;
}

void parse::process(burst& b, worker_ctx& w) const {
    const auto& rules = w.state->l2.ports[b.ingress];
    uint64_t bytes = 0;
    uint64_t foreign = 0;
    for (uint16_t i = 0; i < b.count; ++i) {
        rte_mbuf* m = b.pkts[i];
        bytes += rte_pktmbuf_pkt_len(m);
        const auto r = parse_l2(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), rules.tpid);
        b.l2[i] = r.header;
        b.out[i] = verdict::flood();
        if (!r.ok) {
            b.drop(i, r.why);
        } else if (r.foreign_tpid) {
            if (rules.drop_foreign_tpid) {
                b.drop(i, drop_reason::foreign_tpid);
            } else {
                ++foreign;
            }
        }
    }
    auto& pc = w.port(b.ingress);
    pc.add(port_counter::rx_packets, b.count);
    pc.add(port_counter::rx_bytes, bytes);
    pc.add(port_counter::foreign_tpid_payload, foreign);
}

} // namespace vx

// SPDX-License-Identifier: MIT
#include "stages/parse.hh"

#include <rte_mbuf.h>

namespace vx {

namespace {
uint16_t load_be16(const uint8_t* p) {
    return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
constexpr uint8_t max_parsed_tags = 2;
} // namespace

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
    uint32_t type_at = 12;
    while (r.header.tags < max_parsed_tags && load_be16(data + type_at) == tpid) {
        // A tag is 4 bytes and must be followed by the next EtherType.
        if (len < type_at + vlan_tag_len + 2) {
            return r;
        }
        if (r.header.tags == 0) {
            r.header.tag = tci{load_be16(data + type_at + 2)};
        }
        ++r.header.tags;
        type_at += vlan_tag_len;
    }
    r.ok = true;
    return r;
}

void parse::process(burst& b, worker_ctx& w) const {
    const uint16_t tpid = w.state->l2.ports[b.ingress].tpid;
    uint64_t bytes = 0;
    for (uint16_t i = 0; i < b.count; ++i) {
        rte_mbuf* m = b.pkts[i];
        bytes += rte_pktmbuf_pkt_len(m);
        const auto r = parse_l2(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), tpid);
        b.l2[i] = r.header;
        b.out[i] = verdict::flood();
        if (!r.ok) {
            b.drop(i, r.why);
        }
    }
    auto& pc = w.port(b.ingress);
    pc.add(port_counter::rx_packets, b.count);
    pc.add(port_counter::rx_bytes, bytes);
}

} // namespace vx

// SPDX-License-Identifier: MIT
#include "stages/parse.hh"

#include <rte_mbuf.h>

namespace vx {

void parse::process(burst& b, worker_ctx& w) const {
    const auto& rules = w.state->l2.ports[b.ingress];
    uint64_t bytes = 0;
    uint64_t foreign = 0;
    for (uint16_t i = 0; i < b.count; ++i) {
        rte_mbuf* m = b.pkts[i];
        bytes += rte_pktmbuf_pkt_len(m);
        const auto r = parse_l2_into(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), rules.tpid, b.l2[i]);
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
    b.bytes = static_cast<uint32_t>(bytes);
    auto& pc = w.port(b.ingress);
    pc.add(port_counter::rx_packets, b.count);
    pc.add(port_counter::rx_bytes, bytes);
    pc.add(port_counter::foreign_tpid_payload, foreign);
}

} // namespace vx

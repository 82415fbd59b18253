// SPDX-License-Identifier: MIT
#pragma once

// vtep_control: the VXLAN control plane, on the control thread. The only writer of the
// vtep_table the workers read (tables/vtep_table.hh).
//
// - Builds the table from the configuration: the local VTEP, VNI <-> domain, each VNI's flood
//   list (its head-end replication remotes and its multicast group).
// - Resolves next hops: with next_hop_mac set, every remote goes through that router; else it
//   sends an ARP request (IPv4) or a neighbour solicitation (IPv6) for each unresolved remote
//   once a second (from the slow path, never per packet: the frame goes to worker 0's inject
//   ring, which sends it on the underlay) and takes the answers the workers forward as
//   vtep_events. A resolved next hop that has not answered for 30 s is probed, and resolved
//   again when three probes go unanswered (tables/next_hop_refresh.hh).
// - Keeps the VTEP a member of its multicast groups (tables/vtep_membership.hh): IGMPv3/MLDv2
//   reports when it starts and when a runtime change adds or drops a group (a leave), and
//   answers to the queries the workers forward.
// - Adds the remote VTEPs the workers report (VXLAN frames from an address not in the table,
//   typically a peer that floods to a multicast group), so that their MACs can be learned;
//   vxvde endpoints likewise, by (address, source port).
// - Hands on the vxvde goodbyes the workers report (take_departed): the fabric flushes the MACs
//   learned against that endpoint, as vdeplug4's endpoints delete theirs.
// Each change publishes a new snapshot; the workers see it after one RCU grace period.

#include <cstdint>
#include <string>
#include <vector>

#include "config/model.hh"
#include "tables/next_hop_refresh.hh"
#include "tables/vtep_membership.hh"
#include "tables/vtep_table.hh"
#include "worker/clock.hh"
#include "worker/snapshot.hh"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

namespace vx {

class vtep_control {
public:
    // The table for a validated model, before anything runs; `underlay_mac` is the MAC of the
    // underlay port's device.
    static vtep_table build(const config::model& m, const l2_tables& l2, const mac_addr& underlay_mac);

    // A runtime change of the segments (config/diff.hh): the table for the validated model `m`
    // (whose vxlan: section differs from the running one in its vnis: only) over its new VLAN
    // tables `l2`. What stays keeps its index, its resolved next hop and its counter slot (a
    // segment keeps its slot whatever its VLAN: tables/vtep_table.hh); what the change made
    // wrong is listed for the fabric to flush once the table is published and a grace period
    // has passed.
    struct rebuilt {
        vtep_table table;
        std::vector<uint16_t> retired; // destinations (remote_port_base + i) no VNI floods to any more
        std::vector<uint16_t> domains; // domains whose VNI went away or changed: their remote MACs go
    };
    static rebuilt rebuild(const vtep_table& running, const config::model& m, const l2_tables& l2);
    // After a rebuilt table is published: joins the groups it added and leaves those it
    // dropped (tables/vtep_membership.hh).
    void adopt_groups(const std::vector<ip_address>& groups);

    vtep_control(snapshot_holder& state, rte_mempool* pool, const coarse_clock& clock);

    void watch(rte_ring* events) { _events.push_back(events); }
    // Where ARP requests go: a ring the worker that sends on the underlay drains.
    void send_through(rte_ring* inject) { _inject = inject; }
    // Applies the workers' events; returns how many there were.
    size_t drain();
    // Every round: the membership reports that are due; once a second: ARP requests and
    // neighbour solicitations for the remotes not resolved yet.
    void tick();
    // Each destination (remote_port_base + i) whose vxvde endpoint said goodbye since the last
    // call, once, to `forget(destination)`.
    template <class F>
    void take_departed(F&& forget) {
        for (const uint16_t destination : _departed) {
            forget(destination);
        }
        _departed.clear();
    }

private:
    bool apply(const vtep_event& e, vtep_table& t);
    void publish(vtep_table t);
    void request_next_hops(const vtep_table& t) const;
    // Probes the resolved next hops that have not answered for a while, and unresolves those
    // that stay silent (tables/next_hop_refresh.hh).
    void refresh_next_hops(uint32_t now_s);
    // An ARP request or a neighbour solicitation for `remote`; false when it could not go.
    bool send_request(const vtep_table& t, const ip_address& remote) const;
    void send_reports(const vtep_table& t);
    // A frame of `len` bytes from the pool, or nullptr; `send` hands it to the inject ring.
    rte_mbuf* new_frame(uint32_t len) const;
    bool send(rte_mbuf* m) const;

    snapshot_holder& _state;
    rte_mempool* _pool;
    const coarse_clock& _clock;
    std::vector<rte_ring*> _events;
    rte_ring* _inject = nullptr;
    std::vector<uint16_t> _departed;
    uint32_t _last_tick = ~0u;
    vtep_membership _membership;
    next_hop_refresh _refresh;
    bool _joined = false;
};

} // namespace vx

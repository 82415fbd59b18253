// SPDX-License-Identifier: MIT
#pragma once

// forward: carries out the verdicts. The last stage of the L2 pipeline.
//
// Three tight loops over the burst (classify first, then act):
//   1. known unicast: fix the tag for the egress port and queue the frame on it;
//   2. flood: one copy per other member of the bridge domain (the original goes to the last
//      member), never back out of the ingress port; counts `flooded` on the ingress port;
//   3. drops: count each under its reason on the ingress port and free them in one call.
// A frame whose egress port no longer carries its domain (the tables changed after it was
// learned) is dropped as egress_not_member on that port, and one that would be longer than
// the port's MTU allows once its tags are set, as egress_mtu_exceeded.

#include "packet/burst.hh"
#include "worker/context.hh"

namespace vx {

class forward final {
public:
    void process(burst& b, worker_ctx& w) const;

private:
    static void send_unicast(burst& b, worker_ctx& w);
    static void send_flood(burst& b, worker_ctx& w);
    static void free_drops(burst& b, worker_ctx& w);
};

} // namespace vx

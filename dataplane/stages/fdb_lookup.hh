// SPDX-License-Identifier: MIT
#pragma once

// fdb_lookup: decides where each frame goes.
//
// In: l2[i].dst, bd[i] of live frames. Out: out[i] = a port (known unicast), flood (group
// address or unknown unicast), or drop same_port (the destination sits behind the port the
// frame came in on: forwarding it back would duplicate it on that segment). One bulk lookup
// of the burst's unicast destinations, a run of equal ones (one flow's frames back to back)
// counting once. Counters: unknown_unicast, on the ingress port and the domain.

#include "packet/burst.hh"
#include "worker/context.hh"

namespace vx {

class fdb_lookup final {
public:
    void process(burst& b, worker_ctx& w) const;
};

} // namespace vx

// SPDX-License-Identifier: MIT
#pragma once

// A pipeline is its stages, in order, fixed at compile time: running it is a sequence of
// direct calls, one per stage per burst, which the compiler can inline. Variants (QinQ,
// tunnels, tracing) become other instantiations, chosen once per burst, not per packet.

#include <tuple>

#include "stages/fdb_learn.hh"
#include "stages/fdb_lookup.hh"
#include "stages/forward.hh"
#include "stages/parse.hh"
#include "stages/vlan_ingress.hh"
#include "stages/vxlan_decap.hh"
#include "worker/context.hh"

namespace vx {

template <stage... Stages>
class pipeline {
public:
    void run(burst& b, worker_ctx& w) {
        std::apply([&](auto&... s) { (s.process(b, w), ...); }, _stages);
    }
    // The same, with `o` told before and after each stage (vxctl trace: observe/trace.hh).
    template <class Observer>
    void run_observed(burst& b, worker_ctx& w, Observer& o) {
        std::apply([&](auto&... s) { ((o.before(s, b, w), s.process(b, w), o.after(s, b, w)), ...); }, _stages);
    }

private:
    std::tuple<Stages...> _stages;
};

// The 802.1Q learning switch.
using l2_pipeline = pipeline<parse, vlan_ingress, fdb_learn, fdb_lookup, forward>;
// Bursts from the VXLAN underlay port: decapsulate (and learn against remote VTEPs), then
// switch the inner frames like any other.
using underlay_pipeline = pipeline<vxlan_decap, fdb_lookup, forward>;

} // namespace vx

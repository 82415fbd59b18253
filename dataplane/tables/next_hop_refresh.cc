// SPDX-License-Identifier: MIT
#include "tables/next_hop_refresh.hh"

namespace vx {

next_hop_refresh::action next_hop_refresh::due(const ip_address& remote, uint32_t now_s) {
    const auto [at, added] = _confirmed.try_emplace(remote, now_s);
    const uint32_t silent = now_s - at->second;
    if (added || silent < _timers.reachable_s) {
        return action::none;
    }
    if (silent < _timers.reachable_s + _timers.probes) {
        return action::probe;
    }
    _confirmed.erase(at);
    return action::unresolve;
}

} // namespace vx

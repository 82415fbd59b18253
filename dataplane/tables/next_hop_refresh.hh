// SPDX-License-Identifier: MIT
#pragma once

// next_hop_refresh: when a resolved remote VTEP's next hop must be confirmed again, so that a
// peer that went away or changed its MAC without saying so is resolved anew instead of being
// sent to forever. In the spirit of RFC 4861's neighbour unreachability detection (and of
// ARP's cache timeout), reduced to what the control thread can see: an ARP reply or a
// neighbour advertisement from the remote (an answer to our requests) confirms it.
//
//   resolved, confirmed ── reachable_s without an answer ──► probed: one request a second
//   probed ── `probes` requests unanswered ──► unresolved: vxlan_no_next_hop until it answers
//   any answer ──► confirmed
//
// Times are the caller's seconds, so that it is tested without waiting
// (tables/next_hop_refresh_test.cc). Control thread only (tables/vtep_control.hh).

#include <cstdint>
#include <map>

#include "packet/vxlan.hh"

namespace vx {

class next_hop_refresh {
public:
    struct timers {
        uint32_t reachable_s = 30; // RFC 4861's REACHABLE_TIME
        uint32_t probes = 3;       // RFC 4861's MAX_UNICAST_SOLICIT, one a second
    };
    next_hop_refresh() = default;
    explicit next_hop_refresh(timers t) : _timers(t) {}

    // An answer showed the remote's MAC (or it has just been resolved).
    void confirmed(const ip_address& remote, uint32_t now_s) { _confirmed[remote] = now_s; }

    enum class action : uint8_t { none, probe, unresolve };
    // What to do, once a second, for a resolved remote. A remote never confirmed counts from
    // its first call; after unresolve it starts over.
    action due(const ip_address& remote, uint32_t now_s);

private:
    timers _timers;
    std::map<ip_address, uint32_t> _confirmed;
};

} // namespace vx

// SPDX-License-Identifier: MIT
#pragma once

// vtep_membership: when the VTEP reports its multicast groups on the underlay, the host side of
// IGMPv3 (RFC 3376 section 5) and MLDv2 (RFC 3810 section 6), reduced to what a VTEP needs:
// it joins its groups once the configuration takes effect and stays a member of each, with
// no source filter.
//
// - joined(): a state-change report for every group now, and again a second later (the
//   Robustness Variable of 2 at the Unsolicited Report Interval of 1 s), in case one is lost.
// - query(): a general query is answered with a current-state report for every group of its
//   family, a group-specific one for that group if it is ours, each at a random time within
//   the query's maximum response time, so that the hosts of a segment do not answer at once.
//   An answer already scheduled earlier stands; a group's answer is not scheduled when the
//   answer to a general query comes before it.
//
// Time is milliseconds of the caller's clock, and the randomness is seeded by the caller, so
// that the schedule is tested without waiting (tables/vtep_membership_test.cc). Control
// thread only: vtep_control (tables/vtep_control.hh) turns what is due into frames.
//
// - change_groups(): after a runtime change of the vxlan: segments, a state-change report
//   joins each new group (change to exclude {}) and leaves each group gone (change to include
//   {}: RFC 3376 section 5.1, RFC 3810 section 6.1, the form an IGMPv3/MLDv2 host leaves in),
//   now and a second later; answers still due for a group gone are dropped.
//
// Reports due at the same time are merged per family and record type, so a change of many
// groups costs one report per family and kind (split at membership::max_records groups).

#include <cstdint>
#include <random>
#include <vector>

#include "packet/membership.hh"
#include "packet/vxlan.hh"

namespace vx {

class vtep_membership {
public:
    // `groups`: the VTEP's groups, of either family.
    vtep_membership(std::vector<ip_address> groups, uint32_t seed);

    void joined(uint64_t now_ms);
    // The VTEP's groups are now `groups`: joins the new ones, leaves those gone.
    void change_groups(std::vector<ip_address> groups, uint64_t now_ms);
    // `group` unspecified (membership::unspecified): a general query of its family.
    void query(const ip_address& group, uint32_t max_delay_ms, uint64_t now_ms);

    // One report to send: groups of one family, at most membership::max_records.
    struct report {
        membership::record type;
        std::vector<ip_address> groups;
    };
    // What is due at `now_ms`, taken off the schedule.
    std::vector<report> due(uint64_t now_ms);

private:
    struct pending {
        ip_address group; // unspecified: every group of its family
        membership::record type;
        uint64_t at;
    };
    void schedule(const pending& p);
    // A state-change report for one group, now and once more (robustness 2); it replaces
    // anything still due for that group.
    void state_change(const ip_address& group, membership::record type, uint64_t now_ms);
    bool has_groups(bool v4) const;

    std::vector<ip_address> _groups;
    std::vector<pending> _pending;
    std::mt19937 _random;
};

} // namespace vx

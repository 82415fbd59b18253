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
// Leaving a group (IGMP change-to-include, MLD done) is never due: the vxlan: section, and so
// the groups, cannot change while the switch runs (config/diff.hh).

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
    bool has_groups(bool v4) const;

    std::vector<ip_address> _groups;
    std::vector<pending> _pending;
    std::mt19937 _random;
};

} // namespace vx

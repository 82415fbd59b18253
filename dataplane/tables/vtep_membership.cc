// SPDX-License-Identifier: MIT
#include "tables/vtep_membership.hh"

#include <algorithm>
#include <iterator>

namespace vx {

namespace {
constexpr uint64_t unsolicited_interval_ms = 1000;

bool is_general(const ip_address& group) {
    return group == membership::unspecified(group.is_v4());
}
} // namespace

vtep_membership::vtep_membership(std::vector<ip_address> groups, uint32_t seed)
    : _groups(std::move(groups)), _random(seed) {}

bool vtep_membership::has_groups(bool v4) const {
    return std::any_of(_groups.begin(), _groups.end(), [&](const ip_address& g) { return g.is_v4() == v4; });
}

void vtep_membership::joined(uint64_t now_ms) {
    for (const bool v4 : {true, false}) {
        if (has_groups(v4)) {
            const ip_address all = membership::unspecified(v4);
            _pending.push_back({all, membership::record::change_to_exclude, now_ms});
            _pending.push_back({all, membership::record::change_to_exclude, now_ms + unsolicited_interval_ms});
        }
    }
}

void vtep_membership::change_groups(std::vector<ip_address> groups, uint64_t now_ms) {
    const auto has = [](const std::vector<ip_address>& list, const ip_address& g) {
        return std::find(list.begin(), list.end(), g) != list.end();
    };
    for (const auto& g : groups) {
        if (!has(_groups, g)) {
            state_change(g, membership::record::change_to_exclude, now_ms);
        }
    }
    for (const auto& g : _groups) {
        if (!has(groups, g)) {
            state_change(g, membership::record::change_to_include, now_ms);
        }
    }
    _groups = std::move(groups);
}

void vtep_membership::state_change(const ip_address& group, membership::record type, uint64_t now_ms) {
    std::erase_if(_pending, [&](const pending& p) { return p.group == group; });
    _pending.push_back({group, type, now_ms});
    _pending.push_back({group, type, now_ms + unsolicited_interval_ms});
}

void vtep_membership::query(const ip_address& group, uint32_t max_delay_ms, uint64_t now_ms) {
    const bool general = is_general(group);
    const bool ours = general ? has_groups(group.is_v4()) : std::find(_groups.begin(), _groups.end(), group) != _groups.end();
    if (!ours) {
        return;
    }
    const uint64_t at = now_ms + std::uniform_int_distribution<uint32_t>(0, max_delay_ms)(_random);
    schedule({group, membership::record::mode_is_exclude, at});
}

void vtep_membership::schedule(const pending& p) {
    const ip_address all = membership::unspecified(p.group.is_v4());
    for (auto& q : _pending) {
        if (q.type != membership::record::mode_is_exclude) {
            continue;
        }
        if (q.group == all && q.at <= p.at) {
            return; // the answer to a general query covers it, sooner
        }
        if (q.group == p.group) {
            q.at = std::min(q.at, p.at);
            return;
        }
    }
    _pending.push_back(p);
}

std::vector<vtep_membership::report> vtep_membership::due(uint64_t now_ms) {
    // The groups due, merged per (type, family) in the order they were scheduled.
    struct bucket {
        membership::record type;
        bool v4;
        std::vector<ip_address> groups;
    };
    std::vector<bucket> merged;
    const auto is_due = [&](const pending& p) { return p.at <= now_ms; };
    for (const auto& p : _pending) {
        if (!is_due(p)) {
            continue;
        }
        const bool v4 = p.group.is_v4();
        auto into = std::find_if(merged.begin(), merged.end(), [&](const bucket& b) { return b.type == p.type && b.v4 == v4; });
        if (into == merged.end()) {
            into = merged.insert(merged.end(), bucket{p.type, v4, {}});
        }
        for (const auto& g : is_general(p.group) ? _groups : std::vector{p.group}) {
            if (g.is_v4() == v4 && std::find(into->groups.begin(), into->groups.end(), g) == into->groups.end()) {
                into->groups.push_back(g);
            }
        }
    }
    std::erase_if(_pending, is_due);
    std::vector<report> out;
    for (const auto& b : merged) {
        for (size_t at = 0; at < b.groups.size(); at += membership::max_records) {
            const auto first = b.groups.begin() + static_cast<std::ptrdiff_t>(at);
            const auto end = b.groups.begin() + static_cast<std::ptrdiff_t>(std::min(b.groups.size(), at + membership::max_records));
            out.push_back({b.type, {first, end}});
        }
    }
    return out;
}

} // namespace vx

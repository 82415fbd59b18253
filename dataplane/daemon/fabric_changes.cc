// SPDX-License-Identifier: MIT
// fabric::reconfigure: a validated configuration change applied while the workers forward
// (vxctl port set/add/remove, config apply). The order of the steps is what makes it hitless:
//
//   1. added ports are opened and started in free slots, invisible to the workers (no table
//      names them, no worker polls them) and to the VDE I/O thread (a VDE port's endpoint is
//      made, its URL connected, but not yet served); a vde_switch section the change adds
//      gets its listening socket; a device, URL or path that refuses ends the change here;
//   2. changed MTUs are set (a refusal puts back those set, closes what step 1 opened; an MTU
//      longer than a VDE port's buffers, sized at start, is refused before any is set);
//   3. one snapshot is published: VLAN tables with every domain at its index, the VTEP table
//      rebuilt over them (remotes at their indices, tables/vtep_control.hh), and the poll
//      lists without the removed ports' queues and with the added ones'; publish() returns
//      after an RCU grace period, so no worker still polls, or sends to, a removed port;
//   4. learn events queued before that are applied, then the MACs the change made wrong are
//      flushed (a removed port's, domains a port left, remote VTEPs and VNIs the change
//      removed), static entries replaced, and multicast groups joined and left;
//   5. the VDE I/O thread is handed the VDE ports as they are now (vuos-bridge/vde_bridge.hh:
//      it serves the added ones, lets go of the removed ones, whose clients are then
//      disconnected, and of a vde_switch section removed); removed ports are stopped, closed
//      and their virtual devices detached (a VDE port's endpoint with them: its rings and
//      ring ethdev).

#include "daemon/fabric.hh"

#include <rte_ethdev.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "config/xdp_steering.hh"
#include "vuos-bridge/vde_bridge.hh"

namespace vx {

namespace {

std::optional<uint16_t> slot_named(const config::model& m, const std::string& name) {
    for (size_t i = 0; i < m.ports.size(); ++i) {
        if (m.ports[i].name == name) {
            return static_cast<uint16_t>(i);
        }
    }
    return std::nullopt;
}

std::vector<uint16_t> slots_named(const config::model& m, const std::vector<std::string>& names) {
    std::vector<uint16_t> out;
    for (const auto& n : names) {
        out.push_back(*slot_named(m, n));
    }
    return out;
}

// Sets each changed port's MTU on its device, the one step of a change a device may refuse;
// on a refusal the MTUs already set are put back and the change is refused whole. Devices
// without an MTU of their own (net_null, net_pcap, ...) say ENOTSUP: egress enforces it.
void set_changed_mtus(const config::model& running, const config::model& next, const std::vector<uint16_t>& slots,
                      const std::vector<std::unique_ptr<dpdk_port>>& devices) {
    std::vector<std::pair<uint16_t, uint16_t>> done; // device, MTU to restore
    for (uint16_t i : slots) {
        const uint16_t before = running.ports[i].mtu.value_or(config::default_mtu);
        const uint16_t after = next.ports[i].mtu.value_or(config::default_mtu);
        if (before == after) {
            continue;
        }
        const int rc = rte_eth_dev_set_mtu(devices[i]->id(), after);
        if (rc == 0) {
            done.emplace_back(devices[i]->id(), before);
        } else if (rc != -ENOTSUP) {
            for (const auto& [id, mtu] : done) {
                rte_eth_dev_set_mtu(id, mtu);
            }
            throw std::runtime_error(fmt::format("port '{}': the device refused MTU {}: {}; nothing changed",
                                                 next.ports[i].name, after, rte_strerror(-rc)));
        }
    }
}

} // namespace

std::vector<uint16_t> fabric::open_added_ports(const std::vector<config::port>& added) {
    const auto workers = static_cast<uint16_t>(_workers.size());
    std::vector<uint16_t> slots;
    try {
        for (const auto& p : added) {
            uint16_t slot = 0;
            while (slot < _ports.size() && (_ports[slot] != nullptr || !_model.ports[slot].vacant())) {
                ++slot;
            }
            if (slot >= max_ports) {
                throw std::runtime_error(fmt::format("port '{}': all {} port slots are taken", p.name, max_ports));
            }
            uint16_t in_use = 0; // (a VDE port's ring ethdev gets a name of its own: vde_endpoint.hh)
            if (!p.vde && rte_eth_dev_get_port_by_name(device_name(p.device).c_str(), &in_use) == 0) {
                throw std::runtime_error(fmt::format("port '{}': device '{}' already exists (DPDK port {})", p.name,
                                                     device_name(p.device), in_use));
            }
            // The pool is sized at start: a port whose queues could hold more buffers than are
            // free would starve the others.
            const uint32_t needed = dpdk_port::buffers_needed(p.queues, workers);
            if (pool_free() < needed) {
                throw std::runtime_error(fmt::format(
                    "port '{}': its queues may hold {} packet buffers and the pool has {} free (of {}); raise "
                    "dataplane.mbufs (a restart)", p.name, needed, pool_free(), pool_size()));
            }
            if (p.xdp && !pool_fits_af_xdp(_pool)) {
                throw std::runtime_error(fmt::format(
                    "port '{}': adding an af_xdp port needs the packet pool laid out for net_af_xdp's UMEM, which "
                    "the switch does only when it starts with an af_xdp port (a restart)", p.name));
            }
            if (slot == _ports.size()) {
                _ports.emplace_back();
                _steering.emplace_back();
                _slot_base.emplace_back();
            }
            open_port_in(slot, p, workers);
            slots.push_back(slot);
        }
    } catch (const std::runtime_error&) {
        close_added_ports(slots);
        throw;
    }
    return slots;
}

// An af_xdp port comes with its steering program (loaded and attached by net_af_xdp, its
// rules written: xdp_steer.hh); a VDE port with its endpoint in the bridge, whose ring ethdev
// is its device; any other port is its DPDK device alone.
void fabric::open_port_in(uint16_t slot, const config::port& p, uint16_t tx_queues) {
    if (p.xdp) {
        auto opened = open_af_xdp_port(p, tx_queues, _pool);
        _ports[slot] = std::move(opened.port);
        _steering[slot] = std::move(opened.steer);
    } else if (p.vde) {
        config::port ring = p;
        ring.device = vde_bridge().add(slot, p);
        try {
            _ports[slot] = std::make_unique<dpdk_port>(ring, tx_queues, _pool);
        } catch (const std::runtime_error&) {
            _vde->discard(slot);
            throw;
        }
    } else {
        _ports[slot] = std::make_unique<dpdk_port>(p, tx_queues, _pool);
    }
}

vde::bridge& fabric::vde_bridge() {
    if (!_vde) {
        _vde = std::make_unique<vde::bridge>(config::model{}, static_cast<uint16_t>(_workers.size()), _pool);
    }
    return *_vde;
}

// Adding the section makes its socket; changing it needs a restart (config/diff.hh), and
// removing it closes the socket once the I/O thread has let go of it (publish()).
void fabric::open_vde_listener(const config::model& next) {
    if (next.vde_switch && !_model.vde_switch) {
        vde_bridge().prepare_listener(*next.vde_switch);
    }
}

void fabric::name_vde_devices(config::model& slotted) const {
    for (size_t s = 0; s < slotted.ports.size(); ++s) {
        if (slotted.ports[s].vde && _vde) {
            slotted.ports[s].device = _vde->device_of(s);
        }
    }
}

void fabric::close_added_ports(const std::vector<uint16_t>& slots) {
    close_ports(slots);
    _ports.resize(_model.ports.size()); // the slots added at the end go again
    _steering.resize(_model.ports.size());
    _slot_base.resize(_model.ports.size());
}

// Closing an af_xdp port's device detaches its program from the interface (net_af_xdp does);
// then its xdp_steer closes the map handles and what net_af_xdp left open (its AF_XDP socket,
// the program's object), so the kernel frees the socket, the program and its maps. A VDE
// port's endpoint goes after its ring ethdev is closed (the I/O thread let go of it before).
void fabric::close_ports(const std::vector<uint16_t>& slots) {
    for (uint16_t s : slots) {
        _ports[s].reset();
        _steering[s].reset();
        if (_vde) {
            _vde->discard(s);
        }
    }
}

config::model fabric::in_slots(const config::model& next, const std::vector<uint16_t>& added_slots,
                               const std::vector<config::port>& added) const {
    config::model out = next;
    out.ports.assign(_ports.size(), config::port{});
    for (size_t s = 0; s < _model.ports.size(); ++s) {
        if (const auto i = slot_named(next, _model.ports[s].name); i && !_model.ports[s].vacant()) {
            out.ports[s] = next.ports[*i];
        }
    }
    for (size_t k = 0; k < added.size(); ++k) {
        out.ports[added_slots[k]] = added[k];
    }
    name_vde_devices(out);
    return out;
}

// The running poll lists less the queues of ports gone, plus each added queue given to the
// worker that polls fewest.
std::vector<std::vector<rx_queue>> fabric::polls_after(const snapshot& running, const config::model& slotted,
                                                        const std::vector<uint16_t>& added_slots) const {
    auto polls = running.polls;
    for (auto& list : polls) {
        std::erase_if(list, [&](const rx_queue& q) { return slotted.ports[q.port].vacant(); });
    }
    for (uint16_t s : added_slots) {
        for (uint16_t q = 0; q < slotted.ports[s].queues; ++q) {
            auto& least = *std::min_element(polls.begin(), polls.end(),
                                            [](const auto& a, const auto& b) { return a.size() < b.size(); });
            least.push_back({s, q});
        }
    }
    return polls;
}

// The VTEP table follows every change, not only one of the segments: a port may have added a
// domain, and the table's per-domain lists must cover every domain of the new VLAN tables.
std::optional<vtep_control::rebuilt> fabric::rebuild_vxlan(const config::model& slotted, snapshot& snap) const {
    if (!_vteps) {
        return std::nullopt;
    }
    auto r = vtep_control::rebuild(snap.vxlan, slotted, snap.l2);
    snap.vxlan = std::move(r.table);
    r.table = {};
    return r;
}

// After the grace period: the MACs learned against remotes no VNI floods to any more, or in a
// domain whose VNI went or changed, are flushed (they would be dropped or sent into the wrong
// segment); the groups are joined and left.
void fabric::vxlan_changed(const std::optional<vtep_control::rebuilt>& r) {
    if (!r) {
        return;
    }
    for (const uint16_t destination : r->retired) {
        const size_t n = _macs->flush(destination);
        spdlog::info("vxlan: {} removed: {} learned MACs flushed", destination_name(destination), n);
    }
    for (const uint16_t bd : r->domains) {
        const size_t n = _macs->flush_from(remote_port_base, bd);
        spdlog::info("vxlan: domain {} changed its VNI: {} MACs learned from the overlay flushed", bd, n);
    }
    _vteps->adopt_groups(_state->current().vxlan.groups);
}

void fabric::reconfigure(const config::model& next, const config::change_plan& plan) {
    std::vector<uint16_t> added_slots;
    config::model slotted;
    try {
        open_vde_listener(next);
        added_slots = open_added_ports(plan.ports_added); // leaves none open when it throws
        slotted = in_slots(next, added_slots, plan.ports_added);
        if (_vde) {
            _vde->check_mtus(slotted); // a VDE port's buffers are sized at start
        }
        set_changed_mtus(_model, slotted, slots_named(_model, plan.ports), _ports);
    } catch (const std::runtime_error&) {
        close_added_ports(added_slots);
        if (_vde) {
            _vde->publish(_model); // no change for the I/O thread; a socket made above is closed
        }
        throw;
    }
    const auto removed_slots = slots_named(_model, plan.ports_removed);
    for (uint16_t s : added_slots) {
        _slot_base[s] = slot_counts(s); // what earlier ports of the slot counted
    }

    const snapshot& running = _state->current();
    auto snap = std::make_unique<snapshot>(running);
    snap->l2 = l2_tables::build(slotted, &running.l2);
    snap->device.resize(slotted.ports.size());
    snap->names.resize(slotted.ports.size());
    for (uint16_t s : added_slots) {
        snap->device[s] = _ports[s]->id();
        snap->names[s] = slotted.ports[s].name;
    }
    for (uint16_t s : removed_slots) {
        snap->names[s].clear();
    }
    snap->polls = polls_after(running, slotted, added_slots);
    const auto vxlan_flushes = rebuild_vxlan(slotted, *snap);
    const l2_tables before = running.l2; // `running` is freed by publish()
    _state->publish(std::move(snap));     // returns after the grace period: no worker sees `before`
    const auto& after = _state->current().l2;

    // Learn events queued before the grace period may still name a removed port.
    _learner->drain();
    vxlan_changed(vxlan_flushes);
    for (uint16_t s : removed_slots) {
        const size_t n = _macs->flush(s);
        spdlog::info("port '{}' removed: {} learned MACs flushed", _model.ports[s].name, n);
    }
    // Learned MACs of a domain a port left point at a port that no longer carries it.
    for (uint16_t i : slots_named(_model, plan.ports)) {
        for (uint16_t bd = 0; bd < before.domains.size(); ++bd) {
            if (before.ports[i].egress[bd].member() && !after.ports[i].egress[bd].member()) {
                _macs->flush(i, bd);
            }
        }
    }
    auto key_of = [](const config::static_mac& s, const l2_tables& t) {
        return fdb_key::make(*mac_addr::parse(s.mac), t.bd_of_vlan[s.vlan]);
    };
    for (const auto& s : plan.statics_removed) {
        _macs->remove(key_of(s, before));
    }
    _model = slotted;
    if (_vde) {
        _vde->publish(_model);
    }
    close_ports(removed_slots);
    // af_xdp ports steer the VLANs they carry unless told otherwise: the steering follows
    // (after the tables, so the switch takes a VLAN before frames of it are sent its way).
    for (size_t i = 0; i < _steering.size(); ++i) {
        if (_steering[i] && _model.ports[i].xdp) {
            _steering[i]->apply(config::steer_rules_of(_model.ports[i]));
        }
    }
    for (const auto& s : plan.statics_added) {
        if (!_macs->add_static(key_of(s, after), *slot_named(_model, s.port))) {
            spdlog::error("static MAC {} vlan {}: the MAC table is full", s.mac, s.vlan);
        }
    }
}

} // namespace vx

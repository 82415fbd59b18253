// SPDX-License-Identifier: MIT
#include "daemon/fabric.hh"

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <stdexcept>
#include <thread>

#include "config/port_vlans.hh"
#include "config/vxlan.hh"
#include "daemon/counter_json.hh"
#include "vuos-bridge/vde_bridge.hh"

namespace vx {

namespace {

constexpr unsigned pool_cache = 256;

rte_rcu_qsbr* make_rcu(uint32_t readers) {
    const size_t size = rte_rcu_qsbr_get_memsize(readers);
    auto* v = static_cast<rte_rcu_qsbr*>(rte_zmalloc("vx_rcu", size, RTE_CACHE_LINE_SIZE));
    if (v == nullptr || rte_rcu_qsbr_init(v, readers) != 0) {
        rte_free(v);
        throw std::runtime_error("cannot allocate the workers' RCU state");
    }
    return v;
}

// Each (port, RX queue) pair goes to a worker, round robin, so a port's queues spread out.
std::vector<std::vector<rx_queue>> spread_queues(const config::model& m, uint16_t workers) {
    std::vector<std::vector<rx_queue>> out(workers);
    size_t next = 0;
    for (uint16_t p = 0; p < m.ports.size(); ++p) {
        for (uint16_t q = 0; q < m.ports[p].queues; ++q) {
            out[next++ % workers].push_back({p, q});
        }
    }
    return out;
}

int launch_worker(void* arg) {
    auto* job = static_cast<std::pair<worker*, const std::atomic<bool>*>*>(arg);
    job->first->run(*job->second);
    return 0;
}

} // namespace

fabric::fabric(const config::model& m, uint16_t workers) : _model(m) {
    const uint16_t n_workers = std::max<uint16_t>(workers, 1);
    uint32_t buffers = m.dp.mbufs;
    uint32_t needed = n_workers * (pool_cache + 4 * burst::capacity);
    for (const auto& p : m.ports) {
        needed += dpdk_port::buffers_needed(p.queues, n_workers);
    }
    if (buffers < needed) {
        spdlog::info("packet pool: {} buffers configured, {} needed by the ports' queues: using {}", buffers, needed,
                     needed);
        buffers = needed;
    }
    _pool = create_packet_pool(m.ports, buffers, pool_cache);
    _rcu = make_rcu(n_workers);
    _macs =
        std::make_unique<fdb>(fdb::params{"vx_fdb", m.mac_table.max_entries, m.mac_table.aging_s, _rcu, SOCKET_ID_ANY});

    auto snap = std::make_unique<snapshot>();
    snap->l2 = l2_tables::build(m);
    if (vde::has_vde_ports(m) || m.vde_switch) {
        _vde = std::make_unique<vde::bridge>(m, n_workers, _pool); // its jumbo pool is sized for m's VDE ports
    }
    _ports.resize(m.ports.size());
    _steering.resize(m.ports.size());
    for (uint16_t i = 0; i < m.ports.size(); ++i) {
        open_port_in(i, m.ports[i], n_workers);
        snap->device.push_back(_ports[i]->id());
        snap->names.push_back(m.ports[i].name);
    }
    name_vde_devices(_model);
    _slot_base.resize(_ports.size());
    snap->polls = spread_queues(m, n_workers);
    start_vxlan(m, *snap);
    _state = std::make_unique<snapshot_holder>(_rcu);
    _state->publish(std::move(snap));
    add_static_macs(m);

    _learner = std::make_unique<learner>(*_macs, *_state, _clock);
    const worker_shared shared{_state.get(), _macs.get(), _rcu, _pool, &_clock, m.dp.idle_sleep_us};
    for (uint16_t w = 0; w < n_workers; ++w) {
        _workers.push_back(std::make_unique<worker>(w, shared));
        _learner->watch(_workers.back()->learn_ring());
    }
    if (m.vxlan) {
        _vteps = std::make_unique<vtep_control>(*_state, _pool, _clock);
        for (const auto& w : _workers) {
            _vteps->watch(w->vtep_events());
        }
        _vteps->send_through(_workers.front()->inject_ring());
    }
    if (_vde) {
        if (m.vde_switch) {
            _vde->prepare_listener(*m.vde_switch);
        }
        _vde->publish(_model); // the I/O thread starts serving
    }
}

void fabric::start_vxlan(const config::model& m, snapshot& snap) {
    if (!m.vxlan) {
        return;
    }
    const auto underlay = std::find_if(m.ports.begin(), m.ports.end(),
                                       [&](const config::port& p) { return p.name == m.vxlan->underlay; });
    const uint16_t device = _ports[static_cast<size_t>(underlay - m.ports.begin())]->id();
    rte_ether_addr mac{};
    if (const int rc = rte_eth_macaddr_get(device, &mac); rc != 0) {
        throw std::runtime_error(fmt::format("vxlan: cannot read the MAC of underlay port '{}': {}", underlay->name,
                                             rte_strerror(-rc)));
    }
    // The port must take the groups' Ethernet multicast MACs (promiscuous mode already does).
    if (const int rc = rte_eth_allmulticast_enable(device); rc != 0 && rc != -ENOTSUP) {
        spdlog::warn("vxlan: underlay port '{}': cannot accept all multicast: {}", underlay->name, rte_strerror(-rc));
    }
    snap.vxlan = vtep_control::build(m, snap.l2, mac_addr::load(mac.addr_bytes));
}

size_t fabric::control_round() {
    size_t events = _learner->drain();
    if (_vde) {
        _vde->take_departed([&](size_t port) {
            const size_t n = _macs->flush(static_cast<int>(port));
            spdlog::info("port '{}': its VDE client left: {} learned MACs flushed", _model.ports[port].name, n);
            events += n;
        });
    }
    if (_vteps) {
        events += _vteps->drain();
        _vteps->take_departed([&](uint16_t destination) {
            const size_t n = _macs->flush(destination);
            spdlog::info("vxvde endpoint {} said goodbye: {} learned MACs flushed", destination_name(destination), n);
            events += n;
        });
        _vteps->tick();
    }
    return events;
}

nlohmann::json fabric::destination(uint16_t port) const {
    if (!is_remote_port(port)) {
        return {{"port", _model.ports[port].name}};
    }
    const vtep_table& t = _state->current().vxlan;
    const remote_vtep& r = t.remotes[port - remote_port_base];
    if (r.vxvde) {
        return {{"port", _model.ports[t.underlay].name},
                {"vxvde", r.outer.dst_ip.to_string()},
                {"vxvde_port", r.outer.dst_port}};
    }
    return {{"port", _model.ports[t.underlay].name}, {"vtep", r.outer.dst_ip.to_string()}};
}

std::string fabric::destination_name(uint16_t port) const {
    if (!is_remote_port(port)) {
        return _model.ports[port].name;
    }
    const remote_vtep& r = _state->current().vxlan.remotes[port - remote_port_base];
    return fmt::format("{} {}", r.vxvde ? "vxvde" : "vtep", r.key().to_string());
}

fabric::~fabric() {
    if (_vde) {
        _vde->stop();
    }
    _workers.clear();
    _ports.clear();
    _vde.reset(); // its rings, once their ethdevs are closed
    _macs.reset();
    _state.reset();
    rte_free(_rcu);
    rte_mempool_free(_pool);
}

void fabric::add_static_macs(const config::model& m) {
    const auto& l2 = _state->current().l2;
    for (const auto& s : m.mac_table.statics) {
        const auto mac = mac_addr::parse(s.mac);
        const auto port = std::find_if(m.ports.begin(), m.ports.end(), [&](const auto& p) { return p.name == s.port; });
        const uint16_t bd = l2.bd_of_vlan[s.vlan];
        if (!mac || port == m.ports.end() || bd == l2_tables::no_domain) {
            throw std::runtime_error(fmt::format("static MAC {} vlan {} port {}: not valid", s.mac, s.vlan, s.port));
        }
        if (!_macs->add_static(fdb_key::make(*mac, bd), static_cast<uint16_t>(port - m.ports.begin()))) {
            throw std::runtime_error(fmt::format("static MAC {}: the MAC table is full", s.mac));
        }
    }
}

void fabric::describe() const {
    spdlog::info("vxswitch {}: an 802.1Q/802.1ad L2 learning switch, {} worker(s), {} port(s), MAC table of {} entries",
                 VXSWITCH_VERSION, _workers.size(), _ports.size(), _macs->capacity());
    for (size_t i = 0; i < _ports.size(); ++i) {
        const auto& p = _model.ports[i];
        if (p.vacant()) {
            continue;
        }
        const bool underlay = _model.vxlan && _model.vxlan->underlay == p.name; // carries no VLAN
        spdlog::info("  port {:<10} {:<12} {} ({}, mtu {})", p.name, _ports[i]->driver(), p.device,
                     underlay ? std::string("vxlan underlay") : config::describe_vlans(p),
                     p.mtu.value_or(config::default_mtu));
    }
    for (const auto& w : _workers) {
        std::vector<std::string> q;
        for (const auto& rq : tables().polls[w->id()]) {
            q.push_back(fmt::format("{}/{}", _model.ports[rq.port].name, rq.queue));
        }
        spdlog::info("  worker {} polls {}", w->id(), fmt::join(q, " "));
    }
    for (const auto& warning : config::mtu_warnings(_model)) {
        spdlog::warn("{}", warning);
    }
    for (const auto& warning : config::vxlan_mtu_warnings(_model)) {
        spdlog::warn("{}", warning);
    }
}

void fabric::run(const std::atomic<bool>& stop, std::chrono::seconds stats_interval,
                 const std::function<size_t()>& control_work) {
    std::atomic<bool> stop_workers{false};
    std::vector<std::pair<worker*, const std::atomic<bool>*>> jobs;
    jobs.reserve(_workers.size());
    unsigned lcore = rte_get_next_lcore(-1, 1, 0);
    for (auto& w : _workers) {
        if (lcore >= RTE_MAX_LCORE) {
            throw std::runtime_error("fewer worker lcores than workers: check the EAL's --lcores");
        }
        jobs.emplace_back(w.get(), &stop_workers);
        rte_eal_remote_launch(launch_worker, &jobs.back(), lcore);
        _worker_lcores.push_back(lcore);
        lcore = rte_get_next_lcore(lcore, 1, 0);
    }
    std::vector<uint64_t> last_rx(_ports.size(), 0);
    auto next_stats = std::chrono::steady_clock::now() + stats_interval;
    while (!stop.load()) {
        const size_t learned = control_round();
        if (learned + (control_work ? control_work() : 0) == 0) {
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
        _learner->tick();
        if (stats_interval.count() > 0 && std::chrono::steady_clock::now() >= next_stats) {
            print_rates(last_rx, stats_interval);
            next_stats += stats_interval;
        }
    }
    stop_workers.store(true);
    rte_eal_mp_wait_lcore();
    _learner->drain();
}

void fabric::run_check(uint16_t burst_size, std::chrono::milliseconds quiet) {
    worker& w = *_workers.front();
    rte_rcu_qsbr_thread_register(_rcu, w.id());
    rte_rcu_qsbr_thread_online(_rcu, w.id());
    auto last_traffic = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - last_traffic < quiet) {
        const uint32_t received = w.poll_once(burst_size);
        rte_rcu_qsbr_quiescent(_rcu, w.id());
        control_round();
        if (received != 0) {
            last_traffic = std::chrono::steady_clock::now();
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    rte_rcu_qsbr_thread_offline(_rcu, w.id());
    rte_rcu_qsbr_thread_unregister(_rcu, w.id());
}

void fabric::print_rates(std::vector<uint64_t>& last_rx, std::chrono::seconds interval) const {
    const auto totals = port_totals();
    std::vector<std::string> parts;
    last_rx.resize(totals.size());
    for (size_t i = 0; i < totals.size(); ++i) {
        if (_model.ports[i].vacant()) {
            continue;
        }
        const auto& c = totals[i];
        const uint64_t rx = c.get(port_counter::rx_packets);
        uint64_t drops = 0;
        for (uint64_t n : c.drops) {
            drops += n;
        }
        parts.push_back(fmt::format("{} rx {} ({:.0f}/s) tx {} drop {}", _model.ports[i].name, rx,
                                    static_cast<double>(rx - last_rx[i]) / static_cast<double>(interval.count()),
                                    c.get(port_counter::tx_packets), drops));
        if (_steering[i]) {
            parts.back() = fmt::format("{} {}", parts.back(), _steering[i]->summary());
        }
        last_rx[i] = rx;
    }
    spdlog::info("{} | macs {}", fmt::join(parts, " | "), _macs->size());
}

std::vector<port_counter_block> fabric::port_totals() const {
    std::vector<port_counter_block> totals(_ports.size());
    for (size_t i = 0; i < totals.size(); ++i) {
        if (!_model.ports[i].vacant()) {
            totals[i] = slot_counts(i);
            totals[i] -= _slot_base[i];
        }
    }
    return totals;
}

port_counter_block fabric::slot_counts(size_t slot) const {
    return summed(&worker_counter_block::ports, slot);
}

std::vector<domain_counter_block> fabric::domain_totals() const {
    std::vector<domain_counter_block> totals(_state->current().l2.domains.size());
    for (size_t bd = 0; bd < totals.size(); ++bd) {
        totals[bd] = summed(&worker_counter_block::domains, bd);
    }
    return totals;
}

std::vector<vni_counter_block> fabric::segment_totals() const {
    std::vector<vni_counter_block> totals(_state->current().vxlan.segment_slots.size());
    for (size_t slot = 0; slot < totals.size(); ++slot) {
        totals[slot] = summed(&worker_counter_block::segments, slot);
    }
    return totals;
}

std::optional<nlohmann::json> fabric::vde_state(size_t i) const {
    return _vde ? _vde->state_of(i) : std::nullopt;
}

uint32_t fabric::pool_free() const {
    return rte_mempool_avail_count(_pool);
}

uint32_t fabric::pool_size() const {
    return _pool->size;
}

fabric::heap_use fabric::heap_in_use() const {
    heap_use use;
    for (unsigned s = 0; s < rte_socket_count(); ++s) {
        rte_malloc_socket_stats st{};
        if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(s), &st) == 0) {
            use.bytes += st.heap_allocsz_bytes;
            use.allocations += st.alloc_count;
        }
    }
    return use;
}

nlohmann::json fabric::state() const {
    using nlohmann::json;
    json ports = json::array();
    const auto totals = port_totals();
    for (size_t i = 0; i < totals.size(); ++i) {
        if (_model.ports[i].vacant()) {
            continue;
        }
        ports.push_back(
            {{"name", _model.ports[i].name}, {"device", _model.ports[i].device}, {"driver", _ports[i]->driver()}});
        ports.back().update(block_json(totals[i]));
        if (_steering[i]) {
            ports.back()["xdp"] = _steering[i]->state();
        }
        if (const auto v = vde_state(i)) {
            ports.back()["vde"] = *v;
        }
    }
    json workers = json::array();
    for (const auto& w : _workers) {
        json counters = json::object();
        for (size_t k = 0; k < worker_counter_count; ++k) {
            counters[std::string(worker_counters[k].name)] = w->counters().counter[k];
        }
        workers.push_back({{"id", w->id()}, {"counters", counters}});
    }
    const auto& l2 = _state->current().l2;
    json macs = json::array();
    for (const auto& e : _macs->entries(_clock.now_s())) {
        json entry{{"mac", e.key.mac().to_string()},
                   {"vlan", l2.domains[e.key.bd()].vlan},
                   {"static", e.is_static},
                   {"idle_s", e.idle_s}};
        entry.update(destination(e.port));
        macs.push_back(entry);
    }
    const auto& st = _macs->statistics();
    const snapshot& tables = _state->current();
    return {{"ports", ports},
            {"vlans", vlans_json(tables.l2, domain_totals())},
            {"vnis", _model.vxlan ? vnis_json(*_model.vxlan, tables.vxlan, segment_totals()) : json::array()},
            {"workers", workers},
            {"fdb",
             {{"size", _macs->size()},
              {"capacity", _macs->capacity()},
              {"added", st.added},
              {"moved", st.moved},
              {"aged", st.aged},
              {"refused_full", st.refused_full},
              {"entries", macs}}}};
}

} // namespace vx

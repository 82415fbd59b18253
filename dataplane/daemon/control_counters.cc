// SPDX-License-Identifier: MIT
// vxctl counters (per port, VLAN, VNI), workers and metrics: what the workers counted, summed
// on the control thread (a few packets stale at worst); `counters clear` only records a
// baseline. Domains and segment counter slots are never reused, so their baselines stay
// right across runtime changes; a port slot is, and a new port's baseline is forgotten.
#include "daemon/control_commands.hh"

#include <rte_cycles.h>
#include <rte_lcore.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "ctl/worker_load.hh"
#include "daemon/control_views.hh"
#include "daemon/counter_json.hh"
#include "daemon/fabric.hh"
#include "vuos-bridge/vde_counters.hh"

namespace vx::control {

using nlohmann::json;

namespace {

// Prometheus text exposition format 0.0.4: one HELP and TYPE per family, then its samples.
class exposition {
public:
    void family(const std::string& name, std::string_view type, std::string_view help) {
        _text += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape(help, false), name, type);
    }
    using labels = std::vector<std::pair<std::string_view, std::string>>;
    // Counters as integers: a double would round them past 2^53.
    void sample(const std::string& name, const labels& l, uint64_t value) { line(name, l, std::to_string(value)); }
    void sample(const std::string& name, const labels& l, double value) { line(name, l, fmt::format("{}", value)); }
    const std::string& text() const { return _text; }

private:
    void line(const std::string& name, const labels& l, const std::string& value) {
        std::vector<std::string> parts;
        for (const auto& [k, v] : l) {
            parts.push_back(fmt::format("{}=\"{}\"", k, escape(v, true)));
        }
        _text += parts.empty() ? name : fmt::format("{}{{{}}}", name, fmt::join(parts, ","));
        _text += ' ' + value + '\n';
    }
    static std::string escape(std::string_view s, bool quotes) {
        std::string out;
        for (char ch : s) {
            if (ch == '\\') {
                out += "\\\\";
            } else if (ch == '\n') {
                out += "\\n";
            } else if (ch == '"' && quotes) {
                out += "\\\"";
            } else {
                out += ch;
            }
        }
        return out;
    }
    std::string _text;
};

// One family per counter of the blocks (vxswitch_KIND_COUNTER_total) and one of their drops
// (vxswitch_KIND_drops_total, a `reason` label), a sample per row in each.
template <class Block>
void add_block_metrics(exposition& m, std::string_view kind,
                       const std::vector<std::pair<exposition::labels, Block>>& rows, std::string_view drops_help) {
    for (size_t k = 0; k < Block::names.size(); ++k) {
        const auto name = fmt::format("vxswitch_{}_{}_total", kind, Block::names[k].name);
        m.family(name, "counter", Block::names[k].help);
        for (const auto& [labels, block] : rows) {
            m.sample(name, labels, block.counter[k]);
        }
    }
    const auto drops = fmt::format("vxswitch_{}_drops_total", kind);
    m.family(drops, "counter", drops_help);
    for (const auto& [labels, block] : rows) {
        for (size_t k = 0; k < block.drops.size(); ++k) {
            auto with_reason = labels;
            with_reason.emplace_back("reason", std::string(info(Block::drop_list[k]).name));
            m.sample(drops, with_reason, block.drops[k]);
        }
    }
}

// Per VLAN the ports carry, and per configured VNI (labelled by VNI, protocol and UDP port, not
// by VLAN: a VNI moved to another VLAN keeps its series).
void add_vlan_and_vni_metrics(exposition& m, fabric& f) {
    const auto domains = f.domain_totals();
    std::vector<std::pair<exposition::labels, domain_counter_block>> by_vlan;
    for (const auto& [vlan, bd] : f.tables().l2.carried()) {
        by_vlan.push_back({{{"vlan", std::to_string(vlan)}}, domains[bd]});
    }
    add_block_metrics(m, "vlan", by_vlan, "frames dropped once in a VLAN (bridge domain), by VLAN and reason");
    if (!f.model().vxlan) {
        return;
    }
    const auto& v = *f.model().vxlan;
    const auto segments = f.segment_totals();
    std::vector<std::pair<exposition::labels, vni_counter_block>> by_vni;
    for (const auto& s : v.segments) {
        const auto slot = slot_of(v, f.tables().vxlan, s);
        const json id = segment_json(v, s);
        by_vni.push_back({{{"vni", id["vni"].dump()}, {"protocol", id["protocol"]}, {"udp_port", id["port"].dump()}},
                          slot && *slot < segments.size() ? segments[*slot] : vni_counter_block{}});
    }
    add_block_metrics(m, "vni", by_vni,
                      "frames dropped on their way into (or, split horizon, out of) a VNI, by reason");
}

// What the VDE I/O thread counted per VDE port (vuos-bridge/vde_counters.hh): a family per
// counter, a sample per VDE port.
void add_vde_metrics(exposition& m, const fabric& f, const std::vector<uint16_t>& slots,
                     const std::vector<config::port>& ports) {
    std::vector<std::pair<const std::string*, nlohmann::json>> vde_ports;
    for (uint16_t i : slots) {
        if (auto v = f.vde_state(i)) {
            vde_ports.emplace_back(&ports[i].name, std::move((*v)["counters"]));
        }
    }
    if (vde_ports.empty()) {
        return;
    }
    for (size_t k = 0; k < vde::counter_count; ++k) {
        const std::string counter(vde::counter_infos[k].name);
        const auto name = fmt::format("vxswitch_vde_{}_total", counter);
        m.family(name, "counter", vde::counter_infos[k].help);
        for (const auto& [port, c] : vde_ports) {
            m.sample(name, {{"port", *port}}, c.value(counter, uint64_t{0}));
        }
    }
}

void add_fdb_metrics(exposition& m, fabric& f) {
    m.family("vxswitch_fdb_entries", "gauge", "MAC table entries, by VLAN and type");
    for (const auto& [vlan, t] : count_macs(f, std::nullopt, std::nullopt)) {
        m.sample("vxswitch_fdb_entries", {{"vlan", std::to_string(vlan)}, {"type", "learned"}}, t.learned);
        m.sample("vxswitch_fdb_entries", {{"vlan", std::to_string(vlan)}, {"type", "static"}}, t.statics);
    }
    m.family("vxswitch_fdb_capacity", "gauge", "MAC table size limit");
    m.sample("vxswitch_fdb_capacity", {}, uint64_t{f.macs().capacity()});
    const auto& st = f.macs().statistics();
    const std::pair<const char*, uint64_t> stats[] = {
        {"added", st.added}, {"moved", st.moved}, {"aged", st.aged}, {"refused_full", st.refused_full}};
    const char* const help[] = {"MACs added to the table (learned or static)", "learned MACs moved to another port",
                                "learned MACs aged out", "MACs refused because the table was full"};
    for (size_t i = 0; i < std::size(stats); ++i) {
        const auto name = fmt::format("vxswitch_fdb_{}_total", stats[i].first);
        m.family(name, "counter", help[i]);
        m.sample(name, {}, stats[i].second);
    }
}

} // namespace

std::vector<port_counter_block> commands::port_counts() const {
    return less_baseline(_fabric.port_totals(), _baseline.ports); // empty until a clear
}

json commands::xdp_counts(uint16_t i) const {
    const xdp_steer* steer = _fabric.steering(i);
    if (steer == nullptr) {
        return nullptr;
    }
    auto c = steer->counters();
    for (size_t k = 0; _baseline.set && i < _baseline.xdp.size() && k < c.size(); ++k) {
        c[k] -= _baseline.xdp[i][k];
    }
    return steer_counters_json(c);
}

json commands::vde_counts(uint16_t i) const {
    auto v = _fabric.vde_state(i);
    if (!v) {
        return nullptr;
    }
    json c = std::move((*v)["counters"]);
    if (_baseline.set && i < _baseline.vde.size() && _baseline.vde[i].is_object()) {
        for (auto& [name, n] : c.items()) {
            n = n.get<uint64_t>() - _baseline.vde[i].value(name, uint64_t{0});
        }
    }
    return c;
}

std::array<uint64_t, worker_counter_count> commands::worker_counts(size_t w) const {
    auto c = _fabric.workers()[w]->counters().counter;
    for (size_t k = 0; _baseline.set && k < worker_counter_count; ++k) {
        c[k] -= _baseline.workers[w][k];
    }
    return c;
}

void commands::forget_baseline(uint16_t slot) {
    if (slot < _baseline.ports.size()) {
        _baseline.ports[slot] = {};
    }
    if (slot < _baseline.xdp.size()) {
        _baseline.xdp[slot] = {};
    }
    if (slot < _baseline.vde.size()) {
        _baseline.vde[slot] = nullptr;
    }
}

json commands::since_clear() const {
    if (!_baseline.set) {
        return nullptr;
    }
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - _baseline.at).count();
}

json commands::counters(ctl::arg_reader& a) {
    const auto port = port_filter(a);
    a.done();
    const auto counts = port_counts();
    json ports = json::array();
    for (uint16_t i : port_slots()) {
        if (!port || i == *port) {
            json p = block_json(counts[i]);
            p["name"] = port_name(i);
            if (auto xdp = xdp_counts(i); !xdp.is_null()) {
                p["xdp"] = std::move(xdp);
            }
            if (auto vde = vde_counts(i); !vde.is_null()) {
                p["vde"] = std::move(vde);
            }
            ports.push_back(p);
        }
    }
    json workers = json::array();
    for (size_t w = 0; w < _fabric.workers().size(); ++w) {
        json c = json::object();
        const auto counts_w = worker_counts(w);
        for (size_t k = 0; k < worker_counter_count; ++k) {
            c[std::string(worker_counters[k].name)] = counts_w[k];
        }
        workers.push_back({{"id", w}, {"counters", c}});
    }
    return {{"since_clear_s", since_clear()}, {"ports", ports}, {"workers", workers}};
}

json commands::counters_vlan(ctl::arg_reader& a) {
    const auto vlan = vlan_arg(a, false);
    a.done();
    const auto only = vlan ? std::optional{domain_of(*vlan)} : std::nullopt;
    const auto totals = less_baseline(_fabric.domain_totals(), _baseline.domains);
    return {{"since_clear_s", since_clear()}, {"vlans", vlans_json(_fabric.tables().l2, totals, only)}};
}

json commands::counters_vni(ctl::arg_reader& a) {
    const auto vni = a.integer("vni", 1, (1 << 24) - 1);
    const auto udp_port = a.integer("udp_port", 1, 65535);
    a.done();
    if (udp_port && !vni) {
        a.fail("udp_port", "needs a vni (it says which segment of that VNI)");
    }
    if (!_running.vxlan) {
        if (vni) {
            throw ctl::request_error(fmt::format("no vni {}: VXLAN is not configured", *vni));
        }
        return {{"since_clear_s", since_clear()}, {"vnis", json::array()}};
    }
    const auto& v = *_running.vxlan;
    const auto only = vni ? std::optional{segment_index(v, static_cast<uint32_t>(*vni), udp_port)} : std::nullopt;
    const auto totals = less_baseline(_fabric.segment_totals(), _baseline.segments);
    return {{"since_clear_s", since_clear()}, {"vnis", vnis_json(v, _fabric.tables().vxlan, totals, only)}};
}

json commands::counters_clear(ctl::arg_reader& a) {
    a.done();
    _baseline.ports = _fabric.port_totals();
    _baseline.domains = _fabric.domain_totals();
    _baseline.segments = _fabric.segment_totals();
    _baseline.xdp.assign(_baseline.ports.size(), {});
    for (size_t i = 0; i < _baseline.xdp.size(); ++i) {
        if (const xdp_steer* steer = _fabric.steering(i)) {
            _baseline.xdp[i] = steer->counters();
        }
    }
    _baseline.vde.assign(_baseline.ports.size(), nullptr);
    for (size_t i = 0; i < _baseline.vde.size(); ++i) {
        if (auto v = _fabric.vde_state(i)) {
            _baseline.vde[i] = std::move((*v)["counters"]);
        }
    }
    _baseline.workers.clear();
    for (const auto& w : _fabric.workers()) {
        _baseline.workers.push_back(w->counters().counter);
    }
    _baseline.at = std::chrono::steady_clock::now();
    _baseline.set = true;
    return {{"cleared", true}};
}

json commands::workers(ctl::arg_reader& a) {
    a.done();
    json out = json::array();
    const auto& lcores = _fabric.worker_lcores();
    for (size_t w = 0; w < _fabric.workers().size(); ++w) {
        const auto c = worker_counts(w);
        auto get = [&](worker_counter k) { return c[static_cast<size_t>(k)]; };
        json counters = json::object();
        for (size_t k = 0; k < worker_counter_count; ++k) {
            counters[std::string(worker_counters[k].name)] = c[k];
        }
        const bool launched = w < lcores.size();
        out.push_back({{"id", w},
                       {"lcore", launched ? json(lcores[w]) : json()},
                       {"cpu", launched ? json(rte_lcore_to_cpu_id(static_cast<int>(lcores[w]))) : json()},
                       {"counters", counters},
                       {"load", ctl::worker_load({get(worker_counter::busy_cycles), get(worker_counter::idle_cycles),
                                                  get(worker_counter::packets), get(worker_counter::bursts)})}});
    }
    return {{"tsc_hz", rte_get_tsc_hz()}, {"since_clear_s", since_clear()}, {"workers", out}};
}

// Raw totals, never the `counters clear` deltas: Prometheus counters only go up.
json commands::metrics(ctl::arg_reader& a) {
    a.done();
    exposition m;
    m.family("vxswitch_build_info", "gauge", "vxswitch version");
    m.sample("vxswitch_build_info", {{"version", VXSWITCH_VERSION}}, uint64_t{1});
    m.family("vxswitch_uptime_seconds", "gauge", "seconds since vxswitchd started");
    m.sample("vxswitch_uptime_seconds", {},
             std::chrono::duration<double>(std::chrono::steady_clock::now() - _info.started).count());
    const auto& ports = _fabric.model().ports;
    const auto slots = port_slots();
    m.family("vxswitch_port_link_up", "gauge", "1 when the port's link is up");
    for (uint16_t i : slots) {
        const auto link = link_json(_fabric.ports()[i]->id());
        m.sample("vxswitch_port_link_up", {{"port", ports[i].name}}, uint64_t{link["up"] == true ? 1u : 0u});
    }
    const auto totals = _fabric.port_totals();
    std::vector<std::pair<exposition::labels, port_counter_block>> by_port;
    for (uint16_t i : slots) {
        by_port.push_back({{{"port", ports[i].name}}, totals[i]});
    }
    add_block_metrics(m, "port", by_port, "frames dropped, by port and reason");
    add_vlan_and_vni_metrics(m, _fabric);
    m.family("vxswitch_xdp_decisions_total", "counter",
             "frames an af_xdp port's XDP steering program decided on, by port and decision");
    for (uint16_t i : slots) {
        if (const xdp_steer* steer = _fabric.steering(i)) {
            const auto c = steer->counters();
            for (size_t k = 0; k < c.size(); ++k) {
                m.sample("vxswitch_xdp_decisions_total",
                         {{"port", ports[i].name}, {"decision", std::string(steer_counters[k].name)}}, c[k]);
            }
        }
    }
    add_vde_metrics(m, _fabric, slots, ports);
    for (size_t k = 0; k < worker_counter_count; ++k) {
        const auto name = fmt::format("vxswitch_worker_{}_total", worker_counters[k].name);
        m.family(name, "counter", worker_counters[k].help);
        for (const auto& w : _fabric.workers()) {
            m.sample(name, {{"worker", std::to_string(w->id())}}, w->counters().counter[k]);
        }
    }
    add_fdb_metrics(m, _fabric);
    m.family("vxswitch_pool_buffers", "gauge", "packet buffers in the pool");
    m.sample("vxswitch_pool_buffers", {}, uint64_t{_fabric.pool_size()});
    m.family("vxswitch_pool_buffers_free", "gauge", "packet buffers free in the pool (not held by a queue or frame)");
    m.sample("vxswitch_pool_buffers_free", {}, uint64_t{_fabric.pool_free()});
    const auto heap = _fabric.heap_in_use();
    m.family("vxswitch_dpdk_heap_allocated_bytes", "gauge", "bytes of DPDK memory allocated");
    m.sample("vxswitch_dpdk_heap_allocated_bytes", {}, heap.bytes);
    m.family("vxswitch_dpdk_heap_allocations", "gauge", "blocks of DPDK memory allocated");
    m.sample("vxswitch_dpdk_heap_allocations", {}, heap.allocations);
    return {{"content_type", "text/plain; version=0.0.4"}, {"text", m.text()}};
}

} // namespace vx::control

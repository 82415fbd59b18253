// SPDX-License-Identifier: MIT
// vxctl counters, workers and metrics: what the workers counted, summed on the control
// thread (a few packets stale at worst); `counters clear` only records a baseline.
#include "daemon/control_commands.hh"

#include <rte_cycles.h>
#include <rte_lcore.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "ctl/worker_load.hh"
#include "daemon/control_views.hh"
#include "daemon/fabric.hh"

namespace vx::control {

using nlohmann::json;

namespace {

json counters_json(const port_counter_block& c) {
    json counters = json::object();
    json drops = json::object();
    uint64_t dropped = 0;
    for (size_t k = 0; k < port_counter_count; ++k) {
        counters[std::string(port_counters[k].name)] = c.counter[k];
    }
    for (size_t k = 0; k < drop_reason_count; ++k) {
        drops[std::string(drop_reasons[k].name)] = c.drops[k];
        dropped += c.drops[k];
    }
    return {{"counters", counters}, {"drops", drops}, {"drops_total", dropped}};
}

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
    auto totals = _fabric.port_totals();
    for (size_t i = 0; _baseline.set && i < std::min(totals.size(), _baseline.ports.size()); ++i) {
        for (size_t k = 0; k < port_counter_count; ++k) {
            totals[i].counter[k] -= _baseline.ports[i].counter[k];
        }
        for (size_t k = 0; k < drop_reason_count; ++k) {
            totals[i].drops[k] -= _baseline.ports[i].drops[k];
        }
    }
    return totals;
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
            json p = counters_json(counts[i]);
            p["name"] = port_name(i);
            if (auto xdp = xdp_counts(i); !xdp.is_null()) {
                p["xdp"] = std::move(xdp);
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

json commands::counters_clear(ctl::arg_reader& a) {
    a.done();
    _baseline.ports = _fabric.port_totals();
    _baseline.xdp.assign(_baseline.ports.size(), {});
    for (size_t i = 0; i < _baseline.xdp.size(); ++i) {
        if (const xdp_steer* steer = _fabric.steering(i)) {
            _baseline.xdp[i] = steer->counters();
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
    for (size_t k = 0; k < port_counter_count; ++k) {
        const auto name = fmt::format("vxswitch_port_{}_total", port_counters[k].name);
        m.family(name, "counter", port_counters[k].help);
        for (uint16_t i : slots) {
            m.sample(name, {{"port", ports[i].name}}, totals[i].counter[k]);
        }
    }
    m.family("vxswitch_port_drops_total", "counter", "frames dropped, by port and reason");
    for (uint16_t i : slots) {
        for (size_t k = 0; k < drop_reason_count; ++k) {
            m.sample("vxswitch_port_drops_total", {{"port", ports[i].name}, {"reason", std::string(drop_reasons[k].name)}},
                     totals[i].drops[k]);
        }
    }
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

// SPDX-License-Identifier: MIT
#include "daemon/control_commands.hh"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <map>
#include <regex>

#include "config/diff.hh"
#include "config/dump.hh"
#include "config/port_vlans.hh"
#include "ctl/worker_load.hh"
#include "daemon/fabric.hh"

namespace vx::control {

namespace {

using nlohmann::json;
using ctl::request_error;

// The longest a command may keep the server waiting: a full 1M-entry MAC table takes a few
// hundred milliseconds to list.
constexpr auto command_timeout = std::chrono::seconds(30);

json link_json(uint16_t port_id) {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(port_id, &link) != 0) {
        return {{"up", nullptr}, {"speed_mbps", nullptr}, {"duplex", nullptr}};
    }
    const bool known_speed = link.link_speed != RTE_ETH_SPEED_NUM_NONE && link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN;
    return {{"up", link.link_status == RTE_ETH_LINK_UP},
            {"speed_mbps", known_speed ? json(link.link_speed) : json()},
            {"duplex", link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half"}};
}

std::string ranges_text(const std::vector<uint16_t>& vlans) {
    return fmt::format("{}", fmt::join(config::vlan_ranges(vlans), ","));
}

std::string translation_text(const config::translation& t) {
    return t.c_vlan ? fmt::format("{}/{}->{}", t.vlan, *t.c_vlan, t.domain) : fmt::format("{}->{}", t.vlan, t.domain);
}

// One line for tables: "vlans 10,20,100-199 native 1 translate 300->301".
std::string vlan_summary(const config::port& p) {
    std::vector<std::string> parts;
    switch (p.mode) {
    case config::port_mode::access:
        parts.push_back(fmt::format("vlan {}", p.access_vlan));
        break;
    case config::port_mode::trunk:
    case config::port_mode::s_trunk:
        if (!p.allowed_vlans.empty()) {
            parts.push_back("vlans " + ranges_text(p.allowed_vlans));
        }
        if (p.native_vlan) {
            parts.push_back(fmt::format("native {}", *p.native_vlan));
        }
        for (const auto& t : p.translations) {
            parts.push_back("translate " + translation_text(t));
        }
        break;
    case config::port_mode::customer:
        parts.push_back(fmt::format("s-vlan {} c-vlans {}", p.s_vlan, p.c_vlans.empty() ? "all" : ranges_text(p.c_vlans)));
        break;
    }
    return fmt::format("{}", fmt::join(parts, " "));
}

json vlans_json(const config::port& p) {
    switch (p.mode) {
    case config::port_mode::access:
        return {{"vlan", p.access_vlan}};
    case config::port_mode::customer:
        return {{"s_vlan", p.s_vlan}, {"c_vlans", p.c_vlans}};
    case config::port_mode::trunk:
    case config::port_mode::s_trunk:
        break;
    }
    json translate = json::array();
    for (const auto& t : p.translations) {
        translate.push_back({{"vlan", t.vlan}, {"c_vlan", t.c_vlan ? json(*t.c_vlan) : json()}, {"domain", t.domain}});
    }
    return {{"vlans", p.allowed_vlans},
            {"native_vlan", p.native_vlan ? json(*p.native_vlan) : json()},
            {"translate", translate}};
}

mac_addr parse_mac(ctl::arg_reader& a, const std::string& text, bool unicast) {
    const auto mac = mac_addr::parse(text);
    if (!mac) {
        a.fail("mac", fmt::format("'{}' is not a MAC address (aa:bb:cc:dd:ee:ff)", text));
    }
    if (unicast && (mac->is_group() || mac->is_zero())) {
        a.fail("mac", fmt::format("{} is not a unicast MAC address", mac->to_string()));
    }
    return *mac;
}

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

// MAC table entries by VLAN (learned, static), with optional port and VLAN filters.
struct mac_tally {
    uint64_t learned = 0;
    uint64_t statics = 0;
};
std::map<uint16_t, mac_tally> count_macs(fabric& f, std::optional<uint16_t> port, std::optional<uint16_t> vlan) {
    const auto& l2 = f.tables().l2;
    std::map<uint16_t, mac_tally> by_vlan;
    for (const auto& e : f.macs().entries(f.now_s())) {
        const uint16_t v = e.key.bd() < l2.domains.size() ? l2.domains[e.key.bd()].vlan : 0;
        if ((!port || e.port == *port) && (!vlan || v == *vlan)) {
            auto& t = by_vlan[v];
            (e.is_static ? t.statics : t.learned) += 1;
        }
    }
    return by_vlan;
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

// ---- the command table ----

const std::vector<commands::entry>& commands::table() {
    static const std::vector<entry> t = {
        {"help", &commands::help, "", "the commands and their arguments"},
        {"show", &commands::show, "", "version, uptime, EAL mode, workers and their queues, ports"},
        {"mac.show", &commands::mac_show, "vlan?, port?, mac?", "MAC table entries, filtered"},
        {"mac.count", &commands::mac_count, "vlan?, port?", "MAC table entries counted, by VLAN"},
        {"mac.add", &commands::mac_add, "mac, vlan, port", "add (or overwrite with) a static entry"},
        {"mac.del", &commands::mac_del, "mac, vlan", "delete an entry, static or learned"},
        {"mac.flush", &commands::mac_flush, "port?, vlan?", "delete learned entries, filtered"},
        {"counters", &commands::counters, "port?", "port and worker counters, drops by reason"},
        {"counters.clear", &commands::counters_clear, "", "start counting from zero (a baseline)"},
        {"workers", &commands::workers, "", "worker load: busy cycles, cycles per packet, burst sizes"},
        {"metrics", &commands::metrics, "", "Prometheus text exposition of every counter"},
        {"config.dump", &commands::config_dump, "", "the running configuration, in the file format"},
        {"config.apply", &commands::config_apply, "yaml, source?, dry_run?",
         "change the running configuration to this one, validated whole, as a diff"},
        {"port.set", &commands::port_set, "port, set, dry_run?",
         "change a port's configuration keys (mode, vlan, vlans, native_vlan, translate, s_vlan, c_vlans, tpid, "
         "foreign_tpid, mtu; null removes a key)"},
        {"capture.start", &commands::capture_start, "port, rx?, tx?, drops?, count?",
         "start copying a port's frames (received, sent, dropped with their reason); one capture at a time"},
        {"capture.read", &commands::capture_read, "session, max?",
         "the frames captured since the last read (hex), oldest first; done once count frames were read"},
        {"capture.stop", &commands::capture_stop, "session", "end the capture; its totals"},
        {"trace.start", &commands::trace_start, "port?, filter?, count?",
         "follow the next count frames (of a port, matching 'src|dst|mac MAC vlan N ethertype X') through every "
         "stage"},
        {"trace.read", &commands::trace_read, "session", "the frames followed since the last read, each stage's decision"},
        {"trace.stop", &commands::trace_stop, "session", "end the trace"},
    };
    return t;
}

commands::commands(fabric& f, config::model running, const daemon_info& info)
    : _fabric(f), _running(std::move(running)), _info(info) {}

commands::~commands() = default;

json commands::execute(const ctl::request& r) {
    const auto& t = table();
    const auto it = std::find_if(t.begin(), t.end(), [&](const entry& e) { return e.name == r.cmd; });
    if (it == t.end()) {
        std::vector<std::string_view> names;
        for (const auto& e : t) {
            names.push_back(e.name);
        }
        throw request_error(fmt::format("unknown command '{}'; commands: {}", r.cmd, fmt::join(names, ", ")));
    }
    ctl::arg_reader a(r.cmd, r.args);
    return (this->*(it->fn))(a);
}

json commands::help(ctl::arg_reader& a) {
    a.done();
    json out = json::array();
    for (const auto& e : table()) {
        out.push_back({{"name", e.name}, {"args", e.args}, {"help", e.help}});
    }
    return {{"commands", out}};
}

// ---- arguments ----

// A port's name; a remote VTEP (a MAC table destination above the ports) by its address, a
// vxvde endpoint by its address and port.
std::string commands::port_name(uint16_t i) const {
    if (i < _fabric.model().ports.size()) {
        return _fabric.model().ports[i].name;
    }
    if (is_remote_port(i)) {
        return _fabric.destination_name(i);
    }
    return std::to_string(i);
}

uint16_t commands::port_index(const std::string& name) const {
    const auto& ports = _fabric.model().ports;
    for (size_t i = 0; i < ports.size(); ++i) {
        if (ports[i].name == name) {
            return static_cast<uint16_t>(i);
        }
    }
    std::vector<std::string> names;
    for (const auto& p : ports) {
        names.push_back(p.name);
    }
    throw request_error(fmt::format("no port is named '{}' (ports: {})", name, fmt::join(names, ", ")));
}

std::optional<uint16_t> commands::port_filter(ctl::arg_reader& a) const {
    const auto name = a.text("port");
    return name ? std::optional{port_index(*name)} : std::nullopt;
}

std::optional<uint16_t> commands::vlan_arg(ctl::arg_reader& a, bool required) const {
    if (required) {
        return static_cast<uint16_t>(a.required_integer("vlan", config::min_vlan, config::max_vlan));
    }
    const auto v = a.integer("vlan", config::min_vlan, config::max_vlan);
    return v ? std::optional{static_cast<uint16_t>(*v)} : std::nullopt;
}

// The bridge domain a MAC command names by its VLAN; refused when no port carries it.
uint16_t commands::domain_of(uint16_t vlan) const {
    const uint16_t bd = _fabric.tables().l2.bd_of_vlan[vlan];
    if (bd == l2_tables::no_domain) {
        throw request_error(fmt::format("no port carries vlan {}", vlan));
    }
    return bd;
}

// ---- show ----

json commands::port_json(size_t i) const {
    const auto& cfg = _fabric.model().ports[i];
    const auto& dev = *_fabric.ports()[i];
    uint16_t mtu = 0;
    rte_ether_addr mac{};
    rte_eth_dev_get_mtu(dev.id(), &mtu);
    rte_eth_macaddr_get(dev.id(), &mac);
    json p = {{"name", cfg.name},
              {"device", cfg.device},
              {"driver", dev.driver()},
              {"port_id", dev.id()},
              {"mac", mac_addr::load(mac.addr_bytes).to_string()},
              {"link", link_json(dev.id())},
              {"mode", config::mode_name(cfg.mode)},
              {"vlan_summary", vlan_summary(cfg)},
              {"tpid", cfg.tpid},
              {"mtu", mtu},
              {"queues", cfg.queues}};
    p.update(vlans_json(cfg));
    return p;
}

json commands::show(ctl::arg_reader& a) {
    a.done();
    json workers = json::array();
    const auto& lcores = _fabric.worker_lcores();
    for (size_t w = 0; w < _fabric.workers().size(); ++w) {
        json queues = json::array();
        for (const auto& q : _fabric.workers()[w]->queues()) {
            queues.push_back({{"port", port_name(q.port)}, {"queue", q.queue}});
        }
        const bool launched = w < lcores.size();
        workers.push_back({{"id", w},
                           {"lcore", launched ? json(lcores[w]) : json()},
                           {"cpu", launched ? json(rte_lcore_to_cpu_id(static_cast<int>(lcores[w]))) : json()},
                           {"queues", queues}});
    }
    json ports = json::array();
    for (size_t i = 0; i < _fabric.ports().size(); ++i) {
        ports.push_back(port_json(i));
    }
    json eal = {{"mode", _info.no_huge ? "no-huge" : "hugepages"}, {"main_lcore", rte_get_main_lcore()}};
    if (_info.no_huge) {
        eal["memory_mb"] = _info.memory_mb;
    }
    const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - _info.started);
    auto& macs = _fabric.macs();
    return {{"version", VXSWITCH_VERSION},
            {"uptime_s", uptime.count()},
            {"eal", eal},
            {"workers", workers},
            {"ports", ports},
            {"fdb", {{"entries", macs.size()}, {"capacity", macs.capacity()}, {"aging_s", macs.aging_s()}}}};
}

// ---- the MAC table ----

json commands::mac_show(ctl::arg_reader& a) {
    const auto port = port_filter(a);
    const auto vlan = vlan_arg(a, false);
    const auto mac_text = a.text("mac");
    a.done();
    const auto mac = mac_text ? std::optional{parse_mac(a, *mac_text, false)} : std::nullopt;
    const auto& l2 = _fabric.tables().l2;
    std::vector<std::pair<uint16_t, fdb_entry>> rows;
    for (const auto& e : _fabric.macs().entries(_fabric.now_s())) {
        const uint16_t v = e.key.bd() < l2.domains.size() ? l2.domains[e.key.bd()].vlan : 0;
        if ((!port || e.port == *port) && (!vlan || v == *vlan) && (!mac || e.key.mac() == *mac)) {
            rows.emplace_back(v, e);
        }
    }
    std::sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) {
        return std::pair(x.first, x.second.key.mac()) < std::pair(y.first, y.second.key.mac());
    });
    json entries = json::array();
    for (const auto& [v, e] : rows) {
        entries.push_back({{"mac", e.key.mac().to_string()},
                           {"vlan", v},
                           {"port", port_name(e.port)},
                           {"type", e.is_static ? "static" : "learned"},
                           {"idle_s", e.idle_s}});
    }
    return {{"entries", entries}, {"count", rows.size()}};
}

json commands::mac_count(ctl::arg_reader& a) {
    const auto port = port_filter(a);
    const auto vlan = vlan_arg(a, false);
    a.done();
    mac_tally all;
    json rows = json::array();
    for (const auto& [v, t] : count_macs(_fabric, port, vlan)) {
        rows.push_back({{"vlan", v}, {"learned", t.learned}, {"static", t.statics}, {"total", t.learned + t.statics}});
        all.learned += t.learned;
        all.statics += t.statics;
    }
    return {{"total", all.learned + all.statics},
            {"learned", all.learned},
            {"static", all.statics},
            {"capacity", _fabric.macs().capacity()},
            {"by_vlan", rows}};
}

json commands::mac_add(ctl::arg_reader& a) {
    const auto mac_text = a.required_text("mac");
    const uint16_t vlan = *vlan_arg(a, true);
    const auto name = a.required_text("port");
    a.done();
    const mac_addr mac = parse_mac(a, mac_text, true);
    const uint16_t port = port_index(name);
    const uint16_t bd = domain_of(vlan);
    if (!_fabric.tables().l2.ports[port].egress[bd].member()) {
        throw request_error(fmt::format("port '{}' does not carry vlan {}", name, vlan));
    }
    if (!_fabric.macs().add_static(fdb_key::make(mac, bd), port)) {
        throw request_error(fmt::format("the MAC table is full ({} entries)", _fabric.macs().capacity()));
    }
    auto& statics = _running.mac_table.statics;
    std::erase_if(statics, [&](const config::static_mac& s) { return s.vlan == vlan && mac_addr::parse(s.mac) == mac; });
    statics.push_back({mac.to_string(), vlan, name, 0});
    spdlog::info("control: static MAC {} vlan {} on port {}", mac.to_string(), vlan, name);
    return {{"mac", mac.to_string()}, {"vlan", vlan}, {"port", name}, {"type", "static"}};
}

json commands::mac_del(ctl::arg_reader& a) {
    const auto mac_text = a.required_text("mac");
    const uint16_t vlan = *vlan_arg(a, true);
    a.done();
    const mac_addr mac = parse_mac(a, mac_text, false);
    const uint16_t bd = _fabric.tables().l2.bd_of_vlan[vlan];
    const auto key = fdb_key::make(mac, bd);
    fdb_hit hit;
    if (bd == l2_tables::no_domain || _fabric.macs().lookup_bulk(&key, 1, &hit) == 0) {
        throw request_error(fmt::format("{} vlan {} is not in the MAC table", mac.to_string(), vlan));
    }
    _fabric.macs().remove(key);
    std::erase_if(_running.mac_table.statics,
                  [&](const config::static_mac& s) { return s.vlan == vlan && mac_addr::parse(s.mac) == mac; });
    spdlog::info("control: deleted MAC {} vlan {} (port {})", mac.to_string(), vlan, port_name(hit.port()));
    return {{"mac", mac.to_string()},
            {"vlan", vlan},
            {"port", port_name(hit.port())},
            {"type", hit.is_static() ? "static" : "learned"}};
}

json commands::mac_flush(ctl::arg_reader& a) {
    const auto port = port_filter(a);
    const auto vlan = vlan_arg(a, false);
    a.done();
    const uint16_t bd = vlan ? _fabric.tables().l2.bd_of_vlan[*vlan] : l2_tables::no_domain;
    if (vlan && bd == l2_tables::no_domain) {
        return {{"flushed", 0}}; // no port carries the VLAN: nothing was learned on it
    }
    const size_t n = _fabric.macs().flush(port ? *port : -1, vlan ? bd : -1);
    spdlog::info("control: flushed {} learned MACs{}{}", n, port ? fmt::format(" on port {}", port_name(*port)) : "",
                 vlan ? fmt::format(" in vlan {}", *vlan) : "");
    return {{"flushed", n}};
}

// ---- counters ----

std::vector<port_counter_block> commands::port_counts() const {
    auto totals = _fabric.port_totals();
    for (size_t i = 0; _baseline.set && i < totals.size(); ++i) {
        for (size_t k = 0; k < port_counter_count; ++k) {
            totals[i].counter[k] -= _baseline.ports[i].counter[k];
        }
        for (size_t k = 0; k < drop_reason_count; ++k) {
            totals[i].drops[k] -= _baseline.ports[i].drops[k];
        }
    }
    return totals;
}

std::array<uint64_t, worker_counter_count> commands::worker_counts(size_t w) const {
    auto c = _fabric.workers()[w]->counters().counter;
    for (size_t k = 0; _baseline.set && k < worker_counter_count; ++k) {
        c[k] -= _baseline.workers[w][k];
    }
    return c;
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
    for (size_t i = 0; i < counts.size(); ++i) {
        if (!port || i == *port) {
            json p = counters_json(counts[i]);
            p["name"] = port_name(static_cast<uint16_t>(i));
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

// ---- metrics and configuration ----

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
    m.family("vxswitch_port_link_up", "gauge", "1 when the port's link is up");
    for (size_t i = 0; i < ports.size(); ++i) {
        const auto link = link_json(_fabric.ports()[i]->id());
        m.sample("vxswitch_port_link_up", {{"port", ports[i].name}}, uint64_t{link["up"] == true ? 1u : 0u});
    }
    const auto totals = _fabric.port_totals();
    for (size_t k = 0; k < port_counter_count; ++k) {
        const auto name = fmt::format("vxswitch_port_{}_total", port_counters[k].name);
        m.family(name, "counter", port_counters[k].help);
        for (size_t i = 0; i < ports.size(); ++i) {
            m.sample(name, {{"port", ports[i].name}}, totals[i].counter[k]);
        }
    }
    m.family("vxswitch_port_drops_total", "counter", "frames dropped, by port and reason");
    for (size_t i = 0; i < ports.size(); ++i) {
        for (size_t k = 0; k < drop_reason_count; ++k) {
            m.sample("vxswitch_port_drops_total", {{"port", ports[i].name}, {"reason", std::string(drop_reasons[k].name)}},
                     totals[i].drops[k]);
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
    return {{"content_type", "text/plain; version=0.0.4"}, {"text", m.text()}};
}

json commands::config_dump(ctl::arg_reader& a) {
    a.done();
    return {{"yaml", config::dump(_running)}};
}

// ---- runtime changes ----

namespace {

// A JSON value as the YAML node the configuration loader reads.
YAML::Node yaml_of(const json& v) {
    YAML::Node n;
    if (v.is_object()) {
        for (const auto& [key, value] : v.items()) {
            n[key] = yaml_of(value);
        }
    } else if (v.is_array()) {
        for (const auto& item : v) {
            n.push_back(yaml_of(item));
        }
    } else if (v.is_string()) {
        n = v.get<std::string>();
    } else if (v.is_number_integer()) {
        n = v.dump(); // as text: the loader takes decimal and 0x integers alike
    } else {
        n = v.dump(); // floats and booleans: the loader refuses them where it wants integers
    }
    return n;
}

// The keys that belong to one port mode: a port that changes mode leaves the old ones behind.
constexpr std::array mode_keys{"vlan", "vlans", "native_vlan", "translate", "s_vlan", "c_vlans"};

// Loader messages about a configuration port.set wrote from the running one: the line and
// column are in that text, which nobody sees; the key path says what is wrong.
std::vector<std::string> without_positions(std::vector<std::string> errors) {
    static const std::regex position{R"(^port\.set:\d+:\d+: | \(line \d+\))"};
    for (auto& e : errors) {
        e = std::regex_replace(e, position, "");
    }
    return errors;
}

} // namespace

json commands::change_to(const config::load_result& loaded, bool dry_run) {
    if (!loaded.value) {
        throw request_error(fmt::format("configuration refused, nothing changed:\n  {}", fmt::join(loaded.errors, "\n  ")));
    }
    const auto& next = *loaded.value;
    const auto plan = config::diff(_running, next);
    if (!plan.refused.empty()) {
        throw request_error(
            fmt::format("configuration refused, nothing changed:\n  {}", fmt::join(plan.refused, "\n  ")));
    }
    if (!dry_run && !plan.empty()) {
        try {
            _fabric.reconfigure(next, plan);
        } catch (const std::runtime_error& e) {
            throw request_error(e.what());
        }
        _running = next;
        for (const auto& line : plan.changes) {
            spdlog::info("control: {}", line);
        }
    }
    return {{"changes", plan.changes}, {"applied", !dry_run && !plan.empty()}, {"warnings", config::mtu_warnings(next)}};
}

json commands::config_apply(ctl::arg_reader& a) {
    const auto text = a.required_text("yaml");
    const auto source = a.text("source").value_or("<vxctl config apply>");
    const bool dry_run = a.flag("dry_run");
    a.done();
    return change_to(config::load_string(text, source), dry_run);
}

json commands::port_set(ctl::arg_reader& a) {
    const auto name = a.required_text("port");
    const json& set = a.required_object("set");
    const bool dry_run = a.flag("dry_run");
    a.done();
    const uint16_t index = port_index(name);
    YAML::Node root = YAML::Load(config::dump(_running));
    YAML::Node port = root["ports"][index];
    const auto mode = set.find("mode");
    if (mode != set.end() && mode->is_string() && *mode != port["mode"].as<std::string>()) {
        for (const char* key : mode_keys) {
            port.remove(key);
        }
    }
    for (const auto& [key, value] : set.items()) {
        if (key == "name") {
            a.fail("set", "a port's name cannot change (it names the port)");
        }
        if (value.is_null()) {
            port.remove(key);
        } else {
            port[key] = yaml_of(value);
        }
    }
    YAML::Emitter text;
    text << root;
    auto loaded = config::load_string(text.c_str(), "port.set");
    loaded.errors = without_positions(std::move(loaded.errors));
    return change_to(loaded, dry_run);
}

// ---- service ----

service::service(fabric& f, const config::model& running, const daemon_info& info, const socket_access& access)
    : _commands(f, running, info) {
    _server = std::make_unique<server>(access, [this](std::string_view line) { return handle(line); });
}

service::~service() {
    // Fail what waits first, so that the server thread is not stuck waiting when it stops.
    _inbox.close();
    _server.reset();
}

std::string service::handle(std::string_view line) {
    ctl::request req;
    try {
        req = ctl::parse_request(line);
    } catch (const request_error& e) {
        return ctl::error_response(e.what());
    }
    try {
        // The job owns a copy of the request: after a timeout it may still run.
        auto result = _inbox.call([this, req] { return _commands.execute(req); },
                                  std::chrono::duration_cast<std::chrono::milliseconds>(command_timeout));
        return ctl::ok_response(result, req.id);
    } catch (const request_error& e) {
        return ctl::error_response(e.what(), req.id);
    } catch (const std::exception& e) {
        spdlog::error("control: {} failed: {}", req.cmd, e.what());
        return ctl::error_response(fmt::format("internal error: {}", e.what()), req.id);
    }
}

} // namespace vx::control

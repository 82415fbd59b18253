// SPDX-License-Identifier: MIT
// The command table, dispatch and the arguments every command reads; the service that carries
// requests from the socket to the control thread. The commands themselves, by group:
// control_show.cc, control_macs.cc, control_counters.cc, control_changes.cc (runtime
// changes), control_observe.cc (capture, trace).
#include "daemon/control_commands.hh"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "daemon/fabric.hh"

namespace vx::control {

namespace {

using nlohmann::json;
using ctl::request_error;


// The longest a command may keep the server waiting: a full 1M-entry MAC table takes a few
// hundred milliseconds to list.
constexpr auto command_timeout = std::chrono::seconds(30);

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
        {"counters.vlan", &commands::counters_vlan, "vlan?",
         "counters and drops by reason of each VLAN (bridge domain)"},
        {"counters.vni", &commands::counters_vni, "vni?, udp_port?",
         "counters and drops by reason of each VNI (VXLAN, vxvde)"},
        {"counters.clear", &commands::counters_clear, "", "start counting from zero (a baseline)"},
        {"workers", &commands::workers, "", "worker load: busy cycles, cycles per packet, burst sizes"},
        {"metrics", &commands::metrics, "", "Prometheus text exposition of every counter"},
        {"config.dump", &commands::config_dump, "", "the running configuration, in the file format"},
        {"config.apply", &commands::config_apply, "yaml, source?, dry_run?",
         "change the running configuration to this one, validated whole, as a diff"},
        {"port.set", &commands::port_set, "port, set, dry_run?",
         "change a port's configuration keys (mode, vlan, vlans, native_vlan, translate, s_vlan, c_vlans, tpid, "
         "foreign_tpid, mtu, an af_xdp port's own, steer, drop, or one key of those maps as steer.udp; null removes "
         "a key)"},
        {"port.add", &commands::port_add, "port, device?, type?, iface?, url?, vde_port?, set?, dry_run?",
         "add a port on a DPDK device (devargs, e.g. net_null0,no-rx=1), an af_xdp port (type af_xdp, iface) or a "
         "VDE port (type vde with a libvdeplug url, or type vde_switch, vde_port?: a port of vxswitchd's VDE "
         "switch); set: its keys as port.set takes them"},
        {"port.remove", &commands::port_remove, "port, dry_run?",
         "remove a port: it is unpolled, its MACs flushed, its device closed and detached (a VDE port's client "
         "disconnected)"},
        {"vni.show", &commands::vni_show, "",
         "the VXLAN segments (VNI, VLAN, protocol, UDP port, group, remotes and their next hops), the remotes discovered"},
        {"vni.add", &commands::vni_add, "vni, set, dry_run?",
         "add a VNI or vxvde network (set: its keys as the file's vnis: take them: vlan, group, remotes, protocol, port)"},
        {"vni.set", &commands::vni_set, "vni, udp_port?, set, dry_run?",
         "change a VNI's keys (vlan, group, remotes, protocol, port; null removes one); udp_port picks the segment "
         "when VXLAN and vxvde share the VNI"},
        {"vni.remove", &commands::vni_remove, "vni, udp_port?, dry_run?",
         "remove a VNI: its domain leaves the overlay, remotes no VNI uses are retired, groups left"},
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

std::vector<uint16_t> commands::port_slots() const {
    std::vector<uint16_t> out;
    for (const auto& p : _running.ports) {
        out.push_back(port_index(p.name));
    }
    return out;
}

uint16_t commands::port_index(const std::string& name) const {
    const auto& ports = _fabric.model().ports;
    for (size_t i = 0; i < ports.size(); ++i) {
        if (ports[i].name == name) {
            return static_cast<uint16_t>(i);
        }
    }
    std::vector<std::string> names;
    for (const auto& p : _running.ports) {
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

// SPDX-License-Identifier: MIT
// The control channel's observation commands: capture (observe/capture.hh) and trace
// (observe/trace.hh). Kept apart from control_commands.cc, which reads and changes the
// configuration and the tables. Both follow one pattern: X.start arms the workers and
// returns a session number, vxctl calls X.read until `count` frames came (or X.stop), and a
// session nobody reads for a while ends by itself.

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "daemon/control_commands.hh"
#include "daemon/fabric.hh"

namespace vx::control {

namespace {

using nlohmann::json;
using ctl::request_error;

// A capture or trace whose vxctl has not asked for frames this long has lost its reader.
constexpr auto abandoned_after = std::chrono::seconds(10);
// Frames per read: enough for a full burst of every port, small enough for one line.
constexpr int64_t read_default = 256;
constexpr int64_t max_count = int64_t{1} << 40;

std::string hex_of(const rte_mbuf* m) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * rte_pktmbuf_pkt_len(m));
    for (const rte_mbuf* seg = m; seg != nullptr; seg = seg->next) {
        const auto* p = rte_pktmbuf_mtod(seg, const uint8_t*);
        for (uint16_t i = 0; i < seg->data_len; ++i) {
            out += digits[p[i] >> 4];
            out += digits[p[i] & 0xf];
        }
    }
    return out;
}

std::string_view point_name(capture_point p) {
    switch (p) {
    case capture_point::received:
        return "received";
    case capture_point::sent:
        return "sent";
    case capture_point::dropped_rx:
    case capture_point::dropped_tx:
        return "dropped";
    }
    return "?";
}

bool is_inbound(capture_point p) {
    return p == capture_point::received || p == capture_point::dropped_rx;
}

// "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, vlan 20 (0x8100), ethertype 0x88b5" from a
// frame's first bytes.
std::string frame_summary(const frame_trace& t) {
    const uint8_t* p = t.head.data();
    if (t.head_len < ether_header_len) {
        return fmt::format("{}-byte runt", t.length);
    }
    std::string s = fmt::format("{} > {}", mac_addr::load(p + 6).to_string(), mac_addr::load(p).to_string());
    uint32_t at = 12;
    while (at + 4 <= t.head_len) {
        const auto type = static_cast<uint16_t>(p[at] << 8 | p[at + 1]);
        if (!is_well_known_tpid(type)) {
            return s + fmt::format(", ethertype 0x{:04x}", type);
        }
        s += fmt::format(", vlan {} (0x{:04x})", (p[at + 2] << 8 | p[at + 3]) & 0xfff, type);
        at += 4;
    }
    return s;
}

// Reads the filter words of `vxctl trace --filter`: "src MAC", "dst MAC", "mac MAC",
// "vlan N", "ethertype X", in any order, all of which must match.
trace_filter parse_filter(ctl::arg_reader& a, const std::string& text) {
    trace_filter f;
    std::istringstream words(text);
    std::string key;
    std::string value;
    while (words >> key) {
        if (!(words >> value)) {
            a.fail("filter", fmt::format("'{}' needs a value", key));
        }
        const auto mac = [&] {
            const auto m = mac_addr::parse(value);
            if (!m) {
                a.fail("filter", fmt::format("{}: '{}' is not a MAC address", key, value));
            }
            return *m;
        };
        const auto number = [&](unsigned long min, unsigned long max) {
            size_t used = 0;
            unsigned long n = 0;
            try {
                n = std::stoul(value, &used, 0);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used != value.size() || n < min || n > max) {
                a.fail("filter", fmt::format("{}: '{}' is not a number in {}..{}", key, value, min, max));
            }
            return static_cast<uint16_t>(n);
        };
        if (key == "src") {
            f.src = mac();
        } else if (key == "dst") {
            f.dst = mac();
        } else if (key == "mac") {
            f.mac = mac();
        } else if (key == "vlan") {
            f.vlan = number(config::min_vlan, config::max_vlan);
        } else if (key == "ethertype") {
            f.ethertype = number(0x600, 0xffff);
        } else {
            a.fail("filter", fmt::format("unknown word '{}'; expected src, dst, mac, vlan, ethertype", key));
        }
    }
    return f;
}

} // namespace

// ---- sessions ----

template <class Session>
void commands::observation<Session>::begin(uint32_t new_id, uint64_t frames) {
    id = new_id;
    limit = frames;
    delivered = 0;
    last_read = std::chrono::steady_clock::now();
    anchor_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    anchor_tsc = rte_rdtsc();
}

template <class Session>
int64_t commands::observation<Session>::time_ns(uint64_t tsc) const {
    const auto since = static_cast<double>(static_cast<int64_t>(tsc - anchor_tsc));
    return anchor_ns + static_cast<int64_t>(since * 1e9 / static_cast<double>(rte_get_tsc_hz()));
}

template <class Session>
Session& commands::observation<Session>::named(ctl::arg_reader& a) const {
    const auto n = a.required_integer("session", 1, UINT32_MAX);
    if (!session || id != n) {
        a.fail("session", fmt::format("no session {} is running (it ended, or was never started)", n));
    }
    return *session;
}

template <class Session>
bool commands::observation<Session>::abandoned() const {
    return session && std::chrono::steady_clock::now() - last_read > abandoned_after;
}

void commands::tick() {
    if (_capture.session) {
        _capture.session->collect();
    }
    if (_capture.abandoned()) {
        spdlog::warn("control: capture {}: nobody read it for {}s, ending it", _capture.id, abandoned_after.count());
        end_capture();
    }
    if (_trace.abandoned()) {
        spdlog::warn("control: trace {}: nobody read it for {}s, ending it", _trace.id, abandoned_after.count());
        end_trace();
    }
}

// ---- capture ----

json commands::capture_start(ctl::arg_reader& a) {
    const uint16_t port = port_index(a.required_text("port"));
    const auto direction = a.text("direction").value_or("both");
    const bool drops = a.flag("drops");
    const auto count = a.integer("count", 1, max_count);
    a.done();
    if (direction != "rx" && direction != "tx" && direction != "both") {
        a.fail("direction", fmt::format("'{}' is not one of rx, tx, both", direction));
    }
    if (_capture.session) {
        throw request_error(fmt::format("a capture is already running (on port '{}'); one at a time",
                                        port_name(_capture.session->filter().port)));
    }
    const capture_filter f{port, direction != "tx", direction != "rx", drops};
    try {
        if (!_capture_pool) {
            _capture_pool = make_capture_pool();
        }
        _capture.begin(++_session_ids, count.value_or(0));
        _capture.session =
            std::make_unique<capture_session>(f, _fabric.workers(), _fabric.rcu(), _capture_pool.get(), _capture.id);
    } catch (const std::runtime_error& e) {
        throw request_error(e.what());
    }
    spdlog::info("control: capture {} on port {} ({}{}) started", _capture.id, port_name(port), direction,
                 drops ? ", drops" : "");
    return {{"session", _capture.id},
            {"port", port_name(port)},
            {"direction", direction},
            {"drops", drops},
            {"count", count ? json(*count) : json()}};
}

json commands::capture_read(ctl::arg_reader& a) {
    capture_session& s = _capture.named(a);
    const auto max = static_cast<uint64_t>(a.integer("max", 1, 4096).value_or(read_default));
    a.done();
    _capture.last_read = std::chrono::steady_clock::now();
    s.collect();
    const uint64_t n = _capture.limit != 0 ? std::min(max, _capture.limit - _capture.delivered) : max;
    json frames = json::array();
    for (const auto& r : s.take(n)) {
        const bool dropped = point_name(r.point) == "dropped";
        frames.push_back({{"port", port_name(r.port)},
                          {"direction", is_inbound(r.point) ? "rx" : "tx"},
                          {"point", point_name(r.point)},
                          {"reason", dropped ? json(info(r.why).name) : json()},
                          {"time_ns", _capture.time_ns(r.tsc)},
                          {"data", hex_of(r.frame)}});
        rte_pktmbuf_free(r.frame);
    }
    _capture.delivered += frames.size();
    json out = {{"frames", frames}, {"lost", s.lost()}, {"done", false}};
    if (_capture.limit != 0 && _capture.delivered >= _capture.limit) {
        out["done"] = true;
        out.update(end_capture());
    }
    return out;
}

json commands::capture_stop(ctl::arg_reader& a) {
    _capture.named(a);
    a.done();
    return end_capture();
}

json commands::end_capture() {
    _capture.session->collect();
    const uint64_t lost = _capture.session->lost();
    const uint64_t unread = _capture.session->captured() - _capture.delivered;
    _capture.session.reset(); // disarms the workers, frees what is left
    spdlog::info("control: capture {} ended: {} frames read, {} lost", _capture.id, _capture.delivered, lost);
    return {{"session", _capture.id}, {"read", _capture.delivered}, {"lost", lost}, {"unread", unread}};
}

// ---- trace ----

json commands::trace_start(ctl::arg_reader& a) {
    const auto port = port_filter(a);
    const auto filter_text = a.text("filter").value_or("");
    const auto count = a.integer("count", 1, 4096).value_or(1);
    a.done();
    trace_filter f = parse_filter(a, filter_text);
    f.port = port;
    if (_trace.session) {
        throw request_error("a trace is already running; one at a time");
    }
    try {
        _trace.begin(++_session_ids, static_cast<uint64_t>(count));
        _trace.session =
            std::make_unique<trace_session>(f, count, _fabric.workers(), _fabric.rcu(), _trace.id);
    } catch (const std::runtime_error& e) {
        throw request_error(e.what());
    }
    spdlog::info("control: trace {} of {} frame(s){}{} started", _trace.id, count,
                 port ? fmt::format(" on port {}", port_name(*port)) : "",
                 filter_text.empty() ? "" : fmt::format(" matching '{}'", filter_text));
    return {{"session", _trace.id}, {"count", count}, {"port", port ? json(port_name(*port)) : json()},
            {"filter", filter_text}};
}

// One step of a followed frame, for people (text) and programs (the other keys).
json commands::trace_step_json(const trace_step& s) const {
    const auto& l2 = _fabric.tables().l2;
    const auto vlan_of = [&](uint16_t bd) { return bd < l2.domains.size() ? l2.domains[bd].vlan : 0; };
    const auto where = [&](uint16_t port) { return port_name(port); };
    json j = {{"stage", stage_name(s.stage)}};
    std::string text;
    switch (s.what) {
    case trace_decision::dropped:
        j["decision"] = "drop";
        j["reason"] = info(s.why).name;
        text = fmt::format("drop: {}", info(s.why).name);
        break;
    case trace_decision::parsed:
        j["decision"] = "tags";
        j["tags"] = s.a;
        text = s.a == 0   ? "untagged"
               : s.a == 1 ? fmt::format("1 tag, vid {}", s.b)
                          : fmt::format("2 tags, vid {} inner vid {}", s.b, s.c);
        break;
    case trace_decision::domain:
        j["decision"] = "domain";
        j["vlan"] = vlan_of(s.a);
        text = fmt::format("vlan {}{}", vlan_of(s.a), s.b != 0 ? fmt::format(" ({} tag(s) the port's)", s.b) : "");
        break;
    case trace_decision::learn_new:
        j["decision"] = "new";
        text = "source MAC new: learned on the ingress port";
        break;
    case trace_decision::learn_known:
        j["decision"] = "known";
        text = "source MAC known on this port";
        break;
    case trace_decision::learn_moved:
        j["decision"] = "moved";
        j["from"] = where(s.a);
        text = fmt::format("source MAC moved from {}: learned on the ingress port", where(s.a));
        break;
    case trace_decision::learn_static:
        j["decision"] = "static_conflict";
        j["from"] = where(s.a);
        text = fmt::format("source MAC is static on {}: not learned", where(s.a));
        break;
    case trace_decision::hit:
        j["decision"] = "hit";
        j["port"] = where(s.a);
        text = fmt::format("hit: {}", where(s.a));
        break;
    case trace_decision::flood_group:
        j["decision"] = "flood";
        text = "flood: group destination";
        break;
    case trace_decision::flood_unknown:
        j["decision"] = "flood";
        text = "flood: unknown unicast";
        break;
    case trace_decision::out:
        j["decision"] = "out";
        j["port"] = where(s.a);
        text = fmt::format("out {}", where(s.a));
        break;
    case trace_decision::refused:
        j["decision"] = "refused";
        j["port"] = where(s.a);
        j["reason"] = info(s.why).name;
        text = fmt::format("not out {}: {}", where(s.a), info(s.why).name);
        break;
    case trace_decision::decapsulated:
        j["decision"] = "decapsulated";
        j["vni"] = s.c;
        j["vlan"] = vlan_of(s.a);
        text = fmt::format("vni {} -> vlan {}", s.c, vlan_of(s.a));
        break;
    case trace_decision::arp_taken:
        j["decision"] = "arp";
        text = "ARP: taken by the VTEP (answered, or a next hop learned)";
        break;
    case trace_decision::goodbye_taken:
        j["decision"] = "goodbye";
        text = "vxvde goodbye: the endpoint's MACs are flushed";
        break;
    }
    j["text"] = text;
    return j;
}

json commands::trace_read(ctl::arg_reader& a) {
    trace_session& s = _trace.named(a);
    a.done();
    _trace.last_read = std::chrono::steady_clock::now();
    s.collect();
    json frames = json::array();
    for (const auto& t : s.take(_trace.limit - _trace.delivered)) {
        json steps = json::array();
        for (uint8_t k = 0; k < t.steps_len; ++k) {
            steps.push_back(trace_step_json(t.steps[k]));
        }
        frames.push_back({{"port", port_name(t.ingress)},
                          {"worker", t.worker},
                          {"time_ns", _trace.time_ns(t.tsc)},
                          {"length", t.length},
                          {"summary", frame_summary(t)},
                          {"steps", steps},
                          {"steps_not_shown", t.steps_dropped}});
    }
    _trace.delivered += frames.size();
    json out = {{"frames", frames}, {"lost", s.lost()}, {"done", false}};
    if (_trace.delivered >= _trace.limit) {
        out["done"] = true;
        out.update(end_trace());
    }
    return out;
}

json commands::trace_stop(ctl::arg_reader& a) {
    _trace.named(a);
    a.done();
    return end_trace();
}

json commands::end_trace() {
    const uint64_t lost = _trace.session->lost();
    _trace.session.reset();
    spdlog::info("control: trace {} ended: {} frames followed", _trace.id, _trace.delivered);
    return {{"session", _trace.id}, {"read", _trace.delivered}, {"lost", lost}};
}

} // namespace vx::control

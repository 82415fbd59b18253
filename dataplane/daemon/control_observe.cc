// SPDX-License-Identifier: MIT
// The control channel's observation commands: capture (observe/capture.hh). Kept apart from
// control_commands.cc, which reads and changes the configuration and the tables.

#include <rte_cycles.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <rte_mbuf.h>

#include "daemon/control_commands.hh"
#include "daemon/fabric.hh"

namespace vx::control {

namespace {

using nlohmann::json;
using ctl::request_error;

// A capture whose vxctl has not asked for frames this long has lost its reader.
constexpr auto capture_abandoned_after = std::chrono::seconds(10);
// Frames per capture.read: enough for a full burst of every port, small enough for one line.
constexpr int64_t capture_read_default = 256;

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

} // namespace

json commands::capture_start(ctl::arg_reader& a) {
    const uint16_t port = port_index(a.required_text("port"));
    const auto rx = a.text("direction"); // "rx", "tx" or "both" (the default)
    const bool drops = a.flag("drops");
    const auto count = a.integer("count", 1, int64_t{1} << 40);
    a.done();
    capture_filter f{port, true, true, drops};
    if (rx && *rx != "both") {
        if (*rx != "rx" && *rx != "tx") {
            a.fail("direction", fmt::format("'{}' is not one of rx, tx, both", *rx));
        }
        f.rx = *rx == "rx";
        f.tx = *rx == "tx";
    }
    if (_capture.session) {
        throw request_error(fmt::format("a capture is already running (on port '{}'); one at a time",
                                        port_name(_capture.session->filter().port)));
    }
    try {
        if (!_capture_pool) {
            _capture_pool = make_capture_pool();
        }
        _capture = {};
        _capture.id = ++_capture_ids;
        _capture.anchor_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
        _capture.anchor_tsc = rte_rdtsc();
        _capture.session = std::make_unique<capture_session>(f, _fabric.workers(), _fabric.rcu(),
                                                             _capture_pool.get(), _capture.id);
    } catch (const std::runtime_error& e) {
        throw request_error(e.what());
    }
    _capture.limit = count ? static_cast<uint64_t>(*count) : 0;
    _capture.last_read = std::chrono::steady_clock::now();
    const std::string_view direction = f.rx && f.tx ? "both" : f.rx ? "rx" : "tx";
    spdlog::info("control: capture {} on port {} ({}{}) started", _capture.id, port_name(port), direction,
                 drops ? ", drops" : "");
    return {{"session", _capture.id},
            {"port", port_name(port)},
            {"direction", direction},
            {"drops", drops},
            {"count", count ? json(*count) : json()}};
}

capture_session& commands::capture_of(ctl::arg_reader& a) {
    const auto id = a.required_integer("session", 1, UINT32_MAX);
    if (!_capture.session || _capture.id != id) {
        a.fail("session", fmt::format("no capture {} is running (it ended, or was never started)", id));
    }
    return *_capture.session;
}

json commands::capture_read(ctl::arg_reader& a) {
    capture_session& s = capture_of(a);
    const auto max = a.integer("max", 1, 4096).value_or(capture_read_default);
    a.done();
    _capture.last_read = std::chrono::steady_clock::now();
    s.collect();
    uint64_t n = static_cast<uint64_t>(max);
    if (_capture.limit != 0) {
        n = std::min(n, _capture.limit - _capture.delivered);
    }
    const double ns_per_tsc = 1e9 / static_cast<double>(rte_get_tsc_hz());
    json frames = json::array();
    for (const auto& r : s.take(n)) {
        const auto since = static_cast<double>(static_cast<int64_t>(r.tsc - _capture.anchor_tsc));
        frames.push_back({{"port", port_name(r.port)},
                          {"direction", is_inbound(r.point) ? "rx" : "tx"},
                          {"point", point_name(r.point)},
                          {"reason", point_name(r.point) == "dropped" ? json(info(r.why).name) : json()},
                          {"time_ns", _capture.anchor_ns + static_cast<int64_t>(since * ns_per_tsc)},
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
    capture_of(a);
    a.done();
    return end_capture();
}

json commands::end_capture() {
    const uint32_t id = _capture.id;
    const uint64_t delivered = _capture.delivered;
    _capture.session->collect();
    const uint64_t lost = _capture.session->lost();
    const uint64_t unread = _capture.session->captured() - delivered;
    _capture.session.reset(); // disarms the workers, frees what is left
    spdlog::info("control: capture {} ended: {} frames read, {} lost", id, delivered, lost);
    return {{"session", id}, {"read", delivered}, {"lost", lost}, {"unread", unread}};
}

void commands::tick() {
    if (!_capture.session) {
        return;
    }
    _capture.session->collect();
    if (std::chrono::steady_clock::now() - _capture.last_read > capture_abandoned_after) {
        spdlog::warn("control: capture {}: nobody read it for {}s, ending it", _capture.id,
                     capture_abandoned_after.count());
        end_capture();
    }
}

} // namespace vx::control

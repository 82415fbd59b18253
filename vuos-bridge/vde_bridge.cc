// SPDX-License-Identifier: MIT
#include "vuos-bridge/vde_bridge.hh"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

namespace vx::vde {

namespace {

// With no frame to move, the thread sleeps in poll() this long at most: the latency a frame
// from a worker may wait when the thread was idle (the out rings have no fd to wake it).
constexpr std::chrono::milliseconds idle_wait{1};
// While frames flow the sockets are polled without waiting every this many rounds.
constexpr unsigned serve_every = 64;
// A client must send its request within this time, and at most this many may be pending.
constexpr std::chrono::seconds handshake_timeout{5};
constexpr size_t max_handshakes = 32;

constexpr uint32_t ether_header = 14;
constexpr uint32_t vlan_tag = 4;

// The longest frame a VDE port takes from its peer: its MTU, the Ethernet header and up to two
// tags (a trunk's or a 2:1 translation's). Longer frames are in_oversize; those that fit but
// exceed what a port the frame leaves by allows are egress_mtu_exceeded there.
uint32_t longest_frame(const config::port& p) {
    return p.mtu.value_or(config::default_mtu) + ether_header + 2 * vlan_tag;
}

uint32_t frame_room(rte_mempool* pool) {
    return rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM;
}

// A datagram that fills its buffer may have been cut (libvdeplug plugins do not say): a
// buffer holds frames shorter than its room.
bool holds(rte_mempool* pool, const config::port& p) {
    return longest_frame(p) < frame_room(pool);
}

// Jumbo frames: a frame that the switch's pool cannot hold in one buffer is received into a
// buffer of a pool of our own whose buffers hold the longest frame of any VDE port (a single
// segment: the workers read headers in the first one, and the frame is sent out whole). Only
// the I/O thread allocates from it; workers free into it. Enough for every jumbo port's in
// ring and receive burst, and one more ring of frames on their way out. Null when no VDE port
// needs it.
rte_mempool* make_jumbo_pool(const config::model& m, rte_mempool* pool, uint16_t workers) {
    uint32_t longest = 0;
    uint32_t ports = 0;
    for (const auto& p : m.ports) {
        if (p.vde && !holds(pool, p)) {
            longest = std::max(longest, longest_frame(p));
            ++ports;
        }
    }
    if (ports == 0) {
        return nullptr;
    }
    const uint32_t buffers = ports * (endpoint::ring_size + 2 * endpoint::burst) + endpoint::ring_size +
                             uint32_t{workers} * endpoint::burst;
    // One byte more than the longest frame: a datagram that fills a buffer may have been cut.
    const uint32_t room = RTE_PKTMBUF_HEADROOM + longest + 1;
    rte_mempool* jumbo = rte_pktmbuf_pool_create("vx_vde_jumbo", buffers, endpoint::burst, 0,
                                                 static_cast<uint16_t>(room), SOCKET_ID_ANY);
    if (jumbo == nullptr) {
        throw std::runtime_error(fmt::format("VDE ports: cannot create a pool of {} buffers of {} bytes for frames of "
                                             "up to {} bytes: {} (raise dataplane.memory_mb?)",
                                             buffers, room, longest, rte_strerror(rte_errno)));
    }
    spdlog::info("VDE ports: {} port(s) take frames of up to {} bytes: {} buffers of their own ({} MiB)", ports,
                 longest, buffers, (uint64_t{buffers} * (room + sizeof(rte_mbuf))) >> 20);
    return jumbo;
}

} // namespace

bool has_vde_ports(const config::model& m) {
    return std::any_of(m.ports.begin(), m.ports.end(), [](const config::port& p) { return p.vde.has_value(); });
}

bridge::bridge(const config::model& m, uint16_t tx_queues, rte_mempool* pool)
    : _ports(m.ports), _listener_cfg(m.vde_switch), _jumbo_pool(make_jumbo_pool(m, pool, tx_queues)),
      _endpoints(m.ports.size()), _departed(std::make_unique<std::atomic<bool>[]>(m.ports.size())) {
    for (size_t i = 0; i < m.ports.size(); ++i) {
        const auto& p = m.ports[i];
        if (!p.vde) {
            continue;
        }
        rte_mempool* receive_pool = holds(pool, p) ? pool : _jumbo_pool;
        _endpoints[i] = std::make_unique<endpoint>(static_cast<unsigned>(i), tx_queues, receive_pool);
        if (p.vde->switch_port) {
            _slots.push_back({_endpoints[i].get(), i, p.vde->number, -1, {}});
        }
    }
}

bridge::~bridge() {
    stop();
    for (auto& s : _slots) {
        if (s.stream >= 0) {
            release(s, "vxswitchd stops");
        }
    }
    for (auto& h : _handshakes) {
        ::close(h.fd);
    }
    _endpoints.clear(); // their spare buffers and rings go back to the pools first
    rte_mempool_free(_jumbo_pool);
}

void bridge::check_mtus(const config::model& next) const {
    for (size_t i = 0; i < std::min(_endpoints.size(), next.ports.size()); ++i) {
        const auto& p = next.ports[i];
        if (_endpoints[i] && p.vde && !holds(_endpoints[i]->pool(), p)) {
            throw std::runtime_error(
                fmt::format("port '{}': mtu {} takes frames of up to {} bytes, longer than the port's VDE buffers "
                            "(made at start for up to {}): a restart with the new mtu is needed; nothing changed",
                            p.name, p.mtu.value_or(config::default_mtu), longest_frame(p),
                            frame_room(_endpoints[i]->pool()) - 1));
        }
    }
}

void bridge::start() {
    for (size_t i = 0; i < _ports.size(); ++i) {
        const auto& p = _ports[i];
        if (p.vde && !p.vde->switch_port) {
            try {
                _endpoints[i]->attach(open_url(p.vde->url, fmt::format("vxswitchd port {}", p.name)));
            } catch (const std::exception& e) {
                throw std::runtime_error(fmt::format("port '{}': {}", p.name, e.what()));
            }
            spdlog::info("port '{}': plugged into {}", p.name, p.vde->url);
        }
    }
    if (_listener_cfg) {
        _socket = std::make_unique<switch_socket>(*_listener_cfg);
        spdlog::info("VDE switch: listening on {}/ctl, {} port(s) for clients (vde_plug vde://{})", _socket->path(),
                     _slots.size(), _socket->path());
    }
    _thread = std::thread([this] { run(); });
}

void bridge::stop() {
    _stop.store(true);
    if (_thread.joinable()) {
        _thread.join();
    }
}

void bridge::run() {
    while (!_stop.load(std::memory_order_relaxed)) {
        run_once(idle_wait);
    }
}

unsigned bridge::run_once(std::chrono::milliseconds wait) {
    unsigned moved = 0;
    for (const auto& e : _endpoints) {
        if (e) {
            moved += e->pump();
        }
    }
    if (moved == 0) {
        serve(wait);
    } else if (++_busy_rounds % serve_every == 0) {
        serve(std::chrono::milliseconds{0});
    }
    return moved;
}

// Waits for any socket (frames from a peer, a client at ctl, a handshake, a client leaving)
// and serves the switch's sockets. Frames themselves are moved by the endpoints' pump().
void bridge::serve(std::chrono::milliseconds wait) {
    std::vector<pollfd> fds;
    for (const auto& e : _endpoints) {
        if (e && e->link()) {
            fds.push_back({e->link()->fd(), POLLIN, 0});
        }
    }
    const size_t control_from = fds.size();
    if (_socket) {
        fds.push_back({_socket->fd(), POLLIN, 0});
    }
    for (const auto& h : _handshakes) {
        fds.push_back({h.fd, POLLIN, 0});
    }
    for (const auto& s : _slots) {
        if (s.stream >= 0) {
            fds.push_back({s.stream, POLLIN, 0});
        }
    }
    if (::poll(fds.data(), fds.size(), static_cast<int>(wait.count())) <= 0 || !_socket) {
        return;
    }
    size_t k = control_from;
    const bool incoming = (fds[k++].revents & POLLIN) != 0;
    for (auto& h : _handshakes) {
        if (fds[k++].revents != 0) {
            read_handshake(h);
        }
    }
    for (auto& s : _slots) {
        if (s.stream < 0) {
            continue;
        }
        if (fds[k++].revents != 0) {
            // After the handshake the stream is silent; EOF (or an error) means the client left.
            std::array<char, 256> junk{};
            const ssize_t n = ::read(s.stream, junk.data(), junk.size());
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                release(s, "left");
            }
        }
    }
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(_handshakes, [&](const handshake& h) {
        if (h.fd >= 0 && now - h.since > handshake_timeout) {
            spdlog::warn("VDE switch: a client sent no complete request in {} s: closed", handshake_timeout.count());
            ::close(h.fd);
            return true;
        }
        return h.fd < 0;
    });
    if (incoming) {
        accept_clients();
    }
}

void bridge::accept_clients() {
    int fd = -1;
    while ((fd = _socket->accept_client()) >= 0) {
        if (_handshakes.size() >= max_handshakes) {
            spdlog::warn("VDE switch: {} clients are already connecting: one more refused", max_handshakes);
            ::close(fd);
            continue;
        }
        _handshakes.push_back({fd, {}, std::chrono::steady_clock::now()});
    }
}

// Reads what the client sent; once the request is complete, binds it to a port or refuses it.
// A handshake whose fd became -1 is removed by serve().
void bridge::read_handshake(handshake& h) {
    std::array<char, request_max_size> buf{};
    const ssize_t n = ::read(h.fd, buf.data(), request_max_size - std::min(h.bytes.size(), request_max_size));
    if (n > 0) {
        h.bytes.append(buf.data(), static_cast<size_t>(n));
    }
    const bool closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
    // libvdeplug sends the request in one send(): a stream that pauses after the fixed
    // part has sent it all, its description included.
    if (h.bytes.size() < request_min_size) {
        if (closed) {
            spdlog::warn("VDE switch: a client left after {} bytes of its request", h.bytes.size());
            ::close(h.fd);
            h.fd = -1;
        }
        return;
    }
    const int fd = h.fd;
    h.fd = -1;
    auto parsed = parse_request(std::as_bytes(std::span{h.bytes.data(), h.bytes.size()}));
    if (const auto* err = std::get_if<request_error>(&parsed)) {
        spdlog::warn("VDE switch: refused a client: {}", err->what);
        ::close(fd);
        return;
    }
    bind_client(fd, std::get<request>(parsed));
}

bridge::slot* bridge::choose_slot(uint16_t number) {
    if (number != 0) {
        const auto it = std::find_if(_slots.begin(), _slots.end(), [&](const slot& s) { return s.number == number; });
        if (it != _slots.end()) {
            return it->stream < 0 ? &*it : nullptr;
        }
    }
    const auto it =
        std::find_if(_slots.begin(), _slots.end(), [](const slot& s) { return !s.number && s.stream < 0; });
    return it == _slots.end() ? nullptr : &*it;
}

void bridge::bind_client(int stream, const request& r) {
    slot* s = choose_slot(r.port);
    if (s == nullptr) {
        spdlog::warn("VDE switch: no free port for '{}' (asked for {}): refused", r.description,
                     r.port == 0 ? std::string("any port") : fmt::format("port {}", r.port));
        ::close(stream);
        return;
    }
    try {
        auto [fd, path] = _socket->make_data_socket(r.client_socket, static_cast<unsigned>(s->port));
        sockaddr_un reply{};
        reply.sun_family = AF_UNIX;
        std::memcpy(reply.sun_path, path.c_str(), path.size() + 1);
        s->ep->attach(std::make_unique<datagram_link>(fd, r.description)); // owns fd from here
        s->stream = stream;
        s->data_path = path;
        _clients.fetch_add(1, std::memory_order_relaxed);
        if (::write(stream, &reply, sizeof(reply)) != static_cast<ssize_t>(sizeof(reply))) {
            release(*s, "did not take the answer");
            return;
        }
    } catch (const std::exception& e) {
        spdlog::warn("VDE switch: '{}': {}: refused", r.description, e.what());
        ::close(stream);
        return;
    }
    spdlog::info("VDE switch: '{}' is port '{}'", r.description, _ports[s->port].name);
}

void bridge::release(slot& s, const char* why) {
    spdlog::info("VDE switch: '{}' on port '{}' {}", s.ep->peer(), _ports[s.port].name, why);
    s.ep->detach();
    ::close(s.stream);
    ::unlink(s.data_path.c_str());
    s.stream = -1;
    s.data_path.clear();
    _clients.fetch_sub(1, std::memory_order_relaxed);
    _departed[s.port].store(true, std::memory_order_relaxed);
    _any_departed.store(true, std::memory_order_release);
}

std::optional<nlohmann::json> bridge::state_of(size_t port) const {
    if (port >= _endpoints.size() || !_endpoints[port]) {
        return std::nullopt;
    }
    const endpoint& e = *_endpoints[port];
    nlohmann::json counters = nlohmann::json::object();
    for (size_t k = 0; k < counter_count; ++k) {
        counters[std::string(counter_names[k])] = e.stats().value[k].load(std::memory_order_relaxed);
    }
    const auto& v = *_ports[port].vde;
    nlohmann::json out{{"peer", e.peer()}, {"counters", counters}};
    if (v.switch_port) {
        out["vde_port"] = v.number ? nlohmann::json(*v.number) : nlohmann::json("any");
    } else {
        out["url"] = v.url;
    }
    return out;
}

} // namespace vx::vde

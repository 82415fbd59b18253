// SPDX-License-Identifier: MIT
#include "vuos-bridge/vde_bridge.hh"

#include <poll.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace vx::vde {

namespace {

// Whether `path` names a file directly in directory `dir`.
bool in_directory(const std::string& path, const std::string& dir) {
    return std::filesystem::path(path).lexically_normal().parent_path() ==
           std::filesystem::path(dir + "/").lexically_normal().parent_path();
}

// Removes `path` when it is a socket (a client's data socket); anything else stays.
void remove_if_socket(const std::string& path) {
    struct stat st {};
    if (!path.empty() && ::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
        ::unlink(path.c_str());
    }
}

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
// buffer of a pool of our own whose buffers hold the longest frame of any VDE port the switch
// starts with (a single segment: the workers read headers in the first one, and the frame is
// sent out whole). Only the I/O thread allocates from it; workers free into it. Enough for
// every jumbo port's in ring and receive burst, and one more ring of frames on their way out.
// Null when no VDE port needs it. It lives as long as the bridge: a frame of it may wait in
// any port's queue, so it cannot go with a port.
struct jumbo_pool {
    rte_mempool* pool = nullptr;
    uint32_t ports = 0;
};

jumbo_pool make_jumbo_pool(const config::model& m, rte_mempool* pool, uint16_t workers) {
    uint32_t longest = 0;
    uint32_t ports = 0;
    for (const auto& p : m.ports) {
        if (p.vde && !holds(pool, p)) {
            longest = std::max(longest, longest_frame(p));
            ++ports;
        }
    }
    if (ports == 0) {
        return {};
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
    return {jumbo, ports};
}

// The longest MTU whose frames a buffer of `pool` holds.
uint32_t mtu_held(rte_mempool* pool) {
    return frame_room(pool) - 1 - ether_header - 2 * vlan_tag;
}

} // namespace

bool has_vde_ports(const config::model& m) {
    return std::any_of(m.ports.begin(), m.ports.end(), [](const config::port& p) { return p.vde.has_value(); });
}

bridge::bridge(const config::model& startup, uint16_t tx_queues, rte_mempool* pool)
    : _tx_queues(tx_queues), _pool(pool), _roster(std::make_unique<roster>()), _published(_roster.get()),
      _serving(_roster.get()) {
    const auto jumbo = make_jumbo_pool(startup, pool, tx_queues);
    _jumbo_pool = jumbo.pool;
    _jumbo_ports = jumbo.ports;
}

bridge::~bridge() {
    stop();
    for (auto& m : _members) {
        if (m && m->stream >= 0) {
            release(*m, "vxswitchd stops");
        }
    }
    close_handshakes();
    _members.clear(); // their spare buffers and rings go back to the pools first
    _socket.reset();
    rte_mempool_free(_jumbo_pool);
}

// The switch's pool when it holds the port's frames, else the jumbo pool when it was made, holds
// them and has room for one more port.
rte_mempool* bridge::receive_pool(const config::port& p) const {
    if (holds(_pool, p)) {
        return _pool;
    }
    const auto on_jumbo = static_cast<uint32_t>(std::count_if(
        _members.begin(), _members.end(), [&](const auto& m) { return m && m->ep->pool() == _jumbo_pool; }));
    if (_jumbo_pool != nullptr && holds(_jumbo_pool, p) && on_jumbo < _jumbo_ports) {
        return _jumbo_pool;
    }
    const std::string jumbo =
        _jumbo_pool == nullptr
            ? std::string()
            : fmt::format(", and the VDE ports' own buffers (up to {} bytes, for {} port(s), {} in use) cannot take it",
                          frame_room(_jumbo_pool) - 1, _jumbo_ports, on_jumbo);
    throw std::runtime_error(fmt::format(
        "port '{}': mtu {} takes frames of up to {} bytes, longer than the packet pool's buffers hold ({}){}: buffers "
        "for longer frames are made when the switch starts, for the VDE ports its file has (a restart with this port "
        "in the file), or give the port mtu {} or less; nothing changed",
        p.name, p.mtu.value_or(config::default_mtu), longest_frame(p), frame_room(_pool) - 1, jumbo, mtu_held(_pool)));
}

std::string bridge::add(uint16_t slot, const config::port& p) {
    if (slot < _members.size() && _members[slot]) {
        throw std::logic_error(fmt::format("VDE bridge: slot {} has a member already", slot));
    }
    auto ep = std::make_unique<endpoint>(_next_id++, _tx_queues, receive_pool(p));
    if (!p.vde->switch_port) {
        try {
            ep->attach(open_url(p.vde->url, fmt::format("vxswitchd port {}", p.name)));
        } catch (const std::exception& e) {
            throw std::runtime_error(fmt::format("port '{}': {}", p.name, e.what()));
        }
        spdlog::info("port '{}': plugged into {}", p.name, p.vde->url);
    }
    if (slot >= _members.size()) {
        _members.resize(slot + 1);
    }
    std::string device = ep->device();
    _members[slot] = std::make_unique<member>(slot, p, std::move(ep));
    return device;
}

void bridge::discard(uint16_t slot) {
    if (slot >= _members.size() || !_members[slot]) {
        return;
    }
    if (std::find(_roster->members.begin(), _roster->members.end(), _members[slot].get()) != _roster->members.end()) {
        throw std::logic_error(fmt::format("VDE bridge: port '{}' is still served", _members[slot]->cfg.name));
    }
    _members[slot].reset();
}

void bridge::prepare_listener(const config::vde_listener& cfg) {
    if (_socket) {
        return;
    }
    _socket = std::make_unique<switch_socket>(cfg);
    spdlog::info("VDE switch: listening on {}/ctl (vde_plug vde://{})", _socket->path(), _socket->path());
}

void bridge::publish(const config::model& slotted) {
    auto next = std::make_unique<roster>();
    for (size_t s = 0; s < std::min(slotted.ports.size(), _members.size()); ++s) {
        if (_members[s] && slotted.ports[s].vde) {
            next->members.push_back(_members[s].get());
        }
    }
    next->socket = slotted.vde_switch ? _socket.get() : nullptr;
    if (next->members == _roster->members && next->socket == _roster->socket) {
        if (next->socket == nullptr) {
            _socket.reset(); // made for a change that did not happen
        }
        return;
    }
    next->generation = _roster->generation + 1;
    if (next->empty()) {
        stop(); // nothing left to serve: the thread goes, and what it held is ours
    }
    _published.store(next.get(), std::memory_order_release);
    if (running()) {
        wait_taken(next->generation);
    } else {
        take_roster();
    }
    std::swap(_roster, next);
    let_go(*next);
    if (!_roster->empty() && !running()) {
        start_thread();
    }
}

// Waits until the I/O thread serves `generation`: it has ended the round in which it might
// have held anything of the roster before.
void bridge::wait_taken(uint64_t generation) const {
    const auto since = std::chrono::steady_clock::now();
    bool said = false;
    while (_taken.load(std::memory_order_acquire) != generation) {
        std::this_thread::sleep_for(std::chrono::microseconds(20));
        if (!said && std::chrono::steady_clock::now() - since > std::chrono::seconds(1)) {
            spdlog::warn("VDE bridge: the I/O thread has not taken the new ports for 1 s (a peer's send blocks?)");
            said = true;
        }
    }
}

// After a publish(): what the old roster served and the new one does not is the control
// thread's alone; its peers are let go of.
void bridge::let_go(const roster& old) {
    for (member* m : old.members) {
        if (std::find(_roster->members.begin(), _roster->members.end(), m) != _roster->members.end()) {
            continue;
        }
        if (m->stream >= 0) {
            release(*m, "disconnected: its port was removed");
        } else if (m->ep->link() != nullptr) {
            spdlog::info("port '{}': unplugged from {}", m->cfg.name, m->cfg.vde->url);
            m->ep->detach(); // vde_close: a vde_switch there frees its port
        }
    }
    if (_roster->socket == nullptr && _socket) {
        spdlog::info("VDE switch: {}/ctl closed", _socket->path());
        _socket.reset();
    }
}

void bridge::start_thread() {
    _stop.store(false);
    _thread = std::thread([this] { run(); });
}

void bridge::stop() {
    _stop.store(true);
    if (_thread.joinable()) {
        _thread.join();
    }
}

void bridge::check_mtus(const config::model& next) const {
    for (const auto& m : _members) {
        if (!m || m->slot >= next.ports.size()) {
            continue;
        }
        const auto& p = next.ports[m->slot];
        if (p.vde && !holds(m->ep->pool(), p)) {
            throw std::runtime_error(fmt::format(
                "port '{}': mtu {} takes frames of up to {} bytes, longer than the port's VDE buffers "
                "(made at start for up to {}): a restart with the new mtu is needed; nothing changed",
                p.name, p.mtu.value_or(config::default_mtu), longest_frame(p), frame_room(m->ep->pool()) - 1));
        }
    }
}

void bridge::run() {
    while (!_stop.load(std::memory_order_relaxed)) {
        run_once(idle_wait);
    }
}

unsigned bridge::run_once(std::chrono::milliseconds wait) {
    take_roster();
    unsigned moved = 0;
    for (member* m : _serving->members) {
        moved += m->ep->pump();
    }
    if (moved == 0) {
        serve(wait);
    } else if (++_busy_rounds % serve_every == 0) {
        serve(std::chrono::milliseconds{0});
    }
    return moved;
}

// Between two rounds: the roster published last becomes the one served, and says so.
void bridge::take_roster() {
    const roster* r = _published.load(std::memory_order_acquire);
    if (r == _serving) {
        return;
    }
    _serving = r;
    if (r->socket == nullptr) {
        close_handshakes(); // clients still connecting to a socket that is going
    }
    _taken.store(r->generation, std::memory_order_release);
}

// Waits for any socket (frames from a peer, a client at ctl, a handshake, a client leaving)
// and serves the switch's sockets. Frames themselves are moved by the endpoints' pump().
void bridge::serve(std::chrono::milliseconds wait) {
    std::vector<pollfd> fds;
    for (const member* m : _serving->members) {
        if (m->ep->link() && m->ep->takes_frames()) { // a full ring would wake poll() at once
            fds.push_back({m->ep->link()->fd(), POLLIN, 0});
        }
    }
    const size_t control_from = fds.size();
    switch_socket* socket = _serving->socket;
    if (socket) {
        fds.push_back({socket->fd(), POLLIN, 0});
    }
    for (const auto& h : _handshakes) {
        fds.push_back({h.fd, POLLIN, 0});
    }
    for (const member* m : _serving->members) {
        if (m->stream >= 0) {
            fds.push_back({m->stream, POLLIN, 0});
        }
    }
    if (::poll(fds.data(), fds.size(), static_cast<int>(wait.count())) <= 0 || !socket) {
        return;
    }
    size_t k = control_from;
    const bool incoming = (fds[k++].revents & POLLIN) != 0;
    const size_t handshakes_from = k;
    k += _handshakes.size();
    // The clients' streams before the handshakes: a handshake may bind a client, whose stream
    // was not polled (and has no place in fds).
    for (member* m : _serving->members) {
        if (m->stream < 0) {
            continue;
        }
        if (fds[k++].revents != 0) {
            // After the handshake the stream is silent; EOF (or an error) means the client left.
            std::array<char, 256> junk{};
            const ssize_t n = ::read(m->stream, junk.data(), junk.size());
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                release(*m, "left");
                m->departed.store(true, std::memory_order_relaxed);
                _any_departed.store(true, std::memory_order_release);
            }
        }
    }
    for (size_t i = 0; i < _handshakes.size(); ++i) {
        if (fds[handshakes_from + i].revents != 0) {
            read_handshake(_handshakes[i]);
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
    while ((fd = _serving->socket->accept_client()) >= 0) {
        if (_handshakes.size() >= max_handshakes) {
            spdlog::warn("VDE switch: {} clients are already connecting: one more refused", max_handshakes);
            ::close(fd);
            continue;
        }
        _handshakes.push_back({fd, {}, std::chrono::steady_clock::now()});
    }
}

void bridge::close_handshakes() {
    for (auto& h : _handshakes) {
        ::close(h.fd);
    }
    _handshakes.clear();
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

bridge::member* bridge::choose_slot(uint16_t number) const {
    const auto& ms = _serving->members;
    auto is_slot = [](const member* m) { return m->cfg.vde->switch_port; };
    if (number != 0) {
        const auto it = std::find_if(ms.begin(), ms.end(),
                                     [&](const member* m) { return is_slot(m) && m->cfg.vde->number == number; });
        if (it != ms.end()) {
            return (*it)->stream < 0 ? *it : nullptr;
        }
    }
    const auto it = std::find_if(ms.begin(), ms.end(),
                                 [&](const member* m) { return is_slot(m) && !m->cfg.vde->number && m->stream < 0; });
    return it == ms.end() ? nullptr : *it;
}

void bridge::bind_client(int stream, const request& r) {
    member* m = choose_slot(r.port);
    if (m == nullptr) {
        spdlog::warn("VDE switch: no free port for '{}' (asked for {}): refused", r.description,
                     r.port == 0 ? std::string("any port") : fmt::format("port {}", r.port));
        ::close(stream);
        return;
    }
    try {
        auto [fd, path] = _serving->socket->make_data_socket(r.client_socket, m->slot);
        sockaddr_un reply{};
        reply.sun_family = AF_UNIX;
        std::memcpy(reply.sun_path, path.c_str(), path.size() + 1);
        m->ep->attach(std::make_unique<datagram_link>(fd, r.description)); // owns fd from here
        m->stream = stream;
        m->data_path = path;
        m->client_path = in_directory(r.client_socket, _serving->socket->path()) ? r.client_socket : std::string();
        _clients.fetch_add(1, std::memory_order_relaxed);
        if (::write(stream, &reply, sizeof(reply)) != static_cast<ssize_t>(sizeof(reply))) {
            release(*m, "did not take the answer");
            return;
        }
    } catch (const std::exception& e) {
        spdlog::warn("VDE switch: '{}': {}: refused", r.description, e.what());
        ::close(stream);
        return;
    }
    spdlog::info("VDE switch: '{}' is port '{}'", r.description, m->cfg.name);
}

// Unbinds the client of `m`: its link (our data socket) and control stream closed, whereupon
// the client sees the switch go, and our data socket's file removed. So is the client's, if it
// is still there: libvdeplug binds it in our directory and unlinks it only once the handshake
// is done, so a client killed in between leaves it behind for good.
void bridge::release(member& m, const char* why) {
    spdlog::info("VDE switch: '{}' on port '{}' {}", m.ep->peer(), m.cfg.name, why);
    m.ep->detach();
    ::close(m.stream);
    ::unlink(m.data_path.c_str());
    remove_if_socket(m.client_path);
    m.stream = -1;
    m.data_path.clear();
    m.client_path.clear();
    _clients.fetch_sub(1, std::memory_order_relaxed);
}

std::optional<nlohmann::json> bridge::state_of(size_t slot) const {
    if (slot >= _members.size() || !_members[slot]) {
        return std::nullopt;
    }
    const member& m = *_members[slot];
    const endpoint& e = *m.ep;
    nlohmann::json counters = nlohmann::json::object();
    for (size_t k = 0; k < counter_count; ++k) {
        counters[std::string(counter_infos[k].name)] = e.stats().value[k].load(std::memory_order_relaxed);
    }
    const auto& v = *m.cfg.vde;
    nlohmann::json out{{"peer", e.peer()}, {"counters", counters}, {"device", e.device()}};
    if (v.switch_port) {
        out["vde_port"] = v.number ? nlohmann::json(*v.number) : nlohmann::json("any");
    } else {
        out["url"] = v.url;
    }
    return out;
}

} // namespace vx::vde

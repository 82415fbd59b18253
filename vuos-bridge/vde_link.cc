// SPDX-License-Identifier: MIT
#include "vuos-bridge/vde_link.hh"

extern "C" { // libvdeplug.h declares C functions without saying so
#include <libvdeplug.h>
}
#include <poll.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace vx::vde {

namespace {

constexpr uint16_t max_burst = 64;
constexpr size_t ether_header = 14;
// A frame in more buffers than this is dropped as out_error (the pool's buffers hold a
// whole frame up to their data room; chains come only from elsewhere).
constexpr uint16_t max_segments = 8;
// The longest chained frame a plug_link gathers for vde_send (the longest any mbuf holds).
constexpr size_t max_gathered_frame = UINT16_MAX;

uint16_t room_of(const rte_mbuf* m) {
    return static_cast<uint16_t>(rte_pktmbuf_tailroom(m));
}

// Moves the frames kept (keep[i]) to the front of mbufs, preserving their order; the dropped
// buffers go behind them, still owned by the caller.
uint16_t keep_front(rte_mbuf** mbufs, const bool* keep, uint16_t n) {
    std::array<rte_mbuf*, max_burst> dropped{};
    uint16_t kept = 0;
    uint16_t lost = 0;
    for (uint16_t i = 0; i < n; ++i) {
        if (keep[i]) {
            mbufs[kept++] = mbufs[i];
        } else {
            dropped[lost++] = mbufs[i];
        }
    }
    std::copy_n(dropped.begin(), lost, mbufs + kept);
    return kept;
}

int fcntl_dup(int fd) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) {
        throw std::runtime_error(fmt::format("cannot duplicate a VDE data socket: {}", std::strerror(errno)));
    }
    return copy;
}

void set_length(rte_mbuf* m, size_t len) {
    m->data_len = static_cast<uint16_t>(len);
    m->pkt_len = static_cast<uint32_t>(len);
}

// libvdeplug's vde:// connection: its data fd carries bare frames, so the datagram path
// (batched, never blocking) serves it; the VDECONN stays open for its control stream, whose
// closing is how the switch learns we left.
class plugged_datagram_link final : public datagram_link {
public:
    plugged_datagram_link(VDECONN* conn, const std::string& url)
        : datagram_link(fcntl_dup(vde_datafd(conn)), url), _conn(conn) {}
    ~plugged_datagram_link() override { vde_close(_conn); }
    plugged_datagram_link(const plugged_datagram_link&) = delete;
    plugged_datagram_link& operator=(const plugged_datagram_link&) = delete;

private:
    VDECONN* _conn;
};

// Any other plugin: its own framing (vxvde's header and learning, tap's fd, ...).
class plug_link final : public vde_link {
public:
    plug_link(VDECONN* conn, std::string url) : _conn(conn), _url(std::move(url)) {}
    ~plug_link() override { vde_close(_conn); }
    plug_link(const plug_link&) = delete;
    plug_link& operator=(const plug_link&) = delete;

    int fd() const override { return vde_datafd(_conn); }
    std::string peer() const override { return _url; }

    uint16_t receive(rte_mbuf** mbufs, uint16_t n, counters& c) override {
        std::array<bool, max_burst> keep{};
        n = std::min(n, max_burst);
        uint16_t tried = 0;
        pollfd p{fd(), POLLIN, 0};
        while (tried < n && ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0) {
            rte_mbuf* m = mbufs[tried];
            const uint16_t room = room_of(m);
            const ssize_t len = vde_recv(_conn, rte_pktmbuf_mtod(m, void*), room, 0);
            // vxvde answers 1 for what it rejects (its own frames, another VNI): the plugin's
            // own filtering, neither a frame nor a drop of ours.
            constexpr ssize_t plugin_filtered = 1;
            keep[tried] = len >= static_cast<ssize_t>(ether_header) && len < room;
            if (len >= room) {
                c.add(counter::in_oversize, 1); // a datagram filling the buffer may have been cut
            } else if (len >= 0 && len != plugin_filtered && !keep[tried]) {
                c.add(counter::in_discarded, 1);
            }
            if (keep[tried]) {
                set_length(m, static_cast<size_t>(len));
            }
            ++tried;
            if (len < 0) {
                break;
            }
        }
        return keep_front(mbufs, keep.data(), tried);
    }

    uint16_t send(rte_mbuf* const* mbufs, uint16_t n, counters& c) override {
        uint16_t sent = 0;
        for (uint16_t i = 0; i < n; ++i) {
            rte_mbuf* m = mbufs[i];
            // vde_send takes one buffer: a chain (a flooded jumbo frame's copy) is gathered first.
            const void* frame = m->pkt_len <= _gather.size() ? rte_pktmbuf_read(m, 0, m->pkt_len, _gather.data())
                                                             : nullptr;
            if (frame == nullptr) {
                c.add(counter::out_error, 1);
                continue;
            }
            if (vde_send(_conn, frame, m->pkt_len, 0) >= 0) {
                ++sent;
            } else {
                c.add(errno == EAGAIN || errno == ENOBUFS ? counter::out_socket_full : counter::out_error, 1);
            }
        }
        return sent;
    }

private:
    VDECONN* _conn;
    std::string _url;
    std::vector<std::byte> _gather = std::vector<std::byte>(max_gathered_frame);
};

} // namespace

datagram_link::datagram_link(int fd, std::string peer) : _fd(fd), _peer(std::move(peer)) {}

datagram_link::~datagram_link() {
    ::close(_fd);
}

uint16_t datagram_link::receive(rte_mbuf** mbufs, uint16_t n, counters& c) {
    n = std::min(n, max_burst);
    std::array<mmsghdr, max_burst> msgs{};
    std::array<iovec, max_burst> iov{};
    for (uint16_t i = 0; i < n; ++i) {
        iov[i] = {rte_pktmbuf_mtod(mbufs[i], void*), room_of(mbufs[i])};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int got = ::recvmmsg(_fd, msgs.data(), n, MSG_DONTWAIT, nullptr);
    if (got <= 0) {
        return 0;
    }
    std::array<bool, max_burst> keep{};
    for (int i = 0; i < got; ++i) {
        const auto& h = msgs[i];
        if ((h.msg_hdr.msg_flags & MSG_TRUNC) != 0) {
            c.add(counter::in_oversize, 1);
        } else if (h.msg_len < ether_header) {
            c.add(counter::in_discarded, 1);
        } else {
            keep[i] = true;
            set_length(mbufs[i], h.msg_len);
        }
    }
    return keep_front(mbufs, keep.data(), static_cast<uint16_t>(got));
}

uint16_t datagram_link::send(rte_mbuf* const* mbufs, uint16_t n, counters& c) {
    n = std::min(n, max_burst);
    std::array<mmsghdr, max_burst> msgs{};
    std::array<iovec, size_t{max_burst} * max_segments> iov{};
    uint16_t count = 0;
    size_t used = 0;
    for (uint16_t i = 0; i < n; ++i) {
        const rte_mbuf* m = mbufs[i];
        if (m->nb_segs > max_segments) {
            c.add(counter::out_error, 1);
            continue;
        }
        msgs[count].msg_hdr.msg_iov = &iov[used];
        for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
            iov[used++] = {rte_pktmbuf_mtod(s, void*), s->data_len};
        }
        msgs[count++].msg_hdr.msg_iovlen = m->nb_segs;
    }
    uint16_t done = 0;  // datagrams sent or refused
    uint16_t taken = 0; // datagrams sent
    while (done < count) {
        const int rc = ::sendmmsg(_fd, &msgs[done], count - done, MSG_DONTWAIT);
        if (rc > 0) {
            done = static_cast<uint16_t>(done + rc);
            taken = static_cast<uint16_t>(taken + rc);
        } else if (errno == EAGAIN || errno == ENOBUFS) {
            c.add(counter::out_socket_full, count - done);
            break;
        } else {
            // This datagram was refused (too large, peer gone): count it, go on with the rest.
            c.add(counter::out_error, 1);
            ++done;
        }
    }
    return taken;
}

std::unique_ptr<vde_link> open_url(const std::string& url, const std::string& description) {
    std::string u = url;
    std::string d = description;
    VDECONN* conn = vde_open(u.data(), d.data(), nullptr);
    if (conn == nullptr) {
        throw std::runtime_error(fmt::format("libvdeplug cannot open '{}': {}", url, std::strerror(errno)));
    }
    if (url.starts_with("vde://")) {
        return std::make_unique<plugged_datagram_link>(conn, url);
    }
    return std::make_unique<plug_link>(conn, url);
}

} // namespace vx::vde

// SPDX-License-Identifier: MIT
#pragma once

// vde_link: how frames cross between one VDE endpoint's rings and its peer. Used by the VDE
// I/O thread only, a burst at a time (one virtual call per burst, never per frame).
//
// - datagram_link: a unix datagram socket with one frame per datagram (the vde_switch data
//   protocol): recvmmsg/sendmmsg, MSG_DONTWAIT both ways, so a full peer socket costs its
//   frames (out_socket_full), never a wait. Connections to vxswitchd's own VDE switch and
//   libvdeplug's vde:// and ptp:// connections use it (their data socket carries bare frames).
// - plug_link: any other libvdeplug URL (vxvde://, vxlan://, udp://, tap://, ...), through
//   vde_recv/vde_send, whose plugin owns the wire format. One frame per call, and only
//   after poll() said the data fd is readable, since some plugins block in recv.

#include <cstdint>
#include <memory>
#include <string>

#include "vuos-bridge/vde_counters.hh"

struct rte_mbuf;
struct vdeconn;

namespace vx::vde {

class vde_link {
public:
    virtual ~vde_link() = default;
    // The fd that polls readable when frames wait.
    virtual int fd() const = 0;
    // Receives up to n frames into mbufs[0..n) (empty, single-segment, from the pool). The
    // frames received are moved to the front; returns how many. Drops are counted in c.
    virtual uint16_t receive(rte_mbuf** mbufs, uint16_t n, counters& c) = 0;
    // Sends mbufs[0..n); returns how many the peer took. The caller frees them all.
    virtual uint16_t send(rte_mbuf* const* mbufs, uint16_t n, counters& c) = 0;
    // A line for the log and the state file: who is on the other side.
    virtual std::string peer() const = 0;
};

// Opens a libvdeplug URL (vde_open): a datagram_link for vde:// and ptp://, a plug_link for
// the rest. Throws std::runtime_error naming the URL and libvdeplug's reason.
std::unique_ptr<vde_link> open_url(const std::string& url, const std::string& description);

// A connected unix datagram socket; the link owns and closes `fd`.
class datagram_link : public vde_link {
public:
    explicit datagram_link(int fd, std::string peer);
    ~datagram_link() override;
    datagram_link(const datagram_link&) = delete;
    datagram_link& operator=(const datagram_link&) = delete;

    int fd() const override { return _fd; }
    uint16_t receive(rte_mbuf** mbufs, uint16_t n, counters& c) override;
    uint16_t send(rte_mbuf* const* mbufs, uint16_t n, counters& c) override;
    std::string peer() const override { return _peer; }

private:
    int _fd;
    std::string _peer;
};

} // namespace vx::vde

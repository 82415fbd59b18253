// SPDX-License-Identifier: MIT
#pragma once

// Whether an af_xdp port's AF_XDP sockets got zero-copy or copy mode.
//
// DPDK's net_af_xdp creates and binds the sockets itself, without XDP_COPY or XDP_ZEROCOPY, so
// the kernel gives zero-copy where the driver supports it and copies otherwise; DPDK 22.11
// says nothing about which. The daemon finds out: the AF_XDP sockets open after the port was
// made that were not open before are the port's (SO_DOMAIN tells an AF_XDP socket), and each
// says its mode through getsockopt(SOL_XDP, XDP_OPTIONS). (getsockname, which would give a
// socket's interface and queue, is not implemented for AF_XDP, and this kernel has no
// xdp_diag, so the sockets are told apart by when they appeared, not by where they are bound.)
// Control thread, at start: a few syscalls per open descriptor.

#include <string>
#include <vector>

namespace vx {

struct xsk_socket_mode {
    int fd = -1;
    bool zero_copy = false;
};

// True when descriptor `fd` is an AF_XDP socket.
bool is_af_xdp_socket(int fd);

// Every descriptor this process has open (/proc/self/fd).
std::vector<int> open_fds();

// The AF_XDP sockets this process has open, by descriptor.
std::vector<xsk_socket_mode> open_xsk_sockets();

// Those of `after` whose descriptor `before` has not.
std::vector<xsk_socket_mode> new_xsk_sockets(const std::vector<xsk_socket_mode>& before,
                                             const std::vector<xsk_socket_mode>& after);

// "zero-copy", "copy", "mixed" (some of each) or "unknown" (none found).
std::string xsk_mode(const std::vector<xsk_socket_mode>& sockets);

// The log line's text after "port 'NAME': ", e.g. "AF_XDP socket on eth0 queue 0 in copy mode
// (...)"; `queues` is how many the port opened (from queue 0).
std::string describe_xsk_modes(const std::string& iface, unsigned queues, const std::vector<xsk_socket_mode>& sockets);

} // namespace vx

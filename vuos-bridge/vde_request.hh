// SPDX-License-Identifier: MIT
#pragma once

// The vde_switch connection protocol, as libvdeplug's vde:// plugin speaks it (vdeplug4
// libvdeplug_vde.c; docs/vde.md has the whole exchange). A client connects to the switch's
// `ctl` stream socket and sends one request_v3, truncated after its description's text:
//
//   uint32 magic 0xfeedface | uint32 version 3 | uint32 type | sockaddr_un sock | char descr[]
//
// host byte order, packed. `type` is 0 (any port) plus port << 8 when the client asks for
// port N (vde:///dir[N]), or 1 for port 0. `sock` is the client's own datagram socket; the
// switch answers with its datagram socket's sockaddr_un and frames flow, one per datagram.
//
// Pure functions over bytes, so that the parser is tested (and refuses garbage) on its own.

#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>

namespace vx::vde {

inline constexpr uint32_t request_magic = 0xfeedface;
inline constexpr uint32_t request_version = 3;
inline constexpr size_t max_description = 128; // MAXDESCR in libvdeplug
// magic, version and type, then the whole sockaddr_un: a shorter request is not complete.
inline constexpr size_t request_min_size = 3 * sizeof(uint32_t) + sizeof(sockaddr_un);
inline constexpr size_t request_max_size = request_min_size + max_description;

struct request {
    uint16_t port = 0;         // the port number asked for; 0: any
    std::string client_socket; // absolute path of the client's datagram socket
    std::string description;   // "vde_plug user=root PID=..."
};

// Why a request was refused, for the log line naming the client.
struct request_error {
    std::string what;
};

// Parses a complete request (at least request_min_size bytes; bytes beyond
// request_max_size are ignored).
std::variant<request, request_error> parse_request(std::span<const std::byte> bytes);

// A request as libvdeplug sends it (tests, and the vde:// peers vxswitch plays itself).
std::string encode_request(uint32_t type, const std::string& client_socket, const std::string& description);

} // namespace vx::vde

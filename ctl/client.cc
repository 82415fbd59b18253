// SPDX-License-Identifier: MIT
#include "ctl/client.hh"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace vx::ctl {

namespace {

std::string connect_problem(const std::string& path, int err) {
    switch (err) {
    case ENOENT:
        return fmt::format("cannot reach vxswitchd: no socket at {} (is vxswitchd running? is -s/--socket right?)",
                           path);
    case EACCES:
    case EPERM:
        return fmt::format("permission denied on {}: vxctl must run as root or as a member of the socket's group "
                           "(control.group in the configuration)",
                           path);
    case ECONNREFUSED:
        return fmt::format("cannot reach vxswitchd: nothing listens on {} (a stopped daemon's socket?)", path);
    default:
        return fmt::format("cannot connect to {}: {}", path, std::strerror(err));
    }
}

} // namespace

client::client(const std::string& socket_path, std::chrono::milliseconds timeout)
    : _path(socket_path), _timeout(timeout) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path)) {
        throw connection_error(fmt::format("'{}' is not a usable socket path (1 to {} bytes)", socket_path,
                                           sizeof(addr.sun_path) - 1));
    }
    std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
    _fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (_fd < 0) {
        throw connection_error(fmt::format("socket(): {}", std::strerror(errno)));
    }
    if (::connect(_fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        const int err = errno;
        ::close(_fd);
        throw connection_error(connect_problem(socket_path, err));
    }
}

client::~client() {
    ::close(_fd);
}

void client::send_line(const std::string& line) {
    const std::string data = line + '\n';
    for (size_t sent = 0; sent < data.size();) {
        const ssize_t n = ::send(_fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw connection_error(fmt::format("cannot send to {}: {}", _path, std::strerror(errno)));
        }
        sent += static_cast<size_t>(n);
    }
}

std::string client::receive_line() {
    const auto deadline = std::chrono::steady_clock::now() + _timeout;
    for (;;) {
        if (const auto end = _pending.find('\n'); end != std::string::npos) {
            std::string line = _pending.substr(0, end);
            _pending.erase(0, end + 1);
            return line;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{_fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
        if (ready == 0) {
            throw connection_error(fmt::format("vxswitchd did not answer within {} s", _timeout.count() / 1000.0));
        }
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw connection_error(fmt::format("poll(): {}", std::strerror(errno)));
        }
        char buf[65536];
        const ssize_t n = ::recv(_fd, buf, sizeof(buf), 0);
        if (n == 0) {
            throw connection_error("vxswitchd closed the connection without answering");
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw connection_error(fmt::format("cannot read from {}: {}", _path, std::strerror(errno)));
        }
        _pending.append(buf, static_cast<size_t>(n));
    }
}

response client::call(const request& r) {
    send_line(encode(r));
    const std::string line = receive_line();
    try {
        return parse_response(line);
    } catch (const request_error& e) {
        throw connection_error(e.what());
    }
}

} // namespace vx::ctl

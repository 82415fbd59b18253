// SPDX-License-Identifier: MIT
#include "vuos-bridge/vde_switch_socket.hh"

#include "daemon/unix_socket.hh"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace vx::vde {

namespace {

std::runtime_error system_error(const std::string& what, int err = errno) {
    return std::runtime_error(fmt::format("{}: {}", what, std::strerror(err)));
}

sockaddr_un address_of(const std::string& path) {
    return unix_socket::address_of(path, "vde_switch: socket");
}

// A name or a number, as chown(1) takes them; empty: `fallback`.
template <class Id, class Entry>
Id id_named(const std::string& name, Id fallback, Entry* (*lookup)(const char*), Id Entry::*field, const char* what) {
    if (name.empty()) {
        return fallback;
    }
    Id id{};
    if (const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
        ec == std::errc{} && end == name.data() + name.size()) {
        return id;
    }
    const Entry* e = lookup(name.c_str()); // start-up only, before the I/O thread runs
    if (e == nullptr) {
        throw std::runtime_error(fmt::format("vde_switch.{}: there is no {} named '{}'", what, what, name));
    }
    return e->*field;
}

void own(const std::string& path, uid_t owner, gid_t group, mode_t mode) {
    if (::chown(path.c_str(), owner, group) != 0 || ::chmod(path.c_str(), mode) != 0) {
        throw system_error(fmt::format("vde_switch: cannot set the owner and mode of {}", path));
    }
}

} // namespace

switch_socket::switch_socket(const config::vde_listener& cfg)
    : _dir(cfg.path), _ctl(cfg.path + "/ctl"),
      _owner(id_named<uid_t, passwd>(cfg.owner, ::geteuid(), ::getpwnam, &passwd::pw_uid, "owner")),
      _group(id_named<gid_t, group>(cfg.group, ::getegid(), ::getgrnam, &group::gr_gid, "group")),
      _mode(cfg.mode.value_or(0660)) {
    const auto ctl = address_of(_ctl);
    struct stat st {};
    if (::stat(_dir.c_str(), &st) != 0) {
        if (::mkdir(_dir.c_str(), 0700) != 0) {
            throw system_error(fmt::format("vde_switch: cannot create {}", _dir));
        }
    } else if (!S_ISDIR(st.st_mode)) {
        throw std::runtime_error(fmt::format("vde_switch: {} is not a directory", _dir));
    }
    // r and w of the sockets' mode become rwx on the directory (clients create files there).
    const mode_t dir_mode = 0700 | ((_mode & 0060) != 0 ? 0070 : 0) | ((_mode & 0006) != 0 ? 0007 : 0);
    own(_dir, _owner, _group, dir_mode);
    unix_socket::remove_stale(_ctl, "vde_switch: socket"); // a ctl that a dead switch left
    _fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (_fd < 0) {
        throw system_error("vde_switch: socket()");
    }
    // Owned and moded before listen(): until then every connect() is refused.
    if (::bind(_fd, reinterpret_cast<const sockaddr*>(&ctl), sizeof(ctl)) != 0) {
        const int err = errno;
        ::close(_fd);
        throw system_error(fmt::format("vde_switch: cannot bind {}", _ctl), err);
    }
    try {
        own(_ctl, _owner, _group, _mode);
    } catch (...) {
        ::close(_fd);
        ::unlink(_ctl.c_str());
        throw;
    }
    if (::listen(_fd, 64) != 0) {
        const int err = errno;
        ::close(_fd);
        ::unlink(_ctl.c_str());
        throw system_error(fmt::format("vde_switch: cannot listen on {}", _ctl), err);
    }
}

switch_socket::~switch_socket() {
    ::close(_fd);
    ::unlink(_ctl.c_str());
}

int switch_socket::accept_client() const {
    return ::accept4(_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

std::pair<int, std::string> switch_socket::make_data_socket(const std::string& client_socket, unsigned port_index) {
    const std::string path = fmt::format("{}/.vx{:04}-{:05}", _dir, port_index, ++_made % 100000);
    const auto ours = address_of(path);
    const auto theirs = address_of(client_socket);
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw system_error("vde_switch: data socket");
    }
    ::unlink(path.c_str()); // one of a previous run's
    try {
        if (::bind(fd, reinterpret_cast<const sockaddr*>(&ours), sizeof(ours)) != 0) {
            throw system_error(fmt::format("cannot bind {}", path));
        }
        own(path, _owner, _group, _mode);
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&theirs), sizeof(theirs)) != 0) {
            throw system_error(fmt::format("cannot reach the client's data socket {}", client_socket));
        }
    } catch (...) {
        ::close(fd);
        ::unlink(path.c_str());
        throw;
    }
    return {fd, path};
}

} // namespace vx::vde

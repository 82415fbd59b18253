// SPDX-License-Identifier: MIT
#include "daemon/control_server.hh"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "ctl/protocol.hh"
#include "daemon/unix_socket.hh"

namespace vx::control {

// ---- job_inbox ----

nlohmann::json job_inbox::call(job fn, std::chrono::milliseconds timeout) {
    auto t = std::make_shared<task>();
    t->fn = std::move(fn);
    auto answer = t->answer.get_future();
    {
        std::lock_guard lock(_mutex);
        if (_closed) {
            throw ctl::request_error("the daemon is stopping");
        }
        _tasks.push_back(std::move(t));
        _waiting.store(_tasks.size(), std::memory_order_release);
    }
    if (answer.wait_for(timeout) != std::future_status::ready) {
        throw ctl::request_error(
            fmt::format("the daemon's control thread did not answer within {} ms", timeout.count()));
    }
    return answer.get();
}

size_t job_inbox::run_pending() {
    if (_waiting.load(std::memory_order_acquire) == 0) {
        return 0;
    }
    std::deque<std::shared_ptr<task>> batch;
    {
        std::lock_guard lock(_mutex);
        batch.swap(_tasks);
        _waiting.store(0, std::memory_order_release);
    }
    for (auto& t : batch) {
        try {
            t->answer.set_value(t->fn());
        } catch (...) {
            t->answer.set_exception(std::current_exception());
        }
    }
    return batch.size();
}

void job_inbox::close() {
    std::lock_guard lock(_mutex);
    _closed = true;
    for (auto& t : _tasks) {
        t->answer.set_exception(std::make_exception_ptr(ctl::request_error("the daemon is stopping")));
    }
    _tasks.clear();
    _waiting.store(0, std::memory_order_release);
}

// ---- who may use the socket ----

namespace {

constexpr size_t max_clients = 64;
constexpr size_t read_chunk = 64 * 1024;
// A client that does not read its answers stops being read once this much waits for it.
constexpr size_t max_pending_output = 8u << 20;

std::runtime_error system_error(const std::string& what, int err = errno) {
    return std::runtime_error(fmt::format("{}: {}", what, std::strerror(err)));
}

template <class Id>
std::optional<Id> numeric_id(const std::string& text) {
    Id v{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    return ec == std::errc{} && end == text.data() + text.size() ? std::optional{v} : std::nullopt;
}

uid_t user_id(const std::string& name) {
    if (name.empty()) {
        return geteuid();
    }
    if (const auto id = numeric_id<uid_t>(name)) {
        return *id;
    }
    const passwd* pw = getpwnam(name.c_str()); // start-up only, before any other thread looks users up
    if (pw == nullptr) {
        throw std::runtime_error(fmt::format("control.owner: no user is named '{}'", name));
    }
    return pw->pw_uid;
}

std::optional<gid_t> group_id(const std::string& name) {
    if (const auto id = numeric_id<gid_t>(name)) {
        return *id;
    }
    const group* gr = getgrnam(name.c_str());
    return gr == nullptr ? std::nullopt : std::optional{gr->gr_gid};
}

} // namespace

socket_access resolve_access(const config::control_channel& c) {
    socket_access a;
    a.path = c.socket;
    a.owner = user_id(c.owner);
    std::optional<gid_t> gid;
    if (!c.group.empty()) {
        gid = group_id(c.group);
        if (!gid) {
            throw std::runtime_error(fmt::format("control.group: no group is named '{}'", c.group));
        }
        a.group_name = c.group;
    } else if ((gid = group_id("vxswitch"))) {
        a.group_name = "vxswitch";
    }
    // Without a group to share it with, the socket is its owner's alone (root, normally).
    a.group = gid.value_or(getegid());
    a.mode = c.mode ? *c.mode : (gid ? 0660 : 0600);
    return a;
}

// ---- the socket ----

namespace {

// The directory is made only when missing, and only its last component, like systemd's
// RuntimeDirectory: its owner's, and open to the socket's group (or others) only as far as
// the socket's own mode lets them in.
void ensure_directory(const socket_access& a) {
    const auto dir = std::filesystem::path(a.path).parent_path();
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            throw std::runtime_error(fmt::format("control socket {}: {} is not a directory", a.path, dir.string()));
        }
        return;
    }
    const mode_t dir_mode = 0700 | ((a.mode & 0070) != 0 ? 0050 : 0) | ((a.mode & 0007) != 0 ? 0005 : 0);
    if (::mkdir(dir.c_str(), dir_mode) != 0 && errno != EEXIST) {
        throw system_error(fmt::format("control socket {}: cannot create {}", a.path, dir.string()));
    }
    if (::chown(dir.c_str(), a.owner, a.group) != 0 || ::chmod(dir.c_str(), dir_mode) != 0) {
        throw system_error(fmt::format("control socket {}: cannot set the owner and mode of {}", a.path,
                                       dir.string()));
    }
}

// Bound, owned and moded before listen(): until then a connect() is refused, so there is no
// moment when the socket is open with the wrong permissions.
int make_listener(const socket_access& a, ino_t& inode) {
    const auto addr = unix_socket::address_of(a.path, "control socket");
    ensure_directory(a);
    unix_socket::remove_stale(a.path, "control socket"); // one a daemon that died left
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        throw system_error("control socket: socket()");
    }
    struct stat st {};
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        const int err = errno;
        ::close(fd);
        throw system_error(fmt::format("control socket {}: cannot bind", a.path), err);
    }
    if (::chown(a.path.c_str(), a.owner, a.group) != 0 || ::chmod(a.path.c_str(), a.mode) != 0 ||
        ::stat(a.path.c_str(), &st) != 0 || ::listen(fd, 16) != 0) {
        const int err = errno;
        ::close(fd);
        ::unlink(a.path.c_str());
        throw system_error(fmt::format("control socket {}: cannot set its owner and mode, or listen", a.path), err);
    }
    inode = st.st_ino;
    return fd;
}

} // namespace

struct server::connection {
    int fd = -1;
    std::string in;
    std::string out;
    bool closing = false; // answer what was asked, then close
};

server::server(const socket_access& access, handler h) : _path(access.path), _handler(std::move(h)) {
    _listen_fd = make_listener(access, _inode);
    _wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (_wake_fd < 0) {
        const int err = errno;
        ::close(_listen_fd);
        ::unlink(_path.c_str());
        throw system_error("control socket: eventfd()", err);
    }
    spdlog::info("control: serving {} (owner uid {}, group {}, mode {:04o})", _path, access.owner,
                 access.group_name.empty() ? fmt::format("gid {}", access.group) : access.group_name,
                 static_cast<unsigned>(access.mode));
    _thread = std::thread([this] { loop(); });
}

server::~server() {
    _stopping.store(true);
    const uint64_t one = 1;
    if (::write(_wake_fd, &one, sizeof(one)) < 0) {
        spdlog::warn("control: cannot wake the server thread: {}", std::strerror(errno));
    }
    _thread.join();
    for (const auto& c : _clients) {
        ::close(c->fd);
    }
    ::close(_wake_fd);
    ::close(_listen_fd);
    // Remove the file only if it is still ours: a daemon started since may have replaced it.
    struct stat st {};
    if (::lstat(_path.c_str(), &st) == 0 && st.st_ino == _inode) {
        ::unlink(_path.c_str());
    }
}

void server::accept_clients() {
    for (;;) {
        const int fd = ::accept4(_listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                spdlog::warn("control: accept: {}", std::strerror(errno));
            }
            return;
        }
        auto c = std::make_unique<connection>();
        c->fd = fd;
        if (_clients.size() >= max_clients) {
            c->out = ctl::error_response(fmt::format("too many connections (at most {})", max_clients)) + '\n';
            c->closing = true;
        }
        ucred peer{};
        socklen_t len = sizeof(peer);
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0) {
            spdlog::debug("control: connection from pid {} uid {}", peer.pid, peer.uid);
        }
        _clients.push_back(std::move(c));
    }
}

bool server::serve(connection& c) {
    char buf[read_chunk];
    for (;;) {
        const ssize_t n = ::recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            c.in.append(buf, static_cast<size_t>(n));
            if (c.in.size() > ctl::max_request_bytes) {
                break;
            }
            continue;
        }
        if (n == 0) {
            c.closing = true; // the peer is done sending; it may still read our answers
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return false;
        }
        break;
    }
    size_t start = 0;
    for (size_t end; (end = c.in.find('\n', start)) != std::string::npos; start = end + 1) {
        std::string_view line(c.in.data() + start, end - start);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.find_first_not_of(" \t") == std::string_view::npos) {
            continue; // blank lines are keep-alives, not requests
        }
        try {
            c.out += _handler(line);
        } catch (const std::exception& e) {
            c.out += ctl::error_response(fmt::format("internal error: {}", e.what()));
        }
        c.out += '\n';
    }
    c.in.erase(0, start);
    if (c.in.size() > ctl::max_request_bytes) {
        c.out += ctl::error_response(fmt::format("request longer than {} bytes without a newline: closing the "
                                                 "connection",
                                                 ctl::max_request_bytes)) +
                 '\n';
        c.in.clear();
        c.closing = true;
    }
    return true;
}

bool server::flush(connection& c) {
    while (!c.out.empty()) {
        const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0) {
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        }
        c.out.erase(0, static_cast<size_t>(n));
    }
    return !c.closing;
}

void server::loop() {
    std::vector<pollfd> fds;
    while (!_stopping.load()) {
        fds.assign({{_listen_fd, POLLIN, 0}, {_wake_fd, POLLIN, 0}});
        for (const auto& c : _clients) {
            const bool reading = !c->closing && c->out.size() < max_pending_output;
            fds.push_back({c->fd, static_cast<short>((reading ? POLLIN : 0) | (c->out.empty() ? 0 : POLLOUT)), 0});
        }
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno != EINTR) {
                spdlog::error("control: poll: {}; the control channel stops", std::strerror(errno));
                return;
            }
            continue;
        }
        // Clients first: accept_clients() appends to _clients, past the fds polled.
        for (size_t i = 0, n = _clients.size(); i < n; ++i) {
            auto& c = *_clients[i];
            const short got = fds[2 + i].revents;
            bool keep = (got & POLLERR) == 0;
            if (keep && (got & (POLLIN | POLLHUP)) != 0) {
                keep = serve(c);
            }
            if (keep) {
                keep = flush(c);
            }
            if (!keep) {
                ::close(c.fd);
                c.fd = -1;
            }
        }
        std::erase_if(_clients, [](const auto& c) { return c->fd < 0; });
        if ((fds[0].revents & POLLIN) != 0) {
            accept_clients();
        }
    }
}

} // namespace vx::control

// SPDX-License-Identifier: MIT
#include "daemon/unix_socket.hh"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstring>
#include <stdexcept>

namespace vx::unix_socket {

sockaddr_un address_of(const std::string& path, std::string_view what) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof(a.sun_path)) {
        throw std::runtime_error(
            fmt::format("{} {}: the path is longer than {} bytes", what, path, sizeof(a.sun_path) - 1));
    }
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    return a;
}

void remove_stale(const std::string& path, std::string_view what) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return;
    }
    if (!S_ISSOCK(st.st_mode)) {
        throw std::runtime_error(fmt::format("{} {}: the path exists and is not a socket", what, path));
    }
    const auto a = address_of(path, what);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool live = fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) == 0;
    if (fd >= 0) {
        ::close(fd);
    }
    if (live) {
        throw std::runtime_error(fmt::format("{} {}: another vxswitchd is serving it", what, path));
    }
    ::unlink(path.c_str());
}

} // namespace vx::unix_socket

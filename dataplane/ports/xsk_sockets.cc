// SPDX-License-Identifier: MIT
#include "ports/xsk_sockets.hh"

#include <linux/if_xdp.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>

namespace vx {

namespace {

// The descriptor's number, from its entry in /proc/self/fd; -1 for anything else.
int fd_of(const std::filesystem::directory_entry& e) {
    const std::string name = e.path().filename().string();
    int fd = -1;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), fd);
    return ec == std::errc{} && end == name.data() + name.size() ? fd : -1;
}

std::string queue_range(unsigned queues) {
    return queues == 1 ? "queue 0" : fmt::format("queues 0-{}", queues - 1);
}

} // namespace

bool is_af_xdp_socket(int fd) {
    int domain = 0;
    socklen_t len = sizeof(domain);
    return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_XDP;
}

std::vector<int> open_fds() {
    std::vector<int> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
        if (const int fd = fd_of(e); fd >= 0) {
            out.push_back(fd);
        }
    }
    return out;
}

std::vector<xsk_socket_mode> open_xsk_sockets() {
    std::vector<xsk_socket_mode> out;
    for (const int fd : open_fds()) {
        xdp_options opts{};
        socklen_t len = sizeof(opts);
        // XDP_OPTIONS fails on a socket not bound yet: not one a port polls.
        if (is_af_xdp_socket(fd) && getsockopt(fd, SOL_XDP, XDP_OPTIONS, &opts, &len) == 0) {
            out.push_back({fd, (opts.flags & XDP_OPTIONS_ZEROCOPY) != 0});
        }
    }
    return out;
}

std::vector<xsk_socket_mode> new_xsk_sockets(const std::vector<xsk_socket_mode>& before,
                                             const std::vector<xsk_socket_mode>& after) {
    std::vector<xsk_socket_mode> out;
    for (const auto& s : after) {
        if (std::none_of(before.begin(), before.end(), [&](const auto& b) { return b.fd == s.fd; })) {
            out.push_back(s);
        }
    }
    return out;
}

std::string xsk_mode(const std::vector<xsk_socket_mode>& sockets) {
    const auto zc = std::count_if(sockets.begin(), sockets.end(), [](const auto& s) { return s.zero_copy; });
    if (sockets.empty()) {
        return "unknown";
    }
    return zc == 0 ? "copy" : (static_cast<size_t>(zc) == sockets.size() ? "zero-copy" : "mixed");
}

std::string describe_xsk_modes(const std::string& iface, unsigned queues, const std::vector<xsk_socket_mode>& sockets) {
    const std::string where =
        fmt::format("AF_XDP socket{} on {} {}", queues == 1 ? "" : "s", iface, queue_range(queues));
    const std::string mode = xsk_mode(sockets);
    if (mode == "zero-copy") {
        return fmt::format("{} in zero-copy mode", where);
    }
    if (mode == "copy") {
        return fmt::format("{} in copy mode (the driver has no zero-copy AF_XDP, or refused it: the kernel copies "
                           "every frame between the driver's buffers and the packet pool)",
                           where);
    }
    if (mode == "mixed") {
        const auto zc = std::count_if(sockets.begin(), sockets.end(), [](const auto& s) { return s.zero_copy; });
        return fmt::format("{}: {} in zero-copy mode, {} in copy mode", where, zc, sockets.size() - zc);
    }
    return fmt::format("{}: found no AF_XDP socket of the port, so its mode (zero-copy or copy) is unknown", where);
}

} // namespace vx

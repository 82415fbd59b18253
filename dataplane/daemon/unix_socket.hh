// SPDX-License-Identifier: MIT
#pragma once

// unix_socket: what every listening unix socket of vxswitchd needs before bind() (the control
// socket, the VDE switch's ctl).

#include <sys/un.h>

#include <string>
#include <string_view>

namespace vx::unix_socket {

// The address of the socket file `path`. Throws std::runtime_error, "WHAT PATH: ...", when
// the path does not fit sun_path.
sockaddr_un address_of(const std::string& path, std::string_view what);

// Removes a socket file that a dead process left at `path`; nothing there is fine. Throws
// std::runtime_error, "WHAT PATH: ...", when the path is not a socket or a live process
// answers on it (it is not ours to take).
void remove_stale(const std::string& path, std::string_view what);

} // namespace vx::unix_socket

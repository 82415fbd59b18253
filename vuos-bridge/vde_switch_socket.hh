// SPDX-License-Identifier: MIT
#pragma once

// switch_socket: the files of vxswitchd's VDE switch, as vde_switch lays them out. A
// directory PATH holds the control socket PATH/ctl (stream, where clients ask for a port),
// the clients' own datagram sockets and one datagram socket of ours per connected client
// (PATH/.vxPPPP-NNNNN), to which the client connects its data socket.
//
// Access is the files': the directory, ctl and our data sockets get the configured owner,
// group and mode (default: the daemon's user and group, 0660), as the control channel does.
// A client writes its data socket into the directory, so the directory is open to whom the
// mode opens the sockets (0660 makes it 0770).

#include <sys/types.h>

#include <string>
#include <utility>

#include "config/model.hh"

namespace vx::vde {

class switch_socket {
public:
    // Makes the directory if needed and listens on PATH/ctl. Throws std::runtime_error
    // naming the path (a live switch already there, no such user or group, ...).
    explicit switch_socket(const config::vde_listener& cfg);
    // Closes and removes ctl (the clients' sockets are theirs to remove).
    ~switch_socket();
    switch_socket(const switch_socket&) = delete;
    switch_socket& operator=(const switch_socket&) = delete;

    int fd() const { return _fd; }
    const std::string& path() const { return _dir; }
    // A new control connection (non-blocking), or -1 when none waits.
    int accept_client() const;
    // Our data socket for a client: bound in the directory, owned and moded, connected to
    // the client's socket. Returns {fd, path}; throws std::runtime_error saying why not.
    std::pair<int, std::string> make_data_socket(const std::string& client_socket, unsigned port_index);

private:
    std::string _dir;
    std::string _ctl;
    uid_t _owner;
    gid_t _group;
    mode_t _mode;
    int _fd = -1;
    unsigned _made = 0; // data sockets made so far: their names' serial
};

} // namespace vx::vde

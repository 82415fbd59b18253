// SPDX-License-Identifier: MIT
#pragma once

// vxctl's side of the control socket: connect, send one request line, read one response
// line. Connection problems become messages that say what to do about them.

#include <chrono>
#include <stdexcept>
#include <string>

#include "ctl/protocol.hh"

namespace vx::ctl {

// The daemon could not be reached, or did not answer: what() says why, for a person.
class connection_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class client {
public:
    client(const std::string& socket_path, std::chrono::milliseconds timeout);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // Throws connection_error; a refused request is a response with ok = false.
    response call(const request& r);

private:
    void send_line(const std::string& line);
    std::string receive_line();

    std::string _path;
    std::chrono::milliseconds _timeout;
    int _fd = -1;
    std::string _pending; // bytes read past the last line
};

} // namespace vx::ctl

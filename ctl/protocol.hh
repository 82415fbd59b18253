// SPDX-License-Identifier: MIT
#pragma once

// The control protocol between vxctl and vxswitchd (docs/control-protocol.md), shared by both.
//
// A unix stream socket carries newline-delimited JSON: one request object per line, one
// response object per line, in order. Requests are {"cmd": "mac.show", "args": {...}} with an
// optional "id" echoed back; responses are {"ok": true, "result": ...} or {"ok": false,
// "error": "message"}. Every check of a request's shape and arguments lives here, so that a
// refused request always reads the same, whichever command it was for.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

namespace vx::ctl {

inline constexpr std::string_view default_socket = "/run/vxswitch/vxswitchd.sock";
// A longer line is refused and its connection closed: nothing legitimate comes near it.
inline constexpr size_t max_request_bytes = size_t{1} << 20;

// A request the daemon refuses; what() is the message the client sees.
class request_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct request {
    std::string cmd;
    nlohmann::json args = nlohmann::json::object();
    nlohmann::json id; // null when the client gave none
};

// One line (without its newline) to a request; throws request_error naming what is wrong.
request parse_request(std::string_view line);
// A request as one line, without the newline.
std::string encode(const request& r);

struct response {
    bool ok = false;
    nlohmann::json result; // when ok
    std::string error;     // when not
    nlohmann::json id;
};

std::string ok_response(const nlohmann::json& result, const nlohmann::json& id = nullptr);
std::string error_response(std::string_view message, const nlohmann::json& id = nullptr);
// Throws request_error when the line is not a response.
response parse_response(std::string_view line);

// A command's arguments, read key by key: each read names the key, its type and range, and
// done() refuses the keys nobody read, listing the ones the command takes. Errors throw
// request_error("mac.add: vlan: 4095 is out of range (1..4094)").
class arg_reader {
public:
    arg_reader(std::string cmd, const nlohmann::json& args);

    std::optional<int64_t> integer(const char* key, int64_t min, int64_t max);
    int64_t required_integer(const char* key, int64_t min, int64_t max);
    std::optional<std::string> text(const char* key);
    std::string required_text(const char* key);
    bool flag(const char* key);
    // An object of keys the command reads itself (port.set's configuration keys).
    const nlohmann::json& required_object(const char* key);
    // The same, optional: null when absent.
    const nlohmann::json* object(const char* key);
    void done() const;

    [[noreturn]] void fail(const char* key, std::string_view what) const;

private:
    const nlohmann::json* find(const char* key);

    std::string _cmd;
    const nlohmann::json& _args;
    std::set<std::string> _known;
};

} // namespace vx::ctl

// SPDX-License-Identifier: MIT
#include "vuos-bridge/vde_request.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace vx::vde {

namespace {

uint32_t word_at(std::span<const std::byte> bytes, size_t offset) {
    uint32_t v = 0;
    std::memcpy(&v, bytes.data() + offset, sizeof(v));
    return v;
}

// Request types with the port number in bits 8..: REQ_NEW_CONTROL is 0, REQ_NEW_PORT0 is 1.
constexpr uint32_t new_control = 0;
constexpr uint32_t new_port0 = 1;

} // namespace

std::variant<request, request_error> parse_request(std::span<const std::byte> bytes) {
    if (bytes.size() < request_min_size) {
        return request_error{fmt::format("request of {} bytes, shorter than the {} of a request_v3", bytes.size(),
                                         request_min_size)};
    }
    if (const uint32_t magic = word_at(bytes, 0); magic != request_magic) {
        return request_error{fmt::format("magic {:#x} is not a VDE switch request's ({:#x})", magic, request_magic)};
    }
    if (const uint32_t version = word_at(bytes, 4); version != request_version) {
        return request_error{fmt::format("request version {} (only version 3 is spoken)", version)};
    }
    request r;
    const uint32_t type = word_at(bytes, 8);
    if ((type & 0xff) == new_port0) {
        r.port = 0;
    } else if ((type & 0xff) != new_control || (type >> 8) > 0xffff) {
        return request_error{fmt::format("request type {:#x} is neither a new port nor port 0", type)};
    } else {
        r.port = static_cast<uint16_t>(type >> 8);
    }
    sockaddr_un sock{};
    std::memcpy(&sock, bytes.data() + 12, sizeof(sock));
    const size_t path_len = strnlen(sock.sun_path, sizeof(sock.sun_path));
    if (sock.sun_family != AF_UNIX || path_len == 0 || path_len == sizeof(sock.sun_path) || sock.sun_path[0] != '/') {
        return request_error{"the client's data socket is not an absolute, terminated unix socket path"};
    }
    r.client_socket.assign(sock.sun_path, path_len);
    const auto descr = bytes.subspan(request_min_size, std::min(bytes.size() - request_min_size, max_description));
    const auto* text = reinterpret_cast<const char*>(descr.data());
    r.description.assign(text, strnlen(text, descr.size()));
    // The description goes into the log: keep it printable.
    std::replace_if(r.description.begin(), r.description.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }, '?');
    return r;
}

std::string encode_request(uint32_t type, const std::string& client_socket, const std::string& description) {
    std::string out(request_min_size, '\0');
    std::memcpy(out.data(), &request_magic, 4);
    std::memcpy(out.data() + 4, &request_version, 4);
    std::memcpy(out.data() + 8, &type, 4);
    sockaddr_un sock{};
    sock.sun_family = AF_UNIX;
    std::memcpy(sock.sun_path, client_socket.data(), std::min(client_socket.size(), sizeof(sock.sun_path) - 1));
    std::memcpy(out.data() + 12, &sock, sizeof(sock));
    return out + description.substr(0, max_description);
}

} // namespace vx::vde

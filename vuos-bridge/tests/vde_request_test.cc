// SPDX-License-Identifier: MIT
// The vde_switch request parser against requests as libvdeplug 4.0.1 sends them, and garbage.
#include <gtest/gtest.h>

#include "vuos-bridge/vde_request.hh"

namespace vx::vde {
namespace {

std::variant<request, request_error> parse(const std::string& bytes) {
    return parse_request(std::as_bytes(std::span{bytes.data(), bytes.size()}));
}

std::string error_of(const std::string& bytes) {
    const auto r = parse(bytes);
    return std::holds_alternative<request_error>(r) ? std::get<request_error>(r).what : "";
}

TEST(vde_request, port_asked_for_sits_in_the_type_above_bit_8) {
    const auto r = parse(encode_request(3u << 8, "/run/sw/.01234-00000", "vde_plug user=root PID=1234"));
    ASSERT_TRUE(std::holds_alternative<request>(r));
    EXPECT_EQ(std::get<request>(r).port, 3);
    EXPECT_EQ(std::get<request>(r).client_socket, "/run/sw/.01234-00000");
    EXPECT_EQ(std::get<request>(r).description, "vde_plug user=root PID=1234");
}

TEST(vde_request, any_port_and_port_zero) {
    EXPECT_EQ(std::get<request>(parse(encode_request(0, "/tmp/a", "qemu"))).port, 0);
    EXPECT_EQ(std::get<request>(parse(encode_request(1, "/tmp/a", "qemu"))).port, 0) << "REQ_NEW_PORT0";
}

TEST(vde_request, the_description_may_be_missing_and_is_kept_printable) {
    EXPECT_EQ(std::get<request>(parse(encode_request(0, "/tmp/a", ""))).description, "");
    EXPECT_EQ(std::get<request>(parse(encode_request(0, "/tmp/a", "a\nb\x1b"))).description, "a?b?");
}

TEST(vde_request, garbage_is_refused_with_the_reason) {
    EXPECT_NE(error_of(std::string(40, 'x')).find("shorter"), std::string::npos);
    EXPECT_NE(error_of(std::string(200, 'x')).find("magic"), std::string::npos);
    auto v2 = encode_request(0, "/tmp/a", "");
    v2[4] = 2;
    EXPECT_NE(error_of(v2).find("version 2"), std::string::npos);
    EXPECT_NE(error_of(encode_request(7, "/tmp/a", "")).find("type"), std::string::npos);
    EXPECT_NE(error_of(encode_request(0, "relative/path", "")).find("absolute"), std::string::npos);
    EXPECT_NE(error_of(encode_request(0, "", "")).find("absolute"), std::string::npos);
    auto unterminated = encode_request(0, "/tmp/a", "");
    std::fill(unterminated.begin() + 14, unterminated.begin() + 12 + 110, 'a');
    EXPECT_NE(error_of(unterminated).find("terminated"), std::string::npos);
}

} // namespace
} // namespace vx::vde

// SPDX-License-Identifier: MIT
#include "ctl/protocol.hh"

#include <gtest/gtest.h>

#include "ctl/worker_load.hh"

namespace vx::ctl {
namespace {

using nlohmann::json;

std::string refusal(std::string_view line) {
    try {
        parse_request(line);
    } catch (const request_error& e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(ctl_protocol, parses_a_request) {
    const auto r = parse_request(R"({"cmd": "mac.show", "args": {"vlan": 10}, "id": 7})");
    EXPECT_EQ(r.cmd, "mac.show");
    EXPECT_EQ(r.args, json({{"vlan", 10}}));
    EXPECT_EQ(r.id, 7);
    const auto bare = parse_request(R"({"cmd": "show"})");
    EXPECT_TRUE(bare.args.is_object() && bare.args.empty());
    EXPECT_TRUE(bare.id.is_null());
    EXPECT_TRUE(parse_request(R"({"cmd": "show", "args": null})").args.is_object());
}

TEST(ctl_protocol, encodes_what_it_parses) {
    const request r{"mac.add", {{"mac", "02:00:00:00:00:01"}, {"vlan", 1}, {"port", "a"}}, "x"};
    const auto back = parse_request(encode(r));
    EXPECT_EQ(back.cmd, r.cmd);
    EXPECT_EQ(back.args, r.args);
    EXPECT_EQ(back.id, r.id);
    EXPECT_EQ(encode(r).find('\n'), std::string::npos) << "one request, one line";
}

TEST(ctl_protocol, refuses_malformed_requests_saying_why) {
    EXPECT_EQ(refusal("{\"cmd\": \"show\""), "malformed request: not valid JSON (one JSON object per line)");
    EXPECT_EQ(refusal("hello"), "malformed request: not valid JSON (one JSON object per line)");
    EXPECT_EQ(refusal("[1, 2]"), "malformed request: expected a JSON object, got array");
    EXPECT_EQ(refusal("{}"), "malformed request: \"cmd\" must be a non-empty string");
    EXPECT_EQ(refusal(R"({"cmd": 5})"), "malformed request: \"cmd\" must be a non-empty string");
    EXPECT_EQ(refusal(R"({"cmd": ""})"), "malformed request: \"cmd\" must be a non-empty string");
    EXPECT_EQ(refusal(R"({"cmd": "show", "args": [1]})"), "malformed request: \"args\" must be an object, got array");
    EXPECT_EQ(refusal(R"({"cmd": "show", "arg": {}})"), "malformed request: unknown key 'arg' (expected cmd, args, id)");
}

TEST(ctl_protocol, responses) {
    const auto ok = parse_response(ok_response({{"n", 1}}, 3));
    EXPECT_TRUE(ok.ok);
    EXPECT_EQ(ok.result, json({{"n", 1}}));
    EXPECT_EQ(ok.id, 3);
    const auto no = parse_response(error_response("no port is named 'x'"));
    EXPECT_FALSE(no.ok);
    EXPECT_EQ(no.error, "no port is named 'x'");
    EXPECT_TRUE(no.id.is_null());
    EXPECT_THROW(parse_response("{\"result\": 1}"), request_error);
    EXPECT_THROW(parse_response("nonsense"), request_error);
    // Invalid UTF-8 in a message is replaced, never thrown.
    EXPECT_NO_THROW(parse_response(error_response("bad \xff byte")));
}

std::string arg_refusal(const json& args, auto read) {
    try {
        arg_reader a("mac.add", args);
        read(a);
        a.done();
    } catch (const request_error& e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(ctl_protocol, arguments_are_typed_and_ranged) {
    auto vlan = [](arg_reader& a) { a.integer("vlan", 1, 4094); };
    EXPECT_EQ(arg_refusal({{"vlan", 10}}, vlan), "(accepted)");
    EXPECT_EQ(arg_refusal({{"vlan", 0}}, vlan), "mac.add: vlan: 0 is out of range (1..4094)");
    EXPECT_EQ(arg_refusal({{"vlan", 4095}}, vlan), "mac.add: vlan: 4095 is out of range (1..4094)");
    EXPECT_EQ(arg_refusal({{"vlan", -1}}, vlan), "mac.add: vlan: -1 is out of range (1..4094)");
    EXPECT_EQ(arg_refusal({{"vlan", 18446744073709551615ull}}, vlan),
              "mac.add: vlan: 18446744073709551615 is out of range (1..4094)");
    EXPECT_EQ(arg_refusal({{"vlan", "10"}}, vlan), "mac.add: vlan: expected an integer, got \"10\"");
    EXPECT_EQ(arg_refusal({{"vlan", 1.5}}, vlan), "mac.add: vlan: expected an integer, got 1.5");
    EXPECT_EQ(arg_refusal(json::object(), [](arg_reader& a) { a.required_integer("vlan", 1, 4094); }),
              "mac.add: vlan: required argument is missing");
    EXPECT_EQ(arg_refusal({{"port", ""}}, [](arg_reader& a) { a.text("port"); }),
              "mac.add: port: expected a non-empty string, got \"\"");
    EXPECT_EQ(arg_refusal({{"port", 3}}, [](arg_reader& a) { a.required_text("port"); }),
              "mac.add: port: expected a non-empty string, got 3");
    EXPECT_EQ(arg_refusal({{"all", "yes"}}, [](arg_reader& a) { a.flag("all"); }),
              "mac.add: all: expected true or false, got \"yes\"");
    EXPECT_EQ(arg_refusal({{"vlna", 3}}, [](arg_reader& a) {
                  a.text("mac");
                  a.integer("vlan", 1, 4094);
              }),
              "mac.add: unknown argument 'vlna'; expected one of: mac, vlan");
    EXPECT_EQ(arg_refusal({{"x", 1}}, [](arg_reader&) {}), "mac.add: unknown argument 'x'; this command takes none");
    EXPECT_EQ(arg_refusal({{"vlan", nullptr}}, vlan), "(accepted)") << "null is the same as absent";
}

TEST(ctl_protocol, worker_load) {
    const auto idle = worker_load({});
    EXPECT_TRUE(idle["busy_pct"].is_null());
    EXPECT_TRUE(idle["cycles_per_packet"].is_null());
    EXPECT_TRUE(idle["packets_per_burst"].is_null());
    const auto busy = worker_load({250, 750, 50, 10});
    EXPECT_DOUBLE_EQ(busy["busy_pct"].get<double>(), 25.0);
    EXPECT_DOUBLE_EQ(busy["cycles_per_packet"].get<double>(), 5.0);
    EXPECT_DOUBLE_EQ(busy["packets_per_burst"].get<double>(), 5.0);
}

} // namespace
} // namespace vx::ctl

// SPDX-License-Identifier: MIT
// type: af_xdp ports: the YAML grammar, the checks (each error names what is wrong), and the
// rules the steering program gets.
#include "config/xdp_steering.hh"

#include <gtest/gtest.h>

#include "config/load.hh"

namespace vx::config {
namespace {

load_result load_port(const std::string& port_yaml) {
    return load_string("ports:\n  - " + port_yaml + "\n", "t.yaml");
}

port load_ok(const std::string& port_yaml) {
    auto r = load_port(port_yaml);
    EXPECT_TRUE(r.errors.empty()) << ::testing::PrintToString(r.errors);
    return r.value ? r.value->ports.at(0) : port{};
}

// The one error loading gives, which must contain `what`.
void expect_error(const std::string& port_yaml, const std::string& what) {
    const auto r = load_port(port_yaml);
    ASSERT_EQ(r.errors.size(), 1u) << port_yaml << ": " << ::testing::PrintToString(r.errors);
    EXPECT_NE(r.errors[0].find(what), std::string::npos) << r.errors[0];
}

TEST(xdp_steering, parses_udp_destinations) {
    const auto v4 = parse_udp_dest("192.0.2.1:4789");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->family, 4);
    EXPECT_EQ(v4->port, 4789);
    EXPECT_EQ(to_string(*v4), "192.0.2.1:4789");
    const auto v6 = parse_udp_dest("[2001:db8::1]:4789");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->family, 6);
    EXPECT_EQ(to_string(*v6), "[2001:db8::1]:4789");
    const auto any = parse_udp_dest("*:4790");
    ASSERT_TRUE(any);
    EXPECT_TRUE(any->any_address());
    for (const char* bad : {"192.0.2.1", "192.0.2.1:0", "192.0.2.1:65536", "2001:db8::1:4789", "[2001:db8::1]",
                            "300.0.0.1:1", ":4789", "*:x"}) {
        EXPECT_FALSE(parse_udp_dest(bad)) << bad;
    }
}

TEST(xdp_steering, parses_mac_ranges) {
    EXPECT_EQ(parse_mac_range("02:aa:00:00:00:01"), (mac_range{0x02aa00000001, 0x02aa00000001}));
    EXPECT_EQ(parse_mac_range("02-aa-00-00-00-00-02-aa-00-00-00-ff"), (mac_range{0x02aa00000000, 0x02aa000000ff}));
    EXPECT_EQ(to_string(mac_range{0x02aa00000000, 0x02aa000000ff}), "02:aa:00:00:00:00-02:aa:00:00:00:ff");
    EXPECT_FALSE(parse_mac_range("02:aa:00:00:00:ff-02:aa:00:00:00:00")); // high below low
    EXPECT_FALSE(parse_mac_range("02:aa:00:00:00"));
}

TEST(xdp_steering, trunk_steers_the_vlans_it_carries_by_default) {
    const auto p = load_ok("{ name: fab, type: af_xdp, iface: eth0, mode: trunk, vlans: [10, 20], native_vlan: 5,"
                           " translate: [{ vlan: 30, domain: 40 }] }");
    ASSERT_TRUE(p.xdp);
    EXPECT_EQ(p.device, "net_af_xdp_fab,iface=eth0,start_queue=0,queue_count=1");
    const auto r = steer_rules_of(p);
    EXPECT_FALSE(r.own);
    EXPECT_EQ(r.vlans, (std::vector<uint16_t>{5, 10, 20, 30}));
    EXPECT_EQ(r.tpid, 0x8100);
}

TEST(xdp_steering, full_grammar) {
    const auto p = load_ok(R"({ name: fab, type: af_xdp, iface: eth1, queues: 2, mode: s-trunk, vlans: [100, 200],
      steer: { vlans: [100], udp: ["192.0.2.1:4789", "*:4790"], macs: ["02:aa:00:00:00:00-02:aa:00:00:00:ff"] },
      drop: { vlans: [300], ethertypes: [0x88cc], src_macs: ["02:bb:00:00:00:01"], udp: ["*:9999"] } })");
    ASSERT_TRUE(p.xdp);
    EXPECT_EQ(p.device, "net_af_xdp_fab,iface=eth1,start_queue=0,queue_count=2");
    const auto r = steer_rules_of(p);
    EXPECT_EQ(r.tpid, 0x88a8);
    EXPECT_EQ(r.vlans, std::vector<uint16_t>{100});
    EXPECT_EQ(r.udp.size(), 3u); // *:4790 is one wildcard per family
    EXPECT_EQ(r.macs.size(), 1u);
    EXPECT_EQ(r.drop_vlans, std::vector<uint16_t>{300});
    EXPECT_EQ(r.drop_ethertypes, std::vector<uint16_t>{0x88cc});
    EXPECT_EQ(r.drop_src_macs, std::vector<uint64_t>{0x02bb00000001});
    EXPECT_EQ(r.drop_udp.size(), 2u);
    EXPECT_EQ(describe_steering(r), "steer vlans 100 udp 192.0.2.1:4789,*:4790,[::]:4790 macs "
                                    "02:aa:00:00:00:00-02:aa:00:00:00:ff; drop vlans 300 ethertypes 0x88cc "
                                    "src_macs 02:bb:00:00:00:01 udp *:9999,[::]:9999");
}

TEST(xdp_steering, own_mode) {
    const auto p = load_ok("{ name: fab, type: af_xdp, iface: eth0, own: true, mode: access, vlan: 10 }");
    const auto r = steer_rules_of(p);
    EXPECT_TRUE(r.own);
    EXPECT_TRUE(r.vlans.empty());
    EXPECT_EQ(describe_steering(r), "own (every frame to the switch)");
}

TEST(xdp_steering, errors_name_what_is_wrong) {
    expect_error("{ name: a, type: af_xdp, mode: trunk, vlans: [10] }", "ports[0].iface: required key is missing");
    expect_error("{ name: a, type: af_xdp, iface: eth0, device: net_null0, mode: trunk, vlans: [10] }",
                 "an af_xdp port names its interface");
    expect_error("{ name: a, device: net_null0, iface: eth0 }", "ports[0].iface: this key is for ports of type: af_xdp");
    expect_error("{ name: a, type: xdp, device: net_null0 }", "'xdp' is not a port type (dpdk, af_xdp");
    expect_error("{ name: a, type: af_xdp, iface: eth0, own: maybe }", "ports[0].own: expected true or false");
    expect_error("{ name: a, type: af_xdp, iface: eth0, mode: trunk, vlans: [10], steer: { udp: [\"1.2.3.4\"] } }",
                 "ports[0].steer.udp[0]: '1.2.3.4' is not a UDP destination");
    expect_error("{ name: a, type: af_xdp, iface: eth0, mode: trunk, vlans: [10], steer: { macz: [] } }",
                 "ports[0].steer.macz: unknown key");
    expect_error("{ name: a, type: af_xdp, iface: eth0, mode: trunk, vlans: [10], drop: { ethertypes: [5] } }",
                 "ports[0].drop.ethertypes[0]: 5 is out of range");
    expect_error("{ name: a, type: af_xdp, iface: eth0, mode: trunk, vlans: [10], steer: { vlans: [11] } }",
                 "steer.vlans: the port does not carry VLAN 11 tagged (it carries 10)");
    expect_error("{ name: a, type: af_xdp, iface: eth0, mode: access, vlan: 10 }",
                 "the steering program would send nothing to the switch: a access port carries no tagged VLAN");
    expect_error("{ name: a, type: af_xdp, iface: eth0, own: true, mode: trunk, vlans: [10], steer: { vlans: [10] } }",
                 "own: true takes every frame to the switch");
    expect_error("{ name: a, type: af_xdp, iface: eth0, mode: trunk, vlans: [10], drop: { vlans: [10] } }",
                 "vlans 10 is both steered (steer.vlans) and dropped (drop.vlans)");
    expect_error("{ name: a, type: af_xdp, iface: \"a/b\", own: true }", "iface 'a/b' is not an interface name");
}

TEST(xdp_steering, an_interface_is_one_port) {
    const auto r = load_string("ports:\n  - { name: a, type: af_xdp, iface: eth0, own: true }\n"
                               "  - { name: b, type: af_xdp, iface: eth0, own: true }\n",
                               "t.yaml");
    ASSERT_EQ(r.errors.size(), 1u) << ::testing::PrintToString(r.errors);
    EXPECT_NE(r.errors[0].find("iface 'eth0' is already used by ports[0]"), std::string::npos) << r.errors[0];
}

TEST(xdp_steering, access_port_steered_by_mac) {
    const auto p = load_ok("{ name: a, type: af_xdp, iface: eth0, mode: access, vlan: 10,"
                           " steer: { macs: [\"02:aa:00:00:00:01\"] } }");
    EXPECT_EQ(steer_rules_of(p).macs, (std::vector<mac_range>{{0x02aa00000001, 0x02aa00000001}}));
}

} // namespace
} // namespace vx::config

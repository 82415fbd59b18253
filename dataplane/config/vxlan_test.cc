// SPDX-License-Identifier: MIT
// The `vxlan:` section: what is read, the default values, every refusal with its message,
// and the MTU warning; then the tables vtep_control builds from it.

#include "config/vxlan.hh"

#include <gtest/gtest.h>

#include "config/dump.hh"
#include "config/load.hh"
#include "tables/l2_tables.hh"
#include "tables/vtep_control.hh"

namespace vx::config {
namespace {

const std::string ports = R"(ports:
  - { name: h1, device: "net_null0", vlan: 10 }
  - { name: h2, device: "net_null1", vlan: 20, mtu: 1500 }
  - { name: up, device: "net_null2", mtu: 1600 }
)";

load_result load(const std::string& vxlan) {
    return load_string(ports + vxlan, "t.yaml");
}

TEST(vxlan_config, reads_every_key_with_defaults) {
    const auto r = load(R"(vxlan:
  underlay: up
  address: 192.0.2.1
  address6: 2001:db8::1
  vnis:
    - { vni: 42, vlan: 10, group: 239.1.1.1, remotes: [192.0.2.2, "2001:db8::2"] }
    - { vni: 0xabcdef, vlan: 20 }
)");
    ASSERT_TRUE(r.value) << (r.errors.empty() ? "" : r.errors.front());
    const auto& v = *r.value->vxlan;
    EXPECT_EQ(v.underlay, "up");
    EXPECT_EQ(v.udp_port, 4789);
    EXPECT_EQ(v.ttl, 64);
    EXPECT_EQ(v.dscp, 0);
    ASSERT_EQ(v.segments.size(), 2u);
    EXPECT_EQ(v.segments[0].remotes.size(), 2u);
    EXPECT_EQ(v.segments[1].vni, 0xabcdefu);
    EXPECT_TRUE(is_underlay(*r.value, 2));
    EXPECT_FALSE(is_underlay(*r.value, 0));
}

struct refusal {
    const char* name;
    std::string vxlan;
    std::string message;
};

class vxlan_refused : public ::testing::TestWithParam<refusal> {};

TEST_P(vxlan_refused, with_a_message_naming_the_key) {
    const auto r = load(GetParam().vxlan);
    EXPECT_FALSE(r.value);
    bool found = false;
    for (const auto& e : r.errors) {
        found = found || e.find(GetParam().message) != std::string::npos;
    }
    EXPECT_TRUE(found) << "no error contains \"" << GetParam().message << "\"; got: "
                       << (r.errors.empty() ? "none" : r.errors.front());
}

const std::string vni10 = "  vnis: [{ vni: 42, vlan: 10 }]\n";

// A VTEP on `up` with an IPv4 address, then `rest` (more keys, or the vnis).
std::string vtep(const std::string& rest) {
    return "vxlan:\n  underlay: up\n  address: 192.0.2.1\n" + rest;
}
std::string vnis(const std::string& list) {
    return vtep("  vnis: [" + list + "]\n");
}

INSTANTIATE_TEST_SUITE_P(
    cases, vxlan_refused,
    ::testing::Values(
        refusal{"no_vnis", vtep(""), "vxlan.vnis: required key is missing"},
        refusal{"no_address", "vxlan:\n  underlay: up\n" + vni10, "the VTEP needs an address"},
        refusal{"v6_as_address", "vxlan:\n  underlay: up\n  address: \"2001:db8::1\"\n" + vni10,
                "address '2001:db8::1' is not a unicast IPv4 address"},
        refusal{"multicast_address", "vxlan:\n  underlay: up\n  address6: \"ff02::1\"\n" + vni10,
                "address6 'ff02::1' is not a unicast IPv6 address"},
        refusal{"no_such_underlay", "vxlan:\n  underlay: nope\n  address: 192.0.2.1\n" + vni10,
                "underlay: no port is named 'nope'"},
        refusal{"underlay_with_vlan", "vxlan:\n  underlay: h1\n  address: 192.0.2.1\n" + vni10,
                "underlay port 'h1' carries no VLAN"},
        refusal{"vni_out_of_range", vnis("{ vni: 16777216, vlan: 10 }"),
                "vxlan.vnis[0].vni: 16777216 is out of range (1..16777215)"},
        refusal{"vni_twice", vnis("{ vni: 42, vlan: 10 }, { vni: 42, vlan: 20 }"), "vni 42 is already listed"},
        refusal{"vlan_twice", vnis("{ vni: 42, vlan: 10 }, { vni: 43, vlan: 10 }"), "vlan 10 already has a VNI"},
        refusal{"vlan_not_carried", vnis("{ vni: 42, vlan: 30 }"), "no port carries vlan 30"},
        refusal{"group_not_multicast", vnis("{ vni: 42, vlan: 10, group: 192.0.2.9 }"),
                "'192.0.2.9' is not a multicast group address"},
        refusal{"remote_of_missing_family", vnis("{ vni: 42, vlan: 10, remotes: [\"2001:db8::2\"] }"),
                "2001:db8::2 is an IPv6 address but the VTEP has none (set address6)"},
        refusal{"remote_is_self", vnis("{ vni: 42, vlan: 10, remotes: [192.0.2.1] }"),
                "192.0.2.1 is the VTEP's own address"},
        refusal{"remote_twice", vnis("{ vni: 42, vlan: 10, remotes: [192.0.2.2, 192.0.2.2] }"),
                "remotes[1]: 192.0.2.2 is already listed"},
        refusal{"bad_next_hop", vtep("  next_hop_mac: 01:00:5e:00:00:01\n" + vni10),
                "next_hop_mac '01:00:5e:00:00:01' is not a unicast MAC address"},
        refusal{"dscp_out_of_range", vtep("  dscp: 64\n" + vni10), "vxlan.dscp: 64 is out of range (0..63)"},
        refusal{"unknown_key", vtep("  port: 4789\n" + vni10), "vxlan.port: unknown key"},
        refusal{"unknown_protocol", vnis("{ vni: 42, vlan: 10, protocol: geneve }"),
                "vxlan.vnis[0].protocol: 'geneve' is not a protocol: vxlan (the default) or vxvde"},
        refusal{"vxvde_without_group", vnis("{ vni: 42, vlan: 10, protocol: vxvde }"),
                "a vxvde network needs its group"},
        refusal{"vxvde_with_remotes",
                vnis("{ vni: 42, vlan: 10, protocol: vxvde, group: 239.1.2.3, remotes: [192.0.2.2] }"),
                "a vxvde network has no remotes"},
        refusal{"vxvde_on_the_vxlan_port", vnis("{ vni: 42, vlan: 10, protocol: vxvde, group: 239.1.2.3, port: 4789 }"),
                "vxvde port 4789 is the VXLAN udp_port too"},
        refusal{"port_on_a_vxlan_segment", vnis("{ vni: 42, vlan: 10, port: 5000 }"), "port is for protocol: vxvde"},
        refusal{"vxvde_vni_twice_on_one_port",
                vnis("{ vni: 42, vlan: 10, protocol: vxvde, group: 239.1.2.3 }, "
                     "{ vni: 42, vlan: 20, protocol: vxvde, group: 239.1.2.4 }"),
                "vni 42 is already listed"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(vxlan_config, mtu_warning_names_the_port_and_the_mtu_that_fits) {
    // up has mtu 1600: 1514 + 50 - 14 = 1550 fits over IPv4; over IPv6 only, 1570 still fits.
    auto r = load(vtep(vni10));
    ASSERT_TRUE(r.value);
    EXPECT_TRUE(vxlan_mtu_warnings(*r.value).empty());
    r.value->ports[2].mtu = 1549;
    const auto w = vxlan_mtu_warnings(*r.value);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_NE(w[0].find("port 'h1' is 1550 bytes of IP once encapsulated (50 bytes"), std::string::npos) << w[0];
    EXPECT_NE(w[0].find("raise its mtu to 1550"), std::string::npos) << w[0];
    r.value->vxlan->address.clear();
    r.value->vxlan->address6 = "2001:db8::1";
    r.value->ports[2].mtu = 1569;
    ASSERT_EQ(vxlan_mtu_warnings(*r.value).size(), 1u) << "70 bytes over IPv6";
}

TEST(vtep_table, built_from_the_configuration) {
    const auto r = load(R"(vxlan:
  underlay: up
  address: 192.0.2.1
  next_hop_mac: 02:00:00:00:00:99
  ttl: 9
  dscp: 10
  vnis:
    - { vni: 42, vlan: 10, group: 239.1.1.1, remotes: [192.0.2.3, 192.0.2.2] }
    - { vni: 43, vlan: 20, remotes: [192.0.2.2] }
)");
    ASSERT_TRUE(r.value);
    const auto l2 = l2_tables::build(*r.value);
    EXPECT_TRUE(l2.domains.size() == 2) << "the underlay carries no domain of its own";
    const auto t = vtep_control::build(*r.value, l2, mac_addr::parse("02:00:00:00:00:01").value());
    EXPECT_EQ(t.underlay, 2);
    const uint16_t bd10 = l2.bd_of_vlan[10];
    const uint16_t bd20 = l2.bd_of_vlan[20];
    EXPECT_EQ(t.bd_of(4789, 42), bd10);
    EXPECT_EQ(t.bd_of(4789, 43), bd20);
    EXPECT_FALSE(t.bd_of(4789, 44));
    EXPECT_FALSE(t.bd_of(14789, 42)) << "no vxvde network";
    EXPECT_EQ(t.vni_of_bd[bd10], 42u);
    ASSERT_EQ(t.remotes.size(), 3u) << "192.0.2.2 once for both VNIs, and the group";
    EXPECT_EQ(t.flood_of_bd[bd10].size(), 3u);
    ASSERT_EQ(t.flood_of_bd[bd20].size(), 1u);
    const auto& r2 = t.remotes[t.flood_of_bd[bd20][0]];
    EXPECT_EQ(r2.outer.dst_ip.to_string(), "192.0.2.2");
    EXPECT_TRUE(r2.resolved) << "through the static next hop";
    EXPECT_EQ(r2.outer.dst_mac.to_string(), "02:00:00:00:00:99");
    EXPECT_EQ(r2.outer.ttl, 9);
    EXPECT_EQ(r2.outer.dscp, 10);
    const auto& group = t.remotes[t.flood_of_bd[bd10].back()];
    EXPECT_TRUE(group.is_group);
    EXPECT_EQ(group.outer.dst_mac.to_string(), "01:00:5e:01:01:01");
    EXPECT_EQ(t.remote_of(*ip_address::parse("192.0.2.3")), t.flood_of_bd[bd10][0]);
    EXPECT_FALSE(t.remote_of(*ip_address::parse("239.1.1.1"))) << "a group is not a VTEP to learn against";
    ASSERT_EQ(t.groups.size(), 1u);
    EXPECT_TRUE(t.endpoint().accepts(*ip_address::parse("239.1.1.1")));
}

// vxvde networks are segments of the same VTEP: their own UDP port (default 14789), a group,
// found by (port, VNI) so that VXLAN and vxvde may use the same VNI; frames into them leave
// from that port.
TEST(vtep_table, vxvde_networks_beside_vxlan) {
    const auto r = load(R"(vxlan:
  underlay: up
  address: 192.0.2.1
  vnis:
    - { vni: 42, vlan: 10, group: 239.1.1.1 }
    - { vni: 42, vlan: 20, protocol: vxvde, group: 239.1.1.1 }
)");
    ASSERT_TRUE(r.value) << (r.errors.empty() ? "" : r.errors.front());
    EXPECT_EQ(segment_udp_port(*r.value->vxlan, r.value->vxlan->segments[1]), 14789);
    const auto l2 = l2_tables::build(*r.value);
    const auto t = vtep_control::build(*r.value, l2, mac_addr::parse("02:00:00:00:00:01").value());
    const uint16_t bd10 = l2.bd_of_vlan[10];
    const uint16_t bd20 = l2.bd_of_vlan[20];
    EXPECT_EQ(t.bd_of(4789, 42), bd10);
    EXPECT_EQ(t.bd_of(14789, 42), bd20);
    EXPECT_EQ(t.source_port_of_bd[bd10], 0) << "VXLAN: per-flow source ports";
    EXPECT_EQ(t.source_port_of_bd[bd20], 14789) << "vxvde: one stable source port";
    ASSERT_EQ(t.vxvde_ports, std::vector<uint16_t>{14789});
    ASSERT_EQ(t.remotes.size(), 2u) << "one group address, two groups: one per port";
    const auto& group = t.remotes[t.flood_of_bd[bd20].at(0)];
    EXPECT_TRUE(group.is_group && group.vxvde);
    EXPECT_EQ(group.outer.dst_port, 14789);
    EXPECT_EQ(t.remotes[t.flood_of_bd[bd10].at(0)].outer.dst_port, 4789);
    ASSERT_EQ(t.groups.size(), 1u) << "joined once";
    EXPECT_TRUE(t.endpoint().is_vxvde_port(14789));
    EXPECT_FALSE(t.endpoint().is_vxvde_port(4789));
    const auto dumped = load_string(dump(*r.value), "dumped.yaml");
    ASSERT_TRUE(dumped.value) << "the dump loads again";
    EXPECT_TRUE(dumped.value->vxlan->segments[1].vxvde);
    EXPECT_EQ(dumped.value->vxlan->segments[1].port, 14789) << "dumped with its port";
}

// A runtime change of the segments: what stays keeps its index and its next hop, a remote no
// VNI floods to any more is retired in its slot (never reused), domains whose VNI went or
// changed are listed for their MACs to be flushed, and the groups follow.
TEST(vtep_table, rebuilt_for_a_runtime_change_keeps_remote_indices) {
    const auto before = load(R"(vxlan:
  underlay: up
  address: 192.0.2.1
  vnis:
    - { vni: 42, vlan: 10, group: 239.1.1.1, remotes: [192.0.2.3, 192.0.2.2] }
    - { vni: 43, vlan: 20, remotes: [192.0.2.2] }
)");
    ASSERT_TRUE(before.value);
    const auto l2 = l2_tables::build(*before.value);
    auto running = vtep_control::build(*before.value, l2, mac_addr::parse("02:00:00:00:00:01").value());
    const auto at = [](const char* text) { return *ip_address::parse(text); };
    ASSERT_EQ(running.remote_of(at("192.0.2.2")), 1);
    running.remotes[1].resolved = true; // its next hop answered
    running.remotes[1].outer.dst_mac = mac_addr::parse("02:00:00:00:00:22").value();
    const uint16_t bd10 = l2.bd_of_vlan[10];
    const uint16_t bd20 = l2.bd_of_vlan[20];

    const auto after = load(R"(vxlan:
  underlay: up
  address: 192.0.2.1
  vnis:
    - { vni: 42, vlan: 10, group: 239.1.1.9, remotes: [192.0.2.2] }
    - { vni: 44, vlan: 20, remotes: [192.0.2.4] }
)");
    ASSERT_TRUE(after.value);
    const auto l2_after = l2_tables::build(*after.value, &l2);
    const auto r = vtep_control::rebuild(running, *after.value, l2_after);
    const auto& t = r.table;
    EXPECT_EQ(t.remote_of(at("192.0.2.2")), 1) << "kept at its index";
    EXPECT_TRUE(t.remotes[1].resolved) << "with its resolved next hop";
    EXPECT_EQ(t.remotes[1].outer.dst_mac.to_string(), "02:00:00:00:00:22");
    EXPECT_FALSE(t.remote_of(at("192.0.2.3"))) << "a removed remote is not learned against";
    ASSERT_EQ(t.remotes.size(), 5u) << "slots stay: .3, .2, group .1, then group .9 and .4";
    EXPECT_TRUE(t.remotes[0].retired && !t.remotes[0].resolved);
    EXPECT_TRUE(t.remotes[2].retired) << "the group no VNI uses";
    EXPECT_EQ(r.retired, (std::vector<uint16_t>{remote_port_base + 0, remote_port_base + 2}));
    EXPECT_EQ(t.flood_of_bd[bd10], (std::vector<uint16_t>{1, 3}));
    EXPECT_EQ(t.flood_of_bd[bd20], (std::vector<uint16_t>{4}));
    EXPECT_EQ(t.groups, (std::vector<ip_address>{at("239.1.1.9")}));
    EXPECT_EQ(t.bd_of(4789, 44), bd20);
    EXPECT_FALSE(t.bd_of(4789, 43));
    EXPECT_EQ(r.domains, (std::vector<uint16_t>{bd20})) << "VNI 43 -> 44: its remote MACs go; VNI 42 stays";

    // A remote removed and configured again comes back in a new slot, never its old one.
    const auto again = vtep_control::rebuild(t, *before.value, l2_after);
    EXPECT_EQ(again.table.remote_of(at("192.0.2.3")), 5);
    EXPECT_EQ(again.table.remote_of(at("192.0.2.2")), 1);
    EXPECT_EQ(again.retired, (std::vector<uint16_t>{remote_port_base + 3, remote_port_base + 4}));
    EXPECT_EQ(again.table.groups, (std::vector<ip_address>{at("239.1.1.1")}));
}

} // namespace
} // namespace vx::config

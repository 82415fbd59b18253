// SPDX-License-Identifier: MIT
// config::diff: what a runtime change does, and what it refuses; l2_tables built for a
// runtime change keep every domain's index.
#include "config/diff.hh"

#include <gtest/gtest.h>

#include "config/load.hh"
#include "testing/load_ok.hh"
#include "tables/l2_tables.hh"

namespace vx::config {
namespace {

constexpr const char* running_text = R"(
dataplane: { workers: 1 }
fdb:
  static:
    - { mac: "02:00:00:00:00:01", vlan: 10, port: a }
ports:
  - { name: a, device: "net_null_a", mode: access, vlan: 10 }
  - { name: t, device: "net_null_t", mode: trunk, vlans: [10, 20] }
  - { name: n, device: "net_null_n", mode: access, vlan: 30 }
)";

using vx::testing::load_ok;

// The running text with `from` replaced by `to` once.
model changed(const std::string& from, const std::string& to) {
    std::string text = running_text;
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return load_ok(text.replace(at, from.size(), to));
}

TEST(config_diff, nothing_changed_is_an_empty_plan) {
    const auto plan = diff(load_ok(running_text), load_ok(running_text));
    EXPECT_TRUE(plan.empty());
    EXPECT_TRUE(plan.refused.empty());
    EXPECT_TRUE(plan.ports.empty());
}

TEST(config_diff, a_remoded_port_is_one_change_naming_before_and_after) {
    const auto plan = diff(load_ok(running_text), changed("name: n, device: \"net_null_n\", mode: access, vlan: 30",
                                                       "name: n, device: \"net_null_n\", mode: trunk, vlans: [10, 30]"));
    ASSERT_TRUE(plan.refused.empty()) << plan.refused.front();
    EXPECT_EQ(plan.ports, (std::vector<std::string>{"n"}));
    ASSERT_EQ(plan.changes.size(), 1u);
    EXPECT_EQ(plan.changes[0], "port 'n': access vlan 30 -> trunk vlans 10,30");
}

TEST(config_diff, mtu_and_foreign_tpid_are_runtime_changes) {
    const auto plan = diff(load_ok(running_text), changed("vlan: 30 }", "vlan: 30, mtu: 9000, foreign_tpid: drop }"));
    ASSERT_TRUE(plan.refused.empty()) << plan.refused.front();
    EXPECT_EQ(plan.ports, (std::vector<std::string>{"n"}));
    EXPECT_EQ(plan.changes, (std::vector<std::string>{"port 'n': foreign_tpid payload -> drop", "port 'n': mtu 1500 -> 9000"}));
}

TEST(config_diff, static_macs_added_removed_and_moved) {
    const auto plan = diff(load_ok(running_text), changed("- { mac: \"02:00:00:00:00:01\", vlan: 10, port: a }",
                                                       "- { mac: \"02:00:00:00:00:01\", vlan: 10, port: t }\n"
                                                       "    - { mac: \"02:00:00:00:00:02\", vlan: 20, port: t }"));
    ASSERT_TRUE(plan.refused.empty()) << plan.refused.front();
    EXPECT_TRUE(plan.ports.empty());
    ASSERT_EQ(plan.statics_removed.size(), 1u);
    EXPECT_EQ(plan.statics_removed[0].port, "a");
    ASSERT_EQ(plan.statics_added.size(), 2u);
    EXPECT_EQ(plan.changes, (std::vector<std::string>{"static MAC 02:00:00:00:00:01 vlan 10: port 'a' -> 't'",
                                                      "static MAC 02:00:00:00:00:02 vlan 20: added on port 't'"}));
}

TEST(config_diff, what_needs_a_restart_is_refused_by_key) {
    auto refused = [](const model& next) { return diff(load_ok(running_text), next).refused; };
    EXPECT_EQ(refused(changed("workers: 1", "workers: 2")),
              (std::vector<std::string>{"dataplane.workers: 1 -> 2 needs a restart"}));
    EXPECT_EQ(refused(changed("fdb:\n", "fdb:\n  aging_s: 60\n")),
              (std::vector<std::string>{"fdb.aging_s: 300 -> 60 needs a restart"}));
    EXPECT_EQ(refused(changed("device: \"net_null_n\"", "device: \"net_null_m\"")),
              (std::vector<std::string>{"ports[2] 'n'.device: net_null_n -> net_null_m needs a restart"}));
    EXPECT_EQ(refused(changed("device: \"net_null_n\",", "device: \"net_null_n\", queues: 2,")),
              (std::vector<std::string>{"ports[2] 'n'.queues: 1 -> 2 needs a restart"}));
}

// VDE ports come and go like the others; their URL or VDE switch port says what they are on.
TEST(config_diff, vde_ports_are_added_and_removed) {
    const std::string vde_ports = "vlan: 30 }\n  - { name: u, type: vde, url: \"vde:///tmp/v\", vlan: 30 }\n"
                                  "  - { name: s, type: vde_switch, vde_port: 3 }\n  - { name: w, type: vde_switch }\n"
                                  "vde_switch: { path: /tmp/vx }\n";
    const model with_vde = changed("vlan: 30 }\n", vde_ports);
    const auto added = diff(load_ok(running_text), with_vde);
    ASSERT_TRUE(added.refused.empty()) << added.refused.front();
    ASSERT_EQ(added.ports_added.size(), 3u);
    EXPECT_EQ(added.ports_added[0].vde->url, "vde:///tmp/v");
    EXPECT_EQ(added.changes, (std::vector<std::string>{"port 'u': added (vde vde:///tmp/v, access vlan 30)",
                                                       "port 's': added (vde_switch port 3, access vlan 1)",
                                                       "port 'w': added (vde_switch port, any client, access vlan 1)",
                                                       "vde_switch: added (listening on /tmp/vx/ctl)"}));
    const auto removed = diff(with_vde, load_ok(running_text));
    ASSERT_TRUE(removed.refused.empty()) << removed.refused.front();
    EXPECT_EQ(removed.ports_removed, (std::vector<std::string>{"u", "s", "w"}));
    EXPECT_EQ(removed.changes.back(), "vde_switch: removed (no more listening on /tmp/vx/ctl)");
    // The section alone comes and goes too; what it says cannot change under its clients.
    const model listening = changed("vlan: 30 }\n", "vlan: 30 }\nvde_switch: { path: /tmp/vx }\n");
    EXPECT_EQ(diff(load_ok(running_text), listening).changes,
              (std::vector<std::string>{"vde_switch: added (listening on /tmp/vx/ctl)"}));
    EXPECT_EQ(diff(listening, changed("vlan: 30 }\n", "vlan: 30 }\nvde_switch: { path: /tmp/vy }\n")).refused,
              (std::vector<std::string>{"vde_switch.path: /tmp/vx -> /tmp/vy needs a restart"}));
    // A kept VDE port's URL or number is what it is on, as a device is.
    EXPECT_EQ(diff(with_vde,
                   changed("vlan: 30 }\n", vde_ports.substr(0, vde_ports.find("vde_port: 3")) +
                                               "vde_port: 4 }\n"
                                               "  - { name: w, type: vde_switch }\nvde_switch: { path: /tmp/vx }\n"))
                  .refused,
              (std::vector<std::string>{"ports[4] 's'.vde_port: 3 -> 4 needs a restart"}));
}

TEST(config_diff, af_xdp_ports_are_added_and_removed) {
    const auto added = diff(load_ok(running_text),
                            changed("vlan: 30 }\n", "vlan: 30 }\n  - { name: m, type: af_xdp, iface: eth9, own: true }\n"));
    ASSERT_TRUE(added.refused.empty()) << added.refused.front();
    ASSERT_EQ(added.ports_added.size(), 1u);
    ASSERT_TRUE(added.ports_added[0].xdp.has_value());
    EXPECT_EQ(added.changes, (std::vector<std::string>{"port 'm': added (af_xdp on eth9, access vlan 1)"}));
    const model with_m = changed("vlan: 30 }\n", "vlan: 30 }\n  - { name: m, type: af_xdp, iface: eth9, own: true }\n");
    const auto removed = diff(with_m, load_ok(running_text));
    ASSERT_TRUE(removed.refused.empty()) << removed.refused.front();
    EXPECT_EQ(removed.ports_removed, (std::vector<std::string>{"m"}));
    EXPECT_EQ(removed.changes, (std::vector<std::string>{"port 'm': removed (af_xdp on eth9)"}));
}

TEST(config_diff, device_ports_are_added_and_removed) {
    const auto removed = diff(load_ok(running_text), changed("  - { name: n, device: \"net_null_n\", mode: access, vlan: 30 }\n", ""));
    ASSERT_TRUE(removed.refused.empty()) << removed.refused.front();
    EXPECT_EQ(removed.ports_removed, (std::vector<std::string>{"n"}));
    EXPECT_EQ(removed.changes, (std::vector<std::string>{"port 'n': removed (net_null_n)"}));
    const auto added =
        diff(load_ok(running_text), changed("vlan: 30 }\n", "vlan: 30 }\n  - { name: m, device: net_null_m, mode: trunk, vlans: [10] }\n"));
    ASSERT_TRUE(added.refused.empty()) << added.refused.front();
    ASSERT_EQ(added.ports_added.size(), 1u);
    EXPECT_EQ(added.ports_added[0].name, "m");
    EXPECT_EQ(added.changes, (std::vector<std::string>{"port 'm': added (net_null_m, trunk vlans 10)"}));
    EXPECT_TRUE(added.ports.empty());
    // A kept port's own keys are still compared, by name, whatever was added or removed.
    const auto both = diff(load_ok(running_text), changed("  - { name: n, device: \"net_null_n\", mode: access, vlan: 30 }\n",
                                                       "  - { name: m, device: net_null_m }\n"));
    EXPECT_EQ(both.changes, (std::vector<std::string>{"port 'n': removed (net_null_n)", "port 'm': added (net_null_m, access vlan 1)"}));
}

// A VTEP on an AF_XDP underlay: the vxlan: section and the port's iface are fixed while the
// switch runs (refused by name); its steering rules and the other ports change at runtime.
constexpr const char* vtep_text = R"(
ports:
  - { name: a, device: "net_null_a", mode: access, vlan: 10 }
  - { name: up, type: af_xdp, iface: eth1, steer: { udp: ["*:4789"] }, drop: { ethertypes: [0x88cc] } }
vxlan:
  underlay: up
  address: 192.0.2.1
  vnis: [{ vni: 42, vlan: 10 }]
)";

std::vector<std::string> refused_from_vtep(const std::string& from, const std::string& to) {
    std::string text = vtep_text;
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return diff(load_ok(vtep_text), load_ok(text.replace(at, from.size(), to))).refused;
}

model vtep_with(const std::string& from, const std::string& to) {
    std::string text = vtep_text;
    return load_ok(text.replace(text.find(from), from.size(), to));
}

TEST(config_diff, xdp_steering_changes_at_runtime) {
    const auto steer = diff(load_ok(vtep_text), vtep_with("*:4789", "*:4790"));
    ASSERT_TRUE(steer.refused.empty()) << steer.refused.front();
    EXPECT_EQ(steer.ports, (std::vector<std::string>{"up"}));
    ASSERT_EQ(steer.changes.size(), 1u);
    EXPECT_EQ(steer.changes[0].rfind("port 'up': steering steer ", 0), 0u) << steer.changes[0];
    EXPECT_NE(steer.changes[0].find("*:4790"), std::string::npos) << steer.changes[0];
    const auto drop = diff(load_ok(vtep_text), vtep_with("0x88cc", "0x88cd"));
    ASSERT_TRUE(drop.refused.empty()) << drop.refused.front();
    ASSERT_EQ(drop.changes.size(), 1u);
    const auto arrow = drop.changes[0].find(" -> ");
    EXPECT_LT(drop.changes[0].find("ethertypes 0x88cc "), arrow) << drop.changes[0];
    EXPECT_GT(drop.changes[0].find("ethertypes 0x88cd "), arrow) << drop.changes[0];
    EXPECT_TRUE(diff(load_ok(vtep_text), load_ok(vtep_text)).empty());
}

TEST(config_diff, vxlan_and_xdp_iface_need_a_restart) {
    EXPECT_EQ(refused_from_vtep("address: 192.0.2.1", "address: 192.0.2.1\n  ttl: 17"),
              (std::vector<std::string>{"vxlan.ttl: 64 -> 17 needs a restart"}));
    EXPECT_EQ(refused_from_vtep("address: 192.0.2.1", "address: 192.0.2.9"),
              (std::vector<std::string>{"vxlan.address: 192.0.2.1 -> 192.0.2.9 needs a restart"}));
    EXPECT_EQ(refused_from_vtep("address: 192.0.2.1", "address: 192.0.2.1\n  udp_port: 4790"),
              (std::vector<std::string>{"vxlan.udp_port: 4789 -> 4790 needs a restart"}));
    EXPECT_EQ(refused_from_vtep("address: 192.0.2.1", "address: 192.0.2.1\n  next_hop_mac: 02:00:00:00:00:99"),
              (std::vector<std::string>{"vxlan.next_hop_mac: (none) -> 02:00:00:00:00:99 needs a restart"}));
    // A VNI change with a restart-only one: refused whole, nothing listed as done.
    const auto both = diff(load_ok(vtep_text), vtep_with("address: 192.0.2.1\n  vnis: [{ vni: 42",
                                                         "address: 192.0.2.1\n  ttl: 3\n  vnis: [{ vni: 43"));
    EXPECT_EQ(both.refused, (std::vector<std::string>{"vxlan.ttl: 64 -> 3 needs a restart"}));
    EXPECT_TRUE(both.changes.empty());
    EXPECT_EQ(refused_from_vtep("iface: eth1", "iface: eth2"),
              (std::vector<std::string>{"ports[1] 'up'.iface: eth1 -> eth2 needs a restart"}));
    const auto removed = refused_from_vtep(vtep_text + std::string(vtep_text).find("vxlan:"), "");
    ASSERT_EQ(removed.size(), 1u);
    EXPECT_EQ(removed[0].rfind("vxlan: {underlay: up", 0), 0u) << removed[0];
    EXPECT_NE(removed[0].find("-> (none) needs a restart"), std::string::npos) << removed[0];
    // What may change still does.
    const auto plan = diff(load_ok(vtep_text), [] {
        std::string text = vtep_text;
        return load_ok(text.replace(text.find("vlan: 10 }"), 10, "vlan: 10, mtu: 1400 }"));
    }());
    EXPECT_TRUE(plan.refused.empty()) << plan.refused.front();
    EXPECT_EQ(plan.changes, (std::vector<std::string>{"port 'a': mtu 1500 -> 1400"}));
}

// The segments (vxlan.vnis) change at runtime, each difference in words.
constexpr const char* segments_text = R"(
ports:
  - { name: a, device: "net_null_a", mode: access, vlan: 10 }
  - { name: t, device: "net_null_t", mode: trunk, vlans: [10, 20, 30] }
  - { name: up, device: "net_null_up" }
vxlan:
  underlay: up
  address: 192.0.2.1
  vnis:
    - { vni: 42, vlan: 10, group: 239.1.1.1 }
    - { vni: 43, vlan: 20, remotes: [192.0.2.2, 192.0.2.3] }
)";

std::vector<std::string> segment_plan(const std::string& from, const std::string& to) {
    std::string text = segments_text;
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    const auto plan = diff(load_ok(segments_text), load_ok(text.replace(at, from.size(), to)));
    EXPECT_TRUE(plan.refused.empty()) << plan.refused.front();
    EXPECT_TRUE(plan.ports.empty()) << "no port changes";
    return plan.changes;
}

TEST(config_diff, vxlan_segments_change_at_runtime) {
    const std::string vni43 = "    - { vni: 43, vlan: 20, remotes: [192.0.2.2, 192.0.2.3] }\n";
    EXPECT_EQ(segment_plan(vni43, vni43 + "    - { vni: 44, vlan: 30, group: 239.1.1.4 }\n"),
              (std::vector<std::string>{"vni 44: added (vlan 30, group 239.1.1.4)"}));
    EXPECT_EQ(segment_plan(vni43, ""),
              (std::vector<std::string>{"vni 43: removed (vlan 20, remotes 192.0.2.2 192.0.2.3)"}));
    EXPECT_EQ(segment_plan("vni: 43, vlan: 20", "vni: 43, vlan: 30"),
              (std::vector<std::string>{"vni 43: vlan 20, remotes 192.0.2.2 192.0.2.3 -> vlan 30, remotes 192.0.2.2 192.0.2.3"}));
    EXPECT_EQ(segment_plan("group: 239.1.1.1", "group: 239.1.1.9"),
              (std::vector<std::string>{"vni 42: vlan 10, group 239.1.1.1 -> vlan 10, group 239.1.1.9"}));
    EXPECT_EQ(segment_plan("[192.0.2.2, 192.0.2.3]", "[192.0.2.3]"),
              (std::vector<std::string>{"vni 43: vlan 20, remotes 192.0.2.2 192.0.2.3 -> vlan 20, remotes 192.0.2.3"}));
    EXPECT_EQ(segment_plan(vni43, "    - { vni: 43, vlan: 20, protocol: vxvde, group: 239.2.2.2 }\n"),
              (std::vector<std::string>{"vni 43: removed (vlan 20, remotes 192.0.2.2 192.0.2.3)",
                                        "vni 43 (vxvde port 14789): added (vlan 20, vxvde port 14789, group 239.2.2.2)"}));
    // A VLAN change of a port and a VNI change together.
    std::string text = segments_text;
    text.replace(text.find("vlans: [10, 20, 30]"), 19, "vlans: [10, 20, 30, 40]");
    text.replace(text.find("vni: 43, vlan: 20"), 17, "vni: 43, vlan: 40");
    const auto plan = diff(load_ok(segments_text), load_ok(text));
    EXPECT_TRUE(plan.refused.empty());
    EXPECT_EQ(plan.ports, (std::vector<std::string>{"t"}));
    EXPECT_EQ(plan.changes.size(), 2u);
}

TEST(config_diff, a_refused_change_lists_no_steps) {
    const auto plan = diff(load_ok(running_text), changed("workers: 1 }", "workers: 1, mbufs: 4095 }\n"
                                                                      "control: { socket: /tmp/x.sock }"));
    EXPECT_EQ(plan.refused.size(), 2u);
    EXPECT_TRUE(plan.changes.empty());
}

TEST(l2_tables_runtime, domains_keep_their_index_across_a_change) {
    const auto before_model = load_ok(running_text);
    const auto before = l2_tables::build(before_model);
    // n leaves VLAN 30 for 40: 30 is carried by nobody, 40 is new.
    const auto next_model = changed("vlan: 30 }", "vlan: 40 }");
    const auto after = l2_tables::build(next_model, &before);
    for (uint16_t vlan : {10, 20}) {
        EXPECT_EQ(after.bd_of_vlan[vlan], before.bd_of_vlan[vlan]) << vlan;
    }
    const uint16_t old30 = before.bd_of_vlan[30];
    EXPECT_EQ(after.bd_of_vlan[30], l2_tables::no_domain);
    EXPECT_EQ(after.domains[old30].vlan, 30);
    EXPECT_TRUE(after.domains[old30].members.empty());
    EXPECT_NE(after.bd_of_vlan[40], old30) << "a freed index is not reused: MACs in flight may still name it";
    EXPECT_EQ(after.domains[after.bd_of_vlan[40]].members, (std::vector<uint16_t>{2}));
    // And back: VLAN 30 gets its old index again.
    const auto again = l2_tables::build(before_model, &after);
    EXPECT_EQ(again.bd_of_vlan[30], old30);
    EXPECT_EQ(again.domains[old30].members, (std::vector<uint16_t>{2}));
    EXPECT_FALSE(again.ports[2].egress[after.bd_of_vlan[40]].member());
}

} // namespace
} // namespace vx::config

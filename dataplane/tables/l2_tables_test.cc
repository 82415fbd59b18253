// SPDX-License-Identifier: MIT
#include "tables/l2_tables.hh"

#include <gtest/gtest.h>

namespace vx {
namespace {

config::model three_ports() {
    config::model m;
    auto port = [](std::string name, uint16_t vlan) {
        config::port p;
        p.name = std::move(name);
        p.device = "net_null_" + p.name;
        p.access_vlan = vlan;
        return p;
    };
    auto a = port("a", 10);
    auto b = port("b", 20);
    auto t = port("t", 1);
    t.mode = config::port_mode::trunk;
    t.allowed_vlans = {1, 10, 20};
    t.native_vlan = 1;
    m.ports = {a, b, t};
    return m;
}

TEST(l2_tables, one_domain_per_vlan_with_its_members) {
    const auto t = l2_tables::build(three_ports());
    ASSERT_EQ(t.domains.size(), 3u);
    const auto& d10 = t.domains[t.bd_of_vlan[10]];
    EXPECT_EQ(d10.vlan, 10);
    EXPECT_EQ(d10.members, (std::vector<uint16_t>{0, 2}));
    EXPECT_EQ(t.domains[t.bd_of_vlan[20]].members, (std::vector<uint16_t>{1, 2}));
    EXPECT_EQ(t.domains[t.bd_of_vlan[1]].members, (std::vector<uint16_t>{2}));
    EXPECT_EQ(t.bd_of_vlan[30], l2_tables::no_domain);
}

struct ingress_case {
    uint16_t port;
    uint16_t vid; // 0 = untagged or priority-tagged
    int vlan;     // expected VLAN of the domain, or -1 for a drop
    drop_reason why;
};

TEST(l2_tables, ingress_rules_per_port_mode) {
    const auto t = l2_tables::build(three_ports());
    const std::vector<ingress_case> cases{
        {0, 0, 10, {}},                             // access: untagged -> PVID
        {0, 10, -1, drop_reason::tagged_on_access}, // access: tagged, even with the PVID
        {0, 20, -1, drop_reason::tagged_on_access},
        {2, 10, 10, {}}, // trunk: allowed VLAN
        {2, 20, 20, {}},
        {2, 0, 1, {}}, // trunk: untagged -> native
        {2, 1, 1, {}}, // trunk: native VLAN tagged is accepted too
        {2, 30, -1, drop_reason::vlan_not_allowed},
        {2, 4095, -1, drop_reason::vlan_not_allowed},
    };
    for (const auto& c : cases) {
        const ingress_rule r = t.ports[c.port].ingress[c.vid];
        SCOPED_TRACE(testing::Message() << "port " << c.port << " vid " << c.vid);
        if (c.vlan < 0) {
            ASSERT_FALSE(r.admits());
            EXPECT_EQ(r.reason(), c.why);
        } else {
            ASSERT_TRUE(r.admits());
            EXPECT_EQ(t.domains[r.bd()].vlan, c.vlan);
        }
    }
}

TEST(l2_tables, trunk_without_native_drops_untagged) {
    auto m = three_ports();
    m.ports[2].native_vlan.reset();
    m.ports[2].allowed_vlans = {10, 20};
    const auto t = l2_tables::build(m);
    EXPECT_EQ(t.ports[2].ingress[0].reason(), drop_reason::untagged_on_trunk);
}

TEST(l2_tables, egress_rules_tag_all_but_the_untagged_vlan) {
    const auto t = l2_tables::build(three_ports());
    const auto bd = [&](uint16_t vlan) { return t.bd_of_vlan[vlan]; };
    EXPECT_TRUE(t.ports[0].egress[bd(10)].member());
    EXPECT_FALSE(t.ports[0].egress[bd(10)].is_tagged());
    EXPECT_FALSE(t.ports[0].egress[bd(20)].member());
    EXPECT_TRUE(t.ports[2].egress[bd(10)].is_tagged());
    EXPECT_EQ(t.ports[2].egress[bd(10)].vid(), 10);
    EXPECT_TRUE(t.ports[2].egress[bd(1)].member());
    EXPECT_FALSE(t.ports[2].egress[bd(1)].is_tagged()); // native goes out untagged
}

} // namespace
} // namespace vx

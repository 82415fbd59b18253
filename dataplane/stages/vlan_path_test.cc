// SPDX-License-Identifier: MIT
// A frame's way through the VLAN stages, from one port of a real configuration to another:
// parse and vlan_ingress on the ingress port, then the egress checks and vlan_egress that
// forward applies for the egress port. Every 802.1Q and 802.1ad case, with real bytes in and
// the expected bytes (or drop reason) out.

#include <gtest/gtest.h>

#include <memory>
#include <variant>

#include "config/load.hh"
#include "config/port_vlans.hh"
#include "stages/parse.hh"
#include "stages/vlan_egress.hh"
#include "stages/vlan_ingress.hh"
#include "testing/dpdk_env.hh"

namespace vx {
namespace {

using testing::bytes;
using testing::frame;

constexpr auto dst = "02:00:00:00:00:0b";
constexpr auto src = "02:00:00:00:00:0a";

// Port indexes of the configuration below.
enum port_index : uint16_t { a10, a1, a40, trunk, cust_a, cust_b, s_trunk, odd };

constexpr const char* fabric_yaml = R"(
ports:
  - { name: a10, device: d0, vlan: 10 }
  - { name: a1, device: d1, vlan: 1 }
  - { name: a40, device: d2, vlan: 40 }
  - name: trunk
    device: d3
    mode: trunk
    vlans: [10, 20]
    native_vlan: 1
    translate: [{ vlan: 30, domain: 40 }]          # 1:1: VLAN 30 on this wire is domain 40
  - { name: cust_a, device: d4, mode: customer, s_vlan: 100 }
  - { name: cust_b, device: d5, mode: customer, s_vlan: 200, c_vlans: [10] }
  - name: s_trunk
    device: d6
    mode: s-trunk                                  # TPID 0x88a8
    vlans: [100, 200]
    translate: [{ vlan: 300, c_vlan: 10, domain: 10 }]   # 2:1: S-VLAN 300 + C-VLAN 10 is domain 10
  - { name: odd, device: d7, mode: trunk, tpid: 0x9100, vlans: [100], foreign_tpid: drop }
)";

using outcome = std::variant<bytes, drop_reason>;

struct path_case {
    std::string name;
    uint16_t from;
    bytes in;
    uint16_t to;
    outcome expected;
};

class vlan_path : public ::testing::TestWithParam<path_case> {
protected:
    static void SetUpTestSuite() {
        testing::start_eal();
        auto m = config::load_string(fabric_yaml, "fabric.yaml");
        ASSERT_TRUE(m.value) << ::testing::PrintToString(m.errors);
        state = std::make_unique<snapshot>();
        state->l2 = l2_tables::build(*m.value);
    }
    static void TearDownTestSuite() { state.reset(); }

    // What becomes of `in`, received on `from`, when forwarding sends it to `to`.
    static outcome transit(uint16_t from, const bytes& in, uint16_t to, worker_counter_block& counters) {
        worker_ctx w;
        w.state = state.get();
        w.counters = &counters;
        burst b;
        b.count = 1;
        b.ingress = from;
        b.pkts[0] = testing::make_mbuf(in);
        parse{}.process(b, w);
        vlan_ingress{}.process(b, w);
        rte_mbuf* m = b.pkts[0];
        outcome result;
        if (!b.live(0)) {
            result = b.why[0];
        } else {
            const auto& rules = state->l2.ports[to];
            const egress_rule rule = rules.egress[b.bd[0]];
            if (const auto refused = egress_refusal(m, b.l2[0], rule, rules)) {
                result = *refused;
            } else if (!vlan_egress(m, b.l2[0], rule, rules.tpid)) {
                result = drop_reason::egress_no_headroom;
            } else {
                result = testing::mbuf_bytes(m);
            }
        }
        rte_pktmbuf_free(m);
        return result;
    }

    static inline std::unique_ptr<snapshot> state;
};

// Frames: `t(tpid, tci)` tags, outermost first. Payload lengths make 64-byte frames unless
// a case needs a size.
bytes f(std::vector<testing::tag> tags = {}, size_t payload = 46) {
    return frame(dst, src, tags, 0x0800, payload);
}
testing::tag t(uint16_t tpid, uint16_t tci) {
    return {tpid, tci};
}
bytes first(size_t n, bytes b) {
    b.resize(n);
    return b;
}
constexpr uint16_t c = 0x8100;
constexpr uint16_t s = 0x88a8;
// TCI with PCP (3 bits), DEI (1 bit) and VID.
constexpr uint16_t tci(uint16_t pcp, uint16_t dei, uint16_t vid) {
    return static_cast<uint16_t>(pcp << 13 | dei << 12 | vid);
}

std::vector<path_case> cases() {
    return {
        // 802.1Q access and trunk.
        {"access_to_trunk_pushes_vid10_pcp0", a10, f(), trunk, f({t(c, 10)})},
        {"trunk_to_access_pops", trunk, f({t(c, tci(5, 1, 10))}), a10, f()},
        {"tagged_on_access_dropped", a10, f({t(c, 10)}), trunk, drop_reason::tagged_on_access},
        {"priority_tag_on_access_keeps_pcp_on_trunk", a10, f({t(c, tci(5, 0, 0))}), trunk, f({t(c, tci(5, 0, 10))})},
        {"priority_tag_on_access_popped_to_access", a1, f({t(c, tci(3, 0, 0))}), trunk, f()},
        {"native_untagged_in_and_out", trunk, f(), a1, f()},
        {"access_to_native_leaves_untagged", a1, f(), trunk, f()},
        {"native_vlan_tagged_is_accepted", trunk, f({t(c, tci(2, 0, 1))}), a1, f()},
        {"vlan_not_allowed_on_trunk", trunk, f({t(c, 99)}), a10, drop_reason::vlan_not_allowed},
        {"inner_c_tag_carried_through_pop", trunk, f({t(c, 10), t(c, 77)}), a10, f({t(c, 77)})},
        // 1:1 translation: VLAN 30 on the trunk's wire is domain 40.
        {"translate_1to1_in", trunk, f({t(c, tci(3, 0, 30))}), a40, f()},
        {"translate_1to1_out", a40, f(), trunk, f({t(c, 30)})},
        {"domain_40_not_on_wire_as_40", trunk, f({t(c, 40)}), a40, drop_reason::vlan_not_allowed},
        // Customer (dot1q-tunnel) ports and the S-trunk.
        {"customer_untagged_gets_s_tag", cust_a, f(), s_trunk, f({t(s, 100)})},
        {"customer_c_tag_under_s_tag_with_its_pcp", cust_a, f({t(c, tci(3, 1, 10))}), s_trunk,
         f({t(s, tci(3, 1, 100)), t(c, tci(3, 1, 10))})},
        {"customer_priority_tag_is_payload", cust_a, f({t(c, tci(6, 0, 0))}), s_trunk,
         f({t(s, tci(6, 0, 100)), t(c, tci(6, 0, 0))})},
        {"s_trunk_to_customer_pops_s_keeps_c", s_trunk, f({t(s, tci(2, 0, 100)), t(c, tci(5, 0, 10))}), cust_a,
         f({t(c, tci(5, 0, 10))})},
        {"s_trunk_to_customer_untagged_inside", s_trunk, f({t(s, 100)}), cust_a, f()},
        {"three_deep_stack_carried", s_trunk, f({t(s, 100), t(c, 10), t(c, 20)}), cust_a, f({t(c, 10), t(c, 20)})},
        {"s_s_stack_carried", s_trunk, f({t(s, 100), t(s, 7), t(c, 8)}), cust_a, f({t(s, 7), t(c, 8)})},
        {"selective_qinq_admits_c10", cust_b, f({t(c, 10)}), s_trunk, f({t(s, 200), t(c, 10)})},
        {"selective_qinq_refuses_c11", cust_b, f({t(c, 11)}), s_trunk, drop_reason::c_vlan_not_allowed},
        {"selective_qinq_refuses_untagged", cust_b, f(), s_trunk, drop_reason::c_vlan_not_allowed},
        {"two_customers_same_c_vlan_stay_apart", s_trunk, f({t(s, 200), t(c, 10)}), cust_a,
         drop_reason::egress_not_member},
        {"s_vlan_not_allowed", s_trunk, f({t(s, 999)}), cust_a, drop_reason::vlan_not_allowed},
        {"untagged_on_s_trunk", s_trunk, f(), cust_a, drop_reason::untagged_on_trunk},
        {"c_tag_on_s_trunk_is_foreign_payload", s_trunk, f({t(c, 100)}), cust_a, drop_reason::untagged_on_trunk},
        // 2:1 translation: S-VLAN 300 + C-VLAN 10 on the S-trunk is domain 10.
        {"translate_2to1_in_to_access", s_trunk, f({t(s, tci(4, 0, 300)), t(c, tci(1, 0, 10))}), a10, f()},
        {"translate_2to1_out_from_access", a10, f(), s_trunk, f({t(s, 300), t(c, 10)})},
        {"translate_2to1_from_trunk_keeps_pcp", trunk, f({t(c, tci(6, 0, 10))}), s_trunk,
         f({t(s, tci(6, 0, 300)), t(c, tci(6, 0, 10))})},
        {"translate_2to1_to_trunk_takes_outer_pcp", s_trunk, f({t(s, tci(1, 0, 300)), t(c, tci(5, 0, 10))}), trunk,
         f({t(c, tci(1, 0, 10))})},
        {"translate_2to1_unknown_inner", s_trunk, f({t(s, 300), t(c, 11)}), a10, drop_reason::vlan_not_allowed},
        {"translate_2to1_without_inner", s_trunk, f({t(s, 300)}), a10, drop_reason::vlan_not_allowed},
        // A port with its own TPID.
        {"tpid_9100_to_s_trunk", odd, f({t(0x9100, tci(7, 1, 100))}), s_trunk, f({t(s, tci(7, 1, 100))})},
        {"s_trunk_to_tpid_9100", s_trunk, f({t(s, tci(7, 0, 100)), t(c, 5)}), odd,
         f({t(0x9100, tci(7, 0, 100)), t(c, 5)})},
        {"foreign_tpid_dropped_where_configured", odd, f({t(c, 100)}), s_trunk, drop_reason::foreign_tpid},
        // MTU 1500 everywhere: 1514 bytes untagged, 1518 with one tag; more tags count.
        {"mtu_1518_c_tagged_plus_s_tag_too_long", cust_a, f({t(c, 10)}, 1500), s_trunk,
         drop_reason::egress_mtu_exceeded},
        {"mtu_1514_c_tagged_plus_s_tag_fits", cust_a, f({t(c, 10)}, 1496), s_trunk,
         f({t(s, 100), t(c, 10)}, 1496)},
        {"mtu_1514_untagged_plus_tag_fits", a10, f({}, 1500), trunk, f({t(c, 10)}, 1500)},
        {"mtu_1514_untagged_plus_two_tags_too_long", a10, f({}, 1500), s_trunk, drop_reason::egress_mtu_exceeded},
        // Runts.
        {"runt_s_tag_cut", s_trunk, first(20, f({t(s, 100), t(c, 10)})), cust_a, drop_reason::truncated},
        {"runt_13_bytes", cust_a, bytes(13, 0x02), s_trunk, drop_reason::truncated},
    };
}

std::string describe(const outcome& o) {
    if (const auto* b = std::get_if<bytes>(&o)) {
        return ::testing::PrintToString(*b);
    }
    return std::string(drop_reasons[static_cast<size_t>(std::get<drop_reason>(o))].name);
}

TEST_P(vlan_path, in_bytes_to_out_bytes_or_drop) {
    const auto& tc = GetParam();
    worker_counter_block counters{};
    const outcome got = transit(tc.from, tc.in, tc.to, counters);
    EXPECT_EQ(got, tc.expected) << "got " << describe(got) << "\nexpected " << describe(tc.expected);
}

INSTANTIATE_TEST_SUITE_P(frames, vlan_path, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

TEST_F(vlan_path, foreign_tpid_payload_is_counted) {
    worker_counter_block counters{};
    transit(s_trunk, f({t(c, 100)}), cust_a, counters);
    EXPECT_EQ(counters.ports[s_trunk].get(port_counter::foreign_tpid_payload), 1u);
    transit(odd, f({t(c, 100)}), s_trunk, counters);
    EXPECT_EQ(counters.ports[odd].get(port_counter::foreign_tpid_payload), 0u) << "dropped, not counted as payload";
}

TEST(port_vlans, mtu_warnings_name_the_ports_and_the_fix) {
    auto m = config::load_string(fabric_yaml, "fabric.yaml").value.value();
    const auto warnings = config::mtu_warnings(m);
    const auto mentions = [&](const std::string& text) {
        return std::any_of(warnings.begin(), warnings.end(),
                           [&](const std::string& w) { return w.find(text) != std::string::npos; });
    };
    EXPECT_TRUE(mentions("ports 'cust_a' (mtu 1500) and 's_trunk' (mtu 1500) share bridge domain 100: a 1518-byte "
                         "frame from 'cust_a' leaves 's_trunk' as 1522 bytes, over its limit of 1518"))
        << ::testing::PrintToString(warnings);
    EXPECT_TRUE(mentions("raise 's_trunk''s mtu to 1504"));
    EXPECT_FALSE(mentions("ports 'a10' (mtu 1500) and 'trunk'")) << "one tag is within the MTU";
    EXPECT_TRUE(mentions("ports 'cust_a' (mtu 1500) and 'odd' (mtu 1500)")) << "odd carries S-VLAN 100 too";
    m.ports[s_trunk].mtu = 1504;
    m.ports[odd].mtu = 1504;
    EXPECT_EQ(config::mtu_warnings(m), std::vector<std::string>{}) << "1504 fits every path that adds tags";
    m.ports[a10].mtu = 1504;
    const auto after = config::mtu_warnings(m);
    ASSERT_EQ(after.size(), 2u) << ::testing::PrintToString(after);
    EXPECT_NE(after[0].find("ports 'a10' (mtu 1504) and 'trunk' (mtu 1500)"), std::string::npos) << after[0];
    EXPECT_NE(after[1].find("ports 'a10' (mtu 1504) and 's_trunk' (mtu 1504)"), std::string::npos) << after[1];
}

} // namespace
} // namespace vx

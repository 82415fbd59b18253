// SPDX-License-Identifier: MIT
#include "config/load.hh"
#include "testing/load_ok.hh"

#include <gtest/gtest.h>

#include <fstream>

namespace vx::config {
namespace {

using vx::testing::load_ok;

TEST(config_load, minimal_file_gets_the_defaults) {
    const auto m = load_ok("ports:\n  - { name: a, device: net_null0 }\n");
    ASSERT_EQ(m.ports.size(), 1u);
    EXPECT_EQ(m.ports[0].mode, port_mode::access);
    EXPECT_EQ(m.ports[0].access_vlan, 1);
    EXPECT_EQ(m.ports[0].queues, 1);
    EXPECT_EQ(m.ports[0].tpid, 0x8100);
    EXPECT_FALSE(m.ports[0].mtu);
    EXPECT_EQ(m.ports[0].line, 2);
    EXPECT_EQ(m.dp.workers, 1);
    EXPECT_EQ(m.mac_table.max_entries, 1u << 20);
    EXPECT_EQ(m.mac_table.aging_s, 300u);
}

TEST(config_load, full_file) {
    const auto m = load_ok(R"(
dataplane:
  workers: 2
  cpus: [1, 3]
  mbufs: 32767
  memory_mb: 1024
  idle_sleep_us: 10
  eal_args: ["--log-level=pmd.net.tap:debug"]
fdb:
  max_entries: 4096
  aging_s: 0
  static:
    - { mac: "02:00:00:00:00:01", vlan: 20, port: up }
ports:
  - { name: h1, device: "net_af_xdp0,iface=veth1", mode: access, vlan: 10, queues: 2 }
  - name: up
    device: "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap"
    mode: trunk
    vlans: [30, 10, "20-22", 21]
    native_vlan: 5
    tpid: 0x88a8
    mtu: 9000
)");
    EXPECT_EQ(m.dp.workers, 2);
    EXPECT_EQ(m.dp.cpus, (std::vector<uint16_t>{1, 3}));
    EXPECT_EQ(m.dp.mbufs, 32767u);
    EXPECT_EQ(m.dp.memory_mb, 1024u);
    EXPECT_EQ(m.dp.idle_sleep_us, 10u);
    EXPECT_EQ(m.dp.eal_args, std::vector<std::string>{"--log-level=pmd.net.tap:debug"});
    EXPECT_EQ(m.mac_table.max_entries, 4096u);
    EXPECT_EQ(m.mac_table.aging_s, 0u);
    ASSERT_EQ(m.mac_table.statics.size(), 1u);
    EXPECT_EQ(m.mac_table.statics[0].port, "up");
    EXPECT_EQ(m.mac_table.statics[0].vlan, 20);
    ASSERT_EQ(m.ports.size(), 2u);
    EXPECT_EQ(m.ports[0].queues, 2);
    EXPECT_EQ(m.ports[0].access_vlan, 10);
    const auto& up = m.ports[1];
    EXPECT_EQ(up.mode, port_mode::trunk);
    EXPECT_EQ(up.allowed_vlans, (std::vector<uint16_t>{5, 10, 20, 21, 22, 30})) << "sorted, unique, native added";
    EXPECT_EQ(up.native_vlan, 5);
    EXPECT_EQ(up.tpid, 0x88a8);
    EXPECT_EQ(up.mtu, 9000);
}

struct bad_case {
    std::string name;
    std::string yaml;
    std::vector<std::string> expected; // substrings, each in some error message
};

const std::string one_port = "ports:\n  - { name: a, device: net_null0 }\n";

std::vector<bad_case> bad_cases() {
    return {
        {"syntax", "ports: [ {name: a\n", {"t.yaml:2:"}},
        {"empty", "", {"empty"}},
        {"not_a_map", "- 1\n- 2\n", {"t.yaml:1:1: : expected a mapping"}},
        {"no_ports", "dataplane: { workers: 1 }\n", {"ports: required key is missing"}},
        {"unknown_top_key",
         one_port + "fbd: {}\n",
         {"t.yaml:3:1: fbd: unknown key; expected one of: control, dataplane, fdb, ports"}},
        {"unknown_port_key",
         "ports:\n  - { name: a, device: d, vlna: 3 }\n",
         {"t.yaml:2:27: ports[0].vlna: unknown key; expected one of: device, foreign_tpid, mode, mtu, name, queues, tpid, type, vlan"}},
        {"vlan_out_of_range",
         "ports:\n  - name: a\n    device: d\n    vlan: 4095\n",
         {"t.yaml:4:11: ports[0].vlan: 4095 is out of range (1..4094)"}},
        {"vlan_not_a_number",
         "ports:\n  - { name: a, device: d, vlan: ten }\n",
         {"ports[0].vlan: expected an integer, got 'ten'"}},
        {"missing_name_and_device",
         "ports:\n  - { vlan: 3 }\n",
         {"ports[0].name: required key is missing", "ports[0].device: required key is missing"}},
        {"bad_mode",
         "ports:\n  - { name: a, device: d, mode: hybrid }\n",
         {"ports[0].mode: 'hybrid' is not a port mode"}},
        {"vlans_on_access",
         "ports:\n  - { name: a, device: d, vlans: [1] }\n",
         {"ports[0].vlans: this key is for trunk and s-trunk ports"}},
        {"vlan_on_trunk",
         "ports:\n  - { name: a, device: d, mode: trunk, vlan: 3, vlans: [3] }\n",
         {"ports[0].vlan: vlan is for access ports"}},
        {"bad_range",
         "ports:\n  - { name: a, device: d, mode: trunk, vlans: [\"20-10\"] }\n",
         {"ports[0].vlans[0]: '20-10' is not a valid VLAN range"}},
        {"range_past_4094",
         "ports:\n  - { name: a, device: d, mode: trunk, vlans: [\"4000-4095\"] }\n",
         {"not a valid VLAN range"}},
        {"empty_trunk", "ports:\n  - { name: a, device: d, mode: trunk }\n", {"a trunk must carry at least one VLAN"}},
        {"tpid_too_small",
         "ports:\n  - { name: a, device: d, tpid: 0x05ff }\n",
         {"ports[0].tpid: 1535 is out of range"}},
        {"duplicate_names",
         "ports:\n  - { name: a, device: d0 }\n  - { name: a, device: d1 }\n",
         {"ports[1] 'a' (line 3): name 'a' is already used by ports[0]"}},
        {"duplicate_devices",
         "ports:\n  - { name: a, device: \"net_pcap0,rx_pcap=x\" }\n  - { name: b, device: net_pcap0 }\n",
         {"device 'net_pcap0' is already used by ports[0]"}},
        {"bad_port_name", "ports:\n  - { name: \"a b\", device: d }\n", {"name must be 1-32 letters"}},
        {"workers_zero", one_port + "dataplane: { workers: 0 }\n", {"dataplane.workers: 0 is out of range (1..64)"}},
        {"unknown_dataplane_key", one_port + "dataplane: { worker: 2 }\n", {"dataplane.worker: unknown key"}},
        {"fdb_not_a_map", one_port + "fdb: 12\n", {"fdb: expected a mapping"}},
        {"static_bad_mac",
         one_port + "fdb: { static: [ { mac: \"02:00:00:00:00\", vlan: 1, port: a } ] }\n",
         {"fdb.static[0].mac: '02:00:00:00:00' is not a MAC address"}},
        {"static_group_mac",
         one_port + "fdb: { static: [ { mac: \"01:00:5e:00:00:01\", vlan: 1, port: a } ] }\n",
         {"is not a unicast MAC address"}},
        {"static_unknown_port",
         one_port + "fdb: { static: [ { mac: \"02:00:00:00:00:01\", vlan: 1, port: z } ] }\n",
         {"no port is named 'z'"}},
        {"static_vlan_not_carried",
         one_port + "fdb: { static: [ { mac: \"02:00:00:00:00:01\", vlan: 7, port: a } ] }\n",
         {"port 'a' does not carry vlan 7"}},
        {"static_duplicate",
         one_port + "fdb: { static: [ { mac: \"02:00:00:00:00:01\", vlan: 1, port: a }, { mac: \"02:00:00:00:00:01\", "
                    "vlan: 1, port: a } ] }\n",
         {"fdb.static[1] (line 3): 02:00:00:00:00:01 vlan 1 is already listed"}},
        {"static_missing_vlan",
         one_port + "fdb: { static: [ { mac: \"02:00:00:00:00:01\", port: a } ] }\n",
         {"fdb.static[0].vlan: required key is missing"}},
        {"ports_not_a_list", "ports: { name: a }\n", {"ports: expected a list"}},
        // The control channel.
        {"control_relative_socket",
         one_port + "control: { socket: vx.sock }\n",
         {"t.yaml:3:20: control.socket: 'vx.sock' must be an absolute path of at most 107 bytes"}},
        {"control_socket_too_long",
         one_port + "control: { socket: /" + std::string(107, 'x') + " }\n",
         {"control.socket: '/xxx", "must be an absolute path of at most 107 bytes"}},
        {"control_mode_not_octal",
         one_port + "control: { mode: 0680 }\n",
         {"control.mode: '0680' is not a permission mode (octal, 0000..0777)"}},
        {"control_mode_too_big", one_port + "control: { mode: 1777 }\n", {"control.mode: '1777' is not a permission"}},
        {"control_empty_group", one_port + "control: { group: \"\" }\n", {"control.group: expected a non-empty string"}},
        {"control_unknown_key",
         one_port + "control: { path: /run/x.sock }\n",
         {"control.path: unknown key; expected one of: group, mode, owner, socket"}},
        {"control_not_a_map", one_port + "control: /run/x.sock\n", {"control: expected a mapping"}},
        // 802.1ad and translations.
        {"s_vlan_zero",
         "ports:\n  - { name: c, device: d, mode: customer, s_vlan: 0 }\n",
         {"ports[0].s_vlan: 0 is out of range (1..4094)"}},
        {"s_vlan_4095",
         "ports:\n  - { name: c, device: d, mode: customer, s_vlan: 4095 }\n",
         {"ports[0].s_vlan: 4095 is out of range (1..4094)"}},
        {"s_trunk_vlan_4095",
         "ports:\n  - { name: s, device: d, mode: s-trunk, vlans: [4095] }\n",
         {"ports[0].vlans[0]: 4095 is out of range (1..4094)"}},
        {"customer_without_s_vlan",
         "ports:\n  - { name: c, device: d, mode: customer }\n",
         {"ports[0].s_vlan: required key is missing"}},
        {"c_vlans_on_trunk",
         "ports:\n  - { name: t, device: d, mode: trunk, vlans: [1], c_vlans: [2] }\n",
         {"ports[0].c_vlans: this key is for customer ports"}},
        {"vlans_on_customer",
         "ports:\n  - { name: c, device: d, mode: customer, s_vlan: 5, vlans: [2] }\n",
         {"ports[0].vlans: this key is for trunk and s-trunk ports"}},
        {"tpid_past_16_bits",
         "ports:\n  - { name: a, device: d, tpid: 0x10000 }\n",
         {"ports[0].tpid: 65536 is out of range (1536..65535)"}},
        {"bad_foreign_tpid_action",
         "ports:\n  - { name: a, device: d, foreign_tpid: pass }\n",
         {"ports[0].foreign_tpid: 'pass' is not an action for frames of another TPID (payload, drop)"}},
        {"translate_wire_vlan_also_in_vlans",
         "ports:\n  - { name: t, device: d, mode: trunk, vlans: [10], translate: [{vlan: 10, domain: 110}] }\n",
         {"ports[0] 't' (line 2): vlans 10 and translate[0] map the same wire tags to two bridge domains"}},
        {"translate_domain_also_in_vlans",
         "ports:\n  - { name: t, device: d, mode: trunk, vlans: [110], translate: [{vlan: 10, domain: 110}] }\n",
         {"vlans 110 and translate[0] both carry bridge domain 110"}},
        {"two_translations_of_one_vlan",
         "ports:\n  - { name: t, device: d, mode: trunk, translate: [{vlan: 10, domain: 110}, {vlan: 10, domain: "
         "120}] }\n",
         {"translate[0] and translate[1] map the same wire tags to two bridge domains"}},
        {"two_pairs_one_domain",
         "ports:\n  - { name: s, device: d, mode: s-trunk, translate: [{vlan: 100, c_vlan: 10, domain: 1010}, {vlan: "
         "100, c_vlan: 11, domain: 1010}] }\n",
         {"translate[0] and translate[1] both carry bridge domain 1010"}},
        {"pair_outer_also_plain",
         "ports:\n  - { name: s, device: d, mode: s-trunk, vlans: [100], translate: [{vlan: 100, c_vlan: 10, domain: "
         "1010}] }\n",
         {"VLAN 100 is both a VLAN of its own and the outer VLAN of translate[0]"}},
        {"translate_missing_domain",
         "ports:\n  - { name: t, device: d, mode: trunk, translate: [{vlan: 10}] }\n",
         {"ports[0].translate[0].domain: required key is missing"}},
        {"translate_on_access",
         "ports:\n  - { name: a, device: d, translate: [{vlan: 10, domain: 11}] }\n",
         {"ports[0].translate: this key is for trunk and s-trunk ports"}},
    };
}

class config_refused : public ::testing::TestWithParam<bad_case> {};

TEST_P(config_refused, with_a_message_naming_where) {
    const auto& c = GetParam();
    const auto r = load_string(c.yaml, "t.yaml");
    EXPECT_FALSE(r.value);
    ASSERT_FALSE(r.errors.empty());
    for (const auto& want : c.expected) {
        const bool found = std::any_of(r.errors.begin(), r.errors.end(),
                                       [&](const std::string& e) { return e.find(want) != std::string::npos; });
        EXPECT_TRUE(found) << "no error contains \"" << want << "\"; got " << ::testing::PrintToString(r.errors);
    }
}

INSTANTIATE_TEST_SUITE_P(files, config_refused, ::testing::ValuesIn(bad_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(config_load, qinq_ports) {
    const auto m = load_ok(R"(
ports:
  - { name: cust, device: net_null0, mode: customer, s_vlan: 100, c_vlans: [10, "20-21"], mtu: 1500 }
  - { name: tunnel, device: net_null1, mode: dot1q-tunnel, s_vlan: 200 }
  - name: up
    device: net_null2
    mode: s-trunk
    vlans: [100, 200]
    translate:
      - { vlan: 300, c_vlan: 10, domain: 1010 }
      - { vlan: 301, domain: 201 }
    foreign_tpid: drop
    mtu: 1504
  - { name: odd, device: net_null3, mode: trunk, tpid: 0x9100, vlans: [1010] }
)");
    ASSERT_EQ(m.ports.size(), 4u);
    EXPECT_EQ(m.ports[0].mode, port_mode::customer);
    EXPECT_EQ(m.ports[0].s_vlan, 100);
    EXPECT_EQ(m.ports[0].c_vlans, (std::vector<uint16_t>{10, 20, 21}));
    EXPECT_EQ(m.ports[0].tpid, c_tag_tpid);
    EXPECT_EQ(m.ports[1].mode, port_mode::customer) << "dot1q-tunnel is the customer mode";
    EXPECT_EQ(m.ports[2].mode, port_mode::s_trunk);
    EXPECT_EQ(m.ports[2].tpid, s_tag_tpid) << "an s-trunk's TPID defaults to 0x88a8";
    EXPECT_EQ(m.ports[2].foreign_tpid, foreign_tpid_action::drop);
    ASSERT_EQ(m.ports[2].translations.size(), 2u);
    EXPECT_EQ(m.ports[2].translations[0].c_vlan, 10);
    EXPECT_EQ(m.ports[2].translations[0].domain, 1010);
    EXPECT_FALSE(m.ports[2].translations[1].c_vlan);
    EXPECT_EQ(m.ports[3].tpid, 0x9100);
}

TEST(config_load, every_error_is_reported_at_once) {
    const auto r =
        load_string("dataplane: { workers: 99 }\nports:\n  - { name: a, device: d, vlan: 0, queues: 0 }\n", "t.yaml");
    EXPECT_EQ(r.errors.size(), 3u) << ::testing::PrintToString(r.errors);
}

TEST(config_load, missing_file_is_named) {
    const auto r = load_file("/nonexistent/vx.yaml");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].find("/nonexistent/vx.yaml"), std::string::npos);
}

TEST(config_load, file_errors_carry_the_file_name) {
    const std::string path = ::testing::TempDir() + "vx_bad.yaml";
    std::ofstream(path) << "ports:\n  - { name: a, device: d, vlan: 5000 }\n";
    const auto r = load_file(path);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].rfind(path + ":2:", 0), 0u) << r.errors[0];
}

TEST(config_validate, checks_a_model_built_in_code) {
    model m;
    EXPECT_EQ(validate(m), std::vector<std::string>{"ports: at least one port is needed"});
    m.ports.push_back({});
    m.ports[0].name = "a";
    m.ports[0].device = "net_null0";
    EXPECT_TRUE(validate(m).empty());
    m.ports[0].mode = port_mode::trunk;
    EXPECT_EQ(validate(m).size(), 1u) << "a trunk with no VLAN";
}

TEST(config_load, control_channel) {
    const auto defaults = load_ok(one_port);
    EXPECT_EQ(defaults.control.socket, "/run/vxswitch/vxswitchd.sock");
    EXPECT_EQ(defaults.control.owner, "");
    EXPECT_EQ(defaults.control.group, "");
    EXPECT_FALSE(defaults.control.mode);
    const auto m = load_ok(one_port + "control: { socket: /tmp/vx/ctl.sock, owner: root, group: adm, mode: 0640 }\n");
    EXPECT_EQ(m.control.socket, "/tmp/vx/ctl.sock");
    EXPECT_EQ(m.control.owner, "root");
    EXPECT_EQ(m.control.group, "adm");
    EXPECT_EQ(m.control.mode, 0640) << "the mode is octal, as chmod takes it";
    EXPECT_EQ(load_ok(one_port + "control: { mode: 0o600 }\n").control.mode, 0600);
    EXPECT_EQ(load_ok(one_port + "control: { mode: 660 }\n").control.mode, 0660);
}

} // namespace
} // namespace vx::config

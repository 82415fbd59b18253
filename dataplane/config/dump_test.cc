// SPDX-License-Identifier: MIT
#include "config/dump.hh"

#include <yaml-cpp/yaml.h>

#include <gtest/gtest.h>

#include <sstream>

#include "config/load.hh"
#include "testing/load_ok.hh"
#include "daemon/default_config.hh"

namespace vx::config {
namespace {

using vx::testing::load_ok;

// Every key the loader takes is set here, to something other than its default.
const std::string full_config = R"(
dataplane:
  workers: 2
  cpus: [1, 3]
  mbufs: 32767
  memory_mb: 1024
  idle_sleep_us: 10
  eal_args: ["--log-level=pmd.net.tap:debug", "-v"]
fdb:
  max_entries: 4096
  aging_s: 0
  static:
    - { mac: "02:00:00:00:00:01", vlan: 10, port: h1 }
    - { mac: "02:00:00:00:00:02", vlan: 20, port: up }
control: { socket: "/tmp/vx test/ctl.sock", owner: root, group: "0", mode: 0640 }
ports:
  - { name: h1, device: "net_af_xdp0,iface=veth1", queues: 2, mode: access, vlan: 10, tpid: 0x9100,
      foreign_tpid: drop, mtu: 9000 }
  - name: up
    device: "net_pcap0,rx_pcap=/tmp/in: x.pcap,tx_pcap=/tmp/#out.pcap"
    mode: trunk
    vlans: [10, 20, 21, "100-199", 4094]
    native_vlan: 1
    translate: [{ vlan: 300, domain: 301 }]
    tpid: 0x88a8
    foreign_tpid: drop
    mtu: 1600
  - { name: c1, device: net_null0, mode: customer, s_vlan: 500, c_vlans: [10, "20-29"], tpid: 0x9100,
      foreign_tpid: drop, mtu: 1500 }
  - name: s1
    device: net_null1
    mode: s-trunk
    vlans: [500, 600]
    native_vlan: 700
    translate: [{ vlan: 800, c_vlan: 10, domain: 1010 }, { vlan: 801, domain: 1011 }]
    tpid: 0x8100
    foreign_tpid: drop
    mtu: 1504
)";

const std::string one_port = "ports:\n  - { name: a, device: net_null0 }\n";

// What landed since the first dump: a VTEP, AF_XDP ports with their steering, VDE ports.
const std::string vxlan_xdp_vde_config = R"(
ports:
  - { name: h1, device: net_null0, vlan: 10 }
  - { name: up, type: af_xdp, iface: eth1, queues: 2, own: true,
      drop: { vlans: [300, "400-410"], ethertypes: [0x88cc, 0x8809], src_macs: ["02:bb:00:00:00:01"],
              udp: ["*:9999", "[2001:db8::9]:53"] } }
  - { name: fab, type: af_xdp, iface: eth0, mode: trunk, vlans: [10, 20, 30],
      steer: { vlans: [], udp: ["192.0.2.1:4789", "[2001:db8::1]:4790", "*:4791"],
               macs: ["02:aa:00:00:00:00-02:aa:00:00:00:ff", "02:cc:00:00:00:01"] } }
  - { name: v1, type: vde, url: "vxvde://239.1.2.3", vlan: 20 }
  - { name: v2, type: vde_switch, vde_port: 3, vlan: 20 }
  - { name: v3, type: vde_switch, vlan: 20 }
vde_switch: { path: /run/vxswitch/vde, owner: root, group: "0", mode: 0640 }
vxlan:
  underlay: up
  address: 192.0.2.1
  address6: "2001:db8::1"
  udp_port: 4790
  ttl: 17
  dscp: 46
  next_hop_mac: "02:00:00:00:99:01"
  vnis:
    - { vni: 42, vlan: 10, group: 239.1.1.1, remotes: [192.0.2.2, "2001:db8::2"] }
    - { vni: 0xabcdef, vlan: 20 }
    - { vni: 42, vlan: 30, protocol: vxvde, group: 239.1.2.3, port: 14790 }
)";

std::vector<std::string> configs() {
    return {
        one_port,
        std::string(default_config),
        full_config,
        vxlan_xdp_vde_config,
        one_port + "control: { socket: /run/x.sock, mode: 0 }\n",
        one_port + "control: { group: nogroup }\n",
        "ports:\n  - { name: t, device: d, mode: trunk, vlans: [\"1-4094\"] }\n",
        "ports:\n  - { name: t, device: d, mode: trunk, native_vlan: 5 }\n",
        "ports:\n  - { name: t, device: d, mode: trunk, translate: [{vlan: 2, domain: 3}] }\n",
        "ports:\n  - { name: c, device: d, mode: dot1q-tunnel, s_vlan: 9 }\n",
        "ports:\n  - { name: a, device: \"net_tap0,iface='x y'\", vlan: 4094 }\n"
        "fdb: { static: [ { mac: \"02:AB:00:00:00:01\", vlan: 4094, port: a } ] }\n",
    };
}

TEST(config_dump, loads_back_to_the_same_dump) {
    for (const auto& yaml : configs()) {
        const std::string first = dump(load_ok(yaml));
        const std::string second = dump(load_ok(first));
        EXPECT_EQ(first, second) << "from:\n" << yaml;
    }
}

TEST(config_dump, keeps_what_was_configured) {
    const model m = load_ok(full_config);
    const model back = load_ok(dump(m));
    EXPECT_EQ(back.dp.cpus, m.dp.cpus);
    EXPECT_EQ(back.dp.eal_args, m.dp.eal_args);
    EXPECT_EQ(back.control.socket, "/tmp/vx test/ctl.sock");
    EXPECT_EQ(back.control.mode, 0640);
    ASSERT_EQ(back.ports.size(), m.ports.size());
    for (size_t i = 0; i < m.ports.size(); ++i) {
        const auto& a = m.ports[i];
        const auto& b = back.ports[i];
        EXPECT_EQ(b.device, a.device);
        EXPECT_EQ(b.mode, a.mode);
        EXPECT_EQ(b.allowed_vlans, a.allowed_vlans);
        EXPECT_EQ(b.native_vlan, a.native_vlan);
        EXPECT_EQ(b.translations.size(), a.translations.size());
        EXPECT_EQ(b.c_vlans, a.c_vlans);
        EXPECT_EQ(b.tpid, a.tpid);
        EXPECT_EQ(b.foreign_tpid, a.foreign_tpid);
        EXPECT_EQ(b.mtu, a.mtu);
    }
    ASSERT_EQ(back.mac_table.statics.size(), 2u);
    EXPECT_EQ(back.mac_table.statics[1].port, "up");
}

// The keys the loader takes at `path` ("" for the top), read from its "unknown key" message.
std::vector<std::string> keys_taken(const std::string& yaml, const std::string& path) {
    const auto r = load_string(yaml, "probe.yaml");
    const std::string marker = (path.empty() ? ": zzz" : " " + path + ".zzz") + ": unknown key; expected one of: ";
    for (const auto& e : r.errors) {
        if (const auto at = e.find(marker); at != std::string::npos) {
            std::vector<std::string> keys;
            std::stringstream list(e.substr(at + marker.size()));
            for (std::string k; std::getline(list, k, ',');) {
                keys.push_back(k.substr(k.find_first_not_of(' ')));
            }
            return keys;
        }
    }
    ADD_FAILURE() << "no unknown-key message for '" << path << "' in " << ::testing::PrintToString(r.errors);
    return {};
}

// A key added to the loader and forgotten by dump() would be lost by every dump: this
// fails then, naming the key.
TEST(config_dump, writes_every_key_the_loader_takes) {
    const YAML::Node dumped = YAML::Load(dump(load_ok(full_config)));
    const YAML::Node more = YAML::Load(dump(load_ok(vxlan_xdp_vde_config)));
    const std::string port_probe = "ports:\n  - { name: a, device: d, zzz: 1, ";
    struct place {
        std::string what;
        std::string path;
        std::string probe;
        YAML::Node node;
        YAML::Node also = {}; // keys that the first configuration leaves out (type: for a dpdk port)
    };
    const std::vector<place> places = {
        {"top", "", one_port + "zzz: 1\n", dumped, more},
        {"dataplane", "dataplane", one_port + "dataplane: { zzz: 1 }\n", dumped["dataplane"]},
        {"fdb", "fdb", one_port + "fdb: { zzz: 1 }\n", dumped["fdb"]},
        {"static", "fdb.static[0]", one_port + "fdb: { static: [ { zzz: 1 } ] }\n", dumped["fdb"]["static"][0]},
        {"control", "control", one_port + "control: { zzz: 1 }\n", dumped["control"]},
        {"access port", "ports[0]", port_probe + "mode: access }\n", dumped["ports"][0], more["ports"][1]},
        {"trunk port", "ports[0]", port_probe + "mode: trunk }\n", dumped["ports"][1], more["ports"][1]},
        {"customer port", "ports[0]", port_probe + "mode: customer, s_vlan: 5 }\n", dumped["ports"][2],
         more["ports"][1]},
        {"s-trunk port", "ports[0]", port_probe + "mode: s-trunk }\n", dumped["ports"][3], more["ports"][1]},
        {"translation", "ports[0].translate[0]",
         "ports:\n  - { name: a, device: d, mode: trunk, translate: [ { zzz: 1 } ] }\n",
         dumped["ports"][3]["translate"][0]},
        {"vxlan", "vxlan", "ports:\n  - { name: a, device: d }\nvxlan: { zzz: 1 }\n", more["vxlan"]},
        {"vxlan vni", "vxlan.vnis[0]", "ports:\n  - { name: a, device: d }\nvxlan: { vnis: [ { zzz: 1 } ] }\n",
         more["vxlan"]["vnis"][0], more["vxlan"]["vnis"][2]},
        {"vde_switch", "vde_switch", "ports:\n  - { name: a, device: d }\nvde_switch: { zzz: 1 }\n",
         more["vde_switch"]},
        {"af_xdp steer", "ports[0].steer", "ports:\n  - { name: a, type: af_xdp, iface: e, steer: { zzz: 1 } }\n",
         more["ports"][2]["steer"]},
        {"af_xdp drop", "ports[0].drop", "ports:\n  - { name: a, type: af_xdp, iface: e, drop: { zzz: 1 } }\n",
         more["ports"][1]["drop"]},
    };
    for (const auto& p : places) {
        ASSERT_TRUE(p.node.IsMap()) << p.what;
        const auto keys = keys_taken(p.probe, p.path);
        EXPECT_FALSE(keys.empty()) << p.what;
        for (const auto& key : keys) {
            EXPECT_TRUE(p.node[key].IsDefined() || (p.also.IsMap() && p.also[key].IsDefined()))
                << p.what << ": the dump has no '" << key << "'";
        }
    }
}

TEST(config_dump, keeps_vxlan_af_xdp_and_vde) {
    const model m = load_ok(vxlan_xdp_vde_config);
    const model back = load_ok(dump(m));
    ASSERT_TRUE(back.vxlan);
    EXPECT_EQ(back.vxlan->address6, "2001:db8::1");
    EXPECT_EQ(back.vxlan->udp_port, 4790);
    EXPECT_EQ(back.vxlan->ttl, 17);
    EXPECT_EQ(back.vxlan->dscp, 46);
    EXPECT_EQ(back.vxlan->next_hop_mac, "02:00:00:00:99:01");
    ASSERT_EQ(back.vxlan->segments.size(), 3u);
    EXPECT_EQ(back.vxlan->segments[0].remotes, (std::vector<std::string>{"192.0.2.2", "2001:db8::2"}));
    EXPECT_EQ(back.vxlan->segments[1].vni, 0xabcdefu);
    EXPECT_FALSE(back.vxlan->segments[1].vxvde);
    EXPECT_TRUE(back.vxlan->segments[2].vxvde);
    EXPECT_EQ(back.vxlan->segments[2].port, 14790);
    ASSERT_EQ(back.ports.size(), m.ports.size());
    for (size_t i = 0; i < m.ports.size(); ++i) {
        EXPECT_EQ(back.ports[i].device, m.ports[i].device) << m.ports[i].name;
    }
    const auto& own = *back.ports[1].xdp;
    EXPECT_TRUE(own.own);
    EXPECT_FALSE(own.vlans);
    EXPECT_EQ(own.drop_vlans, (std::vector<uint16_t>{300, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410}));
    EXPECT_EQ(own.drop_ethertypes, (std::vector<uint16_t>{0x88cc, 0x8809}));
    EXPECT_EQ(own.drop_udp, (std::vector<std::string>{"*:9999", "[2001:db8::9]:53"}));
    const auto& fab = *back.ports[2].xdp;
    ASSERT_TRUE(fab.vlans);
    EXPECT_TRUE(fab.vlans->empty()) << "steer: { vlans: [] } steers no VLAN; it must not become the default";
    EXPECT_EQ(fab.udp.size(), 3u);
    EXPECT_EQ(fab.macs.size(), 2u);
    EXPECT_EQ(back.ports[3].vde->url, "vxvde://239.1.2.3");
    EXPECT_EQ(back.ports[4].vde->number, 3);
    EXPECT_FALSE(back.ports[5].vde->number);
    ASSERT_TRUE(back.vde_switch);
    EXPECT_EQ(back.vde_switch->mode, 0640);
}

TEST(config_dump, vlan_ranges) {
    EXPECT_EQ(vlan_ranges({}), std::vector<std::string>{});
    EXPECT_EQ(vlan_ranges({5}), std::vector<std::string>{"5"});
    EXPECT_EQ(vlan_ranges({1, 2, 4, 5, 6, 9, 4093, 4094}),
              (std::vector<std::string>{"1", "2", "4-6", "9", "4093", "4094"}));
}

} // namespace
} // namespace vx::config

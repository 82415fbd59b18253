// SPDX-License-Identifier: MIT
#pragma once

// The configuration model: one typed value that says what the switch should be.
//
// It is built from a YAML file (config/load.hh) and, later, by vxctl commands; both paths
// end in the same validate() so the grammar is the same at start-up and at runtime. The
// model holds no DPDK state: turning it into forwarding tables is tables/l2_tables.hh's job.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vx::config {

inline constexpr uint16_t min_vlan = 1;
inline constexpr uint16_t max_vlan = 4094;

enum class port_mode : uint8_t {
    access,   // untagged in and out, one VLAN (the PVID)
    trunk,    // 802.1Q tags for an allowed VLAN list, optional native VLAN carried untagged
    s_trunk,  // 802.1ad: S-tags (TPID 0x88a8 by default); a C-tag inside is carried untouched
    customer, // dot1q-tunnel: untagged and C-tagged frames alike join one S-VLAN's domain
};

// What a port does with a frame whose outer EtherType is a well-known TPID other than its own.
enum class foreign_tpid_action : uint8_t {
    payload, // switch it as an untagged frame (the tag is the customer's business)
    drop,    // drop it, counted as foreign_tpid
};

// VLAN translation on a trunk or S-trunk: VLAN `vlan` on the wire (1:1), or the outer `vlan`
// with the inner C-VLAN `c_vlan` (2:1), is bridge domain `domain` inside the switch.
struct translation {
    uint16_t vlan = 0;
    std::optional<uint16_t> c_vlan;
    uint16_t domain = 0;
    int line = 0;
};

// A port of `type: af_xdp`: vxswitch makes its net_af_xdp device from `iface` and attaches its
// own XDP program (bpf/steer.bpf.c), which sends the port's fabric traffic to the switch and
// the rest to the kernel (docs/af-xdp.md). Addresses stay text here, as the YAML has them;
// config/xdp_steering.hh parses and checks them.
struct xdp_steering {
    std::string iface;                           // the kernel interface, e.g. "eth0"
    bool own = false;                            // every frame a filter does not drop goes to the switch
    std::optional<std::vector<uint16_t>> vlans;  // steered outer VLANs; default: those the port carries tagged
    std::vector<std::string> udp;                // steered UDP destinations: "192.0.2.1:4789", "[2001:db8::1]:4789", "*:4789"
    std::vector<std::string> macs;               // steered destination MACs: "02:aa:00:00:00:01" or "lo-hi"
    std::vector<uint16_t> drop_vlans;            // early filters: dropped in XDP, before anything else
    std::vector<uint16_t> drop_ethertypes;
    std::vector<std::string> drop_src_macs;
    std::vector<std::string> drop_udp;

    bool operator==(const xdp_steering&) const = default;
};

// A port of `type: vde` (libvdeplug opens `url`) or `type: vde_switch` (a port of vxswitchd's
// own VDE switch, bound to a client while one is connected). Frames cross through the VDE I/O
// thread and a ring ethdev (vuos-bridge/, docs/vde.md); the port's device is that ethdev.
struct vde_port {
    std::string url;               // type: vde: "vde:///run/sw", "vxvde://239.1.2.3", "tap://vde0", ...
    bool switch_port = false;      // type: vde_switch
    std::optional<uint16_t> number; // type: vde_switch: the VDE port number a client asks for; empty: any client
};

// What a VDE port's device reads in a loaded configuration: a label, unique as port names are.
// The port's real device is the ring ethdev the VDE bridge makes for it when the port opens
// (vuos-bridge/vde_endpoint.hh), named by a serial that is never reused, so that a port added
// again at runtime never meets the name of one being closed; the running switch's own model
// (daemon/fabric.hh) holds that name instead. A file gives no device for a VDE port.
inline std::string vde_device(const std::string& port_name) {
    return "vde:" + port_name;
}

inline constexpr uint16_t c_tag_tpid = 0x8100;
inline constexpr uint16_t s_tag_tpid = 0x88a8;

struct port {
    std::string name;    // operator's name, unique ("uplink", "host1")
    std::string device;  // DPDK devargs: PCI address or "net_xxx0,key=val,..."
    uint16_t queues = 1; // RX queues, spread over the workers
    port_mode mode = port_mode::access;
    uint16_t access_vlan = 1;             // access: the PVID
    std::vector<uint16_t> allowed_vlans;  // trunk, s-trunk: sorted, unique (native included)
    std::optional<uint16_t> native_vlan;  // trunk, s-trunk: sent and received untagged
    std::vector<translation> translations; // trunk, s-trunk
    uint16_t s_vlan = 0;                  // customer: the S-VLAN its frames join
    std::vector<uint16_t> c_vlans;        // customer: admitted C-VLANs, sorted; empty = all
    uint16_t tpid = c_tag_tpid;           // outer tag's TPID (0x88a8 on an s-trunk by default)
    foreign_tpid_action foreign_tpid = foreign_tpid_action::payload;
    std::optional<uint16_t> mtu;          // set on the device when given; 1500 is assumed otherwise
    std::optional<xdp_steering> xdp;      // type: af_xdp (device is then made from xdp->iface)
    std::optional<vde_port> vde;          // type: vde, vde_switch (device is then a ring ethdev)
    int line = 0;                         // where it was declared, for later messages

    // A removed port's slot in the running switch's own model (daemon/fabric.hh), kept so
    // that the other ports keep their index; a loaded configuration never has one.
    bool vacant() const { return name.empty(); }
};

// The MTU the switch enforces on a port whose configuration names none.
inline constexpr uint16_t default_mtu = 1500;

struct static_mac {
    std::string mac; // "02:00:00:00:00:01"
    uint16_t vlan = 1;
    std::string port;
    int line = 0;
};

struct dataplane {
    uint16_t workers = 1;              // poll-mode worker lcores
    std::vector<uint16_t> cpus;        // CPU of each worker (cycled); empty: 1, 2, ... mod nproc
    uint32_t mbufs = 16383;            // packet buffers in the pool
    uint32_t memory_mb = 512;          // DPDK memory when running without hugepages
    uint32_t idle_sleep_us = 0;        // sleep after an empty poll round; 0 = pure poll mode
    std::vector<std::string> eal_args; // extra EAL arguments, passed through
};

struct fdb {
    uint32_t max_entries = 1u << 20; // learned + static MACs, over all bridge domains
    uint32_t aging_s = 300;          // 0 = never age
    std::vector<static_mac> statics;
};

// The control channel vxctl speaks to (docs/control-protocol.md). Nothing listens on a network.
struct control_channel {
    std::string socket = "/run/vxswitch/vxswitchd.sock"; // a unix stream socket's path
    std::string owner;            // user name or uid; empty: the daemon's own user
    std::string group;            // group name or gid; empty: "vxswitch" when that group exists
    std::optional<uint16_t> mode; // permission bits; empty: 0660 with a group, else 0600
};

// VXLAN (docs/vxlan.md): this switch is a VTEP on `underlay`, a port that carries no VLAN of
// its own. Addresses stay text here, as the YAML has them; config/vxlan.hh checks them.
// A segment with `protocol: vxvde` is a vxvde network instead (vdeplug4's vxvde://GROUP/vni=N
// /port=P, docs/vde.md): the same VTEP, its own UDP port, a group and no remotes.
struct vxlan_segment {
    uint32_t vni = 0;
    uint16_t vlan = 0;                // the bridge domain the VNI extends
    std::string group;                // flood to (and receive from) this multicast group; empty: none
    std::vector<std::string> remotes; // head-end replication: flood a copy to each of these VTEPs
    bool vxvde = false;               // protocol: vxvde
    uint16_t port = 0;                // vxvde: the network's UDP port; 0: 14789 (vdeplug4's default)
    int line = 0;
};

struct vtep {
    std::string underlay;     // the port's name
    std::string address;      // the VTEP's IPv4 address; empty: none
    std::string address6;     // the VTEP's IPv6 address; empty: none
    uint16_t udp_port = 4789; // destination port, of ours and the remotes'
    uint8_t ttl = 64;
    uint8_t dscp = 0;
    std::string next_hop_mac; // static next hop (a router) for every remote; empty: ARP for each
    std::vector<vxlan_segment> segments;
    int line = 0;
};

// vxswitchd as a VDE switch (docs/vde.md): `vde_plug vde://PATH`, qemu -nic vde,sock=PATH,
// vdens and libvdestack connect to PATH/ctl; each client gets a port of type: vde_switch.
struct vde_listener {
    std::string path;             // the switch's directory (it holds the ctl socket and the data sockets)
    std::string owner;            // user name or uid; empty: the daemon's own user
    std::string group;            // group name or gid; empty: the daemon's own group
    std::optional<uint16_t> mode; // permission bits of the sockets; empty: 0660
    int line = 0;
};

struct model {
    dataplane dp;
    fdb mac_table;
    control_channel control;
    std::vector<port> ports;
    std::optional<vtep> vxlan; // this switch as a VXLAN VTEP
    std::optional<vde_listener> vde_switch; // this switch as a VDE switch
};

} // namespace vx::config

/* SPDX-License-Identifier: MIT */
/*
 * What bpf/steer.bpf.c and its loader (dataplane/ports/xdp_steer.cc) share: the layout of
 * every rule map's keys and values, and the counter list. Plain C types only: this header is
 * compiled by clang -target bpf and by the C++ compiler alike.
 *
 * The maps, by name (the loader finds them by these names in the program the AF_XDP driver
 * attached; the unit test checks that every one is found):
 *   xsks_map       XSKMAP        rx queue -> AF_XDP socket (filled by DPDK's net_af_xdp)
 *   vx_cfg         ARRAY[1]      struct vx_cfg
 *   vx_vlans       ARRAY[4096]   outer VID -> enum vx_steer_action
 *   vx_udp         HASH          struct vx_udp_key -> enum vx_steer_action
 *   vx_addrs       HASH          struct vx_addr_key -> enum vx_steer_action (the switch's addresses)
 *   vx_mac_ranges  ARRAY[16]     struct vx_mac_range (the first vx_cfg.n_mac_ranges are used)
 *   vx_ethertypes  HASH          EtherType (host order, __u32) -> enum vx_steer_action
 *   vx_src_macs    HASH          source MAC (48-bit number, __u64) -> enum vx_steer_action
 *   vx_counters    PERCPU_ARRAY  enum vx_steer_counter -> __u64
 */
#ifndef VX_STEER_COMMON_H
#define VX_STEER_COMMON_H

#include <linux/types.h> /* __u8 .. __u64, the same on both sides */

/* vx_cfg[0].mode. A program whose configuration was never written (all zeroes) passes every
 * frame to the kernel: the AF_XDP driver attaches it before the daemon writes the rules, and
 * that moment must never cut the host off. */
enum vx_steer_mode {
	VX_MODE_PASS = 0,  /* everything to the kernel (not configured yet) */
	VX_MODE_OWN = 1,   /* everything not dropped by a filter to the switch */
	VX_MODE_STEER = 2, /* the rules decide; what no rule claims goes to the kernel */
};

/* The value of a rule: what a frame that matches it becomes. */
enum vx_steer_action {
	VX_ACT_NONE = 0,  /* no rule (ARRAY entries start as 0) */
	VX_ACT_STEER = 1, /* to the switch's AF_XDP socket */
	VX_ACT_DROP = 2,  /* early drop */
};

struct vx_cfg {
	__u32 mode;         /* enum vx_steer_mode */
	__u32 n_mac_ranges; /* entries of vx_mac_ranges in use, from 0 */
	__u16 tpid;         /* the port's outer tag TPID, network byte order (0x8100, 0x88a8) */
	__u16 pad;
	__u32 pad2;
};

/* vx_udp key: a UDP destination (VXLAN 4789, vxvde) on a local address. Family 4 uses
 * addr[0..3]; an all-zero addr is the wildcard "any local address", looked up second. */
struct vx_udp_key {
	__u8 family; /* 4 or 6 */
	__u8 pad;
	__u16 port; /* network byte order */
	__u8 addr[16];
};

/* vx_addrs key: an address the switch itself answers for (a VTEP's: the address of a steered UDP
 * destination). ARP whose target is one, an IPv6 neighbour solicitation whose target is one and a
 * neighbour advertisement sent to one go to the switch; the same messages about the kernel's own
 * addresses, on the same interface, stay the kernel's. Family 4 uses addr[0..3]. */
struct vx_addr_key {
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
	__u8 addr[16];
};

/* Destination MAC range, inclusive, as 48-bit numbers (first octet most significant). */
struct vx_mac_range {
	__u64 lo;
	__u64 hi;
};

#define VX_MAX_MAC_RANGES 16
#define VX_MAX_QUEUES 64
#define VX_VLAN_SLOTS 4096
#define VX_MAX_UDP_RULES 64
#define VX_MAX_ADDR_RULES VX_MAX_UDP_RULES /* one per exact-address UDP rule at most */
#define VX_MAX_ETHERTYPE_RULES 64
#define VX_MAX_SRC_MAC_RULES 256

/* The decision counters (vx_counters, PERCPU_ARRAY indexed by these): each frame counts in
 * exactly one of the first VX_CNT_DECISIONS; VX_CNT_NO_SOCKET counts, in addition, steered
 * frames whose queue had no AF_XDP socket bound and so went to the kernel instead. */
#define VX_STEER_COUNTERS(X)                                                                   \
	X(REDIRECT_OWN, "redirect_own", "to the switch: the port is owned")                    \
	X(REDIRECT_VLAN, "redirect_vlan", "to the switch: a steered outer VLAN")               \
	X(REDIRECT_UDP, "redirect_udp", "to the switch: a steered UDP destination (VTEP)")     \
	X(REDIRECT_ARP_ND, "redirect_arp_nd", "to the switch: ARP/ND for the VTEP's address")  \
	X(REDIRECT_MAC, "redirect_mac", "to the switch: a steered destination MAC range")      \
	X(PASS, "pass", "to the kernel: no rule claimed it")                                   \
	X(PASS_UNCONFIGURED, "pass_unconfigured", "to the kernel: no rules written yet")       \
	X(PASS_TRUNCATED, "pass_truncated", "to the kernel: shorter than its headers say")     \
	X(DROP_VLAN, "drop_vlan", "dropped: outer VLAN filter")                                \
	X(DROP_ETHERTYPE, "drop_ethertype", "dropped: EtherType filter")                       \
	X(DROP_SRC_MAC, "drop_src_mac", "dropped: source MAC filter")                          \
	X(DROP_UDP, "drop_udp", "dropped: UDP destination filter")                             \
	X(NO_SOCKET, "no_socket", "steered, but no AF_XDP socket on the queue: to the kernel")

enum vx_steer_counter {
#define VX_X(id, name, help) VX_CNT_##id,
	VX_STEER_COUNTERS(VX_X)
#undef VX_X
	VX_CNT_COUNT
};

#define VX_CNT_DECISIONS VX_CNT_NO_SOCKET

#endif

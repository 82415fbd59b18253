/* SPDX-License-Identifier: MIT */
/*
 * vx_steer: the XDP program of vxswitch's AF_XDP ports (type: af_xdp). One NIC carries the
 * fabric and the host's own traffic; this program decides, per frame, which of the two it is:
 *
 *   1. early filters (drop):  source MAC, outer VLAN, EtherType, UDP destination
 *   2. to the switch (XSKMAP redirect on the frame's RX queue):
 *        own mode: everything;  steer mode: a steered outer VLAN, a steered UDP destination
 *        (VXLAN/vxvde to the VTEP address and port), ARP and IPv6 neighbour discovery for the
 *        address of such a destination (the VTEP answers and resolves for itself), a steered
 *        destination MAC range
 *   3. XDP_PASS to the kernel: everything else, and every frame until the daemon has written
 *      its configuration (vx_cfg all zeroes), and frames shorter than their headers say
 *
 * Every frame counts in exactly one decision counter (per CPU, no atomics); a steered frame
 * whose queue has no socket goes to the kernel and counts no_socket too. The rules live in
 * maps the daemon updates in place (one entry at a time, each update atomic): no reload, and
 * the frames in flight see the old rule or the new one.
 *
 * No #ifdef variants: everything a deployment changes is map content (STYLE G11), because the
 * AF_XDP driver (DPDK's net_af_xdp, xdp_prog=) loads this object itself and the daemon cannot
 * set read-only data before the load.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "steer_common.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, VX_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vx_cfg);
} vx_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VX_VLAN_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} vx_vlans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VX_MAX_UDP_RULES);
	__type(key, struct vx_udp_key);
	__type(value, __u32);
} vx_udp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VX_MAX_ADDR_RULES);
	__type(key, struct vx_addr_key);
	__type(value, __u32);
} vx_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VX_MAX_MAC_RANGES);
	__type(key, __u32);
	__type(value, struct vx_mac_range);
} vx_mac_ranges SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VX_MAX_ETHERTYPE_RULES);
	__type(key, __u32);
	__type(value, __u32);
} vx_ethertypes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VX_MAX_SRC_MAC_RULES);
	__type(key, __u64);
	__type(value, __u32);
} vx_src_macs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VX_CNT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} vx_counters SEC(".maps");

/* What the parser found: the outer VID (when the frame wears the port's TPID), the EtherType
 * behind the tags, the UDP destination when the frame is UDP over IPv4/IPv6, and the address
 * an ARP message or an IPv6 neighbour solicitation/advertisement is about. */
struct frame_info {
	int outer_vid; /* -1: no tag of the port's TPID */
	__u32 ethertype;
	int has_udp;
	struct vx_udp_key udp;
	int has_addr;
	struct vx_addr_key addr;
};

/* ARP for IPv4 over Ethernet (RFC 826), the part after the EtherType. */
struct arp_ipv4 {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 oper;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
};

/* The start of a neighbour solicitation or advertisement (RFC 4861 4.3, 4.4; the kernel's
 * NDISC_* names are not in its UAPI headers). */
#define ND_NEIGHBOUR_SOLICITATION 135
#define ND_NEIGHBOUR_ADVERTISEMENT 136
struct nd_message {
	__u8 type;
	__u8 code;
	__be16 checksum;
	__be32 flags;
	__u8 target[16];
};

static __always_inline int count(__u32 counter, int verdict)
{
	__u64 *n = bpf_map_lookup_elem(&vx_counters, &counter);

	if (n)
		*n += 1;
	return verdict;
}

static __always_inline __u32 action_of(void *map, const void *key)
{
	__u32 *act = bpf_map_lookup_elem(map, key);

	return act ? *act : VX_ACT_NONE;
}

static __always_inline __u64 mac_number(const unsigned char *m)
{
	return ((__u64)m[0] << 40) | ((__u64)m[1] << 32) | ((__u64)m[2] << 24) | ((__u64)m[3] << 16) |
	       ((__u64)m[4] << 8) | (__u64)m[5];
}

static __always_inline int is_tpid(__u16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/* A solicitation is about its target; an advertisement answers whoever it is sent to (a
 * solicited one goes to the solicitor's own address). Other ICMPv6 messages are no one's here. */
static __always_inline int parse_nd(struct ipv6hdr *ip6, void *end, struct frame_info *info)
{
	struct nd_message *nd = (void *)(ip6 + 1);

	if ((void *)&nd->target > end)
		return -1;
	if (nd->type == ND_NEIGHBOUR_SOLICITATION) {
		if ((void *)(nd + 1) > end)
			return -1;
		__builtin_memcpy(info->addr.addr, nd->target, 16);
	} else if (nd->type == ND_NEIGHBOUR_ADVERTISEMENT) {
		__builtin_memcpy(info->addr.addr, &ip6->daddr, 16);
	} else {
		return 0;
	}
	info->has_addr = 1;
	info->addr.family = 6;
	return 0;
}

/* Fills info from the frame; returns 0, or -1 when a header is cut short. Reads at most two
 * tags (the port's outer tag and a tag inside it), as the switch's own parser does. */
static __always_inline int parse(void *data, void *end, __u16 port_tpid, struct frame_info *info)
{
	struct ethhdr *eth = data;
	void *cursor = eth + 1;
	__u16 proto;

	if (cursor > end)
		return -1;
	proto = eth->h_proto;
	info->outer_vid = -1;
	if (proto == port_tpid) {
		struct vlan_hdr {
			__be16 tci;
			__be16 proto;
		} *tag = cursor;

		if ((void *)(tag + 1) > end)
			return -1;
		info->outer_vid = bpf_ntohs(tag->tci) & 0x0fff;
		proto = tag->proto;
		cursor = tag + 1;
	}
	if (is_tpid(proto)) {
		__be16 *inner = cursor;

		if ((void *)(inner + 2) > end)
			return -1;
		proto = inner[1];
		cursor = inner + 2;
	}
	info->ethertype = bpf_ntohs(proto);
	info->has_udp = 0;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = cursor;
		struct udphdr *udp;

		if ((void *)(ip + 1) > end)
			return -1;
		if (ip->protocol != IPPROTO_UDP || (ip->frag_off & bpf_htons(0x1fff)) != 0)
			return 0;
		if (ip->ihl < 5)
			return -1;
		udp = cursor + ip->ihl * 4;
		if ((void *)(udp + 1) > end)
			return -1;
		info->has_udp = 1;
		info->udp.family = 4;
		info->udp.port = udp->dest;
		__builtin_memcpy(info->udp.addr, &ip->daddr, 4);
	} else if (proto == bpf_htons(ETH_P_ARP)) {
		struct arp_ipv4 *arp = cursor;

		if ((void *)(arp + 1) > end)
			return -1;
		if (arp->ptype != bpf_htons(ETH_P_IP) || arp->plen != 4)
			return 0;
		/* A request for the address, or a reply to its owner: both are the owner's. */
		info->has_addr = 1;
		info->addr.family = 4;
		__builtin_memcpy(info->addr.addr, arp->tpa, 4);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cursor;
		struct udphdr *udp = (void *)(ip6 + 1);

		if ((void *)(ip6 + 1) > end)
			return -1;
		if (ip6->nexthdr == IPPROTO_ICMPV6)
			return parse_nd(ip6, end, info);
		if (ip6->nexthdr != IPPROTO_UDP)
			return 0; /* extension headers: not a fabric encapsulation we send */
		if ((void *)(udp + 1) > end)
			return -1;
		info->has_udp = 1;
		info->udp.family = 6;
		info->udp.port = udp->dest;
		__builtin_memcpy(info->udp.addr, &ip6->daddr, 16);
	}
	return 0;
}

/* The UDP rule for the destination: the exact address first, then the wildcard address. */
static __always_inline __u32 udp_action(struct frame_info *info)
{
	__u32 act;

	if (!info->has_udp)
		return VX_ACT_NONE;
	act = action_of(&vx_udp, &info->udp);
	if (act != VX_ACT_NONE)
		return act;
	__builtin_memset(info->udp.addr, 0, sizeof(info->udp.addr));
	return action_of(&vx_udp, &info->udp);
}

static __always_inline int in_mac_ranges(__u64 dst, __u32 n)
{
	for (__u32 i = 0; i < VX_MAX_MAC_RANGES; i++) {
		struct vx_mac_range *r;
		__u32 key = i;

		if (i >= n)
			break;
		r = bpf_map_lookup_elem(&vx_mac_ranges, &key);
		if (r && dst >= r->lo && dst <= r->hi)
			return 1;
	}
	return 0;
}

static __always_inline int to_switch(struct xdp_md *ctx, __u32 counter)
{
	int verdict = bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);

	if (verdict != XDP_REDIRECT)
		count(VX_CNT_NO_SOCKET, verdict);
	return count(counter, verdict);
}

SEC("xdp")
int vx_steer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct frame_info info = {};
	struct vx_cfg *cfg;
	__u32 zero = 0;
	__u32 vlan_act = VX_ACT_NONE;
	__u32 udp_act;
	__u64 src;
	__u32 vid;

	cfg = bpf_map_lookup_elem(&vx_cfg, &zero);
	if (!cfg || cfg->mode == VX_MODE_PASS)
		return count(VX_CNT_PASS_UNCONFIGURED, XDP_PASS);
	if (parse(data, end, cfg->tpid, &info) < 0)
		return count(VX_CNT_PASS_TRUNCATED, XDP_PASS);

	src = mac_number(((struct ethhdr *)data)->h_source);
	if (action_of(&vx_src_macs, &src) == VX_ACT_DROP)
		return count(VX_CNT_DROP_SRC_MAC, XDP_DROP);
	if (info.outer_vid >= 0) {
		vid = info.outer_vid;
		vlan_act = action_of(&vx_vlans, &vid);
	}
	if (vlan_act == VX_ACT_DROP)
		return count(VX_CNT_DROP_VLAN, XDP_DROP);
	if (action_of(&vx_ethertypes, &info.ethertype) == VX_ACT_DROP)
		return count(VX_CNT_DROP_ETHERTYPE, XDP_DROP);
	udp_act = udp_action(&info);
	if (udp_act == VX_ACT_DROP)
		return count(VX_CNT_DROP_UDP, XDP_DROP);

	if (cfg->mode == VX_MODE_OWN)
		return to_switch(ctx, VX_CNT_REDIRECT_OWN);
	if (vlan_act == VX_ACT_STEER)
		return to_switch(ctx, VX_CNT_REDIRECT_VLAN);
	if (udp_act == VX_ACT_STEER)
		return to_switch(ctx, VX_CNT_REDIRECT_UDP);
	if (info.has_addr && action_of(&vx_addrs, &info.addr) == VX_ACT_STEER)
		return to_switch(ctx, VX_CNT_REDIRECT_ARP_ND);
	if (in_mac_ranges(mac_number(((struct ethhdr *)data)->h_dest), cfg->n_mac_ranges))
		return to_switch(ctx, VX_CNT_REDIRECT_MAC);
	return count(VX_CNT_PASS, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";

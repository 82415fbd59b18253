#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""af_xdp_ports: every one of six net_af_xdp ports of a default-sized switch must forward.

    usage: af_xdp_ports.py VXSWITCHD      (as root; exit 0 pass, 1 fail, 77 skip)

Six hosts h0..h5 (10.251.0.1-6/24), each on its own net_af_xdp port, all on access VLAN 10,
with the default packet pool (dataplane.mbufs: 16383). Every host pings every other (30
pairs, the kernels' own ARP and ICMP); then h1 sends h0 more flood pings than a fill ring
holds (2500 > 2048), none of which may be lost, so the buffers of two ports' fill rings are
all used and recycled. Every port must have received frames, and the switch's MAC table
(its state file) must hold exactly each host's MAC on its own port, in VLAN 10.

The regression it guards. DPDK 22.11's net_af_xdp (the zero-copy build, the only one when the
kernel headers define XDP_UMEM_UNALIGNED_CHUNK_FLAG) registers the packet pool as the UMEM of
each socket, from the pool's first chunk and `populated_size * object size` bytes long, and
fills each RX queue's fill ring with 2048 mbufs at set-up. A default pktmbuf pool is not laid
out that way: an object never crosses a page, so without hugepages (4 KiB EAL pages) each
2368-byte mbuf took a page of its own, and only the first 58% of the mbufs were inside the
UMEM (measured: 9472 of 16383). The kernel skips fill-ring entries outside the UMEM and drops
TX descriptors there, both silently (no DPDK or vxswitch counter moves): with six ports, one
port's fill ring held no valid entry, so it received nothing at all, and frames sent with
mbufs beyond the UMEM vanished, so every ping failed. vxswitchd now builds the pool of page-
sized mbufs on page-aligned memory when a port is net_af_xdp, and refuses to start if the
layout does not fit the UMEM (create_packet_pool in dataplane/ports/dpdk_port.cc).
"""

import netns_lib

N = 6
FLOOD_PINGS = 2500  # more than the 2048 buffers of a net_af_xdp fill ring
HOSTS = {
    f"h{i}": {"mac": f"02:76:78:00:01:{i:02x}", "ip": f"10.251.0.{i + 1}", "port": f"h{i}",
              "mode": "mode: access, vlan: 10"}
    for i in range(N)
}


def scenario(lab):
    lab.start()
    h0 = HOSTS["h0"]["ip"]
    for src in HOSTS:
        for dst, spec in HOSTS.items():
            if dst != src:
                lab.check(lab.ping(src, spec["ip"], count=1), f"{src} pings {dst} ({spec['ip']})")
    flood = netns_lib.run("ping", "-f", "-c", FLOOD_PINGS, "-w", 20, h0, ns=lab.ns("h1"), check=False)
    summary = next((line for line in flood.stdout.splitlines() if "packets transmitted" in line), flood.stderr.strip())
    lab.check(flood.returncode == 0 and f"{FLOOD_PINGS} received" in summary,
              f"h1 -> h0: {FLOOD_PINGS} flood pings, none lost ({summary})")
    state = lab.stop_and_read_state()
    rx = {p["name"]: p["counters"]["rx_packets"] for p in state["ports"]}
    for h, spec in HOSTS.items():
        lab.check(rx.get(spec["port"], 0) > 0, f"port {spec['port']} received frames ({rx.get(spec['port'])})")
    have = {(e["mac"].lower(), e["vlan"], e["port"]) for e in state["fdb"]["entries"]}
    want = {(spec["mac"], 10, spec["port"]) for spec in HOSTS.values()}
    lab.check(have == want, "the MAC table holds each host's MAC on its port, in VLAN 10, and nothing else"
              + (f" (missing: {sorted(want - have)}, extra: {sorted(have - want)})" if have != want else ""))


if __name__ == "__main__":
    netns_lib.main(scenario, HOSTS)

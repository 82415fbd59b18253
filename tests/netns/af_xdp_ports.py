#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""af_xdp_ports: every one of six net_af_xdp ports of a default-sized switch must forward.

    usage: af_xdp_ports.py VXSWITCHD      (as root; exit 0 pass, 1 fail, 77 skip)

Six hosts h0..h5 (10.251.0.1-6/24), each on its own net_af_xdp port, all on access VLAN 10,
with the default packet pool (dataplane.mbufs: 16383). Each host pings h0 and h0 pings each.

Why six ports. DPDK 22.11's net_af_xdp (the zero-copy build, which is the only one when the
kernel headers define XDP_UMEM_UNALIGNED_CHUNK_FLAG) registers the packet pool as the UMEM
of each socket, from the pool's first chunk and `populated_size * object size` bytes long,
and fills each RX queue's fill ring with 2048 mbufs at set-up. Without hugepages the EAL
page size is 4 KiB and a mempool never lets an object (2368 B here) cross a page, so each
mbuf takes a whole 4 KiB page: the pool spans 4096 B per mbuf while the UMEM covers 2368 B
per mbuf, and only the first 58% of the mbufs are inside it (measured: 9471 of 16383). The
kernel skips fill-ring entries outside the UMEM and drops TX descriptors outside it, both
silently (no DPDK or vxswitch counter moves). Five ports' fill rings (5 x 2048 = 10240
mbufs, taken in pool order) still hold some valid entries; the sixth port's hold none, so
it receives nothing at all: its host can send to no one.

The same happens with fewer ports and a smaller pool (4 ports and mbufs: 12288 lose frames
on some ports), and it can happen at any size once enough mbufs are in flight that ones
beyond the UMEM get used. With hugepages the gap is one partial object per 2 MiB page, so
a few mbufs per pool are affected.
"""

import netns_lib

N = 6
HOSTS = {
    f"h{i}": {"mac": f"02:76:78:00:01:{i:02x}", "ip": f"10.251.0.{i + 1}", "port": f"h{i}",
              "mode": "mode: access, vlan: 10"}
    for i in range(N)
}


def scenario(lab):
    lab.start()
    h0 = HOSTS["h0"]["ip"]
    for h, spec in HOSTS.items():
        if h != "h0":
            lab.check(lab.ping(h, h0, count=2), f"{h} (port {spec['port']}) pings h0")
            lab.check(lab.ping("h0", spec["ip"], count=2), f"h0 pings {h} (port {spec['port']})")
    state = lab.stop_and_read_state()
    rx = {p["name"]: p["counters"]["rx_packets"] for p in state["ports"]}
    for h, spec in HOSTS.items():
        lab.check(rx.get(spec["port"], 0) > 0, f"port {spec['port']} received frames ({rx.get(spec['port'])})")
    learned = {e["port"] for e in state["fdb"]["entries"] if e["vlan"] == 10}
    lab.check(learned == {s["port"] for s in HOSTS.values()},
              f"every host's MAC was learned on its port (missing: {sorted({s['port'] for s in HOSTS.values()} - learned)})")


if __name__ == "__main__":
    netns_lib.main(scenario, HOSTS)

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""vxlan_kernel: vxswitch's VTEP against the Linux kernel's own vxlan device.

    usage: vxlan_kernel.py VXSWITCHD      (as root; exit 0 pass, 1 fail, 77 skip)
    VXLAN_FLOOD=her (default): both VTEPs flood by head-end replication to each other
    VXLAN_FLOOD=group: both flood to the multicast group 239.1.1.1 (ff05::42) and learn each other
    VXLAN_UNDERLAY=4 (default) or 6: the underlay's family
    VXLAN_PEER_NEW_MAC=1: then the kernel's VTEP changes its MAC silently (about 35 s more)

    h1 (10.9.0.1) --access vlan 10-- [vxswitchd, VTEP 192.0.2.1] --underlay port "up"--
        veth -- kvtep: eth0 192.0.2.2, vx0 (kernel vxlan, VNI 42) in bridge br0 --veth-- khost (10.9.0.2)
    (IPv6 underlay: VTEPs 2001:db8::1 and 2001:db8::2, the kernel's added nodad)

Checks: pings both ways; the kernel's `bridge fdb show dev vx0` has h1's MAC at dst 192.0.2.1;
vxswitch's state file has khost's MAC learned against VTEP 192.0.2.2; vxswitch answered the
kernel's ARP (IPv6: neighbour solicitation) for its VTEP address, and resolved the kernel's
VTEP itself (no next_hop_mac is configured); frames were encapsulated and decapsulated, and
none was dropped for a VXLAN reason. Over IPv6 the kernel's own MLD reports reach vxswitch:
they are counted as membership_messages, not as VXLAN drops. With VXLAN_PEER_NEW_MAC, pings
work again once vxswitch has found the kernel's old MAC silent and resolved the new one.
"""

import json
import os
import socket
import struct
import time

import netns_lib

FLOOD = os.environ.get("VXLAN_FLOOD", "her")
V6 = os.environ.get("VXLAN_UNDERLAY", "4") == "6"
NEW_MAC = os.environ.get("VXLAN_PEER_NEW_MAC") == "1"
NEW_KERNEL_MAC = "02:76:78:00:0f:12"
VNI = 42
GROUP = "ff05::42" if V6 else "239.1.1.1"
SWITCH_VTEP = "2001:db8::1" if V6 else "192.0.2.1"
KERNEL_VTEP = "2001:db8::2" if V6 else "192.0.2.2"
H1 = {"mac": "02:76:78:00:09:01", "ip": "10.9.0.1"}
KHOST = {"mac": "02:76:78:00:09:02", "ip": "10.9.0.2"}
HOSTS = {
    "h1": {**H1, "port": "h1", "mode": "mode: access, vlan: 10"},
    # The kernel VTEP's namespace: its eth0 is the underlay, on the switch's port "up".
    # (An IPv6 address is added below, with IPv6 turned back on in that namespace.)
    "kvtep": {"mac": "02:76:78:00:0f:02", "ip": None if V6 else KERNEL_VTEP, "port": "up", "mode": "mode: access"},
}


class vxlan_lab(netns_lib.lab):
    def config(self):
        path = super().config()
        flood = f"group: {GROUP}" if FLOOD == "group" else f"remotes: [{KERNEL_VTEP}]"
        with open(path, "a") as f:
            f.write(netns_lib.vxlan_section(SWITCH_VTEP, VNI, flood))
        return path


def ipv6_underlay(ns):
    """IPv6 on kvtep's eth0 only (the lab turns it off everywhere), its VTEP address without DAD.
    Not on br0: its own router solicitations and DAD, flooded through vx0, would make the
    kernel solicit vxswitch first, and vxswitch would learn the kernel's MAC from that
    solicitation without ever resolving it itself."""
    netns_lib.run("sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=0", ns=ns)
    netns_lib.run("ip", "-n", ns, "-6", "addr", "add", f"{KERNEL_VTEP}/64", "dev", "eth0", "nodad")


def kernel_vtep(lab):
    """vx0 and br0 in kvtep, and khost behind them."""
    ns = lab.ns("kvtep")
    khost = lab.ns("khost")
    lab._add_netns(khost)
    if V6:
        ipv6_underlay(ns)
    where = f"group {GROUP} dev eth0" if FLOOD == "group" else f"remote {SWITCH_VTEP} dev eth0"
    netns_lib.run("ip", "-n", ns, "link", "add", "vx0", "type", "vxlan", "id", VNI, *where.split(),
                  "local", KERNEL_VTEP, "dstport", 4789)
    netns_lib.run("ip", "-n", ns, "link", "add", "br0", "type", "bridge")
    netns_lib.run("ip", "-n", ns, "link", "add", "vh0", "type", "veth", "peer", "name", "eth0",
                  "address", KHOST["mac"], "netns", khost)
    for dev in ("vx0", "vh0"):
        netns_lib.run("ip", "-n", ns, "link", "set", dev, "master", "br0")
        netns_lib.run("ip", "-n", ns, "link", "set", dev, "up")
    netns_lib.run("ip", "-n", ns, "link", "set", "br0", "up")
    netns_lib.run("ip", "-n", khost, "link", "set", "lo", "up")
    netns_lib.run("ip", "-n", khost, "link", "set", "eth0", "up")
    netns_lib.run("ip", "-n", khost, "addr", "add", f"{KHOST['ip']}/24", "dev", "eth0")
    if FLOOD == "group" and not V6:  # the kernel sends to the group out of eth0 when a route says so
        netns_lib.run("ip", "-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0")


def join_group(ns, group):
    """A socket in `ns` that joins `group` on eth0 (the kernel reports it at once); keep it open."""
    with netns_lib.netns(ns):
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        mreq = socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", socket.if_nametoindex("eth0"))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
    return s


def peer_changes_its_mac(lab):
    """The kernel's VTEP takes a new MAC without telling anyone (vxswitch's MAC pinned in it: no
    ARP or solicitation from it either); vxswitch's frames to the old MAC are lost until it
    probes its next hop, silent for 30 s, and the answer to the probe (a broadcast ARP request
    or a multicast solicitation) carries the new MAC."""
    kvtep = lab.ns("kvtep")
    family = "-6" if V6 else "-4"
    # (The MAC change flushes eth0's neighbours, permanent ones too: pin after it.)
    netns_lib.run("ip", "-n", kvtep, "link", "set", "eth0", "address", NEW_KERNEL_MAC)
    netns_lib.run("ip", "-n", kvtep, family, "neigh", "replace", SWITCH_VTEP, "lladdr", switch_mac(lab),
                  "dev", "eth0", "nud", "permanent")
    t0 = time.monotonic()
    ok = False
    while not ok and time.monotonic() - t0 < 50:
        ok = lab.ping("h1", KHOST["ip"], count=1)
    took = time.monotonic() - t0
    lab.check(ok, f"after the kernel's VTEP took a new MAC, h1 reaches khost again ({took:.0f} s)")
    with open(lab.log) as f:
        log = f.read()
    lab.check(f"remote VTEP {KERNEL_VTEP} is at {NEW_KERNEL_MAC}" in log,
              "vxswitch probed its silent next hop and took the new MAC from the answer (its log says so)")


def switch_mac(lab):
    return netns_lib.run("ip", "-n", lab.sw, "-br", "link", "show", "p-kvtep").stdout.split()[2]


def scenario(lab):
    kernel_vtep(lab)
    if V6:
        # The kernel solicits its remote as soon as eth0 is up, and vxswitch would learn the
        # kernel's MAC from that solicitation's option: pin vxswitch's MAC in the kernel, so
        # that the pings need vxswitch's own neighbour solicitation answered by the kernel.
        netns_lib.run("ip", "-n", lab.ns("kvtep"), "-6", "neigh", "replace", SWITCH_VTEP, "lladdr", switch_mac(lab),
                      "dev", "eth0", "nud", "permanent")
    lab.start()
    if V6:  # a group joined now: the kernel's MLD reports for it reach the running switch
        listener = join_group(lab.ns("kvtep"), "ff05::99")
    lab.check(lab.ping("h1", KHOST["ip"], count=3), f"h1 pings khost over VXLAN ({FLOOD})")
    lab.check(lab.ping("khost", H1["ip"], count=3), "khost pings h1 over VXLAN")
    kvtep = lab.ns("kvtep")
    fdb = netns_lib.run("bridge", "fdb", "show", "dev", "vx0", ns=kvtep).stdout
    lab.check(any(l.startswith(H1["mac"]) and f"dst {SWITCH_VTEP}" in l for l in fdb.splitlines()),
              f"the kernel learned h1's MAC at vxswitch's VTEP: {fdb!r}")
    # The kernel knows vxswitch's MAC from its ARP request or neighbour solicitation (it made one
    # to send to vxswitch's VTEP): forget it and make it ask again.
    family = "-6" if V6 else "-4"
    netns_lib.run("ip", "-n", kvtep, family, "neigh", "flush", "dev", "eth0")
    netns_lib.run("ip", "-n", kvtep, family, "neigh", "del", SWITCH_VTEP, "dev", "eth0", check=False)  # pinned
    lab.ping("kvtep", SWITCH_VTEP, count=1)  # no ICMP answer (a VTEP address), but ARP/ND first
    neigh = netns_lib.run("ip", "-n", kvtep, family, "neigh", "show", SWITCH_VTEP, "dev", "eth0").stdout
    lab.check(f"lladdr {switch_mac(lab)}" in neigh,
              f"vxswitch answered the kernel's {'neighbour solicitation' if V6 else 'ARP'} for {SWITCH_VTEP}: "
              f"{neigh.strip()!r}")
    if NEW_MAC:
        peer_changes_its_mac(lab)
    state = lab.stop_and_read_state()
    entry = next((e for e in state["fdb"]["entries"] if e["mac"] == KHOST["mac"]), None)
    lab.check(entry is not None and entry.get("vtep") == KERNEL_VTEP and entry["vlan"] == 10,
              f"vxswitch learned khost's MAC against the kernel's VTEP {KERNEL_VTEP}: {json.dumps(entry)}")
    up = next(p for p in state["ports"] if p["name"] == "up")
    c, d = up["counters"], up["drops"]
    answers = "neighbour_adverts" if V6 else "arp_replies"
    lab.check(c[answers] > 0, f"vxswitch answered for its VTEP address ({answers} {c[answers]})")
    if V6:
        listener.close()
        lab.check(c["membership_messages"] > 0 and d["underlay_bad_control"] == 0,
                  f"the kernel's MLD reports (for ff05::99, joined while the switch ran) were taken as such "
                  f"({c['membership_messages']}), none refused ({d['underlay_bad_control']})")
    lab.check(c["vxlan_encapsulated"] > 0 and c["vxlan_decapsulated"] > 0,
              f"frames were encapsulated ({c['vxlan_encapsulated']}) and decapsulated ({c['vxlan_decapsulated']})")
    # vxlan_wrong_destination: the ARP check's pings to the VTEP address; vxlan_no_next_hop: the
    # group variant's first replies, before the discovered VTEP's ARP answer came.
    expected = ("vxlan_wrong_destination", "vxlan_no_next_hop")
    bad = {r: n for r, n in d.items() if n and r.startswith("vxlan_") and r not in expected}
    lab.check(not bad, f"no VXLAN frame dropped for a VXLAN reason ({bad})")


if __name__ == "__main__":
    netns_lib.lab = vxlan_lab  # main() builds a netns_lib.lab: ours, with the vxlan section
    netns_lib.main(scenario, HOSTS)

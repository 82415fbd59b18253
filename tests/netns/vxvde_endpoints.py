#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""vxvde_endpoints: vxswitch as a native vxvde endpoint among real `vde_plug vxvde://` ones.

    usage: vxvde_endpoints.py VXSWITCHD      (as root; exit 0 pass, 1 fail, 77 skip)
    VXVDE_UNDERLAY=4 (default) or 6: the underlay's family. Over IPv6 the addresses below are
    2001:db8::1, ::11 and ::12 (no DAD) and the group ff05::4242 (`vxvde://ff05::4242/v6/...`).

    h1 (10.9.5.1) --access vlan 10-- [vxswitchd 192.0.2.1, vlan 10 = vxvde 239.1.2.3 vni 42] --up--
      wire: a Linux bridge (multicast snooping off: vxswitch sends no IGMP report yet), and
        e1 (192.0.2.11): vde_plug vxvde://239.1.2.3/vni=42/if=eth0 tap://vtap1 -> vh1 (10.9.5.11)
                         vde_plug vxvde://...                    tap://vtap3 -> vh3 (10.9.5.13)
        e2 (192.0.2.12): vde_plug vxvde://...                    tap://vtap2 -> vh2 (10.9.5.12)

Two endpoints share e1's address: they differ only by their UDP source port, which is what a
vxvde endpoint is known by. Each tap is moved into a host namespace of its own.

Checks (Debian's vdeplug 4.0.1):
  1. Kernel pings between every pair of h1, vh1, vh2, vh3.
  2. vxswitch's MAC table holds vh1, vh2, vh3 at their endpoints' (address, port), as `ss`
     shows vde_plug's sockets; vh1 and vh3 at one address, two ports.
  3. The endpoints learned vxswitch: what vh1's endpoint sends to h1 goes unicast to
     192.0.2.1:14789, and what vxswitch sends it leaves from 192.0.2.1:14789 to the endpoint's
     own port (packet sockets on the bridge's ports).
  4. Known unicast does not flood: pings between h1 and vh2 leave h1.flooded, up.flooded and
     the unknown counters unmoved; up.vxlan_encapsulated moves by exactly what h1 sent.
  5. Goodbye: SIGTERM to vh2's vde_plug: vxswitch counts one goodbye and forgets vh2's MAC,
     and only it; a trace on the underlay port shows vxlan_decap taking the goodbye.
"""

import os
import re
import signal
import subprocess
import time

import netns_lib

V6 = os.environ.get("VXVDE_UNDERLAY", "4") == "6"
VNI = 42
GROUP = "ff05::4242" if V6 else "239.1.2.3"
GROUP_MAC = "33:33:00:00:42:42" if V6 else "01:00:5e:01:02:03"  # where the goodbye goes
SWITCH_VTEP = "2001:db8::1" if V6 else "192.0.2.1"
E1, E2 = ("2001:db8::11", "2001:db8::12") if V6 else ("192.0.2.11", "192.0.2.12")
VXVDE_PORT = 14789
H1 = {"mac": "02:76:78:00:0c:01", "ip": "10.9.5.1"}
HOSTS = {
    "h1": {**H1, "port": "h1", "mode": "mode: access, vlan: 10"},
    # The underlay segment: this "host"'s eth0 becomes a port of the wire bridge.
    "wire": {"mac": "02:76:78:00:0f:00", "ip": None, "port": "up", "mode": "mode: access"},
}
# endpoint name: (underlay namespace, its address, tap host's MAC, tap host's address)
ENDPOINTS = {
    "vh1": ("e1", E1, "02:76:78:00:0c:11", "10.9.5.11"),
    "vh2": ("e2", E2, "02:76:78:00:0c:12", "10.9.5.12"),
    "vh3": ("e1", E1, "02:76:78:00:0c:13", "10.9.5.13"),
}
URL = f"vxvde://{GROUP}{'/v6' if V6 else ''}/vni={VNI}/if=eth0"


def at(address, port):
    """An endpoint as vxctl names it: 192.0.2.11:41350 or [2001:db8::11]:41350."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


class vxvde_lab(netns_lib.lab):
    plugs = {}

    def config(self):
        path = super().config()
        with open(path, "a") as f:
            f.write(netns_lib.vxlan_section(SWITCH_VTEP, VNI, f"protocol: vxvde, group: {GROUP}"))
        return path

    def close(self):
        for plug in self.plugs.values():
            if plug.poll() is None:
                plug.terminate()
                plug.wait(timeout=5)
        super().close()

    def mac_table(self):
        return {e["mac"].lower(): e for e in self._switch().control("mac.show")["entries"]}


def underlay(lab):
    """The wire bridge, and e1/e2 on it with their multicast route by eth0."""
    run = netns_lib.run
    wire = lab.ns("wire")
    run("ip", "-n", wire, "link", "add", "br0", "type", "bridge", "stp_state", "0", "mcast_snooping", "0")
    run("ip", "-n", wire, "link", "set", "eth0", "master", "br0")
    run("ip", "-n", wire, "link", "set", "br0", "up")
    for e, address in (("e1", E1), ("e2", E2)):
        ns = lab.ns(e)
        lab._add_netns(ns)
        run("ip", "link", "add", f"w-{e}", "netns", wire, "type", "veth", "peer", "name", "eth0", "netns", ns)
        run("ip", "-n", wire, "link", "set", f"w-{e}", "master", "br0", "up")
        run("ethtool", "-K", "eth0", "tx", "off", ns=ns)  # finished checksums (netns_lib's notes)
        run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", ns, "link", "set", "eth0", "up")
        if V6:  # the lab turns IPv6 off everywhere: back on for the underlay, no DAD, and on lo,
            # through which datagrams between two endpoints of one address go (dropped otherwise)
            run("sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=0", "net.ipv6.conf.lo.disable_ipv6=0", ns=ns)
            run("ip", "-n", ns, "-6", "addr", "add", f"{address}/64", "dev", "eth0", "nodad")
        else:
            run("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
            run("ip", "-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0")


def plug(lab, host, n):
    """vde_plug between the vxvde network and a tap, which becomes `host`'s eth0."""
    run = netns_lib.run
    e, _, mac, address = ENDPOINTS[host]
    ns, hns, tap = lab.ns(e), lab.ns(host), f"vtap{n}"
    lab._add_netns(hns)
    p = subprocess.Popen(["ip", "netns", "exec", ns, "vde_plug", URL, f"tap://{tap}"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lab.plugs[host] = p
    deadline = time.monotonic() + 5
    while run("ip", "-n", ns, "link", "show", tap, check=False).returncode != 0:
        if p.poll() is not None or time.monotonic() > deadline:
            raise netns_lib.Fatal(f"vde_plug {URL} tap://{tap} made no tap: {p.stderr.read().decode()!r}")
        time.sleep(0.05)
    run("ip", "-n", ns, "link", "set", tap, "netns", hns)  # the tap's queue stays vde_plug's
    run("ip", "-n", hns, "link", "set", tap, "address", mac, "name", "eth0")
    run("ip", "-n", hns, "link", "set", "lo", "up")
    run("ip", "-n", hns, "link", "set", "eth0", "up")
    run("ip", "-n", hns, "addr", "add", f"{address}/24", "dev", "eth0")


def source_port(lab, host):
    """The UDP port vde_plug of `host` sends from: its socket that is not the group's."""
    e = ENDPOINTS[host][0]
    pid = lab.plugs[host].pid
    out = netns_lib.run("ss", "-uanpH", ns=lab.ns(e)).stdout
    for line in out.splitlines():
        m = re.search(r"(?:0\.0\.0\.0|\[::\]|\*):(\d+)\s.*pid=(\d+),", line)
        # `ip netns exec` execs vde_plug: the pid is vde_plug's.
        if m and int(m.group(2)) == pid:
            return int(m.group(1))
    raise netns_lib.Fatal(f"no unicast socket of {host}'s vde_plug (pid {pid}) in {out!r}")


def scenario(lab):
    from scapy.all import IP, IPv6, UDP

    netns_lib.require_tools(("vde_plug", "vdeplug"))
    ip_layer = IPv6 if V6 else IP
    check = lab.check
    underlay(lab)
    for n, host in enumerate(ENDPOINTS, 1):
        plug(lab, host, n)
    ports = {h: source_port(lab, h) for h in ENDPOINTS}
    print(f"# vde_plug source ports: {ports}")
    lab.start()
    sw = lab._switch()
    ips = {"h1": H1["ip"], **{h: spec[3] for h, spec in ENDPOINTS.items()}}

    print("# 1. every pair pings (the first round discovers the endpoints and resolves them)")
    names = list(ips)
    for attempt in range(2):
        results = {(a, b): lab.ping(a, ips[b], count=2) for a in names for b in names if a != b}
        if all(results.values()):
            break
    for (a, b), ok in results.items():
        check(ok, f"{a} pings {b} ({ips[b]})")

    print("# 2. vxswitch learned each endpoint's hosts at (address, source port)")
    table = lab.mac_table()
    for h, (_, address, mac, _) in ENDPOINTS.items():
        entry = table.get(mac)
        want = f"vxvde {at(address, ports[h])}"
        check(entry is not None and entry["port"] == want and entry["vlan"] == 10,
              f"{h}'s MAC {mac} is at {want} (got {entry and entry['port']})")
    check(table.get(H1["mac"], {}).get("port") == "h1", "h1's MAC is on port h1")

    print(f"# 3. the endpoints learned vxswitch at ({SWITCH_VTEP}, {VXVDE_PORT}), and it sends from there")
    # Packet sockets on two ports of the bridge, each keeping what it receives (netns_lib
    # skips what a port sends): from vxswitch on eth0, from e1 on w-e1.
    lab._open_socket("from_switch", lab.ns("wire"), "eth0")
    lab._open_socket("from_e1", lab.ns("wire"), "w-e1")
    for key in ("from_switch", "from_e1"):
        lab.drain(key, 0.2)
    lab.ping("vh1", H1["ip"], count=2, pattern="7678766465")

    def marked(key):
        return [p for p in lab.drain(key, 1.0) if p.haslayer(UDP) and b"\x76\x78\x76\x64\x65" in bytes(p)]

    to_switch, from_switch = marked("from_e1"), marked("from_switch")
    check(len(to_switch) >= 2 and all(p[ip_layer].dst == SWITCH_VTEP and p[UDP].dport == VXVDE_PORT
                                      and p[UDP].sport == ports["vh1"] for p in to_switch),
          f"vh1's echo requests went unicast from {ports['vh1']} to {at(SWITCH_VTEP, VXVDE_PORT)} "
          f"({[(p[ip_layer].dst, p[UDP].sport, p[UDP].dport) for p in to_switch]})")
    check(len(from_switch) >= 2 and all(p[ip_layer].dst == E1 and p[UDP].sport == VXVDE_PORT
                                        and p[UDP].dport == ports["vh1"] for p in from_switch),
          f"h1's echo replies went from {VXVDE_PORT} to vh1's endpoint {at(E1, ports['vh1'])} "
          f"({[(p[ip_layer].dst, p[UDP].sport, p[UDP].dport) for p in from_switch]})")

    print("# 4. known unicast is not flooded")
    def ping5(src, dst):
        # A longer deadline than lab.ping's: a loaded machine may hold a reply back a while,
        # and this step is about where the frames go, not how fast.
        return netns_lib.run("ping", "-c", 5, "-i", "0.2", "-w", 8, ips[dst], ns=lab.ns(src), check=False).returncode == 0

    before = sw.counters()
    ok = ping5("h1", "vh2") and ping5("vh2", "h1")
    time.sleep(0.2)  # the counters are the worker's, read a few frames late at most
    after = sw.counters()
    delta = {(p, c): after[p][c] - before[p][c] for p in ("h1", "up")
             for c in ("rx_packets", "flooded", "unknown_unicast", "vxlan_encapsulated", "vxlan_unknown_vtep")}
    check(ok, "h1 and vh2 ping each other")
    check(delta[("h1", "flooded")] == 0 and delta[("up", "flooded")] == 0
          and delta[("h1", "unknown_unicast")] == 0 and delta[("up", "vxlan_unknown_vtep")] == 0,
          f"nothing flooded, no unknown endpoint: {delta}")
    # Every frame h1 sent (echoes, and the kernel's unicast ARP probes) went to vh2's endpoint
    # as one datagram: no copy to the group.
    sent = delta[("h1", "rx_packets")]
    check(sent >= 10 and delta[("up", "vxlan_encapsulated")] == sent,
          f"one encapsulation per frame from h1: up.vxlan_encapsulated +{delta[('up', 'vxlan_encapsulated')]}, "
          f"h1 sent {sent}")

    print("# 5. goodbye: vh2's vde_plug leaves on SIGTERM")
    before = sw.counters()["up"]["vxvde_goodbyes"]
    session = sw.control("trace.start", port="up", filter=f"dst {GROUP_MAC}", count=4)["session"]
    lab.plugs["vh2"].send_signal(signal.SIGTERM)
    lab.plugs["vh2"].wait(timeout=5)
    deadline = time.monotonic() + 3
    while ENDPOINTS["vh2"][2] in lab.mac_table() and time.monotonic() < deadline:
        time.sleep(0.1)
    table = lab.mac_table()
    goodbyes = sw.counters()["up"]["vxvde_goodbyes"] - before
    check(goodbyes == 1, f"vxswitch received one goodbye (+{goodbyes})")
    check(ENDPOINTS["vh2"][2] not in table, "vh2's MAC is forgotten")
    check(all(ENDPOINTS[h][2] in table for h in ("vh1", "vh3")), "vh1's and vh3's MACs stay")
    traced = []
    for _ in range(10):
        traced += sw.control("trace.read", session=session)["frames"]
        if any(step["decision"] == "goodbye" for f in traced for step in f["steps"]):
            break
        time.sleep(0.1)
    sw.control("trace.stop", session=session)
    steps = [(step["stage"], step["decision"]) for f in traced for step in f["steps"]]
    check(("vxlan_decap", "goodbye") in steps, f"vxctl trace shows the goodbye taken by vxlan_decap ({steps})")

    state = lab.stop_and_read_state()
    entry = next((e for e in state["fdb"]["entries"] if e["mac"] == ENDPOINTS["vh3"][2]), None)
    check(entry is not None and entry.get("vxvde") == E1 and entry.get("vxvde_port") == ports["vh3"],
          f"the state file has vh3 at its endpoint: {entry}")
    up = next(p for p in state["ports"] if p["name"] == "up")
    bad = {r: n for r, n in up["drops"].items()
           if n and (r.startswith("vxvde_") or r in ("vxlan_unknown_vni", "vxlan_truncated"))}
    check(not bad, f"no vxvde datagram dropped as malformed or for another network ({bad})")


if __name__ == "__main__":
    netns_lib.lab = vxvde_lab
    netns_lib.main(scenario, HOSTS)

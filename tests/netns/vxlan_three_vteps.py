#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""vxlan_three_vteps: two vxswitchd VTEPs and one kernel vxlan VTEP on one underlay segment.

    usage: vxlan_three_vteps.py VXSWITCHD      (as root; exit 0 pass, 1 fail, 77 skip)

    h1 10.9.3.1 ─ access 10 ─ sw1 (VTEP 192.0.2.1) ─ up ┐
    h2 10.9.3.2 ─ access 10 ─ sw2 (VTEP 192.0.2.2) ─ up ┼─ wire: bridge br0 (the underlay)
    khost 10.9.3.3 ─ br0 ─ vx0 (kernel, VTEP 192.0.2.3) ┘

VNI 42 everywhere; every VTEP floods by head-end replication to the two others (the kernel
through all-zero `bridge fdb append` entries). The switches resolve each other's next hops
by ARP on the underlay. Everything is proven with counts, never with how long it took:

  1. Flooding reaches all: FRAMES broadcasts from each of h1, h2 and khost arrive exactly
     FRAMES times at each of the two other hosts; each switch's underlay counter
     vxlan_encapsulated grows by exactly 2 x FRAMES for its own host's broadcasts (one copy
     per remote), and its access port's `flooded` by FRAMES.
  2. Learning converges: each switch's MAC table (vxctl's mac.show over the control socket)
     has the other switch's host and khost at two different remote VTEPs (which ones: the
     state files at 4.); the kernel's `bridge fdb show dev vx0` has h1 at 192.0.2.1 and h2 at 192.0.2.2.
  3. Unicast then stops flooding: FRAMES unicasts h1 -> h2, h1 -> khost and khost -> h2
     each arrive FRAMES times at their destination and never at the third host; on the
     sending switch `flooded` and `unknown_unicast` do not move and vxlan_encapsulated grows
     by exactly FRAMES (one copy, not two); the third VTEP decapsulates none of them.
  4. No VXLAN drop reason moved on either switch during 1 to 3; both switches exit 0, and
     their state files have each remote MAC at its VTEP.
"""

import time

import netns_lib

VNI = 42
FRAMES = 8
ETH_P_EXPERIMENTAL = 0x88B5
VTEPS = {"sw1": "192.0.2.1", "sw2": "192.0.2.2", "kernel": "192.0.2.3"}
H1 = {"mac": "02:76:78:00:0a:01", "ip": "10.9.3.1"}
H2 = {"mac": "02:76:78:00:0a:02", "ip": "10.9.3.2"}
KHOST = {"mac": "02:76:78:00:0a:03", "ip": "10.9.3.3"}
HOSTS = {
    "h1": {**H1, "switch": "sw1", "port": "h1", "mode": "mode: access, vlan: 10"},
    "h2": {**H2, "switch": "sw2", "port": "h2", "mode": "mode: access, vlan: 10"},
}
SWITCHES = {"sw1": [], "sw2": []}
UNDERLAY = "mode: access"  # the underlay port: the vxlan section makes it carry no VLAN
LINKS = {"u": [("sw1", "up", UNDERLAY), ("sw2", "up", UNDERLAY)]}
HOST_OF = {"sw1": "h1", "sw2": "h2"}


class three_vtep_lab(netns_lib.lab):
    def config(self, name=None):
        path = super().config(name)
        remotes = ", ".join(ip for vtep, ip in VTEPS.items() if vtep != name)
        with open(path, "a") as f:
            f.write(netns_lib.vxlan_section(VTEPS[name], VNI, f"remotes: [{remotes}]"))
        return path

    def counters(self):
        """{(switch, port): {counter or drop reason: value}} of every port of both switches."""
        return {(sw.name, port): c for sw in self.switches.values() for port, c in sw.counters().items()}


def kernel_vtep(lab):
    """kvtep: eth0 on the underlay's bridge, vx0 flooding to both switches, br0 to khost."""
    kvtep, khost, wire = lab.ns("kvtep"), lab.ns("khost"), lab.wire_ns("u")
    run = netns_lib.run
    lab._add_netns(kvtep)
    lab._add_netns(khost)
    run("ip", "link", "add", "eth0", "netns", kvtep, "type", "veth", "peer", "name", "kernel", "netns", wire)
    run("ip", "-n", wire, "link", "set", "kernel", "master", "br0", "up")
    run("ip", "-n", kvtep, "link", "set", "lo", "up")
    run("ip", "-n", kvtep, "link", "set", "eth0", "up")
    run("ip", "-n", kvtep, "addr", "add", f"{VTEPS['kernel']}/24", "dev", "eth0")
    run("ip", "-n", kvtep, "link", "add", "vx0", "type", "vxlan", "id", VNI, "dev", "eth0",
        "local", VTEPS["kernel"], "dstport", 4789)
    for sw in ("sw1", "sw2"):  # head-end replication: one all-zero entry per remote
        run("bridge", "-n", kvtep, "fdb", "append", "00:00:00:00:00:00", "dev", "vx0", "dst", VTEPS[sw])
    run("ip", "-n", kvtep, "link", "add", "br0", "type", "bridge")
    run("ip", "-n", kvtep, "link", "add", "vh0", "type", "veth", "peer", "name", "eth0",
        "address", KHOST["mac"], "netns", khost)
    for dev in ("vx0", "vh0"):
        run("ip", "-n", kvtep, "link", "set", dev, "master", "br0")
        run("ip", "-n", kvtep, "link", "set", dev, "up")
    run("ip", "-n", kvtep, "link", "set", "br0", "up")
    run("ip", "-n", khost, "link", "set", "lo", "up")
    run("ip", "-n", khost, "link", "set", "eth0", "up")
    run("ethtool", "-K", "eth0", "tx", "off", ns=khost)
    run("ip", "-n", khost, "addr", "add", f"{KHOST['ip']}/24", "dev", "eth0")


def scenario(lab):
    from scapy.all import Ether, Raw

    check = lab.check
    kernel_vtep(lab)
    lab.open_sockets()
    lab._open_socket("khost", lab.ns("khost"), "eth0")
    lab.start()
    macs = {"h1": H1["mac"], "h2": H2["mac"], "khost": KHOST["mac"]}

    def marker(src, dst):
        return f"vxswitch three vteps {src}->{dst}.".encode()

    def send(src, dst, dst_mac):
        frame = Ether(src=macs[src], dst=dst_mac, type=ETH_P_EXPERIMENTAL) / Raw(marker(src, dst))
        lab.send(src, frame, FRAMES)

    def received():
        """{host: [frame bytes]} up to SETTLE_S after the last frame sent."""
        time.sleep(netns_lib.SETTLE_S)
        return {h: [bytes(p) for p in lab.drain(h)] for h in macs}

    def delta(before, after, sw, port, name):
        return after[(sw, port)][name] - before[(sw, port)][name]

    # The switches ARP for each other's VTEP from their control threads (once a second until
    # answered): the kernels' pings, retried, wait for that; they also teach every VTEP
    # every host, which the flood checks below do not rely on (broadcasts flood anyway).
    print("# 0. the kernels' pings across the three VTEPs")
    for src, dst in (("h1", H2), ("h1", KHOST), ("h2", KHOST)):
        ok = any(lab.ping(src, dst["ip"], count=2) for _ in range(5))
        check(ok, f"{src} pings {dst['ip']} over VXLAN")
    # From here on the hosts' kernels must send nothing by themselves: their ARP probes
    # (unicast reconfirmations once an entry goes stale) would move the counters.
    addrs = {"h1": H1, "h2": H2, "khost": KHOST}
    for h, own in addrs.items():
        for other in addrs.values():
            if other is not own:
                netns_lib.run("ip", "-n", lab.ns(h), "neigh", "replace", other["ip"], "lladdr", other["mac"],
                              "dev", "eth0", "nud", "permanent")
    for h in macs:
        lab.drain(h, netns_lib.SETTLE_S)

    print("# 1. flooding reaches all")
    settled = lab.counters()
    for src in macs:
        before = lab.counters()
        send(src, "all", "ff:ff:ff:ff:ff:ff")
        got = received()
        after = lab.counters()
        for h in macs:
            if h != src:
                n = sum(marker(src, "all") in f for f in got[h])
                check(n == FRAMES, f"{h} received {src}'s broadcasts exactly once each ({n} of {FRAMES})")
        for sw, host in HOST_OF.items():
            encap = delta(before, after, sw, "up", "vxlan_encapsulated")
            decap = delta(before, after, sw, "up", "vxlan_decapsulated")
            if host == src:
                check(encap == 2 * FRAMES and delta(before, after, sw, host, "flooded") == FRAMES,
                      f"{sw} flooded {src}'s broadcasts to both remote VTEPs: vxlan_encapsulated +{encap} "
                      f"(want {2 * FRAMES}), {host}.flooded +{delta(before, after, sw, host, 'flooded')}")
            else:
                check(encap == 0 and decap == FRAMES,
                      f"{sw} decapsulated {src}'s broadcasts once (+{decap}) and sent none back into the "
                      f"overlay (split horizon: vxlan_encapsulated +{encap})")

    print("# 2. learning converges")
    for sw, own in HOST_OF.items():
        entries = {e["mac"].lower(): e for e in lab.switches[sw].control("mac.show")["entries"]}
        check(entries.get(macs[own], {}).get("port") == own, f"{sw} learned {own} on its port: {entries.get(macs[own])}")
        # mac.show names a remote VTEP's destination by its number (remote_port_base + i) until
        # vxctl learns remote destinations; the state file (4.) says which VTEP each is.
        other = HOST_OF["sw1" if sw == "sw2" else "sw2"]
        remote = [entries.get(macs[h], {}).get("port") for h in (other, "khost")]
        check(None not in remote and not set(remote) & {"h1", "h2", "up"} and remote[0] != remote[1],
              f"{sw} learned {other} and khost at two remote VTEPs: {[entries.get(macs[h]) for h in (other, 'khost')]}")
    fdb = netns_lib.run("bridge", "fdb", "show", "dev", "vx0", ns=lab.ns("kvtep")).stdout.splitlines()
    for host, sw in (("h1", "sw1"), ("h2", "sw2")):
        check(any(l.startswith(macs[host]) and f"dst {VTEPS[sw]}" in l for l in fdb),
              f"the kernel learned {host} at {sw}'s VTEP {VTEPS[sw]}")

    print("# 3. unicast stops flooding")
    for src, dst, third, sw, third_sw in (("h1", "h2", "khost", "sw1", None),
                                          ("h1", "khost", "h2", "sw1", "sw2"),
                                          ("khost", "h2", "h1", None, "sw1")):
        before = lab.counters()
        send(src, dst, macs[dst])
        got = received()
        after = lab.counters()
        n = sum(marker(src, dst) in f for f in got[dst])
        check(n == FRAMES, f"{dst} received {src}'s unicasts exactly once each ({n} of {FRAMES})")
        leaked = sum(marker(src, dst) in f for f in got[third])
        check(leaked == 0, f"{third} received none of {src}'s unicasts to {dst} ({leaked})")
        if sw is not None:
            port = HOST_OF[sw]
            moved = {c: delta(before, after, sw, port, c) for c in ("flooded", "unknown_unicast")}
            encap = delta(before, after, sw, "up", "vxlan_encapsulated")
            check(not any(moved.values()) and encap == FRAMES,
                  f"{sw} sent {src}'s unicasts to {dst} as one copy each: vxlan_encapsulated +{encap} "
                  f"(want {FRAMES}), {port} {moved}")
        if third_sw is not None:
            decap = delta(before, after, third_sw, "up", "vxlan_decapsulated")
            check(decap == 0, f"{third_sw}, the third VTEP, decapsulated none of them (+{decap})")

    print("# 4. no VXLAN drop since the pings; stop")
    # (During the pings some are expected: no_next_hop before the first ARP answers,
    # wrong_destination while the underlay's bridge still floods, split_horizon for the
    # kernel's floods of a MAC it had not learned yet.)
    final = lab.counters()
    for sw in SWITCHES:
        moved = {r: final[(sw, "up")][r] - n for r, n in settled[(sw, "up")].items() if r.startswith("vxlan_")}
        bad = {r: n for r, n in moved.items() if n and r not in ("vxlan_encapsulated", "vxlan_decapsulated")}
        check(not bad, f"{sw} dropped no VXLAN frame in steps 1 to 3 ({bad})")
    for sw in SWITCHES:
        state = lab.stop_and_read_state(sw)
        learned = {e["mac"].lower(): e.get("vtep") for e in state["fdb"]["entries"]}
        other = "sw2" if sw == "sw1" else "sw1"
        want = {macs[HOST_OF[other]]: VTEPS[other], macs["khost"]: VTEPS["kernel"]}
        check(all(learned.get(m) == v for m, v in want.items()),
              f"{sw}'s state file: remote MACs at their VTEPs {want} ({learned})")


if __name__ == "__main__":
    netns_lib.lab = three_vtep_lab  # main() builds a netns_lib.lab: ours, with the vxlan sections
    netns_lib.main(scenario, HOSTS, switches=SWITCHES, links=LINKS)

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""vde_url_ports: vxswitchd's `type: vde` ports against a classic vde_switch (vde2) and a
vxvde network (Debian's vdeplug), through libvdeplug URLs.

    usage: vde_url_ports.py VXSWITCHD      (as root; exit 0 pass, 1 fail, 77 skip)

    h1 (10.9.6.1) --af_xdp, access 10-- [vxswitchd] --classic: vde://TMP/vde2-- vde_switch -s TMP/vde2
                                            |                                      |
                                            |                     `vde_plug vde://TMP/vde2 tap://vde0`
                                            |                        in c2: vde0 10.9.6.21
                                            overlay: vxvde://239.1.2.3/vni=42/if=u-vx
                                            |  (u-vx 192.0.2.1, a veth in the switch's namespace)
                                            |
                  vxpeer: eth0 192.0.2.2, `vde_plug vxvde://239.1.2.3/vni=42/if=eth0 tap://vde0`,
                          the tap moved into namespace vx (10.9.6.31)

The vxvde multicast stays on the veth between the switch's namespace and vxpeer, both made by
the test (a route 224.0.0.0/4 on it in each, TTL 1). vxvde learns MAC to endpoint address like
a switch: vxswitchd's port is one endpoint, the vde_plug another.

Checks: kernel pings both ways between h1 and each VDE host and between the two VDE hosts;
the state file counts the two ports' frames both ways, with no drop.
"""

import os
import subprocess
import time

import netns_lib
from vde_switch_clients import vde_lab

GROUP = "239.1.2.3"
VNI = 42
HOSTS = {"h1": {"mac": "02:76:78:00:0d:01", "ip": "10.9.6.1", "port": "h1", "mode": "mode: access, vlan: 10"}}
C2 = {"mac": "02:76:78:00:0d:21", "ip": "10.9.6.21"}  # behind the classic vde_switch
VX = {"mac": "02:76:78:00:0d:31", "ip": "10.9.6.31"}  # behind vde_plug's vxvde endpoint
SWITCH_UNDERLAY = "192.0.2.1"
PEER_UNDERLAY = "192.0.2.2"


class url_lab(vde_lab):
    listens = False  # only URL ports: no vde_switch section
    vde2 = None  # the vde_switch process

    @property
    def vde2_path(self):
        return os.path.join(self.tmp, "vde2")

    @property
    def extra_ports(self):
        return [
            f'  - {{ name: classic, type: vde, url: "vde://{self.vde2_path}", mode: access, vlan: 10 }}',
            f'  - {{ name: overlay, type: vde, url: "vxvde://{GROUP}/vni={VNI}/if=u-vx", mode: access, vlan: 10 }}',
        ]

    def start_vde_switch(self):
        """vde_switch in the foreground: stdin a pipe we keep open (it exits on EOF there)."""
        log = open(os.path.join(self.tmp, "vde_switch.log"), "w")
        self.vde2 = subprocess.Popen(["vde_switch", "-s", self.vde2_path], stdin=subprocess.PIPE,
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 5
        while not os.path.exists(os.path.join(self.vde2_path, "ctl")):
            if self.vde2.poll() is not None or time.monotonic() > deadline:
                raise netns_lib.Fatal(f"vde_switch -s {self.vde2_path} made no ctl (exit {self.vde2.poll()})")
            time.sleep(0.05)

    def underlay(self):
        """A veth between the switch's namespace (u-vx) and vxpeer (eth0), multicast routed on it."""
        peer = self.ns("vxpeer")
        self._add_netns(peer)
        run = netns_lib.run
        run("ip", "link", "add", "u-vx", "netns", self.sw, "type", "veth", "peer", "name", "eth0", "netns", peer)
        for ns, dev, addr in ((self.sw, "u-vx", SWITCH_UNDERLAY), (peer, "eth0", PEER_UNDERLAY)):
            run("ip", "-n", ns, "link", "set", "lo", "up")
            run("ip", "-n", ns, "link", "set", dev, "up")
            run("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            run("ip", "-n", ns, "route", "add", "224.0.0.0/4", "dev", dev)

    def close(self):
        super().close()  # the vde_plugs first: they are vde_switch's clients
        if self.vde2 is not None and self.vde2.poll() is None:
            self.vde2.terminate()
            try:
                self.vde2.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.vde2.kill()
                self.vde2.wait()


def vxvde_host(lab):
    """vde_plug between the vxvde group on vxpeer's eth0 and a tap, which becomes vx's vde0."""
    lab.plug("vxpeer", f"vxvde://{GROUP}/vni={VNI}/if=eth0")
    vx = lab.ns("vx")
    lab._add_netns(vx)
    netns_lib.run("ip", "-n", vx, "link", "set", "lo", "up")
    netns_lib.run("ip", "-n", lab.ns("vxpeer"), "link", "set", "vde0", "netns", vx)
    lab.address_tap("vx", VX["mac"], VX["ip"])


def scenario(lab):
    netns_lib.require_tools(("vde_plug", "vdeplug"), ("vde_switch", "vde2"))
    check = lab.check
    lab.start_vde_switch()
    lab.plug("c2", f"vde://{lab.vde2_path}")
    lab.address_tap("c2", C2["mac"], C2["ip"])
    lab.underlay()
    vxvde_host(lab)
    lab.start()

    print("# pings both ways: h1 <-> c2 (vde_switch), h1 <-> vx (vxvde), c2 <-> vx")
    ips = {"h1": HOSTS["h1"]["ip"], "c2": C2["ip"], "vx": VX["ip"]}
    for a in ips:
        for b in ips:
            if a != b:
                ok = any(lab.ping(a, ips[b]) for _ in range(2))  # the first may wait for ARP
                check(ok, f"{a} pings {b} ({ips[b]})")

    for name in list(lab.plugs):
        lab.unplug(name)
    state = lab.stop_and_read_state()
    for port in ("classic", "overlay"):
        p = next((q for q in state["ports"] if q["name"] == port), {})
        counters = p.get("vde", {}).get("counters", {})
        print(f"     {port}: {p.get('vde')}")
        check(counters.get("frames_in", 0) > 0 and counters.get("frames_out", 0) > 0,
              f"the state file counts {port}'s frames both ways ({counters.get('frames_in')} in, "
              f"{counters.get('frames_out')} out)")
        bad = {k: n for k, n in counters.items() if n and k not in ("frames_in", "frames_out")}
        check(not bad, f"{port} dropped nothing ({bad})")


if __name__ == "__main__":
    netns_lib.lab = url_lab
    netns_lib.main(scenario, HOSTS)

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""vde_switch_clients: vxswitchd as a VDE switch, with real `vde_plug` clients (Debian's vdeplug).

    usage: vde_switch_clients.py VXSWITCHD      (as root; exit 0 pass, 1 fail, 77 skip)

    h1 (10.9.5.1) --af_xdp, access vlan 10-- [vxswitchd, vde_switch: TMP/vde] --vm1 (vde_port 1)-- c1
                                                                               --vm2 (any port)--- c2
    c1: `vde_plug vde://TMP/vde[1] tap://vde0` in namespace c1, vde0 = 10.9.5.11
    c2: `vde_plug vde://TMP/vde tap://vde0` in namespace c2, vde0 = 10.9.5.12

Checks:
  1. Each client is bound to the port it asked for (c1: vm1, by number; c2: the free port
     without a number, vm2), as the daemon's log says.
  2. The three hosts ping each other (kernel pings, each pair both ways).
  3. c1's vde_plug is stopped (SIGTERM to its pid): the daemon frees vm1 and forgets the MACs
     learned there (no entry left on vm1); reconnected, c1 pings h1 and c2 again.
  4. The state file shows each VDE port's counters (frames both ways, no drop but out_no_peer),
     and vxswitchd leaves no data socket behind in TMP/vde.
The test kills its vde_plug processes and removes its namespaces and files (netns_lib.lab).
"""

import os
import shutil
import signal
import subprocess
import time

import netns_lib

H1 = {"mac": "02:76:78:00:0c:01", "ip": "10.9.5.1"}
CLIENTS = {
    # name: tap MAC, address, switch port it should get, URL suffix (the port it asks for)
    "c1": {"mac": "02:76:78:00:0c:11", "ip": "10.9.5.11", "port": "vm1", "ask": "[1]"},
    "c2": {"mac": "02:76:78:00:0c:12", "ip": "10.9.5.12", "port": "vm2", "ask": ""},
}
HOSTS = {"h1": {**H1, "port": "h1", "mode": "mode: access, vlan: 10"}}
VDE_PORTS = [
    "  - { name: vm1, type: vde_switch, vde_port: 1, mode: access, vlan: 10 }",
    "  - { name: vm2, type: vde_switch, mode: access, vlan: 10 }",
]
# What a VDE port may count after these pings: frames, and frames flooded to it while no
# client was there (out_no_peer).
HARMLESS = {"frames_in", "frames_out", "out_no_peer"}


class vde_lab(netns_lib.lab):
    """A lab whose switch is also a VDE switch (at TMP/vde), with vde_plug clients."""

    extra_ports = VDE_PORTS
    listens = True  # the switch has a vde_switch section
    plugs = None  # name: Popen of its vde_plug

    @property
    def vde_path(self):
        return os.path.join(self.tmp, "vde")

    def config(self):
        path = super().config()  # ends with the ports list: ours continue it
        with open(path, "a") as f:
            f.write("\n".join(self.extra_ports) + "\n")
            if self.listens:
                f.write(f"vde_switch:\n  path: {self.vde_path}\n  mode: 0600\n")
        return path

    def plug(self, name, url, tap="vde0"):
        """Starts `vde_plug URL tap://TAP` in namespace `name` (made if needed); returns once the
        tap exists. The tap lives in the namespace, so it goes with it (or with vde_plug)."""
        ns = self.ns(name)
        if ns not in self.namespaces:
            self._add_netns(ns)
            netns_lib.run("ip", "-n", ns, "link", "set", "lo", "up")
        if self.plugs is None:
            self.plugs = {}
        log = open(os.path.join(self.tmp, f"vde_plug-{name}.log"), "w")
        # `ip netns exec` execs vde_plug: the pid is vde_plug's.
        p = subprocess.Popen(["ip", "netns", "exec", ns, "vde_plug", url, f"tap://{tap}"],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.plugs[name] = p
        deadline = time.monotonic() + 5
        while netns_lib.run("ip", "-n", ns, "link", "show", tap, check=False).returncode != 0:
            if p.poll() is not None or time.monotonic() > deadline:
                with open(os.path.join(self.tmp, f"vde_plug-{name}.log")) as f:
                    raise netns_lib.Fatal(f"vde_plug {url} tap://{tap} in {ns} made no tap "
                                          f"(exit {p.poll()}): {f.read().strip()!r}")
            time.sleep(0.05)
        return p

    def address_tap(self, name, mac, ip, tap="vde0"):
        ns = self.ns(name)
        netns_lib.run("ip", "-n", ns, "link", "set", tap, "address", mac)
        netns_lib.run("ip", "-n", ns, "link", "set", tap, "up")
        netns_lib.run("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", tap)

    def unplug(self, name):
        """Stops vde_plug `name` by its pid (SIGTERM); returns its exit status."""
        p = self.plugs.pop(name)
        os.kill(p.pid, signal.SIGTERM)
        try:
            return p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            return p.wait()

    def close(self):
        for name in list(self.plugs or {}):
            if self.plugs[name].poll() is None:
                self.unplug(name)
        super().close()

    def log_says(self, text, seconds=3.0):
        deadline = time.monotonic() + seconds
        while True:
            with open(self.log) as f:
                if text in f.read():
                    return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def mac_ports(self, mac):
        """The ports the switch has `mac` at now (learned entries, live)."""
        entries = self._switch().control("mac.show")["entries"]
        return [e["port"] for e in entries if e["mac"].lower() == mac]


def connect(lab, name):
    c = CLIENTS[name]
    lab.plug(name, f"vde://{lab.vde_path}{c['ask']}")
    lab.address_tap(name, c["mac"], c["ip"])
    return lab.log_says(f"is port '{c['port']}'")


def ping_all(lab, pairs, what):
    for src, dst_ip in pairs:
        ok = any(lab.ping(src, dst_ip) for _ in range(2))  # the first may wait for ARP
        lab.check(ok, f"{what}: {src} pings {dst_ip}")


def scenario(lab):
    if not shutil.which("vde_plug"):
        netns_lib.skip("vde_plug is not installed (Debian: apt-get install vdeplug)")
    check = lab.check
    lab.start()

    print("# 1. two vde_plug clients connect: c1 asks for port 1, c2 for any port")
    for name in CLIENTS:
        check(connect(lab, name), f"{name}'s vde_plug is bound to port '{CLIENTS[name]['port']}' (daemon log)")

    print("# 2. everyone pings everyone")
    ips = {"h1": H1["ip"], **{n: c["ip"] for n, c in CLIENTS.items()}}
    ping_all(lab, [(a, ips[b]) for a in ips for b in ips if a != b], "all connected")

    print("# 3. c1's vde_plug is stopped by its pid, then reconnected")
    check(lab.mac_ports(CLIENTS["c1"]["mac"]) == ["vm1"], "the switch learned c1's MAC on vm1")
    rc = lab.unplug("c1")
    check(rc is not None, f"c1's vde_plug exited on SIGTERM (status {rc})")
    check(lab.log_says("on port 'vm1' left"), "the daemon saw c1 leave and freed vm1")
    check(lab.mac_ports(CLIENTS["c1"]["mac"]) == [],
          f"c1's MAC was flushed with its port (entries now on {lab.mac_ports(CLIENTS['c1']['mac'])})")
    check(not lab.ping("h1", CLIENTS["c1"]["ip"], count=1), "h1 does not reach c1 while it is away")
    check(connect(lab, "c1"), "c1's new vde_plug is bound to vm1 again")
    ping_all(lab, [("c1", H1["ip"]), ("c1", CLIENTS["c2"]["ip"]), ("h1", CLIENTS["c1"]["ip"])], "after reconnecting")

    print("# 4. counters in the state file, no leaked data socket")
    for name in list(lab.plugs):
        lab.unplug(name)
    state = lab.stop_and_read_state()
    for name, c in CLIENTS.items():
        port = next((p for p in state["ports"] if p["name"] == c["port"]), None)
        vde = (port or {}).get("vde", {})
        counters = vde.get("counters", {})
        print(f"     {c['port']}: {vde}")
        check(counters.get("frames_in", 0) > 0 and counters.get("frames_out", 0) > 0,
              f"the state file counts {c['port']}'s VDE frames both ways ({counters.get('frames_in')} in, "
              f"{counters.get('frames_out')} out)")
        bad = {k: n for k, n in counters.items() if n and k not in HARMLESS}
        check(not bad, f"{c['port']} dropped no frame but for want of a client ({bad})")
    left = sorted(os.listdir(lab.vde_path)) if os.path.isdir(lab.vde_path) else []
    check(not [f for f in left if f != "ctl"], f"vxswitchd left no data socket in its VDE directory ({left})")


if __name__ == "__main__":
    netns_lib.lab = vde_lab  # main() builds a netns_lib.lab: ours, with the VDE switch
    netns_lib.main(scenario, HOSTS)

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""xdp_steer: one veth end shared by the switch namespace's kernel and vxswitch (type: af_xdp).

    usage: xdp_steer.py VXSWITCHD      (as root; exit 0 pass, 1 fail, 77 skip)

    ns H (10.253.0.1)  eth0 ==veth== p-h  ns SW: 10.253.0.254 (the kernel) AND port 'fab' of vxswitchd
                                                  (type: af_xdp, trunk vlan 10: vx_steer steers VLAN 10)
    ns B               eth0 ==veth== p-b  ns SW: port 'b' (plain net_af_xdp, access vlan 10)

1. H pings the switch namespace's kernel, and streams to it over TCP (at least 2 MiB) for as
   long as H and B exchange VLAN 10 frames through vxswitch on the same interface: both paths
   work at once.
2. A runtime change of vx_steer's VLAN map (VLAN 10 no longer steered) sends H's VLAN 10
   frames to the kernel instead (B gets nothing, the program counts them as pass), and
   restoring it brings them back to the switch: first bpftool writes the map entry from
   outside, then the daemon does, when `vxctl config apply` changes the VLANs fab carries
   (its steered VLANs default to those, and follow them).
3. The state file: the program's counters show both paths (redirect_vlan for the fabric
   frames, pass for the host's traffic), and the switch never saw the host's untagged frames
   (no untagged_on_trunk drop on 'fab').
"""

import json
import os
import re
import shutil
import threading
import time

import netns_lib

MAC_H = "02:76:78:00:03:01"
MAC_B = "02:76:78:00:03:02"
IP_H = "10.253.0.1"
IP_SW = "10.253.0.254"
TCP_PORT = 5001
TCP_BYTES = 2 * 1024 * 1024
FABRIC_FRAMES = 200
MARK = b"xdp_steer fabric"

HOSTS = {
    "h": {"mac": MAC_H, "ip": IP_H, "port": "fab", "mode": "mode: trunk, vlans: [10]"},
    "b": {"mac": MAC_B, "ip": None, "port": "b", "mode": "mode: access, vlan: 10"},
}


class steer_lab(netns_lib.lab):
    """The netns lab, with port 'fab' of type af_xdp (it names only its interface)."""

    def config(self):
        path = super().config()
        with open(path) as f:
            text = f.read()
        text, n = re.subn(r'device: "net_af_xdp\d+,iface=p-h[^"]*"', "type: af_xdp, iface: p-h", text)
        if n != 1:
            raise netns_lib.Fatal(f"cannot make port 'fab' an af_xdp port in:\n{text}")
        with open(path, "w") as f:
            f.write(text)
        return path

    def build(self):
        super().build()
        netns_lib.run("ip", "-n", self.sw, "addr", "add", f"{IP_SW}/24", "dev", "p-h")


def tcp_transfer(lab, result, stop):
    """Streams from H to the switch namespace's kernel over TCP (netns_lib.tcp_stream)."""
    return netns_lib.tcp_stream(lab.sw, IP_SW, lab.ns("h"), TCP_PORT, TCP_BYTES, result, stop)


def fabric_frames(lab, count, batch=10):
    """H sends `count` VLAN 10 frames to B; returns how many B received (untagged, as access).
    In batches, each drained before the next: B's packet socket buffer holds only ~150 frames."""
    from scapy.all import Dot1Q, Ether, IP, Raw, UDP

    lab.drain("b")
    frame = (Ether(src=MAC_H, dst=MAC_B) / Dot1Q(vlan=10) / IP(src="192.0.2.10", dst="192.0.2.20") /
             UDP(sport=7000, dport=7001) / Raw(MARK))
    got = 0
    for sent in range(batch, count + batch, batch):
        lab.send("h", frame, min(batch, count - sent + batch))
        deadline = time.monotonic() + 1.0
        while got < min(sent, count) and time.monotonic() < deadline:
            for p in lab.drain("b", 0.1):
                if Raw in p and bytes(p[Raw].load) == MARK and Dot1Q not in p:
                    got += 1
    for p in lab.drain("b", netns_lib.SETTLE_S):  # late ones, and none beyond count
        if Raw in p and bytes(p[Raw].load) == MARK and Dot1Q not in p:
            got += 1
    return got


def vlan_map_of(lab, prog_id):
    """The id of vx_steer's vx_vlans map (program `prog_id`), through bpftool."""
    prog = json.loads(netns_lib.run("bpftool", "-j", "prog", "show", "id", prog_id, ns=lab.sw).stdout)
    for map_id in prog.get("map_ids", []):
        m = json.loads(netns_lib.run("bpftool", "-j", "map", "show", "id", map_id, ns=lab.sw).stdout)
        if m.get("name") == "vx_vlans":
            return map_id
    raise netns_lib.Fatal(f"program {prog_id} has no vx_vlans map")


def vxctl(lab):
    """vxctl, built beside vxswitchd (build/ctl/vxctl for build/dataplane/vxswitchd)."""
    path = os.path.join(os.path.dirname(lab.daemon), "..", "ctl", "vxctl")
    if not os.access(path, os.X_OK):
        raise netns_lib.Fatal(f"no vxctl at {path}")
    return os.path.normpath(path)


def set_vlan_action(lab, map_id, vid, action):
    key = vid.to_bytes(4, "little")
    value = action.to_bytes(4, "little")
    netns_lib.run("bpftool", "map", "update", "id", map_id, "key", *map(str, key), "value", *map(str, value),
                  ns=lab.sw)


def scenario(lab):
    from scapy.all import Dot1Q, Ether, Raw

    check = lab.check
    if not shutil.which("bpftool"):
        netns_lib.skip("bpftool is not installed (Debian: apt-get install bpftool)")
    lab.open_sockets()
    lab.start()
    with open(lab.log) as f:
        log = f.read()
    m = re.search(r"vx_steer \(id (\d+)\) runs on p-h in (\w+) XDP mode", log)
    check(m is not None, "the daemon says where vx_steer runs and in which XDP mode")
    if m is None:
        raise netns_lib.Fatal("no attach line in the daemon's log")
    prog_id, mode = m.group(1), m.group(2)
    check(mode == "native", f"veth has native XDP: the program runs in it ({mode})")

    print("# 1. the kernel's ping and TCP, and the switch's VLAN 10, on one interface at once")
    check(lab.ping("h", IP_SW), f"H pings the switch namespace's kernel ({IP_SW}) through XDP_PASS")
    result = {}
    stop = threading.Event()
    threads, socks = tcp_transfer(lab, result, stop)
    got = fabric_frames(lab, FABRIC_FRAMES)
    stop.set()
    for t in threads:
        t.join(15)
    for s in socks:
        s.close()
    check(result.get("sent", 0) >= TCP_BYTES and result.get("received") == result.get("sent"),
          f"TCP H -> switch namespace, during the fabric traffic: {result.get('received')} of "
          f"{result.get('sent')} bytes arrived {result.get('error', '')}")
    check(got == FABRIC_FRAMES, f"B received H's VLAN 10 frames through the switch, untagged ({got}/{FABRIC_FRAMES})")
    lab.drain("h")
    lab.send("b", Ether(src=MAC_B, dst=MAC_H) / Raw(MARK + b" back"))
    lab.expect("h", "H received B's reply through the switch, tagged 10 (AF_XDP egress on the shared veth)",
               lambda p: Dot1Q in p and p[Dot1Q].vlan == 10 and Raw in p and bytes(p[Raw].load).startswith(MARK))

    print("# 2. the steered VLAN set changes at runtime: traffic moves between the paths")
    map_id = vlan_map_of(lab, prog_id)
    set_vlan_action(lab, map_id, 10, 0)  # VX_ACT_NONE: VLAN 10 is the kernel's now
    moved = fabric_frames(lab, 20)
    check(moved == 0, f"VLAN 10 no longer steered: B received none of 20 frames ({moved})")
    set_vlan_action(lab, map_id, 10, 1)  # VX_ACT_STEER
    back = fabric_frames(lab, 20)
    check(back == 20, f"VLAN 10 steered again: B received {back} of 20")
    print("# 2b. the same through the daemon: vxctl config apply moves fab to VLAN 20 and back")
    sw = lab._switch()
    with open(sw.config_file) as f:
        running = f.read()
    for vlans, expected in (("[20]", 0), ("[10]", 20)):
        changed = os.path.join(lab.tmp, f"vlans{vlans.strip('[]')}.yaml")
        with open(changed, "w") as f:
            f.write(running.replace("iface: p-h, mode: trunk, vlans: [10]", f"iface: p-h, mode: trunk, vlans: {vlans}"))
            # The daemon runs with --control-socket; the file must say the same to change nothing else.
            f.write(f"control:\n  socket: {sw.control_socket}\n")
        p = netns_lib.run(vxctl(lab), "-s", sw.control_socket, "config", "apply", changed, check=False)
        check(p.returncode == 0, f"vxctl config apply: fab vlans {vlans} ({(p.stdout + p.stderr).strip()})")
        got = fabric_frames(lab, 20)
        check(got == expected, f"fab carries and steers vlans {vlans}: B received {got} of H's 20 VLAN 10 frames")
    check(lab.ping("h", IP_SW, count=2), "H still pings the kernel after the changes")

    print("# 3. counters show both paths")
    state = lab.stop_and_read_state()
    fab = next(p for p in state["ports"] if p["name"] == "fab")
    xdp = fab.get("xdp", {})
    c = xdp.get("counters", {})
    print(f"     fab xdp: mode {xdp.get('xdp_mode')} rules '{xdp.get('rules')}' counters "
          f"{ {k: v for k, v in c.items() if v} }")
    check(xdp.get("xdp_mode") == "native", "state file: fab runs vx_steer in native mode")
    steered = FABRIC_FRAMES + 20 + 20  # steps 1, 2 and 2b
    check(c.get("redirect_vlan", 0) >= steered,
          f"redirect_vlan counts the fabric frames ({c.get('redirect_vlan')} >= {steered})")
    # TCP alone is over 100 segments; 20 frames of step 2 and 20 of step 2b passed too.
    check(c.get("pass", 0) >= 100 + 40, f"pass counts the host's own traffic ({c.get('pass')} >= 140)")
    check(c.get("no_socket", 0) == 0, "no steered frame lacked a socket")
    check(fab["counters"]["rx_packets"] >= steered,
          f"port fab received the steered frames ({fab['counters']['rx_packets']})")
    check(fab["drops"].get("untagged_on_trunk", 0) == 0,
          "the switch saw none of the host's untagged frames (no untagged_on_trunk drop)")
    # Had the steering not followed fab's VLANs in 2b, the switch would have dropped the VLAN 10
    # frames itself (B would have received none either way).
    check(fab["drops"].get("vlan_not_allowed", 0) == 0,
          "while fab carried VLAN 20 only, its VLAN 10 frames went to the kernel, not to the switch "
          f"(vlan_not_allowed {fab['drops'].get('vlan_not_allowed')})")


if __name__ == "__main__":
    netns_lib.lab = steer_lab  # main() builds a netns_lib.lab: make it this one
    netns_lib.main(scenario, HOSTS)

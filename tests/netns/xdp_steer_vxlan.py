#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""xdp_steer_vxlan: a VXLAN underlay shared by the switch namespace's kernel and vxswitch's VTEP.

    usage: xdp_steer_vxlan.py VXSWITCHD      (as root; exit 0 pass, 1 fail, 77 skip)
    VXLAN_UNDERLAY=4 (default) or 6: the underlay's family (IPv6: VTEPs 2001:db8::1 and ::2,
    the switch namespace's kernel 2001:db8::fe; neighbour discovery instead of ARP)

    h1 (10.9.0.1) --access vlan 10-- [vxswitchd, VTEP 192.0.2.1] --port "up" (type: af_xdp,
        steer udp 192.0.2.1:4789) on p-kvtep, which also has the kernel's 192.0.2.254 --veth--
        kvtep: eth0 192.0.2.2, vx0 (kernel vxlan, VNI 42, remote 192.0.2.1) in br0 -- khost (10.9.0.2)

1. h1 and khost ping each other through the steered VXLAN UDP (both VTEPs resolve each other
   by ARP: the program takes ARP for 192.0.2.1 to the switch, and ARP for 192.0.2.254 to the
   kernel; IPv6: neighbour discovery), while kvtep pings the switch namespace's kernel and
   streams to it over TCP on the same interface.
2. A runtime change of the steered UDP destination (vxctl config apply: 192.0.2.1:4790) sends
   the kernel's VXLAN frames to the switch namespace's kernel instead (pings fail, the program
   counts them as pass, vxswitch decapsulates none), and the change back restores them.
3. The program's counters, read with bpftool while the switch runs and from the state file
   after it: redirect_udp for the VXLAN frames, redirect_arp_nd for ARP about the VTEP, pass
   for the kernel's traffic; vxswitch saw none of the kernel's own frames (no underlay drop).
"""

import json
import os
import re
import shutil
import threading

import netns_lib
import vxlan_kernel  # the kernel's VTEP (kvtep, khost), as vxlan_kernel.py builds it
import xdp_steer  # vxctl()

VNI = 42
V6 = vxlan_kernel.V6  # VXLAN_UNDERLAY=6
SWITCH_VTEP = vxlan_kernel.SWITCH_VTEP  # 192.0.2.1 or 2001:db8::1
KERNEL_VTEP = vxlan_kernel.KERNEL_VTEP
KERNEL_SW = "2001:db8::fe" if V6 else "192.0.2.254"  # the switch namespace's kernel, beside the VTEP
FAMILY = "-6" if V6 else "-4"
ANSWERS = "neighbour_adverts" if V6 else "arp_replies"  # vxswitch's answers for its VTEP address
TCP_PORT = 5002
TCP_BYTES = 2 * 1024 * 1024
H1 = {"mac": "02:76:78:00:09:01", "ip": "10.9.0.1"}
KHOST_IP = vxlan_kernel.KHOST["ip"]
HOSTS = {
    "h1": {**H1, "port": "h1", "mode": "mode: access, vlan: 10"},
    # (IPv6: kernel_vtep adds the address, with IPv6 turned back on in that namespace.)
    "kvtep": {"mac": "02:76:78:00:0f:02", "ip": None if V6 else KERNEL_VTEP, "port": "up", "mode": "mode: access"},
}


def steer(udp_port):
    return f'steer: {{ udp: ["{udp_dest(udp_port)}"] }}'


def udp_dest(udp_port):
    return f"[{SWITCH_VTEP}]:{udp_port}" if V6 else f"{SWITCH_VTEP}:{udp_port}"


class steered_vxlan_lab(netns_lib.lab):
    """The VTEP's underlay is an af_xdp port on p-kvtep, which the namespace's kernel uses too."""

    def config(self):
        path = super().config()
        with open(path) as f:
            text = f.read()
        text, n = re.subn(r'device: "net_af_xdp\d+,iface=p-kvtep[^"]*"', f"type: af_xdp, iface: p-kvtep, {steer(4789)}",
                          text)
        if n != 1:
            raise netns_lib.Fatal(f"cannot make port 'up' an af_xdp port in:\n{text}")
        text += netns_lib.vxlan_section(SWITCH_VTEP, VNI, f"remotes: [{KERNEL_VTEP}]")
        with open(path, "w") as f:
            f.write(text)
        return path

    def build(self):
        super().build()
        if V6:  # the lab turns IPv6 off everywhere: on for p-kvtep, whose kernel address is IPv6
            netns_lib.run("sysctl", "-qw", "net.ipv6.conf.p-kvtep.disable_ipv6=0", ns=self.sw)
            netns_lib.run("ip", "-n", self.sw, "-6", "addr", "add", f"{KERNEL_SW}/64", "dev", "p-kvtep", "nodad")
        else:
            netns_lib.run("ip", "-n", self.sw, "addr", "add", f"{KERNEL_SW}/24", "dev", "p-kvtep")


def counter_names():
    """The decision counters in bpf/steer_common.h's order (VX_STEER_COUNTERS: X(ID, "name", ...))."""
    header = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bpf", "steer_common.h")
    with open(header) as f:
        return re.findall(r'^\s*X\(\w+, "(\w+)"', f.read(), re.M)


def number(v):
    """A bpftool JSON key or value: a number (with BTF), or its bytes as hex strings (without)."""
    return int.from_bytes(bytes(int(b, 16) for b in v), "little") if isinstance(v, list) else int(v)


def program_counters(lab, prog_id):
    """vx_steer's decision counters (summed over CPUs), read with bpftool, not through the daemon."""
    prog = json.loads(netns_lib.run("bpftool", "-j", "prog", "show", "id", prog_id, ns=lab.sw).stdout)
    for map_id in prog.get("map_ids", []):
        m = json.loads(netns_lib.run("bpftool", "-j", "map", "show", "id", map_id, ns=lab.sw).stdout)
        if m.get("name") == "vx_counters":
            entries = json.loads(netns_lib.run("bpftool", "-j", "map", "dump", "id", map_id, ns=lab.sw).stdout)
            names = counter_names()
            counts = {}
            for e in entries:
                key = number(e["key"])
                if key < len(names):
                    counts[names[key]] = sum(number(v["value"]) for v in e["values"])
            return counts
    raise netns_lib.Fatal(f"program {prog_id} has no vx_counters map")


def apply_udp_port(lab, udp_port):
    """vxctl config apply: the running configuration with port 'up' steering udp_port."""
    sw = lab._switch()
    with open(sw.config_file) as f:
        running = f.read()
    changed = os.path.join(lab.tmp, f"udp{udp_port}.yaml")
    with open(changed, "w") as f:
        f.write(running.replace(steer(4789), steer(udp_port)))
        f.write(f"control:\n  socket: {sw.control_socket}\n")  # as the daemon runs
    p = netns_lib.run(xdp_steer.vxctl(lab), "-s", sw.control_socket, "config", "apply", changed, check=False)
    lab.check(p.returncode == 0 and udp_dest(udp_port) in p.stdout,
              f"vxctl config apply: port 'up' steers {udp_dest(udp_port)} ({(p.stdout + p.stderr).strip()})")


def vxctl_views(lab, prog_id, counted):
    """vxctl show and counters (table and --json) against what bpftool read just before."""
    check = lab.check
    sw = lab._switch()

    def vxctl(*args):
        p = netns_lib.run(xdp_steer.vxctl(lab), "-s", sw.control_socket, *args, check=False)
        if p.returncode != 0:
            raise netns_lib.Fatal(f"vxctl {' '.join(args)}: {p.stderr.strip()}")
        return p.stdout

    shown = next(p for p in json.loads(vxctl("--json", "show"))["ports"] if p["name"] == "up")["xdp"]
    check(shown["prog_id"] == int(prog_id) and shown["xdp_mode"] == "native" and shown["af_xdp_sockets"]["mode"] == "copy",
          f"vxctl --json show: up runs vx_steer {prog_id}, native, its socket in copy mode ({shown})")
    table = vxctl("show")
    row = next((l for l in table.splitlines() if l.startswith("up ") and "vx_steer" in l), "")
    check(f"vx_steer id {prog_id}" in row and "native" in row and "copy (1 socket)" in row and udp_dest(4789) in row,
          f"vxctl show has up's XDP line: {row!r}")
    up = json.loads(vxctl("--json", "counters", "up"))["ports"][0]["xdp"]
    d = up["decisions"]
    check(d["redirect_udp"] >= counted["redirect_udp"] and d["redirect_arp_nd"] >= counted["redirect_arp_nd"] and
          up["to_switch"] == d["redirect_udp"] + d["redirect_arp_nd"] and up["to_kernel"] >= d["pass"] >= counted["pass"],
          f"vxctl --json counters up: the decisions as bpftool read them, summed by path ({up['to_switch']} to the "
          f"switch, {up['to_kernel']} to the kernel)")
    text = vxctl("counters")
    lines = text.splitlines()
    xdp_at = next((i for i, l in enumerate(lines) if l.startswith("XDP steering")), None)
    print("\n".join(f"     | {l}" for l in lines[xdp_at or len(lines):]))
    check(xdp_at is not None and any(l.split()[:1] == ["up"] for l in lines[xdp_at:]) and
          any(l.split()[:2] == ["up", "redirect_udp"] for l in lines[xdp_at:]),
          "vxctl counters: an XDP steering table and the decisions, beside the ports' counters")
    vxctl("counters", "clear")
    after = json.loads(vxctl("--json", "counters", "up"))["ports"][0]["xdp"]
    check(after["to_switch"] < up["to_switch"] and after["decisions"]["redirect_udp"] <= 2,
          f"vxctl counters clear: the XDP decisions count from zero too ({after['decisions']['redirect_udp']})")


def both_paths_at_once(lab):
    """kvtep's kernel streams to the switch namespace's kernel while h1 and khost ping over VXLAN."""
    check = lab.check
    check(lab.ping("kvtep", KERNEL_SW), f"kvtep pings the switch namespace's kernel ({KERNEL_SW}) through XDP_PASS")
    result = {}
    stop = threading.Event()
    threads, socks = netns_lib.tcp_stream(lab.sw, KERNEL_SW, lab.ns("kvtep"), TCP_PORT, TCP_BYTES, result, stop)
    overlay = lab.ping("h1", KHOST_IP, count=10)
    underlay = lab.ping("kvtep", KERNEL_SW, count=5)
    stop.set()
    for t in threads:
        t.join(15)
    for s in socks:
        s.close()
    check(overlay, "during the TCP stream, h1 pings khost over the steered VXLAN (10 of 10)")
    check(underlay, "during the TCP stream, kvtep pings the switch namespace's kernel")
    check(result.get("sent", 0) >= TCP_BYTES and result.get("received") == result.get("sent"),
          f"TCP kvtep -> switch namespace's kernel, beside the VXLAN traffic: {result.get('received')} of "
          f"{result.get('sent')} bytes arrived {result.get('error', '')}")


def scenario(lab):
    check = lab.check
    if not shutil.which("bpftool"):
        netns_lib.skip("bpftool is not installed (Debian: apt-get install bpftool)")
    vxlan_kernel.kernel_vtep(lab)
    lab.start()
    with open(lab.log) as f:
        log = f.read()
    m = re.search(r"vx_steer \(id (\d+)\) runs on p-kvtep in (\w+) XDP mode", log)
    if m is None:
        raise netns_lib.Fatal("no attach line for p-kvtep in the daemon's log")
    prog_id = m.group(1)
    check(m.group(2) == "native", f"veth has native XDP: vx_steer runs in it ({m.group(2)})")
    socket_line = re.search(r"port 'up': AF_XDP socket on p-kvtep queue 0 in (\S+) mode", log)
    check(socket_line is not None and socket_line.group(1) == "copy",
          "the daemon says which mode the AF_XDP socket got: copy (veth has no zero-copy AF_XDP): "
          f"{socket_line.group(0) if socket_line else 'no such line'}")

    print("# 1. VXLAN through vxswitch and the kernel's own ping and TCP, on one interface at once")
    check(lab.ping("h1", KHOST_IP), f"h1 pings khost over VXLAN (UDP to {udp_dest(4789)} steered to the switch)")
    check(lab.ping("khost", H1["ip"]), "khost pings h1 over VXLAN")
    both_paths_at_once(lab)
    # vxswitch, not the kernel (the VTEP's address is none of its), answers ARP (IPv6: neighbour
    # solicitations) for the VTEP; the kernel answers for its own address on the same interface.
    # (kvtep could also take vxswitch's MAC from vxswitch's own requests: the answers are
    # counted, not inferred.)
    kvtep = lab.ns("kvtep")
    replies = lab._switch().counters()["up"][ANSWERS]
    netns_lib.run("ip", "-n", kvtep, FAMILY, "neigh", "flush", "dev", "eth0")
    lab.ping("kvtep", SWITCH_VTEP, count=1)  # no ICMP answer (the kernel's: not its address), ARP/ND first
    lab.ping("kvtep", KERNEL_SW, count=1)
    now = lab._switch().counters()["up"][ANSWERS]
    check(now > replies, f"vxswitch answered kvtep's {'solicitation' if V6 else 'ARP'} for {SWITCH_VTEP} "
          f"({ANSWERS} {replies} -> {now})")
    mac = vxlan_kernel.switch_mac(lab)
    for ip in (SWITCH_VTEP, KERNEL_SW):
        neigh = netns_lib.run("ip", "-n", kvtep, FAMILY, "neigh", "show", ip, "dev", "eth0").stdout
        check(f"lladdr {mac}" in neigh, f"kvtep resolved {ip} to the interface's MAC: {neigh.strip()!r}")
    before = program_counters(lab, prog_id)
    print(f"     vx_steer counters: { {k: v for k, v in before.items() if v} }")
    # At least one VXLAN frame from the kernel per echo that crossed: 3 + 3 + 10.
    check(before.get("redirect_udp", 0) >= 16, f"redirect_udp counts the VXLAN frames ({before.get('redirect_udp')} >= 16)")
    check(before.get("redirect_arp_nd", 0) >= 2,
          f"redirect_arp_nd counts ARP about the VTEP's address ({before.get('redirect_arp_nd')})")
    check(before.get("pass", 0) >= 100, f"pass counts the kernel's ping and TCP ({before.get('pass')})")

    print("# 2. the steered UDP destination changes at runtime: VXLAN moves to the kernel and back")
    decapsulated = lab._switch().counters()["up"]["vxlan_decapsulated"]
    apply_udp_port(lab, 4790)
    check(not lab.ping("h1", KHOST_IP, count=3), "4789 no longer steered: h1's pings to khost get no answer")
    moved = program_counters(lab, prog_id)
    check(moved["redirect_udp"] == before["redirect_udp"] and moved["pass"] >= before["pass"] + 3,
          f"the kernel's VXLAN replies went to the kernel (redirect_udp {before['redirect_udp']} -> "
          f"{moved['redirect_udp']}, pass {before['pass']} -> {moved['pass']})")
    now = lab._switch().counters()["up"]["vxlan_decapsulated"]
    check(now == decapsulated, f"vxswitch decapsulated nothing meanwhile ({decapsulated} -> {now})")
    apply_udp_port(lab, 4789)
    check(lab.ping("h1", KHOST_IP, count=3), "4789 steered again: h1 pings khost")
    back = program_counters(lab, prog_id)
    check(back["redirect_udp"] >= moved["redirect_udp"] + 3,
          f"redirect_udp counts them again ({moved['redirect_udp']} -> {back['redirect_udp']})")
    check(lab.ping("kvtep", KERNEL_SW, count=2), "kvtep still pings the switch namespace's kernel")

    print("# 3. vxctl shows the program, its sockets' mode and its decisions beside the port's counters")
    vxctl_views(lab, prog_id, program_counters(lab, prog_id))

    print("# 4. the state file: both paths counted, and the switch saw none of the kernel's frames")
    state = lab.stop_and_read_state()
    up = next(p for p in state["ports"] if p["name"] == "up")
    xdp = up.get("xdp", {})
    c = xdp.get("counters", {})
    print(f"     up xdp: mode {xdp.get('xdp_mode')} sockets {xdp.get('af_xdp_sockets')} rules '{xdp.get('rules')}' "
          f"counters { {k: v for k, v in c.items() if v} }")
    check(c.get("redirect_udp", 0) >= back["redirect_udp"] and c.get("redirect_arp_nd", 0) >= 2 and
          c.get("pass", 0) >= back["pass"], "the state file has the program's counters, as bpftool read them")
    check(c.get("no_socket", 0) == 0, "no steered frame lacked a socket")
    check(xdp.get("af_xdp_sockets") == {"count": 1, "zero_copy": 0, "mode": "copy"},
          f"the state file says the socket's mode: copy ({xdp.get('af_xdp_sockets')})")
    check(up["counters"][ANSWERS] > 0, f"vxswitch answered for its VTEP address ({ANSWERS} {up['counters'][ANSWERS]})")
    check(up["counters"]["vxlan_decapsulated"] > 0 and up["counters"]["vxlan_encapsulated"] > 0,
          "vxswitch encapsulated and decapsulated")
    # (vxlan_no_next_hop: h1's first flood, if it came before vxswitch's ARP for the kernel's VTEP
    # was answered.)
    drops = {r: n for r, n in up["drops"].items() if n and r != "vxlan_no_next_hop"}
    check(not drops, f"the kernel's own frames (ICMP, TCP, its ARP) never reached the switch: no drop on 'up' ({drops})")


if __name__ == "__main__":
    netns_lib.lab = steered_vxlan_lab  # main() builds a netns_lib.lab: this one
    netns_lib.main(scenario, HOSTS)

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""vde_jumbo: 9000-byte frames between vdens clients of vxswitchd's VDE switch.

    usage: vde_jumbo.py VXSWITCHD      (as root; exit 0 pass, 1 fail, 77 skip)

    h1 (10.9.7.1, mtu 1500) --af_xdp, access vlan 10-- [vxswitchd, vde_switch: TMP/vde]
        ja (vde_port 1, mtu 9000): a, `vdens vde://TMP/vde[1]`, vde0 mtu 9000, 10.9.7.11
        jb (vde_port 2, mtu 9000): b, `vdens vde://TMP/vde[2]`, vde0 mtu 9000, 10.9.7.12

The switch's pool holds frames of up to 3776 bytes (net_af_xdp's page-sized buffers), so ja
and jb receive into the VDE bridge's own pool of large buffers.

Checks:
  1. The daemon says it made that pool.
  2. a and b ping each other with 8972-byte payloads and DF (`ping -s 8972 -M do`: 9014-byte
     frames, nothing fragmented), also after the MAC table was flushed, so that the first
     jumbo frame is flooded (copied into the switch's pool as a chain of buffers).
  3. h1 and a ping each other with small frames (jumbo-pool buffers leave by net_af_xdp).
  4. A 2042-byte frame from a to h1 is dropped as egress_mtu_exceeded on h1 (its MTU is
     1500); a 9114-byte frame from a (its vde0 raised to mtu 9100) is dropped as in_oversize
     on ja, and only there; `port.set` refuses to raise ja's mtu beyond its buffers.
"""

import os
import re
import time

import netns_lib
import vdens_clients

H1 = {"mac": "02:76:78:00:10:01", "ip": "10.9.7.1"}
HOSTS = {"h1": {**H1, "port": "h1", "mode": "mode: access, vlan: 10"}}
CLIENTS = {  # name: vde_port, switch port, MAC, address
    "a": (1, "ja", "02:76:78:00:10:11", "10.9.7.11"),
    "b": (2, "jb", "02:76:78:00:10:12", "10.9.7.12"),
}
JUMBO_MTU = 9000
VDE_PORTS = [f"  - {{ name: {port}, type: vde_switch, vde_port: {n}, mode: access, vlan: 10, mtu: {JUMBO_MTU} }}"
             for n, port, _, _ in CLIENTS.values()]


class jumbo_lab(vdens_clients.vdens_lab):
    extra_ports = VDE_PORTS


def scenario(lab):
    netns_lib.require_tools(("vdens", "vdens"))
    check = lab.check
    lab.start()
    check(lab.log_says("VDE ports: 2 port(s) take frames of up to 9022 bytes"),
          "the VDE bridge made a pool of large buffers for ja and jb (daemon log)")
    url = f"vde://{lab.vde_path}"
    # Each client's shell runs the commands the test writes into its FIFO, one per line, and
    # appends their output to its log, each command's output closed by "== rc N".
    clients = {}
    for name, (n, port, mac, ip) in CLIENTS.items():
        fifo = os.path.join(lab.tmp, f"{name}.cmds")
        os.mkfifo(fifo)
        log = os.path.join(lab.tmp, f"{name}.out")
        loop = (f"ip link set vde0 mtu {JUMBO_MTU} && exec 3<>{fifo} && "
                f"while read -r cmd <&3; do sh -c \"$cmd\" >> {log} 2>&1; echo \"== rc $?\" >> {log}; done")
        lab.vdens(name, f"{url}[{n}]", vdens_clients.shell(mac, ip, loop))
        clients[name] = (fifo, log)
        check(lab.log_says(f"is port '{port}'", seconds=10), f"{name} (vdens) is bound to {port}")

    def run_in(name, cmd, seconds=15):
        """Runs `cmd` in client `name`'s shell; its exit status (None: no answer in time)."""
        fifo, log = clients[name]
        done = len(open(log).read().split("== rc ")) if os.path.exists(log) else 1
        with open(fifo, "w") as f:
            f.write(cmd + "\n")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            parts = open(log).read().split("== rc ") if os.path.exists(log) else [""]
            if len(parts) > done:
                return int(re.match(r"\d+", parts[done]).group())
            time.sleep(0.05)
        return None

    ips = {name: ip for name, (_, _, _, ip) in CLIENTS.items()}
    print("# 2. 9014-byte frames between a and b")
    jumbo_ping = "ping -c 3 -i 0.2 -W 2 -M do -s 8972"
    check(run_in("a", f"{jumbo_ping} {ips['b']}") == 0, "a pings b with 8972-byte payloads, DF set")
    check(run_in("b", f"{jumbo_ping} {ips['a']}") == 0, "b pings a with 8972-byte payloads, DF set")
    lab._switch().control("mac.flush")
    check(run_in("a", f"ping -c 1 -W 2 -M do -s 8972 {ips['b']}") == 0,
          "after a MAC table flush (the first frame is flooded), a pings b with 8972-byte payloads")

    print("# 3. small frames between h1 (af_xdp) and a")
    check(run_in("a", f"ping -c 3 -i 0.2 -W 2 {H1['ip']}") == 0, "a pings h1")
    check(lab.ping("h1", ips["a"]), "h1 pings a")

    print("# 4. frames longer than a port allows are dropped and counted")
    before = lab._switch().counters()
    check(run_in("a", f"ping -c 2 -i 0.2 -W 1 -M do -s 2000 {H1['ip']}") != 0, "a's 2042-byte frames do not reach h1")
    check(run_in("a", f"ip link set vde0 mtu {JUMBO_MTU + 100}") == 0, "a's vde0 takes mtu 9100")
    check(run_in("a", f"ping -c 2 -i 0.2 -W 1 -M do -s {JUMBO_MTU + 72} {ips['b']}") != 0,
          "a's 9114-byte frames do not reach b")
    after = lab._switch().counters()
    mtu_drops = after["h1"]["egress_mtu_exceeded"] - before["h1"]["egress_mtu_exceeded"]
    check(mtu_drops == 2, f"h1 counts a's two 2042-byte frames as egress_mtu_exceeded ({mtu_drops})")
    run_in("a", f"ip link set vde0 mtu {JUMBO_MTU}")
    try:
        lab._switch().control("port.set", port="ja", set={"mtu": JUMBO_MTU + 100})
        check(False, "a runtime mtu of 9100 on ja, beyond its buffers, is refused")
    except netns_lib.Fatal as e:
        check("longer than the port's VDE buffers" in str(e), f"a runtime mtu of 9100 on ja is refused: {e}")

    state = lab.stop_and_read_state()
    vde = {p["name"]: p["vde"]["counters"] for p in state["ports"] if "vde" in p}
    for port, c in vde.items():
        print(f"     {port}: {c}")
    check(vde["ja"]["in_oversize"] == 2, f"ja counts a's two 9114-byte frames as in_oversize ({vde['ja']['in_oversize']})")
    others = {port: {k: n for k, n in c.items() if n and k not in ("frames_in", "frames_out")} for port, c in vde.items()}
    others["ja"].pop("in_oversize", None)
    check(not any(others.values()), f"no other VDE drop ({others})")


if __name__ == "__main__":
    netns_lib.lab = jumbo_lab
    netns_lib.main(scenario, HOSTS)

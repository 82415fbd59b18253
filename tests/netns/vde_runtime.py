#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""vde_runtime: VDE ports added and removed at runtime, with real clients, under traffic.

    usage: vde_runtime.py VXSWITCHD      (as root; exit 0 pass, 1 fail, 77 skip)
    vxctl is taken from the same build (VXSWITCHD/../../ctl/vxctl).

    h1 (10.9.8.1) --af_xdp, access 10-- [vxswitchd] --af_xdp, access 10-- h2 (10.9.8.2)
    started with no VDE port and no vde_switch: section; at runtime:
      vde_switch: TMP/vde (config apply), vm1 (vde_port 1) and vm2 (any client):
        c1: `vde_plug vde://TMP/vde[1] tap://vde0` in namespace c1, vde0 10.9.8.11
        vdens vde://TMP/vde: a shell whose vde0 (10.9.8.12) pings h2
      classic: type vde, url vde://TMP/vde2, a real `vde_switch -s TMP/vde2` with
        c2: `vde_plug vde://TMP/vde2 tap://vde0` in namespace c2, vde0 10.9.8.21

Checks:
  1. Refusals name what is wrong and change nothing (`config dump`, ports, ethdevs as they
     were; no socket left where a refused section would have listened): a vde_switch port
     without the section, a vde port without --url, a URL libvdeplug refuses (its reason), an
     MTU whose frames the packet pool's buffers cannot hold (what to do), a name in use, a
     vde_port another port has, a vde_switch path that is not a directory.
  2. The section and vm1 come by config apply, vm2 and classic by vxctl port add: c1 pings h1
     and c2, c2 pings h1, the vdens shell pings h2; vxctl show lists the ports, their URL or
     VDE port and their peers.
  3. While h1 pings h2 every 5 ms, the three are removed: c1's vde_plug exits (the switch
     closed its control stream), vde_switch frees classic's port (libvdeplug's data socket in
     TMP/vde2 goes), c1's MAC is flushed, TMP/vde holds only ctl; then ROUNDS (50) times vm1, vm2
     and classic are added, a `vde_plug vde://TMP/vde[1] null://` client binds to vm1 and is
     disconnected when vm1 is removed with the others. Not one ping is lost; after a warm-up
     round nothing leaks: file descriptors and threads exactly, ethdevs, DPDK heap blocks
     exactly, packet buffers and RSS within slack, no file in TMP/vde but ctl, none of ours
     in TMP/vde2.
  4. `config dump` applied back is no change; removing the section closes TMP/vde/ctl and
     the VDE I/O thread goes with it: threads and descriptors as before the first VDE port.
"""

import os
import re
import subprocess
import time

import netns_lib
from vde_url_ports import url_lab

HOSTS = {
    "h1": {"mac": "02:76:78:00:10:01", "ip": "10.9.8.1", "port": "h1", "mode": "mode: access, vlan: 10"},
    "h2": {"mac": "02:76:78:00:10:02", "ip": "10.9.8.2", "port": "h2", "mode": "mode: access, vlan: 10"},
}
C1 = {"mac": "02:76:78:00:10:11", "ip": "10.9.8.11"}  # vde_plug on vm1
VDENS = {"mac": "02:76:78:00:10:12", "ip": "10.9.8.12"}  # vdens on vm2
C2 = {"mac": "02:76:78:00:10:21", "ip": "10.9.8.21"}  # behind the classic vde_switch
ROUNDS = 50
WARMUP = 1
PING_INTERVAL = 0.005
RSS_SLACK_KIB = 4096  # as ports_runtime and the ctl hitless test
POOL_SLACK = 64


class runtime_lab(url_lab):
    """vde_url_ports' lab (a vde_switch of vde2 and vde_plug clients) with no VDE port at start."""

    extra_ports = []


def files(path):
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


def wait_exit(p, seconds=5):
    try:
        return p.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None


def scenario(lab):
    netns_lib.require_tools(("vde_plug", "vdeplug"), ("vde_switch", "vde2"), ("vdens", "vdens"))
    vxctl = netns_lib.vxctl_path(lab.daemon)
    check = lab.check
    sw = lab._switch()
    lab.start_vde_switch()
    lab.plug("c2", f"vde://{lab.vde2_path}")
    lab.address_tap("c2", C2["mac"], C2["ip"])
    lab.start()
    section = f"vde_switch:\n  path: {lab.vde_path}\n  mode: 0600\n"
    vm1 = "  - { name: vm1, type: vde_switch, vde_port: 1, mode: access, vlan: 10 }\n"
    first = netns_lib.resources(sw)

    def ctl(*args):
        return subprocess.run([vxctl, "-s", sw.control_socket, *args], capture_output=True, text=True, timeout=30)

    def apply(text, name="apply.yaml"):
        path = os.path.join(lab.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return ctl("config", "apply", path)

    base = ctl("config", "dump").stdout  # the running configuration; it ends with the ports list
    check(base.rstrip().splitlines()[-1].startswith("    "), "the dump ends with the ports list (the test adds to it)")

    def refused(r, what, says):
        check(r.returncode == 1 and says in r.stderr,
              f"{what} is refused saying {says!r} (exit {r.returncode}: {r.stderr.strip()!r})")

    def unchanged(what, action, says):
        before = (ctl("config", "dump").stdout, sw.control("show"))
        refused(action(), what, says)
        after = (ctl("config", "dump").stdout, sw.control("show"))
        check(after[0] == before[0] and [p["name"] for p in after[1]["ports"]] == [p["name"] for p in before[1]["ports"]]
              and after[1]["ethdevs"] == before[1]["ethdevs"], f"{what} changed nothing (config dump, ports, ethdevs)")

    print("# 1. refusals")
    vde2_url = f"vde://{lab.vde2_path}"
    unchanged("a vde_switch port without the section", lambda: ctl("port", "add", "vm", "--type", "vde_switch"),
              "this switch has none: add the vde_switch: section")
    unchanged("a vde port without --url", lambda: ctl("port", "add", "u", "--type", "vde"),
              "a port of type vde opens a libvdeplug URL")
    nosuch = f"vde://{lab.tmp}/nosuch"
    unchanged("a URL libvdeplug refuses", lambda: ctl("port", "add", "u", "--type", "vde", "--url", nosuch),
              f"libvdeplug cannot open '{nosuch}': No such file or directory")
    unchanged("an MTU the buffers cannot hold",
              lambda: ctl("port", "add", "u", "--type", "vde", "--url", vde2_url, "--mtu", "9000"),
              "longer than the packet pool's buffers hold (3775): buffers for longer frames are made when the switch starts")
    unchanged("a name in use", lambda: ctl("port", "add", "h1", "--type", "vde", "--url", vde2_url),
              "a port is already named 'h1'")
    unchanged("a vde_port another port has",
              lambda: apply(base + vm1 + vm1.replace("vm1", "vm9") + section),
              "vde_port 1 is already the number of port 'vm1'")
    not_dir = os.path.join(lab.tmp, "a-file")
    open(not_dir, "w").close()
    unchanged("a vde_switch path that is not a directory",
              lambda: apply(base + vm1 + section.replace(lab.vde_path, not_dir)), f"{not_dir} is not a directory")
    check(first["threads"] == netns_lib.resources(sw)["threads"], "no refusal left the VDE I/O thread running")

    print("# 2. the section and three VDE ports added at runtime; real clients on them")
    r = apply(base + vm1 + section)
    check(r.returncode == 0 and r.stdout == "changed: port 'vm1': added (vde_switch port 1, access vlan 10)\n"
          f"changed: vde_switch: added (listening on {lab.vde_path}/ctl)\n",
          f"config apply adds the section and vm1: {r.stdout.strip()!r} {r.stderr.strip()!r}")
    r = ctl("port", "add", "vm2", "--type", "vde_switch", "--vlan", "10")
    check(r.returncode == 0 and r.stdout == "changed: port 'vm2': added (vde_switch port, any client, access vlan 10)\n",
          f"port add vm2 --type vde_switch: {r.stdout.strip()!r} {r.stderr.strip()!r}")
    r = ctl("port", "add", "classic", "--type", "vde", "--url", vde2_url, "--vlan", "10")
    check(r.returncode == 0 and r.stdout == f"changed: port 'classic': added (vde {vde2_url}, access vlan 10)\n",
          f"port add classic --type vde --url: {r.stdout.strip()!r} {r.stderr.strip()!r}")
    unchanged("a vde_port vm1 has", lambda: ctl("port", "add", "vm9", "--type", "vde_switch", "--vde-port", "1"),
              "vde_port 1 is already the number of port 'vm1'")
    lab.plug("c1", f"vde://{lab.vde_path}[1]")
    lab.address_tap("c1", C1["mac"], C1["ip"])
    check(lab.log_says("is port 'vm1'"), "c1's vde_plug is bound to vm1")
    ips = {"h1": HOSTS["h1"]["ip"], "c1": C1["ip"], "c2": C2["ip"]}
    for a, b in (("c1", "h1"), ("h1", "c1"), ("c1", "c2"), ("c2", "h1")):
        check(any(lab.ping(a, ips[b]) for _ in range(2)), f"{a} pings {b} ({ips[b]})")
    shell = (f"echo 1 > /proc/sys/net/ipv6/conf/vde0/disable_ipv6; ip link set vde0 address {VDENS['mac']} && "
             f"ip link set vde0 up && ip addr add {VDENS['ip']}/24 dev vde0 && ping -c 3 -i 0.2 -W 2 {HOSTS['h2']['ip']}")
    log_path = os.path.join(lab.tmp, "vdens.log")
    with open(log_path, "w") as log:
        vdens = subprocess.Popen(["vdens", f"vde://{lab.vde_path}", "sh", "-c", shell], stdin=subprocess.DEVNULL,
                                 stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    if wait_exit(vdens, 20) is None:
        os.killpg(vdens.pid, 9)  # vdens 0.2 now and then outlives its command (docs/vde.md)
        vdens.wait()
    with open(log_path) as f:
        out = f.read()
    check(re.search(r"3 packets transmitted, 3 received", out) is not None and lab.log_says("is port 'vm2'"),
          f"a vdens shell on vm2 pings h2: {out.strip()[-120:]!r}")
    show = ctl("show").stdout
    check(re.search(r"(?m)^vm1 +vde_switch port 1 +vdeplug: user=\S+ pid=\d+", show) is not None
          and re.search(rf"(?m)^classic +{re.escape(vde2_url)} +{re.escape(vde2_url)}$", show) is not None
          and re.search(r"(?m)^vm2 +vde_switch port \(any\) +-$", show) is not None,
          f"vxctl show lists the VDE ports and their peers: {show!r}")

    print(f"# 3. removed, then {ROUNDS} rounds of adds and removes, while h1 pings h2 every {PING_INTERVAL * 1000:.0f} ms")
    vde2_before = files(lab.vde2_path)
    adds = [("port.add", {"port": "vm1", "type": "vde_switch", "vde_port": 1, "set": {"vlan": 10}}),
            ("port.add", {"port": "vm2", "type": "vde_switch", "set": {"vlan": 10}}),
            ("port.add", {"port": "classic", "type": "vde", "url": vde2_url, "set": {"vlan": 10}})]
    removes = [("port.remove", {"port": p}) for p in ("vm1", "vm2", "classic")]
    clients_gone = []

    def peer_of(port):
        return next(p["vde"]["peer"] for p in sw.control("show")["ports"] if p["name"] == port)

    def remove_all():
        for cmd, args in removes:
            sw.control(cmd, **args)

    def round_trip(i):
        for cmd, args in adds:
            sw.control(cmd, **args)
        with open(os.path.join(lab.tmp, f"null-{i}.log"), "w") as log:
            client = subprocess.Popen(["vde_plug", f"vde://{lab.vde_path}[1]", "null://"], stdin=subprocess.DEVNULL,
                                      stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 5
        while not peer_of("vm1") and time.monotonic() < deadline:
            time.sleep(0.02)
        remove_all()
        clients_gone.append(wait_exit(client) is not None)
        if not clients_gone[-1]:
            client.kill()
            client.wait()

    started = time.monotonic()
    remove_all()
    took = time.monotonic() - started
    rc = wait_exit(lab.plugs.pop("c1"))
    check(rc is not None, f"c1's vde_plug exited when vm1 was removed (status {rc})")
    check(lab.log_says("on port 'vm1' disconnected: its port was removed"), "the daemon says it disconnected c1")
    check(lab.mac_ports(C1["mac"]) == [], "c1's MAC was flushed with vm1")
    check(files(lab.vde_path) == ["ctl"], f"only ctl is left in {lab.vde_path}: {files(lab.vde_path)}")
    check(len(files(lab.vde2_path)) == len(vde2_before) - 1,
          f"vde_switch freed classic's port: its data socket is gone ({vde2_before} -> {files(lab.vde2_path)})")
    check(lab.ping("c2", HOSTS["h1"]["ip"], count=1) is False, "c2 no longer reaches h1")
    print(f"     3 VDE ports removed in {took * 1000:.0f} ms")

    for i in range(WARMUP):
        round_trip(-1 - i)
    baseline = netns_lib.resources(sw)
    vde2_idle = files(lab.vde2_path)
    t0 = time.monotonic()
    round_trip(0)
    per_round = time.monotonic() - t0
    count = int((per_round * ROUNDS * 2 + 5) / PING_INTERVAL)  # outlasts the churn
    ping = subprocess.Popen(["ip", "netns", "exec", lab.ns("h1"), "ping", "-q", "-i", str(PING_INTERVAL), "-c",
                             str(count), "-W", "1", HOSTS["h2"]["ip"]], stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    started = time.monotonic()
    for i in range(1, ROUNDS + 1):
        round_trip(i)
    took = time.monotonic() - started
    ping_running = ping.poll() is None
    out, _ = ping.communicate(timeout=120)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    sent, got = (int(m.group(1)), int(m.group(2))) if m else (0, -1)
    print(f"     {ROUNDS} rounds ({6 * ROUNDS} changes, {ROUNDS} clients) in {took:.1f} s; ping: {sent} sent, "
          f"{got} received")
    check(ping_running, "the pings outlasted the churn")
    check(sent > 0 and got == sent, f"not one ping h1 -> h2 lost during the churn ({sent} sent, {got} received)")
    check(all(clients_gone), f"every vm1 client exited when vm1 was removed ({clients_gone.count(False)} did not)")
    with open(lab.log) as f:
        log = f.read()
    bound = len(re.findall(r"' is port 'vm1'", log))
    dropped = len(re.findall(r"on port 'vm1' disconnected: its port was removed", log))
    rounds = WARMUP + 1 + ROUNDS
    check(bound == rounds + 1 and dropped == rounds + 1,
          f"each round's client was bound to vm1 and disconnected with it ({bound} bound, {dropped} disconnected, "
          f"{rounds} rounds and c1)")
    now = netns_lib.resources(sw)
    print(f"     before {baseline}\n     after  {now}")
    check(now["ports"] == baseline["ports"] and now["ethdevs"] == baseline["ethdevs"], "ports and ethdevs as before")
    check(now["fds"] == baseline["fds"], "file descriptors exactly as before")
    check(now["threads"] == baseline["threads"], "threads exactly as before")
    check(now["heap_blocks"] == baseline["heap_blocks"], "DPDK heap blocks exactly as before (rings, ethdevs)")
    check(now["pool_free"] >= baseline["pool_free"] - POOL_SLACK, "no packet buffer lost")
    check(now["rss_kib"] <= baseline["rss_kib"] + RSS_SLACK_KIB, "RSS within the slack")
    check(files(lab.vde_path) == ["ctl"], f"no data socket left in {lab.vde_path}: {files(lab.vde_path)}")
    check(files(lab.vde2_path) == vde2_idle, f"none of ours left in {lab.vde2_path}: {files(lab.vde2_path)}")

    print("# 4. the dump applies back as no change; the section removed")
    r = apply(ctl("config", "dump").stdout, "dump.yaml")
    check(r.returncode == 0 and r.stdout == "no change: the running configuration is already so\n",
          f"config dump loads back to the running configuration: {r.stdout.strip()!r} {r.stderr.strip()!r}")
    r = apply(base)
    check(r.returncode == 0 and r.stdout == f"changed: vde_switch: removed (no more listening on {lab.vde_path}/ctl)\n",
          f"config apply removes the section: {r.stdout.strip()!r} {r.stderr.strip()!r}")
    check(files(lab.vde_path) == [], f"ctl is closed and removed: {files(lab.vde_path)}")
    last = netns_lib.resources(sw)
    check(last["threads"] == first["threads"] and last["fds"] == first["fds"],
          f"the VDE I/O thread and its descriptors are gone ({first['threads']} -> {last['threads']} threads, "
          f"{first['fds']} -> {last['fds']} descriptors)")
    lab.stop_and_read_state()


if __name__ == "__main__":
    netns_lib.lab = runtime_lab
    netns_lib.main(scenario, HOSTS)

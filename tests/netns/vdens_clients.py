#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""vdens_clients: vdens shells on vxswitchd's VDE switch, with clients churning and one stalled.

    usage: vdens_clients.py VXSWITCHD      (as root; exit 0 pass, 1 fail, 77 skip)

    h1 (10.9.6.1) --af_xdp, access vlan 10-- [vxswitchd, vde_switch: TMP/vde]
        vs1..vs3 (vde_port 1..3):  s1..s3, `vdens vde://TMP/vde[N] sh -c ...` (steady clients)
        vstall (vde_port 9):       a libvdeplug client (ctypes, in this process) that never reads
        vc1, vc2 (any port):       churning clients, vde_plug and vdens, connecting and leaving

Each vdens runs its command in a user + network namespace of its own whose `vde0` is on the
switch; the shell gives vde0 a MAC and an address and pings h1, in another namespace, across the
fabric (VDE port -> worker -> af_xdp port).

Checks:
  1. The stalled client is bound to vstall and its one frame is learned there; h1 then sends it
     a steady stream (pings to a static neighbour entry), which it never reads.
  2. The three steady vdens clients ping h1 in rounds of 10 for as long as the churn lasts:
     every echo request is answered (no loss is tolerated: a churning or stalled client must
     cost only its own frames).
  3. Meanwhile CHURN_CYCLES times two clients connect to the free ports, both at once, and leave,
     four ways in turn: vde_plug killed by SIGKILL, vde_plug stopped by SIGTERM, a vdens whose
     shell pings h1 once and exits (its ping must succeed), a vdens killed by SIGKILL while its
     shell pings. The daemon binds and releases every one of them (log), and stays alive.
  4. At the end every client has left: as many releases as bindings in the log, every VDE port
     without a peer, vstall counts out_socket_full (its frames only: no steady or churning
     port counts a socket drop), the steady ports count their frames both ways, and no data
     socket is left in TMP/vde.
The test kills what it started (by pid or its own process group) and removes its namespaces and
files (netns_lib.lab); the vdens namespaces die with their processes.
"""

import ctypes
import os
import re
import signal
import subprocess
import time

import netns_lib
import vde_switch_clients

H1 = {"mac": "02:76:78:00:0e:01", "ip": "10.9.6.1"}
HOSTS = {"h1": {**H1, "port": "h1", "mode": "mode: access, vlan: 10"}}
STEADY = {  # name: vde_port, switch port, MAC, address
    "s1": (1, "vs1", "02:76:78:00:0e:11", "10.9.6.11"),
    "s2": (2, "vs2", "02:76:78:00:0e:12", "10.9.6.12"),
    "s3": (3, "vs3", "02:76:78:00:0e:13", "10.9.6.13"),
}
STALLED = {"number": 9, "port": "vstall", "mac": "02:76:78:00:0e:99", "ip": "10.9.6.99"}
CHURN_PORTS = ["vc1", "vc2"]
CHURN_CYCLES = 20  # each connects two clients: 40 connections and departures
VDE_PORTS = [
    *(f"  - {{ name: {port}, type: vde_switch, vde_port: {n}, mode: access, vlan: 10 }}"
      for n, port, _, _ in STEADY.values()),
    f"  - {{ name: {STALLED['port']}, type: vde_switch, vde_port: {STALLED['number']}, mode: access, vlan: 10 }}",
    *(f"  - {{ name: {port}, type: vde_switch, mode: access, vlan: 10 }}" for port in CHURN_PORTS),
]
# Drops a steady or churning port may count: frames flooded to a churning port while it had no
# client (out_no_peer).
HARMLESS = {"frames_in", "frames_out", "out_no_peer"}
VDEPLUG_INTERFACE_VERSION = 1  # libvdeplug.h's LIBVDEPLUG_INTERFACE_VERSION (vde_open is a macro)


def shell(mac, ip, then):
    """A vdens command: vde0 gets `mac` and `ip` (IPv6 off: no RS/DAD/MLD to flood), then `then`."""
    return (f"echo 1 > /proc/sys/net/ipv6/conf/vde0/disable_ipv6; ip link set vde0 address {mac} && "
            f"ip link set vde0 up && ip addr add {ip}/24 dev vde0 && {then}")


class stalled_client:
    """A libvdeplug client in this process: it connects, sends one broadcast frame from `mac`
    (so the switch learns it on its port), and never reads."""

    def __init__(self, url, mac):
        lib = ctypes.CDLL("libvdeplug.so.2", use_errno=True)
        lib.vde_open_real.restype = ctypes.c_void_p
        lib.vde_open_real.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p]
        lib.vde_send.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        lib.vde_close.argtypes = [ctypes.c_void_p]
        self.lib = lib
        self.conn = lib.vde_open_real(url.encode(), b"stalled", VDEPLUG_INTERFACE_VERSION, None)
        if not self.conn:
            raise netns_lib.Fatal(f"libvdeplug cannot open {url}: {os.strerror(ctypes.get_errno())}")
        frame = b"\xff" * 6 + bytes.fromhex(mac.replace(":", "")) + b"\x88\xb5" + b"stalled".ljust(46, b"\0")
        if lib.vde_send(self.conn, frame, len(frame), 0) != len(frame):
            raise netns_lib.Fatal("the stalled client could not send its frame")

    def close(self):
        if self.conn:
            self.lib.vde_close(self.conn)
            self.conn = None


class vdens_lab(vde_switch_clients.vde_lab):
    extra_ports = VDE_PORTS
    started = None  # Popen of every client process, killed at close if still running

    def spawn(self, name, argv, stdin=subprocess.DEVNULL):
        """Starts a client process in a process group of its own (so that a vdens and the shell
        it runs can be killed together); its output goes to TMP/NAME.log."""
        if self.started is None:
            self.started = []
        with open(os.path.join(self.tmp, f"{name}.log"), "w") as log:
            p = subprocess.Popen(argv, stdin=stdin, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append(p)
        return p

    def vdens(self, name, url, script):
        return self.spawn(name, ["vdens", url, "sh", "-c", script])

    def close(self):
        for p in self.started or []:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        super().close()

    def log_count(self, pattern):
        with open(self.log) as f:
            return len(re.findall(pattern, f.read()))

    def wait_log_count(self, pattern, n, seconds=10.0):
        deadline = time.monotonic() + seconds
        while self.log_count(pattern) < n:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return True


def ping_totals(path):
    """(sent, answered) summed over the ping summaries in a log (none yet: no log)."""
    if not os.path.exists(path):
        return 0, 0
    with open(path) as f:
        rounds = re.findall(r"(\d+) packets transmitted, (\d+) received", f.read())
    return sum(int(s) for s, _ in rounds), sum(int(r) for _, r in rounds)


BOUND = r"' is port 'vc\d'"
LEFT = r"on port 'vc\d' left"


def churn_cycle(lab, i, url, bound, left):
    """Two clients connect to the free ports at once and leave, the way i picks; returns the
    new (bound, left) counts, or None if the daemon did not bind or release them in time."""
    kind = i % 4
    clients = []
    for k in range(2):
        name = f"churn{i}-{k}"
        mac = f"02:76:78:00:0f:{2 * (i % 100) + k:02x}"
        ip = f"10.9.6.{100 + 2 * (i % 60) + k}"
        if kind in (0, 1):
            # vde_plug URL alone bridges the switch to its stdin/stdout: a pipe nobody writes.
            clients.append(lab.spawn(name, ["vde_plug", url], stdin=subprocess.PIPE))
        elif kind == 2:
            clients.append(lab.vdens(name, url, shell(mac, ip, f"ping -c 1 -W 3 {H1['ip']}")))
        else:
            clients.append(lab.vdens(name, url, shell(mac, ip, f"ping -c 30 -i 0.1 {H1['ip']}")))
    if not lab.wait_log_count(BOUND, bound + 2):
        return None
    if kind == 0:
        for p in clients:
            os.killpg(p.pid, signal.SIGKILL)
    elif kind == 1:
        for p in clients:
            os.kill(p.pid, signal.SIGTERM)
    elif kind == 3:
        time.sleep(0.3)  # let the shells' pings run
        for p in clients:
            os.killpg(p.pid, signal.SIGKILL)
    for k, p in enumerate(clients):
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # vdens 0.2 now and then outlives its command (seen beside vde_switch too): it
            # leaves by SIGKILL then, which is churn all the same.
            print(f"     note: churning vdens {i}-{k} did not exit 10 s after its shell: killed")
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        if kind == 2:
            # vdens exits 0 whatever its command did: ping's own summary says whether it worked.
            sent, answered = ping_totals(os.path.join(lab.tmp, f"churn{i}-{k}.log"))
            lab.check(sent == 1 and answered == 1, f"churning vdens {i}-{k} pinged h1 ({answered} of {sent} answered)")
    if not lab.wait_log_count(LEFT, left + 2):
        return None
    return bound + 2, left + 2


def scenario(lab):
    netns_lib.require_tools(("vdens", "vdens"), ("vde_plug", "vdeplug"))
    check = lab.check
    lab.start()
    url = f"vde://{lab.vde_path}"

    print("# 1. a client that never reads is plugged into vstall; h1 sends it a stream")
    stalled = stalled_client(f"{url}[{STALLED['number']}]", STALLED["mac"])
    try:
        check(lab.log_says(f"is port '{STALLED['port']}'"), "the stalled client is bound to vstall (daemon log)")
        deadline = time.monotonic() + 3
        while lab.mac_ports(STALLED["mac"]) != [STALLED["port"]] and time.monotonic() < deadline:
            time.sleep(0.05)
        check(lab.mac_ports(STALLED["mac"]) == [STALLED["port"]], "its frame was learned on vstall")
        h1 = lab.ns("h1")
        netns_lib.run("ip", "-n", h1, "neigh", "replace", STALLED["ip"], "lladdr", STALLED["mac"], "dev", "eth0",
                      "nud", "permanent")
        stream = lab.spawn("h1-to-stalled", ["ip", "netns", "exec", h1, "ping", "-q", "-i", "0.005", STALLED["ip"]])

        print("# 2, 3. three steady vdens clients ping h1 while clients churn on vc1 and vc2")
        stop_file = os.path.join(lab.tmp, "stop")
        steady = {}
        for name, (n, port, mac, ip) in STEADY.items():
            log = os.path.join(lab.tmp, f"{name}-pings.log")
            loop = f"while [ ! -e {stop_file} ]; do ping -c 10 -i 0.1 {H1['ip']} >> {log} 2>&1; done"
            steady[name] = (lab.vdens(name, f"{url}[{n}]", shell(mac, ip, loop)), log)
            check(lab.log_says(f"is port '{port}'", seconds=10), f"steady client {name} (vdens) is bound to {port}")
        deadline = time.monotonic() + 10
        while not all(ping_totals(log)[1] > 0 for _, log in steady.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        check(all(ping_totals(log)[1] > 0 for _, log in steady.values()), "every steady client reaches h1")

        bound, left, cycles = 0, 0, 0
        t0 = time.monotonic()
        for i in range(CHURN_CYCLES):
            counts = churn_cycle(lab, i, url, bound, left)
            if counts is None:
                break
            bound, left = counts
            cycles += 1
        churn_s = time.monotonic() - t0
        check(cycles == CHURN_CYCLES, f"{2 * cycles} churning clients were bound and released in {churn_s:.1f} s "
              f"({lab.log_count(BOUND)} bound, {lab.log_count(LEFT)} left; {2 * CHURN_CYCLES} expected)")
        with open(stop_file, "w"):
            pass
        for name, (p, log) in steady.items():
            p.wait(timeout=30)
            sent, answered = ping_totals(log)
            check(sent >= 20 and answered == sent,
                  f"steady client {name}: {answered} of {sent} pings to h1 answered during the churn, none lost")
        os.kill(stream.pid, signal.SIGTERM)
        stream.wait(timeout=10)
    finally:
        stalled.close()
    check(lab.proc.poll() is None, "vxswitchd is still running")

    print("# 4. everyone left: ports free, counters, no data socket")
    releases = len(STEADY) + 1 + 2 * CHURN_CYCLES
    check(lab.wait_log_count(r"' on port '\w+' left", releases),
          f"every client's departure was seen ({lab.log_count(r'is port ')} bound, "
          f"{lab.log_count(r' on port .* left')} left; {releases} expected)")
    state = lab.stop_and_read_state()
    vde = {p["name"]: p["vde"] for p in state["ports"] if "vde" in p}
    busy = {name: v["peer"] for name, v in vde.items() if v["peer"]}
    check(not busy, f"every VDE port is free at the end ({busy or 'no peer'})")
    for name, v in vde.items():
        print(f"     {name}: {v['counters']}")
    stalled_drops = vde[STALLED["port"]]["counters"]["out_socket_full"]
    check(stalled_drops > 0, f"vstall counts the frames its client never read as out_socket_full ({stalled_drops})")
    for name, v in vde.items():
        if name == STALLED["port"]:
            continue
        bad = {k: n for k, n in v["counters"].items() if n and k not in HARMLESS}
        check(not bad, f"{name} dropped no frame but for want of a client ({bad or 'none'})")
    for _, port, _, _ in STEADY.values():
        c = vde[port]["counters"]
        check(c["frames_in"] > 0 and c["frames_out"] > 0,
              f"{port} counts its frames both ways ({c['frames_in']} in, {c['frames_out']} out)")
    left_files = sorted(os.listdir(lab.vde_path)) if os.path.isdir(lab.vde_path) else []
    check(not [f for f in left_files if f != "ctl"], f"no data socket left in the VDE directory ({left_files})")


if __name__ == "__main__":
    netns_lib.lab = vdens_lab
    netns_lib.main(scenario, HOSTS)

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end tests of the control channel: the real vxswitchd on real (net_pcap, net_null)
ports with a temporary socket, every vxctl command in its table and --json forms, and their
error cases. Standard library only; needs root (DPDK, and setpriv for the permission cases).

    ctl_test.py --vxswitchd build/dataplane/vxswitchd --vxctl build/ctl/vxctl [-k NAME]

What goes in: three pcap files whose frames the switch learns and drops in known ways
(frames.py-style byte building, with no scapy). What comes out is compared with what those
frames must cause: MACs per port and VLAN, drops per reason, a MAC move in the log.
"""

import argparse
import ctypes
import grp
import json
import os
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
import traceback

SKIP = 77  # meson's "skipped"

# ---- frames and pcap files ----


def mac_bytes(mac: str) -> bytes:
    return bytes(int(x, 16) for x in mac.split(":"))


def frame(src: str, dst: str = "ff:ff:ff:ff:ff:ff", vlan: int | None = None, size: int = 64) -> bytes:
    """An Ethernet frame, 802.1Q-tagged when vlan is given, padded or cut to `size` bytes."""
    head = mac_bytes(dst) + mac_bytes(src)
    if vlan is not None:
        head += struct.pack("!HH", 0x8100, vlan)
    head += struct.pack("!H", 0x88B5)  # local experimental EtherType
    return (head + bytes(max(0, size - len(head))))[:size]


def write_pcap(path: str, frames: list[bytes]) -> None:
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, data in enumerate(frames):
            f.write(struct.pack("<IIII", 1, i, len(data), len(data)))
            f.write(data)


A1, B1, MOVER = "02:00:00:00:0a:01", "02:00:00:00:0b:01", "02:00:00:00:0d:01"
T20, T10, T1 = "02:00:00:00:0c:01", "02:00:00:00:0c:02", "02:00:00:00:0c:03"
STATIC_B = "02:00:00:00:0f:01"  # configured static on b, vlan 10
RUNTIME_STATIC = "02:00:00:00:0e:01"

# What the three input files hold, and so what the switch must have learned and dropped.
INPUTS = {
    "a": [frame(A1), frame(MOVER), frame(A1, vlan=10), frame(A1, size=10)],  # tagged_on_access, truncated
    "b": [frame(B1, dst=A1), frame(MOVER, dst=A1)],
    "t": [frame(T20, vlan=20), frame(T10, vlan=10), frame(T1), frame(T20, vlan=30)],  # vlan_not_allowed
}
RX_TOTAL = sum(len(f) for f in INPUTS.values())
LEARNED = {  # (vlan, mac) -> port; MOVER is on a or b, whichever spoke last
    (10, A1): "a",
    (10, B1): "b",
    (20, T20): "t",
    (10, T10): "t",
    (1, T1): "t",
}
EXPECTED_DROPS = {("a", "tagged_on_access"): 1, ("a", "truncated"): 1, ("t", "vlan_not_allowed"): 1}
# The same per VLAN: (rx_packets, rx_bytes, flood_empty). The three drops above happen before a
# frame has a VLAN and count in none; VLANs 20 and 1 have no port but t to flood to.
EXPECTED_VLANS = {1: (1, 64, 1), 10: (5, 320, 0), 20: (1, 64, 1), 30: (0, 0, 0)}


# ---- the daemon ----


class daemon:
    def __init__(self, exe: str, config: str, log: str, extra: list[str] = ()):
        self.log_path = log
        self.log = open(log, "w")
        self.proc = subprocess.Popen([exe, "-c", config, *extra], stdout=self.log, stderr=subprocess.STDOUT)

    def log_text(self) -> str:
        with open(self.log_path) as f:
            return f.read()

    def wait_serving(self, socket_path: str, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"vxswitchd exited with {self.proc.returncode}:\n{self.log_text()}")
            if "forwarding;" in self.log_text() and os.path.exists(socket_path):
                return
            time.sleep(0.1)
        raise AssertionError(f"vxswitchd did not start serving {socket_path}:\n{self.log_text()}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def config_text(tmp: str, sock: str, control_extra: str = "", statics: str = "") -> str:
    def pcap(name: str) -> str:
        return f"net_pcap_vx{name},rx_pcap={tmp}/{name}.pcap,tx_pcap={tmp}/{name}_out.pcap"

    return f"""
dataplane: {{ workers: 1, idle_sleep_us: 200, memory_mb: 256, mbufs: 8191 }}
fdb:
  aging_s: 0
  static:
    - {{ mac: "{STATIC_B}", vlan: 10, port: b }}{statics}
control: {{ socket: {sock}{control_extra} }}
ports:
  - {{ name: a, device: "{pcap('a')}", mode: access, vlan: 10 }}
  - {{ name: b, device: "{pcap('b')}", mode: access, vlan: 10 }}
  - {{ name: t, device: "{pcap('t')}", mode: trunk, vlans: [10, 20], native_vlan: 1 }}
  - {{ name: n, device: "net_null_vx0,no-rx=1", mode: access, vlan: 30 }}
"""


# ---- vxctl ----


class result:
    def __init__(self, p: subprocess.CompletedProcess):
        self.code, self.out, self.err = p.returncode, p.stdout, p.stderr

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return f"exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"


class harness:
    def __init__(self, args, tmp: str):
        self.vxctl, self.vxswitchd, self.tmp = args.vxctl, args.vxswitchd, tmp
        self.sock = f"{tmp}/run/ctl.sock"

    def ctl(self, *argv: str, user: list[str] | None = None, sock: str | None = None) -> result:
        cmd = [*(user or []), self.vxctl, "-s", sock or self.sock, *argv]
        return result(subprocess.run(cmd, capture_output=True, text=True, timeout=60))

    def ok(self, *argv: str, **kw) -> result:
        r = self.ctl(*argv, **kw)
        assert r.code == 0 and r.err == "", f"vxctl {' '.join(argv)}: {r}"
        return r

    def js(self, *argv: str, **kw):
        return self.ok("--json", *argv, **kw).json()

    def refused(self, *argv: str, says: str, code: int = 1, **kw) -> result:
        r = self.ctl(*argv, **kw)
        assert r.code == code, f"vxctl {' '.join(argv)} should exit {code}: {r}"
        assert says in r.err, f"vxctl {' '.join(argv)} should say {says!r}: {r}"
        assert r.out == "", f"vxctl {' '.join(argv)} printed a result on error: {r}"
        return r

    def raw(self, lines: list[bytes], sock: str | None = None) -> list[dict]:
        """Sends raw bytes on one connection; returns one parsed response per line sent."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(sock or self.sock)
            out = []
            buf = b""
            for line in lines:
                s.sendall(line)
                while b"\n" not in buf:
                    chunk = s.recv(65536)
                    assert chunk, f"the daemon closed the connection after {line!r}"
                    buf += chunk
                reply, buf = buf.split(b"\n", 1)
                out.append(json.loads(reply))
            return out

    def macs(self, *filters: str) -> dict:
        return {(e["vlan"], e["mac"]): (e["port"], e["type"]) for e in self.js("mac", "show", *filters)["entries"]}


def wait_for(what: str, predicate, timeout: float = 20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


# ---- the tests, in order: each may rely on what the ones before did ----


def test_show(h: harness, d: daemon):
    r = h.ok("show")
    assert re.search(r"vxswitch \d+\.\d+\.\d+, up \d+", r.out), r
    assert re.search(r"EAL (no-huge|hugepages)", r.out), r
    assert re.search(r"(?m)^ +0 +\d+ +\d+  a/0 b/0 t/0 n/0$", r.out), f"worker 0 polls every port: {r}"
    assert re.search(r"(?m)^t +net_pcap +\w+.* +trunk +vlans 1,10,20 native 1 +1500 +net_pcap_vxt,", r.out), r
    assert re.search(r"(?m)^n +net_null +up.* +access +vlan 30 ", r.out), r
    assert h.ok("status").out.splitlines()[1:] == r.out.splitlines()[1:], "status is show"
    j = h.js("show")
    assert j["version"] and j["uptime_s"] >= 0
    assert j["eal"]["mode"] in ("no-huge", "hugepages")
    assert [q["port"] for q in j["workers"][0]["queues"]] == ["a", "b", "t", "n"], j["workers"]
    assert isinstance(j["workers"][0]["lcore"], int) and isinstance(j["workers"][0]["cpu"], int)
    ports = {p["name"]: p for p in j["ports"]}
    assert ports["a"]["driver"] == "net_pcap" and ports["n"]["driver"] == "net_null", ports
    assert ports["a"]["mode"] == "access" and ports["a"]["vlan"] == 10
    assert ports["t"]["vlans"] == [1, 10, 20] and ports["t"]["native_vlan"] == 1
    assert ports["n"]["link"]["up"] is True and ports["a"]["mtu"] == 1500
    assert j["fdb"]["capacity"] == 1 << 20 and j["fdb"]["aging_s"] == 0


def test_traffic_is_learned(h: harness, d: daemon):
    def received():
        return sum(p["counters"]["rx_packets"] for p in h.js("counters")["ports"]) == RX_TOTAL

    wait_for(f"{RX_TOTAL} frames received", received)
    def learned():
        m = h.macs()
        return m if len(m) == len(LEARNED) + 2 else None

    macs = wait_for("the learner", learned)
    for key, port in LEARNED.items():
        assert macs.get(key) == (port, "learned"), f"{key}: {macs}"
    assert macs[(10, STATIC_B)] == ("b", "static"), macs
    assert macs[(10, MOVER)][0] in ("a", "b"), macs
    table = h.ok("mac", "show").out
    assert re.search(rf"(?m)^ +10  {STATIC_B}  b +static +-$", table), table
    assert re.search(rf"(?m)^ +20  {T20}  t +learned +\d+s$", table), table
    assert table.endswith(f"{len(LEARNED) + 2} entries\n"), table


def test_mac_move_is_logged(h: harness, d: daemon):
    m = re.search(rf"mac move: {MOVER} vlan 10 from port (\w+) to port (\w+)", d.log_text())
    assert m and {m.group(1), m.group(2)} == {"a", "b"}, d.log_text()


def test_mac_show_filters(h: harness, d: daemon):
    assert set(h.macs("--vlan", "20")) == {(20, T20)}
    assert set(h.macs("--port", "t")) == {(20, T20), (10, T10), (1, T1)}
    assert set(h.macs("--port", "t", "--vlan", "10")) == {(10, T10)}
    assert set(h.macs("--mac", A1.upper())) == {(10, A1)}, "MACs are matched, not strings"
    assert h.macs("--vlan", "4000") == {}, "a VLAN no port carries has no entries"
    assert h.ok("mac", "show", "--port", "n").out.endswith("0 entries\n")


def test_mac_count(h: harness, d: daemon):
    c = h.js("mac", "count")
    assert (c["total"], c["learned"], c["static"]) == (len(LEARNED) + 2, len(LEARNED) + 1, 1), c
    by = {v["vlan"]: (v["learned"], v["static"]) for v in c["by_vlan"]}
    assert by == {1: (1, 0), 10: (4, 1), 20: (1, 0)}, by
    assert h.js("mac", "count", "--port", "t")["total"] == 3
    out = h.ok("mac", "count").out
    assert f"{len(LEARNED) + 2} entries ({len(LEARNED) + 1} learned, 1 static)" in out, out


def test_mac_add_and_del(h: harness, d: daemon):
    r = h.ok("mac", "add", RUNTIME_STATIC, "--vlan", "20", "--port", "t")
    assert r.out == f"added static {RUNTIME_STATIC} vlan 20 on port t\n", r
    assert h.macs("--mac", RUNTIME_STATIC) == {(20, RUNTIME_STATIC): ("t", "static")}
    j = h.js("mac", "add", A1, "--vlan", "10", "--port", "b")
    assert j == {"mac": A1, "vlan": 10, "port": "b", "type": "static"}, j
    assert h.macs("--mac", A1) == {(10, A1): ("b", "static")}, "a learned entry becomes static"
    assert h.js("mac", "del", A1, "--vlan", "10") == {"mac": A1, "vlan": 10, "port": "b", "type": "static"}
    assert h.macs("--mac", A1) == {}
    r = h.ok("mac", "del", T1, "--vlan", "1")
    assert r.out == f"deleted learned {T1} vlan 1 (port t)\n", r
    h.refused("mac", "del", T1, "--vlan", "1", says=f"{T1} vlan 1 is not in the MAC table")
    h.refused("mac", "add", "02:00:00:00:00:99", "--vlan", "20", "--port", "a", says="port 'a' does not carry vlan 20")
    h.refused("mac", "add", "02:00:00:00:00:99", "--vlan", "77", "--port", "a", says="no port carries vlan 77")


def test_mac_flush(h: harness, d: daemon):
    before = h.macs()
    learned_on_t = sum(1 for (port, kind) in before.values() if port == "t" and kind == "learned")
    assert learned_on_t == 2, before  # T1 was deleted above
    assert h.js("mac", "flush", "--port", "t") == {"flushed": learned_on_t}
    after = h.macs()
    assert after[(20, RUNTIME_STATIC)] == ("t", "static"), "flush keeps static entries"
    assert not any(port == "t" and kind == "learned" for port, kind in after.values()), after
    assert h.ok("mac", "flush", "--vlan", "20").out == "flushed 0 learned entries\n"
    h.ok("mac", "flush", "--vlan", "10", "--port", "b")
    assert (10, B1) not in h.macs() and (10, STATIC_B) in h.macs()
    h.ok("mac", "flush")
    assert set(h.macs()) == {(10, STATIC_B), (20, RUNTIME_STATIC)}, h.macs()


def test_counters(h: harness, d: daemon):
    j = h.js("counters")
    assert j["since_clear_s"] is None
    ports = {p["name"]: p for p in j["ports"]}
    assert ports["a"]["counters"]["rx_packets"] == len(INPUTS["a"])
    assert ports["t"]["counters"]["rx_packets"] == len(INPUTS["t"])
    for (port, reason), n in EXPECTED_DROPS.items():
        assert ports[port]["drops"][reason] == n, (port, reason, ports[port]["drops"])
    assert sum(p["drops_total"] for p in j["ports"]) >= sum(EXPECTED_DROPS.values())
    table = h.ok("counters").out
    assert re.search(r"(?m)^a +4 +\d+ +\d+ +\d+ +\d+ +\d+ +\d+$", table), table
    assert re.search(r"(?m)^t +vlan_not_allowed +1$", table), table
    one = h.ok("counters", "t").out
    assert re.search(r"(?m)^rx_packets +4$", one) and re.search(r"(?m)^vlan_not_allowed +1$", one), one
    assert len(h.js("counters", "t")["ports"]) == 1
    w = h.js("counters", "--workers")["workers"]
    assert w[0]["counters"]["packets"] == RX_TOTAL, w
    assert re.search(r"(?m)^WORKER +polls", h.ok("counters", "--workers").out)


def test_vlan_counters(h: harness, d: daemon):
    """vxctl counters --vlan [N]: per bridge domain, as the inputs make them; drops before a
    frame's VLAN is known count on its port alone; --json, the one-VLAN form, the refusals."""
    j = h.js("counters", "--vlan")
    assert j["since_clear_s"] is None
    vlans = {v["vlan"]: v for v in j["vlans"]}
    assert list(vlans) == sorted(EXPECTED_VLANS), "every VLAN a port carries, in order"
    for vlan, (rx, rx_bytes, flood_empty) in EXPECTED_VLANS.items():
        c = vlans[vlan]["counters"]
        assert (c["rx_packets"], c["rx_bytes"]) == (rx, rx_bytes), (vlan, c)
        assert vlans[vlan]["drops"]["flood_empty"] == flood_empty and vlans[vlan]["drops_total"] == flood_empty, \
            (vlan, vlans[vlan]["drops"])
        assert "truncated" not in vlans[vlan]["drops"] and "vlan_not_allowed" not in vlans[vlan]["drops"]
    # What was learned when b's frames to A1 came depends on timing; what the VLANs sent adds up
    # with what the ports sent, and what came in with the drops that have no VLAN.
    ports = h.js("counters")["ports"]
    for what in ("tx_packets", "tx_bytes"):
        assert sum(v["counters"][what] for v in j["vlans"]) == sum(p["counters"][what] for p in ports), what
    assert sum(v["counters"]["rx_packets"] for v in j["vlans"]) + sum(EXPECTED_DROPS.values()) == RX_TOTAL
    assert vlans[10]["counters"]["tx_packets"] >= 8, "a's two broadcasts to b and t, t's one to a and b, b's two"
    out = h.ok("counters", "--vlan").out
    assert out.startswith("VLANs, since start:\n"), out
    assert re.search(r"(?m)^VLAN +RX PACKETS +RX BYTES +TX PACKETS +TX BYTES +FLOODED +UNKNOWN UCAST +DROPS$", out), out
    assert re.search(r"(?m)^ +20 +1 +64 +0 +0 +0 +0 +1$", out), out
    assert re.search(r"(?m)^ +30 +0 +0 +0 +0 +0 +0 +0$", out), out
    assert re.search(r"(?m)^ +1 +flood_empty +1$", out) and re.search(r"(?m)^ +20 +flood_empty +1$", out), out
    one = h.ok("counters", "--vlan", "20").out
    assert one.startswith("VLAN 20, since start:\n"), one
    for line in (r"rx_packets +1", r"rx_bytes +64", r"tx_packets +0", r"flood_empty +1", r"same_port +0",
                 r"vxlan_no_next_hop +0", r"\(total\) +1"):
        assert re.search(rf"(?m)^{line}$", one), (line, one)
    assert "vlan_not_allowed" not in one, "a reason of the port alone"
    only = h.js("counters", "--vlan", "10")["vlans"]
    assert [v["vlan"] for v in only] == [10] and only[0]["counters"]["rx_packets"] == 5, only
    for bad in ("5000", "0"):
        h.refused("counters", "--vlan", bad, says=f"counters.vlan: vlan: {bad} is out of range (1..4094)")
    h.refused("counters", "--vlan", "77", says="no port carries vlan 77")
    for argv in (["--vlan", "ten"], ["a", "--vlan"], ["--vlan", "--vni"], ["--workers", "--vlan", "10"]):
        r = h.ctl("counters", *argv)
        assert r.code != 0 and r.out == "" and r.err, (argv, r)
    # No VXLAN here: no VNI to count.
    assert h.js("counters", "--vni")["vnis"] == []
    assert h.ok("counters", "--vni").out == "VNIs, since start:\n(none)\n"
    h.refused("counters", "--vni", "42", says="no vni 42: VXLAN is not configured")


def test_workers(h: harness, d: daemon):
    j = h.js("workers")
    w = j["workers"][0]
    assert j["tsc_hz"] > 0 and w["counters"]["packets"] == RX_TOTAL
    assert 0 < w["load"]["busy_pct"] < 100, w
    assert w["load"]["cycles_per_packet"] > 0 and w["load"]["packets_per_burst"] >= 1, w
    out = h.ok("workers").out
    assert re.search(rf"(?m)^ +0 +\d+ +\d+ +\d+\.\d +\d+ +\d+\.\d +{RX_TOTAL} +\d+$", out), out
    quiet = h.js("workers", "--interval", "0.3")["workers"][0]["load"]
    assert quiet["busy_pct"] == 0 and quiet["cycles_per_packet"] is None, f"no traffic in the interval: {quiet}"
    assert "over the last 0.3 s" in h.ok("workers", "-i", "0.3").out


PROM_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (\S+)$')


def parse_prometheus(text: str) -> dict:
    """A strict reader of the text format: every family typed before its samples, counters
    named *_total, label sets well formed, values numbers. Returns {(name, labels): value}."""
    assert text.endswith("\n"), "the exposition ends with a newline"
    types, samples = {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            assert len(line.split(" ", 3)) == 4, line
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge") and name not in types, line
            types[name] = kind
        else:
            m = PROM_SAMPLE.match(line)
            assert m, f"not a sample: {line!r}"
            name, labels, value = m.group(1), m.group(2) or "", float(m.group(3))
            assert name in types, f"{name} has no TYPE before it"
            assert types[name] != "counter" or name.endswith("_total"), name
            assert (name, labels) not in samples, f"duplicate sample {line}"
            samples[(name, labels)] = value
    return samples


def test_counters_clear_and_metrics(h: harness, d: daemon):
    text = h.ok("metrics").out
    m = parse_prometheus(text)
    assert m[("vxswitch_port_rx_packets_total", '{port="a"}')] == len(INPUTS["a"])
    assert m[("vxswitch_port_drops_total", '{port="t",reason="vlan_not_allowed"}')] == 1
    assert m[("vxswitch_worker_packets_total", '{worker="0"}')] == RX_TOTAL
    assert m[("vxswitch_fdb_entries", '{vlan="20",type="static"}')] == 1
    assert m[("vxswitch_port_link_up", '{port="n"}')] == 1
    for vlan, (rx, rx_bytes, flood_empty) in EXPECTED_VLANS.items():
        assert m[("vxswitch_vlan_rx_packets_total", f'{{vlan="{vlan}"}}')] == rx, vlan
        assert m[("vxswitch_vlan_rx_bytes_total", f'{{vlan="{vlan}"}}')] == rx_bytes, vlan
        assert m[("vxswitch_vlan_drops_total", f'{{vlan="{vlan}",reason="flood_empty"}}')] == flood_empty, vlan
    assert ("vxswitch_vlan_drops_total", '{vlan="10",reason="truncated"}') not in m, "no VLAN counts a port's reason"
    assert not any(name.startswith("vxswitch_vni_") for name, _ in m), "no VNIs without VXLAN"
    # --json carries the same exposition. Between the two reads the clock and an idle worker's
    # poll rounds and cycles move on (the traffic has ended); every other sample must not.
    moving = {"vxswitch_uptime_seconds", "vxswitch_worker_polls_total", "vxswitch_worker_idle_cycles_total"}
    later = parse_prometheus(h.js("metrics")["text"])
    assert later.keys() == m.keys(), set(later.keys()) ^ set(m.keys())
    for key, value in m.items():
        assert later[key] >= value if key[0] in moving else later[key] == value, (key, value, later[key])
    assert later[("vxswitch_worker_polls_total", '{worker="0"}')] > m[("vxswitch_worker_polls_total", '{worker="0"}')]
    assert h.ok("counters", "clear").out.startswith("counters cleared")
    j = h.js("counters")
    assert j["since_clear_s"] is not None
    assert all(p["counters"]["rx_packets"] == 0 and p["drops_total"] == 0 for p in j["ports"]), j
    assert h.js("workers")["workers"][0]["counters"]["packets"] == 0
    assert "since cleared" in h.ok("counters").out
    cleared = h.js("counters", "--vlan")
    assert cleared["since_clear_s"] is not None and [v["vlan"] for v in cleared["vlans"]] == sorted(EXPECTED_VLANS)
    assert all(not any(v["counters"].values()) and v["drops_total"] == 0 for v in cleared["vlans"]), cleared
    assert "since cleared" in h.ok("counters", "--vlan", "10").out
    again = parse_prometheus(h.ok("metrics").out)
    assert again[("vxswitch_port_rx_packets_total", '{port="a"}')] == len(INPUTS["a"]), "metrics never go down"
    assert again[("vxswitch_vlan_rx_packets_total", '{vlan="10"}')] == EXPECTED_VLANS[10][0]


def test_errors(h: harness, d: daemon):
    h.refused("mac", "show", "--port", "nope", says="no port is named 'nope' (ports: a, b, t, n)")
    h.refused("counters", "nope", says="no port is named 'nope'")
    h.refused("mac", "add", RUNTIME_STATIC, "--vlan", "20", "--port", "nope", says="no port is named 'nope'")
    for vlan in ("0", "4095"):
        h.refused("mac", "show", "--vlan", vlan, says=f"mac.show: vlan: {vlan} is out of range (1..4094)")
        h.refused("mac", "add", RUNTIME_STATIC, "--vlan", vlan, "--port", "t", says="is out of range (1..4094)")
        h.refused("mac", "flush", "--vlan", vlan, says="is out of range (1..4094)")
    h.refused("mac", "add", "02:00:00:00:00", "--vlan", "10", "--port", "a",
              says="mac.add: mac: '02:00:00:00:00' is not a MAC address (aa:bb:cc:dd:ee:ff)")
    h.refused("mac", "add", "ff:ff:ff:ff:ff:ff", "--vlan", "10", "--port", "a", says="is not a unicast MAC address")
    h.refused("mac", "show", "--mac", "zz:00:00:00:00:01", says="is not a MAC address")
    h.refused("mac", "del", "nonsense", "--vlan", "10", says="is not a MAC address")
    # Refused requests changed nothing.
    assert set(h.macs()) == {(10, STATIC_B), (20, RUNTIME_STATIC)}
    h.refused("show", says="cannot reach vxswitchd: no socket at", code=2, sock=f"{h.tmp}/absent.sock")
    # vxctl's own usage errors never reach the daemon.
    r = h.ctl("mac", "add", RUNTIME_STATIC, "--port", "t")
    assert r.code != 0 and "--vlan is required" in r.err, r


def test_raw_protocol(h: harness, d: daemon):
    replies = h.raw([
        b'{"cmd": "show"\n',
        b"not json at all\n",
        b"[1, 2, 3]\n",
        b'{"cmd": "frobnicate", "id": 1}\n',
        b'{"cmd": "mac.show", "args": {"vlan": "ten"}, "id": "x"}\n',
        b'{"cmd": "mac.show", "args": {"vlna": 10}}\n',
        b'{"cmd": "mac.flush", "args": []}\n',
        b'{"cmd": "mac.count", "id": 42}\n',
    ])
    assert replies[0] == {"ok": False, "error": "malformed request: not valid JSON (one JSON object per line)"}
    assert replies[1]["ok"] is False and "not valid JSON" in replies[1]["error"]
    assert replies[2] == {"ok": False, "error": "malformed request: expected a JSON object, got array"}
    assert replies[3]["ok"] is False and replies[3]["id"] == 1
    assert replies[3]["error"].startswith("unknown command 'frobnicate'; commands: help, show, mac.show"), replies[3]
    assert replies[4] == {"ok": False, "id": "x", "error": 'mac.show: vlan: expected an integer, got "ten"'}
    assert replies[5]["error"] == "mac.show: unknown argument 'vlna'; expected one of: mac, port, vlan", replies[5]
    assert replies[6]["error"] == 'malformed request: "args" must be an object, got array'
    assert replies[7]["ok"] is True and replies[7]["id"] == 42 and replies[7]["result"]["total"] == 2, \
        "the connection outlives every refused request"
    names = [c["name"] for c in h.raw([b'{"cmd": "help"}\n'])[0]["result"]["commands"]]
    assert {"show", "mac.add", "counters.clear", "metrics", "config.dump"} <= set(names), names
    # A line that never ends is refused and its connection closed; the daemon carries on.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(h.sock)
        try:
            s.sendall(b"x" * (2 << 20))
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass  # the daemon closed with our unread bytes still queued: a reset, after its answer
        assert b"request longer than 1048576 bytes" in data, data[:200]
    assert h.js("mac", "count")["total"] == 2


def test_permissions(h: harness, d: daemon):
    st = os.stat(h.sock)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0, oct(st.st_mode)
    assert stat.S_IMODE(os.stat(os.path.dirname(h.sock)).st_mode) == 0o700, "the directory is made private"
    nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    h.refused("show", says=f"permission denied on {h.sock}", code=2, user=nobody)
    # The same through the directory's own permission: open it, and the socket's still says no.
    os.chmod(os.path.dirname(h.sock), 0o755)
    h.refused("mac", "flush", says="permission denied", code=2, user=nobody)
    assert h.js("mac", "count")["total"] == 2


def test_config_dump_round_trip(h: harness, d: daemon):
    text = h.ok("config", "dump").out
    assert h.js("config", "dump")["yaml"] == text
    assert f'mac: "{RUNTIME_STATIC}", vlan: 20, port: t' in text, "runtime static entries are configuration"
    assert f"socket: {h.sock}" in text
    dumped = f"{h.tmp}/dumped.yaml"
    with open(dumped, "w") as f:
        f.write(text)
    assert d.stop() == 0, d.log_text()
    assert not os.path.exists(h.sock), "the daemon removes its socket"
    second = daemon(h.vxswitchd, dumped, f"{h.tmp}/second.log")
    try:
        second.wait_serving(h.sock)
        assert h.ok("config", "dump").out == text, "the dump loads back to the same dump"
        assert h.macs("--mac", RUNTIME_STATIC) == {(20, RUNTIME_STATIC): ("t", "static")}
    finally:
        assert second.stop() == 0, second.log_text()


def test_group_access_and_refusals(h: harness, d: daemon):
    sock = f"{h.tmp}/grp/ctl.sock"
    config = f"{h.tmp}/group.yaml"
    with open(config, "w") as f:
        f.write(config_text(h.tmp, sock, ", group: nogroup, mode: 0660"))
    g = daemon(h.vxswitchd, config, f"{h.tmp}/group.log")
    try:
        g.wait_serving(sock)
        st = os.stat(sock)
        assert stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == grp.getgrnam("nogroup").gr_gid, oct(st.st_mode)
        assert stat.S_IMODE(os.stat(os.path.dirname(sock)).st_mode) == 0o750
        member = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        assert h.js("show", user=member, sock=sock)["ports"][0]["name"] == "a", "a group member may use it"
        outsider = ["setpriv", "--reuid=nobody", "--regid=daemon", "--clear-groups"]
        h.refused("show", says="permission denied", code=2, user=outsider, sock=sock)
        # A second daemon on a configured socket a live one serves refuses to start.
        busy = subprocess.run([h.vxswitchd, "-c", config], capture_output=True, text=True, timeout=60)
        assert busy.returncode != 0 and "another vxswitchd is serving it" in busy.stdout + busy.stderr, busy
        assert h.js("show", sock=sock)["ports"][0]["name"] == "a", "the first one still serves"
    finally:
        assert g.stop() == 0, g.log_text()
    with open(config, "w") as f:
        f.write(config_text(h.tmp, sock, ", group: no-such-group-vx"))
    bad = subprocess.run([h.vxswitchd, "-c", config], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "control.group: no group is named 'no-such-group-vx'" in bad.stdout + bad.stderr


def test_mac_writes_under_traffic(h: harness, d: daemon):
    """Flushes, adds and deletes while a worker learns at full rate: the learner thread and
    the control commands share the fdb's single writer, and deletions wait for the workers."""
    hosts = [f"02:00:00:01:00:{i:02x}" for i in range(64)]
    write_pcap(f"{h.tmp}/loop.pcap", [frame(m, vlan=10) for m in hosts])
    sock = f"{h.tmp}/loop.sock"
    config = f"{h.tmp}/loop.yaml"
    with open(config, "w") as f:
        f.write(f"""
dataplane: {{ workers: 1, memory_mb: 256, mbufs: 8191 }}
control: {{ socket: {sock} }}
ports:
  - {{ name: l, device: "net_pcap_vxl,rx_pcap={h.tmp}/loop.pcap,infinite_rx=1", mode: trunk, vlans: [10] }}
  - {{ name: o, device: "net_null_vxo,no-rx=1", mode: trunk, vlans: [10] }}
""")
    s = daemon(h.vxswitchd, config, f"{h.tmp}/loop.log")
    try:
        s.wait_serving(sock)
        wait_for("64 MACs learned", lambda: h.js("mac", "count", sock=sock)["total"] == 64)
        for i in range(30):
            h.ok("mac", "flush", sock=sock)
            h.ok("mac", "add", "02:00:00:02:00:01", "--vlan", "10", "--port", "o", sock=sock)
            h.ok("mac", "del", "02:00:00:02:00:01", "--vlan", "10", sock=sock)
        wait_for("relearning", lambda: h.js("mac", "count", sock=sock)["total"] == 64)
        rx = h.js("counters", "l", sock=sock)["ports"][0]["counters"]["rx_packets"]
        assert rx > 1000, f"traffic flowed throughout: {rx}"
    finally:
        assert s.stop() == 0, s.log_text()


def test_port_set_and_config_apply(h: harness, d: daemon):
    """Runtime changes on the main daemon: each form, its --json, what is refused and why."""
    macs = h.macs()
    r = h.ok("port", "set", "n", "--mode", "trunk", "--vlans", "30,40-42", "--native-vlan", "1")
    assert r.out == "changed: port 'n': access vlan 30 -> trunk vlans 1,30,40,41,42 native 1\n", r
    ports = {p["name"]: p for p in h.js("show")["ports"]}
    assert ports["n"]["mode"] == "trunk" and ports["n"]["vlans"] == [1, 30, 40, 41, 42], ports["n"]
    j = h.js("port", "set", "n", "--native-vlan", "none", "--mtu", "9000", "--dry-run")
    assert j["applied"] is False and j["changes"] == ["port 'n': trunk vlans 1,30,40,41,42 native 1 -> trunk vlans 1,30,40,41,42",
                                                      "port 'n': mtu 1500 -> 9000"], j
    assert h.js("show")["ports"][3]["native_vlan"] == 1, "a dry run changes nothing"
    # Refused changes name what is wrong and change nothing.
    h.refused("port", "set", "n", "--vlans", "4095", says="configuration refused, nothing changed:\n  ports[3].vlans[0]")
    h.refused("port", "set", "n", "--vlan", "7", says="ports[3].vlan: vlan is for access ports; a trunk takes vlans and native_vlan")
    h.refused("port", "set", "nope", "--mode", "access", says="no port is named 'nope'")
    h.refused("port", "set", "b", "--vlan", "20", says=f"fdb.static[0]: port 'b' does not carry vlan 10")
    replies = h.raw([b'{"cmd": "port.set", "args": {"port": "n", "set": {"name": "m"}}}\n',
                     b'{"cmd": "port.set", "args": {"port": "n", "set": []}}\n'])
    assert replies[0]["error"] == "port.set: set: a port's name cannot change (it names the port)", replies
    assert replies[1]["error"] == "port.set: set: expected a non-empty object, got []", replies
    r = h.ctl("port", "set", "n")
    assert r.code != 0 and "nothing to set" in r.err, r
    # Back to access by a whole file: the dump, edited, applied as a diff.
    text = h.ok("config", "dump").out
    edited = f"{h.tmp}/edited.yaml"
    with open(edited, "w") as f:
        f.write(text.replace("mode: trunk\n    vlans: [1, 30, 40-42]\n    native_vlan: 1", "mode: access\n    vlan: 30"))
    r = h.ok("config", "apply", edited)
    assert r.out == "changed: port 'n': trunk vlans 1,30,40,41,42 native 1 -> access vlan 30\n", (r, text)
    assert h.ok("config", "apply", edited).out == "no change: the running configuration is already so\n"
    text = h.ok("config", "dump").out
    assert "    mode: access\n    vlan: 30\n" in text, text
    with open(edited, "w") as f:
        f.write(text.replace("workers: 1", "workers: 2").replace("vlan: 30", "vlan: 31"))
    h.refused("config", "apply", edited, says="dataplane.workers: 1 -> 2 needs a restart")
    with open(edited, "w") as f:
        f.write(text.replace("vlan: 30", "vlan: 4095"))
    h.refused("config", "apply", edited, says=f"{edited}:")
    assert h.js("show")["ports"][3]["vlan"] == 30, "refused files changed nothing"
    assert h.macs() == macs, "no change touched a port with MACs"


P1 = "02:00:00:00:10:01"  # sends on port p, a port added at runtime


def test_port_add_and_remove(h: harness, d: daemon):
    """Ports come and go while the switch runs: port add (its flags, --json, --dry-run), port
    remove, and the same through config apply; a removed port's MACs go, its slot's counters
    are not inherited, its device is detached (it can be added again); refusals change nothing."""
    base = h.js("show")
    names = [p["name"] for p in base["ports"]]
    write_pcap(f"{h.tmp}/p.pcap", [frame(P1), frame(P1, dst=A1), frame(P1, size=128)])
    r = h.ok("port", "add", "p", "--device", f"net_pcap_vxp,rx_pcap={h.tmp}/p.pcap", "--mode", "trunk",
             "--vlans", "10,30", "--native-vlan", "10")
    assert r.out == f"changed: port 'p': added (net_pcap_vxp,rx_pcap={h.tmp}/p.pcap, trunk vlans 10,30 native 10)\n", r
    j = h.js("show")
    ports = {p["name"]: p for p in j["ports"]}
    assert [p["name"] for p in j["ports"]] == names + ["p"], j["ports"]
    assert ports["p"]["driver"] == "net_pcap" and ports["p"]["vlans"] == [10, 30] and ports["p"]["native_vlan"] == 10
    assert {"port": "p", "queue": 0} in j["workers"][0]["queues"], "a worker polls the new port"
    assert j["ethdevs"] == base["ethdevs"] + 1, (j["ethdevs"], base["ethdevs"])
    wait_for("p's frames", lambda: h.js("counters", "p")["ports"][0]["counters"]["rx_packets"] == 3)
    wait_for("P1 learned on p", lambda: h.macs("--port", "p") == {(10, P1): ("p", "learned")})
    assert re.search(r"(?m)^p +net_pcap +\S+.* +trunk +vlans 10,30 native 10 ", h.ok("show").out)

    # Refusals: each names what is wrong, and nothing changes.
    h.refused("port", "add", "p", "--device", "net_null_vxq", says="a port is already named 'p'")
    h.refused("port", "add", "q", "--device", "net_pcap_vxp,rx_pcap=/dev/null",
              says="configuration refused, nothing changed:\n  ports[5] 'q': device 'net_pcap_vxp' is already used by ports[4]")
    h.refused("port", "add", "q", "--device", "net_nosuch_vxq", says="port 'q': the driver refused device 'net_nosuch_vxq'")
    h.refused("port", "add", "q", "--device", "net_null_vxq", "--mode", "trunk",
              says="a trunk must carry at least one VLAN")
    h.refused("port", "add", "q", "--device", "net_null_vxq", "--vlan", "4095", says="ports[5].vlan: 4095 is out of range")
    h.refused("port", "add", "q", "--device", "net_null_vxq", "--queues", "64",
              says="port 'q': its queues may hold 66560 packet buffers and the pool has ")
    h.refused("port", "remove", "b", says=f"static MACs name port 'b' ({STATIC_B} vlan 10): delete them first")
    h.refused("port", "remove", "nope", says="no port is named 'nope'")
    # af_xdp ports (tests/netns/ports_runtime.py adds and removes them): this switch started
    # without one, so its pool is not laid out for net_af_xdp's UMEM; steering keys are an
    # af_xdp port's alone; only keys of steer: and drop: are set one by one.
    h.refused("port", "add", "q", "--type", "af_xdp", "--iface", "lo", "--own", "true",
              says="port 'q': adding an af_xdp port needs the packet pool laid out for net_af_xdp's UMEM")
    h.refused("port", "set", "b", "--steer-udp", "*:4789", says="this key is for ports of type: af_xdp")
    replies = h.raw([b'{"cmd": "port.set", "args": {"port": "b", "set": {"mode.vlan": 3}}}\n'])
    assert replies[0]["error"] == ("port.set: set: 'mode.vlan': only keys of steer and drop are set one by one "
                                   "(steer.udp, drop.vlans, ...)"), replies
    replies = h.raw([b'{"cmd": "port.add", "args": {"port": "q"}}\n',
                     b'{"cmd": "port.add", "args": {"port": "q", "device": "net_null_vxq", "set": {"device": "x"}}}\n',
                     b'{"cmd": "port.remove", "args": {"port": "p", "now": true}}\n'])
    assert replies[0]["error"] == ("port.add: device: a port is added on a device (devargs), or is of a type "
                                   "(type: af_xdp with an iface, vde with a url, vde_switch)"), replies
    assert replies[1]["error"].startswith("port.add: set: 'device' is not a key"), replies
    assert replies[2]["error"] == "port.remove: unknown argument 'now'; expected one of: dry_run, port", replies
    after = h.js("show")
    assert [p["name"] for p in after["ports"]] == names + ["p"] and after["ethdevs"] == j["ethdevs"], \
        "refused adds left no port and no device behind"

    j = h.js("port", "remove", "p", "--dry-run")
    assert j == {"applied": False, "changes": [f"port 'p': removed (net_pcap_vxp,rx_pcap={h.tmp}/p.pcap)"],
                 "warnings": []}, j
    assert "p" in [p["name"] for p in h.js("show")["ports"]], "a dry run changes nothing"
    assert h.ok("port", "remove", "p").out == f"changed: port 'p': removed (net_pcap_vxp,rx_pcap={h.tmp}/p.pcap)\n"
    j = h.js("show")
    assert [p["name"] for p in j["ports"]] == names and j["ethdevs"] == base["ethdevs"], j["ethdevs"]
    assert all(q["port"] != "p" for q in j["workers"][0]["queues"]), j["workers"]
    assert (10, P1) not in h.macs(), "a removed port's MACs are flushed"
    assert "port 'p' removed: 1 learned MACs flushed" in d.log_text()
    h.refused("counters", "p", says="no port is named 'p'")

    # A port added in p's slot counts from zero; the same device can be added again (it was detached).
    j = h.js("port", "add", "m", "--device", "net_null_vxm,no-rx=1", "--vlan", "30")
    assert j == {"applied": True, "changes": ["port 'm': added (net_null_vxm,no-rx=1, access vlan 30)"], "warnings": []}, j
    assert h.js("counters", "m")["ports"][0]["counters"]["rx_packets"] == 0, "not p's counts"
    h.ok("port", "add", "p", "--device", f"net_pcap_vxp,rx_pcap={h.tmp}/p.pcap", "--vlan", "30")
    wait_for("p's frames again", lambda: h.js("counters", "p")["ports"][0]["counters"]["rx_packets"] == 3)

    # config apply: a file that lacks ports removes them, one that has a new port adds it.
    text = h.ok("config", "dump").out
    assert "name: m" in text and "net_null_vxm,no-rx=1" in text, text
    kept = "\n".join(line for line in text.splitlines() if "name: m" not in line and "name: p" not in line)
    edited = f"{h.tmp}/ports.yaml"
    with open(edited, "w") as f:
        f.write(kept + "\n")
    r = h.ok("config", "apply", edited)
    assert r.out == f"changed: port 'm': removed (net_null_vxm,no-rx=1)\nchanged: port 'p': removed (net_pcap_vxp,rx_pcap={h.tmp}/p.pcap)\n", (r, kept)
    assert [p["name"] for p in h.js("show")["ports"]] == names
    with open(edited, "w") as f:
        f.write(kept + "\n  - { name: m, device: \"net_null_vxm,no-rx=1\", mode: access, vlan: 30 }\n")
    assert h.ok("config", "apply", edited).out == "changed: port 'm': added (net_null_vxm,no-rx=1, access vlan 30)\n"
    assert h.ok("port", "remove", "m").out.startswith("changed: port 'm': removed")
    j = h.js("show")
    assert [p["name"] for p in j["ports"]] == names and j["ethdevs"] == base["ethdevs"]
    assert "name: m" not in h.ok("config", "dump").out


def side_switch(h: harness, name: str, body: str) -> tuple[daemon, str]:
    """A switch of one test's own: `body` (fdb:, ports:, ...) after a dataplane: and control:
    section; returns it serving, and its socket."""
    sock = f"{h.tmp}/{name}.sock"
    config = f"{h.tmp}/{name}.yaml"
    with open(config, "w") as f:
        f.write(f"dataplane: {{ workers: 1, memory_mb: 256, mbufs: 8191 }}\ncontrol: {{ socket: {sock} }}\n{body}")
    s = daemon(h.vxswitchd, config, f"{h.tmp}/{name}.log")
    try:
        s.wait_serving(sock)
    except AssertionError:
        s.stop()
        raise
    return s, sock


def flow_ports(h: harness, name: str, src: str, dst: str, sizes: list[int]) -> str:
    """Port s receives frames src -> dst without end (net_pcap infinite_rx), d has dst as a
    static MAC: the two hosts between which nothing may be lost."""
    write_pcap(f"{h.tmp}/{name}.pcap", [frame(src, dst=dst, size=n) for n in sizes])
    return f"""fdb:
  static:
    - {{ mac: "{dst}", vlan: 10, port: d }}
ports:
  - {{ name: s, device: "net_pcap_vx{name}s,rx_pcap={h.tmp}/{name}.pcap,infinite_rx=1", mode: access, vlan: 10 }}
  - {{ name: d, device: "net_null_vx{name}d,no-rx=1", mode: access, vlan: 10 }}
"""


def test_top(h: harness, d: daemon):
    """vxctl top on a switch with traffic: --json gives one object per interval with rates
    that match the traffic, the table and batch forms print what they say, errors exit as
    every command does."""
    s, sock = side_switch(h, "top", flow_ports(h, "top", "02:00:00:04:00:01", "02:00:00:04:00:02", [100] * 32) +
                          '  - { name: q, device: "net_null_vxtq,no-rx=1", mode: access, vlan: 20 }\n')
    try:
        r = h.ok("top", "--json", "-n", "2", "-i", "0.5", sock=sock)
        lines = r.out.splitlines()
        assert len(lines) == 2, r
        for line in lines:
            t = json.loads(line)
            assert 0.4 < t["interval_s"] < 2, t
            ports = {p["name"]: p for p in t["ports"]}
            assert list(ports) == ["s", "d", "q"], t["ports"]
            assert ports["s"]["rx_pps"] > 10000, ports["s"]
            # d sends what s receives: the same rate, give or take a burst at each end.
            assert abs(ports["d"]["tx_pps"] - ports["s"]["rx_pps"]) <= 2 * 32 / t["interval_s"] + 1, ports
            assert abs(ports["d"]["tx_bps"] - ports["d"]["tx_pps"] * 100 * 8) <= 1e-6 * ports["d"]["tx_bps"], ports["d"]
            assert ports["q"]["rx_pps"] == 0 and ports["q"]["tx_pps"] == 0 and ports["q"]["drops_ps"] == 0
            w = t["workers"][0]
            assert 0 < w["busy_pct"] <= 100 and w["packets_per_burst"] > 1 and w["cycles_per_packet"] > 0, w
            assert w["packets_ps"] >= ports["s"]["rx_pps"] * 0.9, (w, ports["s"])
            assert t["pool"]["free"] <= t["pool"]["size"] and t["fdb"]["entries"] >= 1, t
        r = h.ok("top", "--once", "-i", "0.3", sock=sock)
        assert "\x1b[" not in r.out, "--once does not drive the screen"
        assert re.match(r"vxswitch top: up \S+, 3 ports, MAC table \d+ of 1048576, pool \d+ of \d+ buffers free, "
                        r"every 0\.3 s\n", r.out), r
        assert re.search(r"(?m)^PORT +RX PPS +RX BPS +TX PPS +TX BPS +DROPS/S +DROPS$", r.out), r
        assert re.search(r"(?m)^s +[\d.]+[kMG]? +[\d.]+[kMG]? +0 +0 +0 +0$", r.out), r
        assert re.search(r"(?m)^ +0 +\d+ +[\d.]+ +\d+ +[\d.]+ +[\d.]+[kMG]?$", r.out), r
        r = h.ok("top", "-b", "-n", "2", "-i", "0.2", sock=sock)
        assert r.out.count("vxswitch top:") == 2 and "\x1b[" not in r.out, r
        h.refused("top", "-n", "1", says="cannot reach vxswitchd", code=2, sock=f"{h.tmp}/absent.sock")
        bad = h.ctl("top", "-i", "0", sock=sock)
        assert bad.code != 0 and "--interval" in bad.err, bad
    finally:
        assert s.stop() == 0, s.log_text()


def test_port_remove_refuses_the_vxlan_underlay(h: harness, d: daemon):
    """The VXLAN underlay goes only with the vxlan: section, at a restart: port remove says
    so, and config apply refuses a file without it by name; the other ports still come and go."""
    s, sock = side_switch(h, "vtep", """ports:
  - { name: a, device: "net_null_vxva,no-rx=1", mode: access, vlan: 10 }
  - { name: up, device: "net_null_vxvu,no-rx=1" }
vxlan:
  underlay: up
  address: 192.0.2.1
  vnis: [{ vni: 42, vlan: 10 }]
""")
    try:
        h.refused("port", "remove", "up", sock=sock,
                  says="port 'up' is the VXLAN underlay (vxlan.underlay): it goes only with the vxlan: section, at a restart")
        text = h.ok("config", "dump", sock=sock).out
        edited = f"{h.tmp}/vtep-edited.yaml"
        with open(edited, "w") as f:
            f.write(text[:text.index("vxlan:")].replace("  - { name: up", "  - { name: up2"))
        h.refused("config", "apply", edited, sock=sock, says="needs a restart")
        h.ok("port", "add", "b", "--device", "net_null_vxvb,no-rx=1", "--vlan", "10", sock=sock)
        assert h.ok("port", "remove", "b", sock=sock).out == "changed: port 'b': removed (net_null_vxvb,no-rx=1)\n"
        assert [p["name"] for p in h.js("show", sock=sock)["ports"]] == ["a", "up"]
    finally:
        assert s.stop() == 0, s.log_text()


def test_vde_ports_at_runtime(h: harness, d: daemon):
    """VDE ports on a switch that started with none: the vde_switch: section and a port of it
    come by config apply, others by port add (--dry-run, --json); a `vde_plug null://` client
    binds and is disconnected (it exits) when its port is removed; show lists what each VDE
    port is on and its peer; a VDE port is re-moded in place; every refusal (no --url, a URL
    libvdeplug refuses, a vde_switch port without the section, a vde_port in use, a jumbo MTU,
    a url on a device port) leaves config dump as it was; the dump loads back to itself; the
    section goes when no port needs it."""
    if not shutil.which("vde_plug"):
        print("      (no vde_plug: the client part is skipped)")
    vde = f"{h.tmp}/rtvde"
    s, sock = side_switch(h, "vderuntime", """ports:
  - { name: a, device: "net_null_vxra,no-rx=1", mode: access, vlan: 10 }
""")
    try:
        dump = h.ok("config", "dump", sock=sock).out

        def unchanged(*argv, says):
            h.refused(*argv, says=says, sock=sock)
            assert h.ok("config", "dump", sock=sock).out == dump, f"vxctl {' '.join(argv)} changed the configuration"

        unchanged("port", "add", "v", "--type", "vde_switch", says="this switch has none: add the vde_switch: section")
        unchanged("port", "add", "u", "--type", "vde", says="port.add: url: a port of type vde opens a libvdeplug URL")
        unchanged("port", "add", "u", "--type", "vde", "--url", f"vde://{h.tmp}/nosuch",
                  says=f"port 'u': libvdeplug cannot open 'vde://{h.tmp}/nosuch': No such file or directory")
        replies = h.raw([b'{"cmd": "port.add", "args": {"port": "q", "device": "net_null_vxrq", "url": "vde:///x"}}\n'],
                        sock=sock)
        assert "ports[1].url: this key is for ports of type: vde or vde_switch" in replies[0]["error"], replies
        r = h.ctl("port", "add", "u", "--url", "vde:///x", sock=sock)
        assert r.code != 0 and "--url requires --type" in r.err, r

        # The section and a port of it by config apply; the dump it makes loads back to itself.
        edited = f"{h.tmp}/vderuntime.yaml"
        with open(edited, "w") as f:
            f.write(dump + "  - { name: v1, type: vde_switch, vde_port: 1, mode: access, vlan: 10 }\n"
                    f"vde_switch: {{ path: {vde}, mode: 0600 }}\n")
        r = h.ok("config", "apply", edited, sock=sock)
        assert r.out == ("changed: port 'v1': added (vde_switch port 1, access vlan 10)\n"
                         f"changed: vde_switch: added (listening on {vde}/ctl)\n"), r
        assert stat.S_ISSOCK(os.stat(f"{vde}/ctl").st_mode)
        j = h.js("port", "add", "v2", "--type", "vde_switch", "--mode", "trunk", "--vlans", "10,20", "--dry-run",
                 sock=sock)
        assert j == {"applied": False, "changes": ["port 'v2': added (vde_switch port, any client, trunk vlans 10,20)"],
                     "warnings": []}, j
        assert "v2" not in [p["name"] for p in h.js("show", sock=sock)["ports"]], "a dry run changes nothing"
        h.ok("port", "add", "v2", "--type", "vde_switch", "--mode", "trunk", "--vlans", "10,20", sock=sock)
        dump = h.ok("config", "dump", sock=sock).out
        unchanged("port", "add", "v3", "--type", "vde_switch", "--vde-port", "1",
                  says="vde_port 1 is already the number of port 'v1'")
        unchanged("port", "add", "v3", "--type", "vde_switch", "--mtu", "9000",
                  says="port 'v3': mtu 9000 takes frames of up to 9022 bytes, longer than the packet pool's buffers "
                       "hold (2047): buffers for longer frames are made when the switch starts")
        unchanged("port", "add", "v2", "--type", "vde_switch", says="a port is already named 'v2'")
        with open(edited, "w") as f:
            f.write(dump.replace(f"path: {vde}", f"path: {vde}-other"))
        unchanged("config", "apply", edited, says=f"vde_switch.path: {vde} -> {vde}-other needs a restart")
        with open(edited, "w") as f:
            f.write(dump)
        assert h.ok("config", "apply", edited, sock=sock).out == "no change: the running configuration is already so\n"

        ports = {p["name"]: p for p in h.js("show", sock=sock)["ports"]}
        assert ports["v1"]["driver"] == "net_ring" and ports["v1"]["device"].startswith("net_ring_vde"), ports["v1"]
        assert ports["v1"]["vde"]["vde_port"] == 1 and ports["v2"]["vde"]["vde_port"] == "any", ports
        assert ports["v1"]["device"] != ports["v2"]["device"]
        if shutil.which("vde_plug"):
            with open(f"{h.tmp}/vde_plug.log", "w") as log:
                client = subprocess.Popen(["vde_plug", f"vde://{vde}[1]", "null://"], stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_for("the client on v1", lambda: h.js("show", sock=sock)["ports"][1]["vde"]["peer"])
                show = h.ok("show", sock=sock).out
                assert re.search(r"(?m)^v1 +vde_switch port 1 +vdeplug: user=\S+ pid=\d+$", show), show
                assert re.search(r"(?m)^v2 +vde_switch port \(any\) +-$", show), show
                assert len(os.listdir(vde)) == 2, os.listdir(vde)  # ctl and our data socket for the client
                r = h.ok("port", "set", "v1", "--vlan", "20", sock=sock)  # in place: the client stays
                assert r.out == "changed: port 'v1': access vlan 10 -> access vlan 20\n", r
                assert client.poll() is None, "re-moding a VDE port keeps its client"
                assert h.ok("port", "remove", "v1", sock=sock).out == "changed: port 'v1': removed (vde_switch port 1)\n"
                assert client.wait(timeout=5) is not None, "the client sees its port go and exits"
                assert "on port 'v1' disconnected: its port was removed" in s.log_text()
            finally:
                if client.poll() is None:
                    client.kill()
                client.wait()
            assert os.listdir(vde) == ["ctl"], f"our data socket's file is removed: {os.listdir(vde)}"
            h.ok("port", "add", "v1", "--type", "vde_switch", "--vde-port", "1", sock=sock)

        # Without its ports the section may go; the dump then is the one the switch started with.
        h.ok("port", "remove", "v1", sock=sock)
        h.ok("port", "remove", "v2", sock=sock)
        text = h.ok("config", "dump", sock=sock).out
        with open(edited, "w") as f:
            f.write(text[:text.index("vde_switch:")])
        r = h.ok("config", "apply", edited, sock=sock)
        assert r.out == f"changed: vde_switch: removed (no more listening on {vde}/ctl)\n", r
        assert not os.path.exists(f"{vde}/ctl")
        j = h.js("show", sock=sock)
        assert [p["name"] for p in j["ports"]] == ["a"] and j["ethdevs"] == 1, j
    finally:
        assert s.stop() == 0, s.log_text()


def test_vde_counters(h: harness, d: daemon):
    """A VDE port's I/O thread counters in vxctl counters (the table, one port's view, --json),
    from zero after counters clear, and in metrics (totals): a libvdeplug client (ctypes, in
    this process) on v1 sends 5 broadcasts, which flood to v2 (no client: out_no_peer) and a."""
    try:
        lib = ctypes.CDLL("libvdeplug.so.2", use_errno=True)
    except OSError:
        print("      (no libvdeplug.so.2: skipped)")
        return
    lib.vde_open_real.restype = ctypes.c_void_p
    lib.vde_open_real.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p]
    lib.vde_send.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    lib.vde_close.argtypes = [ctypes.c_void_p]
    vde = f"{h.tmp}/cvde"
    s, sock = side_switch(h, "vdecounters", f"""vde_switch: {{ path: {vde}, mode: 0600 }}
ports:
  - {{ name: a, device: "net_null_vxca,no-rx=1", mode: access, vlan: 10 }}
  - {{ name: v1, type: vde_switch, vde_port: 1, mode: access, vlan: 10 }}
  - {{ name: v2, type: vde_switch, vde_port: 2, mode: access, vlan: 10 }}
""")
    conn = lib.vde_open_real(f"vde://{vde}[1]".encode(), b"ctl_test", 1, None)  # 1: LIBVDEPLUG_INTERFACE_VERSION
    try:
        assert conn, f"libvdeplug cannot open vde://{vde}[1]: {os.strerror(ctypes.get_errno())}"
        broadcast = frame("02:00:00:00:0c:01", dst="ff:ff:ff:ff:ff:ff", size=60)

        def send(n):
            for _ in range(n):
                assert lib.vde_send(conn, broadcast, len(broadcast), 0) == len(broadcast)

        def vde_of(name):
            return next(p for p in h.js("counters", sock=sock)["ports"] if p["name"] == name).get("vde")

        send(5)
        wait_for("5 frames in on v1 and 5 refused on v2",
                 lambda: vde_of("v1")["frames_in"] == 5 and vde_of("v2")["out_no_peer"] == 5)
        j = h.js("counters", sock=sock)
        ports = {p["name"]: p for p in j["ports"]}
        assert "vde" not in ports["a"], ports["a"]
        assert ports["v2"]["vde"]["frames_out"] == 0 and ports["v1"]["vde"]["in_ring_full"] == 0, ports
        table = h.ok("counters", sock=sock).out
        assert re.search(r"(?m)^VDE endpoints \(the I/O thread's counts\):\nPORT +FRAMES IN +FRAMES OUT +HELD ROUNDS$",
                         table), table
        assert re.search(r"(?m)^v1 +5 +0 +\d+$", table) and re.search(r"(?m)^v2 +out_no_peer +5$", table), table
        one = h.ok("counters", "v2", sock=sock).out
        assert re.search(r"(?m)^out_no_peer +5$", one) and re.search(r"(?m)^frames_in +0$", one), one
        h.ok("counters", "clear", sock=sock)
        assert vde_of("v1")["frames_in"] == 0 and vde_of("v2")["out_no_peer"] == 0, "counters clear: from zero"
        send(2)
        wait_for("2 more frames in on v1", lambda: vde_of("v1")["frames_in"] == 2 and vde_of("v2")["out_no_peer"] == 2)
        metrics = h.ok("metrics", sock=sock).out
        assert 'vxswitch_vde_frames_in_total{port="v1"} 7\n' in metrics, metrics
        assert 'vxswitch_vde_out_no_peer_total{port="v2"} 7\n' in metrics, metrics
        assert "# HELP vxswitch_vde_in_held_total " in metrics and 'vxswitch_vde_frames_in_total{port="a"}' not in metrics
    finally:
        if conn:
            lib.vde_close(conn)
        assert s.stop() == 0, s.log_text()


def test_vni_commands(h: harness, d: daemon):
    """vxctl vni show/add/set/remove on a VTEP: each change said in words and applied (show and
    config dump follow, the dump loads back to itself), --json, --dry-run, and every refusal
    named with nothing changed: unknown VNI, duplicate VNI, a VLAN no port carries, a bad
    group, a switch without VXLAN."""
    s, sock = side_switch(h, "vnis", """ports:
  - { name: a, device: "net_null_vxna,no-rx=1", mode: access, vlan: 10 }
  - { name: b, device: "net_null_vxnb,no-rx=1", mode: trunk, vlans: [20, 30] }
  - { name: up, device: "net_null_vxnu,no-rx=1" }
vxlan:
  underlay: up
  address: 192.0.2.1
  vnis: [{ vni: 42, vlan: 10, remotes: [192.0.2.2] }]
""")
    try:
        r = h.ok("vni", sock=sock)
        assert r.out.startswith("VTEP on underlay port 'up'\n"), r
        assert re.search(r"(?m)^VNI +VLAN +PROTOCOL +PORT +GROUP +REMOTES$", r.out), r
        assert re.search(r"(?m)^ *42 +10 +vxlan +4789 +- +192\.0\.2\.2 \(unresolved\)$", r.out), r
        assert h.ok("vni", "show", sock=sock).out == r.out
        j = h.js("vni", sock=sock)
        assert j["vnis"] == [{"vni": 42, "vlan": 10, "protocol": "vxlan", "port": 4789, "group": None,
                              "remotes": [{"address": "192.0.2.2", "resolved": False, "next_hop": None}]}], j
        assert j["discovered"] == [] and j["underlay"] == "up", j
        before = h.ok("config", "dump", sock=sock).out

        assert h.ok("vni", "add", "43", "--vlan", "20", "--remote", "192.0.2.3", "--dry-run", sock=sock).out == \
            "would change: vni 43: added (vlan 20, remotes 192.0.2.3)\n"
        assert h.ok("config", "dump", sock=sock).out == before, "--dry-run changes nothing"
        assert h.ok("vni", "add", "43", "--vlan", "20", "--remote", "192.0.2.3", sock=sock).out == \
            "changed: vni 43: added (vlan 20, remotes 192.0.2.3)\n"
        assert h.ok("vni", "set", "43", "--vlan", "30", "--group", "239.1.1.43", sock=sock).out == \
            "changed: vni 43: vlan 20, remotes 192.0.2.3 -> vlan 30, group 239.1.1.43, remotes 192.0.2.3\n"
        j = h.js("vni", "set", "43", "--no-remotes", sock=sock)
        assert j == {"applied": True, "changes": ["vni 43: vlan 30, group 239.1.1.43, remotes 192.0.2.3 -> "
                                                  "vlan 30, group 239.1.1.43"], "warnings": []}, j
        h.refused("vni", "add", "44", "--vlan", "10", "--protocol", "vxvde", "--group", "239.2.2.2", sock=sock,
                  says="vlan 10 already has a VNI")
        h.ok("port", "set", "b", "--vlans", "20,30,40", sock=sock)
        assert h.ok("vni", "add", "44", "--vlan", "40", "--protocol", "vxvde", "--group", "239.2.2.2", sock=sock).out \
            == "changed: vni 44 (vxvde port 14789): added (vlan 40, vxvde port 14789, group 239.2.2.2)\n"
        rows = {v["vni"]: v for v in h.js("vni", sock=sock)["vnis"]}
        assert rows[43]["vlan"] == 30 and rows[43]["group"] == "239.1.1.43" and rows[43]["remotes"] == [], rows
        assert rows[44]["protocol"] == "vxvde" and rows[44]["port"] == 14789, rows

        dump = h.ok("config", "dump", sock=sock).out
        assert "{vni: 43, vlan: 30, group: \"239.1.1.43\"}" in dump, dump
        path = f"{h.tmp}/vnis-dump.yaml"
        with open(path, "w") as f:
            f.write(dump)
        assert h.ok("config", "apply", path, sock=sock).out == "no change: the running configuration is already so\n"

        # Refusals: nothing changes.
        h.refused("vni", "remove", "99", sock=sock, says="no vni 99; vnis: 42, 43, 44")
        h.refused("vni", "set", "99", "--vlan", "10", sock=sock, says="no vni 99")
        h.refused("vni", "add", "42", "--vlan", "30", sock=sock, says="vni 42 already exists (vxctl vni set changes it)")
        h.refused("vni", "add", "45", "--vlan", "99", sock=sock,
                  says="configuration refused, nothing changed:\n  vxlan.vnis[3]: no port carries vlan 99")
        h.refused("vni", "set", "43", "--group", "10.0.0.1", sock=sock, says="'10.0.0.1' is not a multicast group address")
        r = h.ctl("vni", "set", "43", sock=sock)
        assert r.code != 0 and "nothing to set" in r.err, r
        assert h.ok("config", "dump", sock=sock).out == dump, "refusals changed nothing"

        assert h.ok("vni", "remove", "43", sock=sock).out == "changed: vni 43: removed (vlan 30, group 239.1.1.43)\n"
        h.ok("vni", "remove", "44", sock=sock)
        h.ok("port", "set", "b", "--vlans", "20,30", sock=sock)
        assert h.ok("config", "dump", sock=sock).out == before, "back where it started"
    finally:
        assert s.stop() == 0, s.log_text()
    h.refused("vni", "add", "7", "--vlan", "1", says="VXLAN is not configured")


def vxlan_frame(src_ip: str, vni: int, inner: bytes, dst_ip: str = "192.0.2.1") -> bytes:
    """`inner` encapsulated by the VTEP at src_ip: Ethernet, IPv4 (vxswitch does not verify
    its checksum on receive), UDP to 4789, VXLAN with the I flag."""
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + 8 + len(inner), 0, 0, 64, 17, 0,
                     socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    udp = struct.pack("!HHHH", 50000, 4789, 8 + 8 + len(inner), 0)
    vxlan = struct.pack("!II", 0x08000000, vni << 8)
    return mac_bytes("02:00:00:00:a0:01") + mac_bytes("02:00:00:00:a0:02") + b"\x08\x00" + ip + udp + vxlan + inner


def test_vni_counters(h: harness, d: daemon):
    """vxctl counters --vni [N] on a VTEP with traffic both ways: frames decapsulated from VNI 42,
    floods into it that wait for a next hop, a frame of a VNI nobody has (the underlay port's
    drop alone); the table, --json, one VNI, the metrics, the state file; a VNI moved to
    another VLAN keeps its counts; a VNI that VXLAN and vxvde share needs --udp-port."""
    host, remote = "02:00:00:05:00:01", "02:00:00:05:00:02"
    write_pcap(f"{h.tmp}/vnis-a.pcap", [frame(host, size=64) for _ in range(3)])  # floods into VNI 42
    write_pcap(f"{h.tmp}/vnis-up.pcap", [vxlan_frame("192.0.2.2", 42, frame(remote, size=64)) for _ in range(2)] +
               [vxlan_frame("192.0.2.2", 7, frame(remote, size=64))])
    sock, config, state = f"{h.tmp}/vnic.sock", f"{h.tmp}/vnic.yaml", f"{h.tmp}/vnic-state.json"
    with open(config, "w") as f:
        f.write(f"""dataplane: {{ workers: 1, memory_mb: 256, mbufs: 8191 }}
control: {{ socket: {sock} }}
ports:
  - {{ name: a, device: "net_pcap_vxca,rx_pcap={h.tmp}/vnis-a.pcap,tx_pcap={h.tmp}/vnis-a-out.pcap", vlan: 10 }}
  - {{ name: b, device: "net_null_vxcb,no-rx=1", mode: trunk, vlans: [10, 20, 30] }}
  - {{ name: up, device: "net_pcap_vxcu,rx_pcap={h.tmp}/vnis-up.pcap,tx_pcap={h.tmp}/vnis-up-out.pcap" }}
vxlan:
  underlay: up
  address: 192.0.2.1
  vnis:
    - {{ vni: 42, vlan: 10, remotes: [192.0.2.2] }}
    - {{ vni: 42, vlan: 20, protocol: vxvde, group: 239.2.2.42 }}
""")
    s = daemon(h.vxswitchd, config, f"{h.tmp}/vnic.log", ["--state-file", state])
    try:
        s.wait_serving(sock)
        wait_for("the frames", lambda: h.js("counters", "up", sock=sock)["ports"][0]["counters"]["rx_packets"] >= 3
                 and h.js("counters", "a", sock=sock)["ports"][0]["counters"]["rx_packets"] == 3)
        # 192.0.2.2 never answers ARP: each of a's broadcasts goes to b, and waits for a next hop
        # on its way into VNI 42. The two frames from the overlay go to a and b, never back.
        j = h.js("counters", "--vni", sock=sock)
        rows = {(v["vni"], v["protocol"]): v for v in j["vnis"]}
        assert list(rows) == [(42, "vxlan"), (42, "vxvde")], j
        vx = rows[(42, "vxlan")]
        assert (vx["vlan"], vx["port"]) == (10, 4789) and (rows[(42, "vxvde")]["port"]) == 14789, rows
        assert vx["counters"] == {"decapsulated_packets": 2, "decapsulated_bytes": 2 * 114,
                                  "encapsulated_packets": 0, "encapsulated_bytes": 0}, vx
        assert vx["drops"]["vxlan_no_next_hop"] == 3 and vx["drops_total"] == 3, vx["drops"]
        assert "vxlan_unknown_vni" not in vx["drops"], "a VNI nobody has is the port's drop"
        assert not any(rows[(42, "vxvde")]["counters"].values()) and rows[(42, "vxvde")]["drops_total"] == 0
        assert h.js("counters", "up", sock=sock)["ports"][0]["drops"]["vxlan_unknown_vni"] == 1
        # VLAN 10: a's 3 in, and the 2 from the overlay with their 50 outer bytes; out, a's to b
        # tagged (68 bytes), the overlay's to a (64) and b (68).
        v10 = h.js("counters", "--vlan", "10", sock=sock)["vlans"][0]
        assert v10["counters"] == {"rx_packets": 5, "rx_bytes": 3 * 64 + 2 * 114, "tx_packets": 7,
                                   "tx_bytes": 3 * 68 + 2 * 64 + 2 * 68, "flooded": 5, "unknown_unicast": 0}, v10
        assert v10["drops"]["vxlan_no_next_hop"] == 3 and v10["drops_total"] == 3, v10["drops"]
        out = h.ok("counters", "--vni", sock=sock).out
        assert re.search(r"(?m)^VNI +VLAN +PROTOCOL +PORT +DECAP PACKETS +DECAP BYTES +ENCAP PACKETS +ENCAP BYTES +DROPS$",
                         out), out
        assert re.search(r"(?m)^ *42 +10 +vxlan +4789 +2 +228 +0 +0 +3$", out), out
        assert re.search(r"(?m)^ *42 +20 +vxvde +14789 +0 +0 +0 +0 +0$", out), out
        assert re.search(r"(?m)^ *42 +vxlan_no_next_hop +3$", out), out
        h.refused("counters", "--vni", "42", sock=sock, says="vni 42 is on UDP ports 4789 and 14789: say which with udp_port")
        one = h.ok("counters", "--vni", "42", "--udp-port", "4789", sock=sock).out
        assert one.startswith("VNI 42 (vxlan, UDP port 4789, vlan 10), since start:\n"), one
        for line in (r"decapsulated_packets +2", r"decapsulated_bytes +228", r"encapsulated_packets +0",
                     r"vxlan_no_next_hop +3", r"vxlan_split_horizon +0", r"\(total\) +3"):
            assert re.search(rf"(?m)^{line}$", one), (line, one)
        assert "same_port" not in one, "not a reason of the overlay"
        h.refused("counters", "--vni", "7", sock=sock, says="no vni 7; vnis: 42, 42")
        h.refused("counters", "--vni", "42", "--udp-port", "4790", sock=sock, says="no vni 42 on UDP port 4790")
        m = parse_prometheus(h.ok("metrics", sock=sock).out)
        labels = '{vni="42",protocol="vxlan",udp_port="4789"'
        assert m[("vxswitch_vni_decapsulated_packets_total", labels + "}")] == 2
        assert m[("vxswitch_vni_decapsulated_bytes_total", labels + "}")] == 228
        assert m[("vxswitch_vni_drops_total", labels + ',reason="vxlan_no_next_hop"}')] == 3
        assert m[("vxswitch_vni_encapsulated_packets_total", '{vni="42",protocol="vxvde",udp_port="14789"}')] == 0
        assert m[("vxswitch_vlan_drops_total", '{vlan="10",reason="vxlan_no_next_hop"}')] == 3
        # VNI 42 moves to VLAN 30: its counts go with it; VLAN 10 keeps its own.
        h.ok("vni", "set", "42", "--udp-port", "4789", "--vlan", "30", sock=sock)
        moved = h.js("counters", "--vni", "42", "--udp-port", "4789", sock=sock)["vnis"]
        assert len(moved) == 1 and moved[0]["vlan"] == 30 and moved[0]["counters"] == vx["counters"], moved
        assert moved[0]["drops_total"] == 3
        assert h.js("counters", "--vlan", "10", sock=sock)["vlans"][0]["counters"] == v10["counters"]
        h.ok("counters", "clear", sock=sock)
        assert h.js("counters", "--vni", "42", "--udp-port", "4789", sock=sock)["vnis"][0]["drops_total"] == 0
        assert parse_prometheus(h.ok("metrics", sock=sock).out)[
            ("vxswitch_vni_drops_total", labels + ',reason="vxlan_no_next_hop"}')] == 3, "metrics keep totals"
    finally:
        assert s.stop() == 0, s.log_text()
    with open(state) as f:
        saved = json.load(f)
    vnis = {(v["vni"], v["protocol"]): v for v in saved["vnis"]}
    assert vnis[(42, "vxlan")]["vlan"] == 30 and vnis[(42, "vxlan")]["counters"]["decapsulated_packets"] == 2, vnis
    assert vnis[(42, "vxlan")]["drops"]["vxlan_no_next_hop"] == 3, "the state file keeps totals"
    assert {v["vlan"] for v in saved["vlans"]} == {10, 20, 30}, saved["vlans"]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))


def resources(h: harness, sock: str, pid: int) -> dict:
    """What a leak would show: packet buffers out of the pool (the most free over a few reads:
    a burst or two is always in flight), DPDK memory, ethdevs, switch ports, the process's RSS."""
    shows = [h.js("show", sock=sock) for _ in range(5)]
    return {"pool_free": max(j["pool"]["free"] for j in shows),
            "heap_blocks": shows[-1]["memory"]["dpdk_heap_allocations"],
            "heap_bytes": shows[-1]["memory"]["dpdk_heap_allocated_bytes"],
            "ethdevs": shows[-1]["ethdevs"],
            "ports": [p["name"] for p in shows[-1]["ports"]],
            "rss_kib": rss_kib(pid)}


# RSS may grow a little for reasons that are not leaks (the allocator's arenas, the log's
# buffers): a leak of one snapshot (~70 KiB of VLAN tables per port) per change would be
# tens of MiB here.
RSS_SLACK_KIB = 4096
POOL_SLACK = 64  # buffers a worker's cache may hold at one read and not at the other
# DPDK memory is checked by its number of blocks, exactly; its bytes move by a few KiB with
# where the ports' rings land (alignment padding), seen up to 9 KiB over this test.
HEAP_SLACK = 64 * 1024


def test_hitless_remoding_under_traffic(h: harness, d: daemon):
    """Frames flow from s to d (a static MAC) at full rate while ports x and y are re-moded,
    re-tagged and re-MTU'd, port z is added (into s and d's VLAN), re-moded and removed, and
    VDE port v (a port of the switch's own VDE switch) is added, re-moded and removed,
    hundreds of times: not one frame between s and d is dropped, d sends every frame s
    received (give or take the burst in flight when the counters are read), and nothing
    leaks: the pool's free buffers, DPDK memory, the ethdevs, the ports and the daemon's RSS
    come back to where they were."""
    changes = [
        ("port.set", {"port": "x", "set": {"mode": "trunk", "vlans": [10, 20, "100-199"], "native_vlan": 30}}),
        # net_ring, not net_null: DPDK 22.11's net_null does not free its queues' dummy packets
        # when closed (192 bytes of DPDK memory per queue and close), which this test would see.
        ("port.add", {"port": "z", "device": "net_ring_vxz", "set": {"mode": "trunk", "vlans": [10, 20]}}),
        ("port.set", {"port": "y", "set": {"mode": "customer", "s_vlan": 10, "c_vlans": [5, 6]}}),
        ("port.set", {"port": "z", "set": {"mode": "access", "vlan": 10, "mtu": 9000}}),
        ("port.set", {"port": "x", "set": {"mode": "s-trunk", "vlans": [10], "tpid": "0x9100", "mtu": 9000}}),
        ("port.remove", {"port": "z"}),
        ("port.set", {"port": "y", "set": {"mode": "access", "vlan": 10, "mtu": 1400}}),
        ("port.set", {"port": "x", "set": {"mode": "access", "vlan": 20, "tpid": None, "mtu": None}}),
        ("port.set", {"port": "y", "set": {"mode": "trunk", "vlans": [20], "mtu": None}}),
        # A VDE port: its endpoint (rings, ring ethdev) made and handed to the I/O thread, then
        # taken back and freed; flooded frames of s's VLAN reach it while it is there.
        ("port.add", {"port": "v", "type": "vde_switch", "set": {"mode": "trunk", "vlans": [10, 20]}}),
        ("port.set", {"port": "v", "set": {"mode": "access", "vlan": 20}}),
        ("port.remove", {"port": "v"}),
    ]
    rounds = 100  # 1200 changes, 400 of them a port added or removed
    s, sock = side_switch(h, "flow", flow_ports(h, "flow", "02:00:00:03:00:01", "02:00:00:03:00:02",
                                                [64 + i for i in range(32)]) + """\
  - { name: x, device: "net_null_vxx,no-rx=1", mode: access, vlan: 20 }
  - { name: y, device: "net_null_vxy,no-rx=1", mode: trunk, vlans: [20] }
""" + f"vde_switch: {{ path: {h.tmp}/flowvde }}\n")
    try:
        wait_for("traffic", lambda: h.js("counters", "d", sock=sock)["ports"][0]["counters"]["tx_packets"] > 1000)
        # A few rounds first: what DPDK allocates once, at the first hotplugs (32 blocks at the
        # first, 2 more at the second), is not a leak; after them a round allocates nothing.
        def send(n: int) -> list:
            requests = [json.dumps({"cmd": cmd, "args": args, "id": i}).encode() + b"\n"
                        for i, (cmd, args) in enumerate(changes * n)]
            return h.raw(requests, sock=sock)
        assert all(r["ok"] for r in send(3))
        baseline = resources(h, sock, s.proc.pid)
        before = {p["name"]: p for p in h.js("counters", sock=sock)["ports"]}
        started = time.time()
        replies = send(rounds)
        took = time.time() - started
        assert all(r["ok"] and r["result"]["applied"] for r in replies), [r for r in replies if not r["ok"]][:3]
        after = {p["name"]: p for p in h.js("counters", sock=sock)["ports"]}
        flowed = after["s"]["counters"]["rx_packets"] - before["s"]["counters"]["rx_packets"]
        assert flowed > 10000, f"traffic flowed throughout the changes: {flowed}"
        for port in ("s", "d"):
            assert after[port]["drops_total"] == 0, (port, {k: v for k, v in after[port]["drops"].items() if v})
        lag = after["s"]["counters"]["rx_packets"] - after["d"]["counters"]["tx_packets"]
        assert 0 <= lag <= 64, f"d sent every frame s received, but for the burst in flight: {lag}"
        assert after["s"]["counters"]["flooded"] == before["s"]["counters"]["flooded"], "no frame was flooded"
        ports = {p["name"]: p for p in h.js("show", sock=sock)["ports"]}
        assert ports["x"]["mode"] == "access" and ports["y"]["vlans"] == [20], "the last change holds"
        assert "z" not in ports, "z was removed last"
        log = s.log_text()
        assert len(re.findall(r"control: port '[xy]'", log)) >= 6 * rounds, "each change is logged"
        assert len(re.findall(r"control: port 'z': (added|removed)", log)) >= 2 * rounds, "each add and remove is logged"
        assert len(re.findall(r"control: port 'v': (added|removed)", log)) >= 2 * rounds, "each VDE add and remove too"
        now = resources(h, sock, s.proc.pid)
        print(f"      {len(replies)} changes in {took:.1f} s ({1000 * took / len(replies):.1f} ms each), "
              f"{flowed} frames s->d; before {baseline}, after {now}")
        assert now["ports"] == baseline["ports"] and now["ethdevs"] == baseline["ethdevs"], (baseline, now)
        assert now["pool_free"] >= baseline["pool_free"] - POOL_SLACK, ("mbufs leaked", baseline, now)
        assert now["heap_blocks"] <= baseline["heap_blocks"], ("DPDK memory leaked", baseline, now)
        assert now["heap_bytes"] <= baseline["heap_bytes"] + HEAP_SLACK, ("DPDK memory leaked", baseline, now)
        assert now["rss_kib"] <= baseline["rss_kib"] + RSS_SLACK_KIB, ("RSS grew", baseline, now)
    finally:
        assert s.stop() == 0, s.log_text()


TESTS = [
    test_show,
    test_vni_commands,
    test_traffic_is_learned,
    test_mac_move_is_logged,
    test_mac_show_filters,
    test_mac_count,
    test_mac_add_and_del,
    test_mac_flush,
    test_counters,
    test_vlan_counters,
    test_workers,
    test_counters_clear_and_metrics,
    test_errors,
    test_raw_protocol,
    test_permissions,
    test_port_set_and_config_apply,
    test_port_add_and_remove,
    test_config_dump_round_trip,  # stops the main daemon
    test_group_access_and_refusals,
    test_mac_writes_under_traffic,
    test_top,
    test_port_remove_refuses_the_vxlan_underlay,
    test_vde_ports_at_runtime,
    test_vde_counters,
    test_vni_counters,
    test_hitless_remoding_under_traffic,
]


def arguments(doc: str) -> argparse.Namespace:
    """The command line every end-to-end test of ctl/tests takes."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vxswitchd", required=True)
    ap.add_argument("--vxctl", required=True)
    ap.add_argument("-k", help="run only the tests whose name contains this (plus the daemon set-up)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return ap.parse_args()


def run_tests(tests: list, only: str | None, *with_args) -> int:
    """Runs each test (those whose name contains `only`) with `with_args`; returns the failures."""
    failures = 0
    for t in tests:
        if only and only not in t.__name__:
            continue
        try:
            t(*with_args)
            print(f"ok    {t.__name__}")
        except Exception:
            failures += 1
            print(f"FAIL  {t.__name__}\n{traceback.format_exc()}")
    return failures


def finish(failures: int, keep: bool, tmp: str) -> int:
    """Keeps the files of a failed run, says how it went; the exit status."""
    if failures or keep:
        print(f"daemon log and files kept in {tmp}")
    else:
        shutil.rmtree(tmp)
    print(f"{failures} failed" if failures else "all passed")
    return 1 if failures else 0


def main() -> int:
    args = arguments(__doc__)
    if os.geteuid() != 0:
        print("SKIP: needs root (DPDK ports, setpriv)")
        return SKIP
    tmp = tempfile.mkdtemp(prefix="vxctl-e2e.")
    os.chmod(tmp, 0o755)  # so that 'nobody' is kept out by the socket's mode, not by this
    for name, frames in INPUTS.items():
        write_pcap(f"{tmp}/{name}.pcap", frames)
    h = harness(args, tmp)
    with open(f"{tmp}/switch.yaml", "w") as f:
        f.write(config_text(tmp, h.sock, ", mode: 0600"))
    d = daemon(args.vxswitchd, f"{tmp}/switch.yaml", f"{tmp}/switch.log")
    failures = 0
    try:
        d.wait_serving(h.sock)
        failures = run_tests(TESTS, args.k, h, d)
    finally:
        d.stop()
    return finish(failures, args.keep, tmp)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end tests of vxctl's observation commands (capture, and later trace and top)
against the real vxswitchd. Port `a` is a net_pcap port on one end of a veth pair the test
creates (IPv6 off, so the kernel sends nothing of its own); the test writes known frames
into the other end with an AF_PACKET socket while vxctl runs, and reads what vxctl wrote
back with tcpdump and tshark. Root only.

    observe_test.py --vxswitchd build/dataplane/vxswitchd --vxctl build/ctl/vxctl [-k NAME]
"""

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ctl_test import SKIP, arguments, daemon, finish, frame, harness, mac_bytes, run_tests, wait_for  # noqa: E402

S1, S2, S3 = "02:00:00:00:1a:01", "02:00:00:00:1a:02", "02:00:00:00:1a:03"
GROUP_SOURCE = "03:00:00:00:1a:09"

# Into port a (access, VLAN 10): what each frame does.
GOOD = frame(S1)                                  # received, flooded to o, sent there
TAGGED = frame(S2, vlan=20)                       # dropped: tagged_on_access
GROUP = frame(GROUP_SOURCE)                       # dropped: source_group_mac
BIG = frame(S3, size=1450)                        # received, flooded, too long for o's MTU 1400


class veth:
    """A veth pair made for the test; `inject` writes raw frames into the peer's end."""

    def __init__(self, tag: str):
        self.a, self.b = f"vxo{tag}a", f"vxo{tag}b"
        subprocess.run(["ip", "link", "add", self.a, "type", "veth", "peer", "name", self.b], check=True)
        for dev in (self.a, self.b):
            with open(f"/proc/sys/net/ipv6/conf/{dev}/disable_ipv6", "w") as f:
                f.write("1")
            subprocess.run(["ip", "link", "set", dev, "up"], check=True)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self.sock.bind((self.b, 0))

    def inject(self, frames: list[bytes], gap: float = 0.05) -> None:
        for f in frames:
            self.sock.send(f)
            time.sleep(gap)  # one frame per burst: the order of received and drop records is fixed

    def remove(self) -> None:
        self.sock.close()
        subprocess.run(["ip", "link", "del", self.a], check=False)


def config_text(tmp: str, sock: str, iface: str) -> str:
    return f"""
dataplane: {{ workers: 1, memory_mb: 256, mbufs: 8191 }}
control: {{ socket: {sock} }}
ports:
  - {{ name: a, device: "net_pcap_vxoa,iface={iface}", mode: access, vlan: 10 }}
  - {{ name: o, device: "net_null_vxoo,no-rx=1", mode: access, vlan: 10, mtu: 1400 }}
"""


class background:
    """A vxctl command running in the background (capture, trace); started() waits until the
    daemon has armed the workers (vxctl says so on stderr)."""

    def __init__(self, h: harness, *argv: str, stdout=subprocess.DEVNULL, says: str = "capturing on port",
                 sock: str | None = None):
        self.says = says
        self.proc = subprocess.Popen([h.vxctl, "-s", sock or h.sock, *argv], stdout=stdout,
                                     stderr=subprocess.PIPE, text=False)

    def started(self) -> str:
        line = self.proc.stderr.readline().decode()
        assert self.says in line, f"vxctl {self.proc.args[3:]} did not start: {line!r} {self.proc.stderr.read()!r}"
        return line

    def finish(self, timeout: float = 20) -> str:
        _, err = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0, f"vxctl capture exited {self.proc.returncode}: {err!r}"
        return err.decode()


def tshark(path: str, *fields: str) -> list[list[str]]:
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-E", "separator=|",
                          *[x for f in fields for x in ("-e", f)]],
                         capture_output=True, text=True, check=True).stdout
    return [line.split("|") for line in out.splitlines()]


def tcpdump_frames(pcap: bytes | str) -> list[bytes]:
    """The frames tcpdump reads from a file (a path) or from stdin (bytes), as bytes."""
    argv = ["tcpdump", "-r", pcap if isinstance(pcap, str) else "-", "-nn", "-xx"]
    p = subprocess.run(argv, input=None if isinstance(pcap, str) else pcap, capture_output=True, check=True)
    frames: list[bytes] = []
    for line in p.stdout.decode().splitlines():
        if not line.startswith("\t0x"):
            frames.append(b"")
            continue
        frames[-1] += bytes.fromhex("".join(line.split(":", 1)[1].split()))
    return frames


# ---- the tests ----


def test_capture_rx_with_drops(h: harness, d: daemon, link: veth):
    path = f"{h.tmp}/rx.pcapng"
    c = background(h, "capture", "a", "--rx", "--drops", "-c", "6", "-w", path)
    assert "(rx, drops), 6 frames" in c.started()
    link.inject([GOOD, TAGGED, GROUP, BIG])
    err = c.finish()
    assert "6 frames captured, 0 lost" in err, err
    assert tcpdump_frames(path) == [GOOD, TAGGED, TAGGED, GROUP, GROUP, BIG], "tcpdump reads exactly those frames"
    rows = tshark(path, "frame.len", "frame.comment", "frame.interface_name", "pkt_comment")
    comments = [r[1] or r[3] for r in rows]
    assert comments == ["", "", "dropped: tagged_on_access", "", "dropped: source_group_mac", ""], rows
    assert {r[2] for r in rows} == {"a"}, "the interface is the port"


def test_capture_tx_to_stdout(h: harness, d: daemon, link: veth):
    """What port o sends, through `-w -` into `tcpdump -r -`; the frame o's MTU refuses is
    there with its reason."""
    c = background(h, "capture", "o", "--tx", "--drops", "-c", "2", "-w", "-", stdout=subprocess.PIPE)
    c.started()
    link.inject([GOOD, BIG])
    out, err = c.proc.communicate(timeout=20)
    assert c.proc.returncode == 0, err
    assert tcpdump_frames(out) == [GOOD, BIG]
    path = f"{h.tmp}/tx.pcapng"
    with open(path, "wb") as f:
        f.write(out)
    rows = tshark(path, "frame.comment", "pkt_comment", "frame.interface_name")
    assert [r[0] or r[1] for r in rows] == ["", "dropped: egress_mtu_exceeded"], rows
    assert {r[2] for r in rows} == {"o"}


def test_capture_refusals(h: harness, d: daemon, link: veth):
    h.refused("capture", "nope", "-w", f"{h.tmp}/x.pcapng", says="no port is named 'nope'")
    first = background(h, "capture", "a", "-w", f"{h.tmp}/both.pcapng")
    first.started()
    h.refused("capture", "o", "-w", f"{h.tmp}/y.pcapng", says="a capture is already running (on port 'a')")
    first.proc.send_signal(2)  # Ctrl-C: vxctl stops the capture and writes what it has
    assert "frames captured" in first.finish()
    r = h.raw([b'{"cmd": "capture.read", "args": {"session": 999}}\n'])[0]
    assert not r["ok"] and "no session 999 is running" in r["error"], r
    # Once stopped, the workers are disarmed: traffic flows on, nothing is captured.
    before = h.js("counters", "o")["ports"][0]["counters"]["tx_packets"]
    link.inject([GOOD])
    wait_for("o sends", lambda: h.js("counters", "o")["ports"][0]["counters"]["tx_packets"] > before)


S4, S5, S6 = "02:00:00:00:1b:04", "02:00:00:00:1b:05", "02:00:00:00:1b:06"
NOBODY = "02:00:00:00:1b:ff"  # never sends: unknown unicast


def test_trace(h: harness, d: daemon, link: veth):
    """Three frames that touch S4 are followed through every stage; a frame of S1 in
    front of them is not (the filter)."""
    t = background(h, "trace", "a", "-c", "3", "--filter", f"mac {S4}", stdout=subprocess.PIPE, says="following 3")
    t.started()
    link.inject([frame(S1), frame(S4), frame(S4, vlan=20), frame(S5, dst=S4)])
    out, err = t.proc.communicate(timeout=20)
    assert t.proc.returncode == 0, err
    want = f"""frame 1: port a, worker 0, 64 bytes, {S4} > ff:ff:ff:ff:ff:ff, ethertype 0x88b5
  parse         untagged
  vlan_ingress  vlan 10
  fdb_learn     source MAC new: learned on the ingress port
  fdb_lookup    flood: group destination
  forward       out o
frame 2: port a, worker 0, 64 bytes, {S4} > ff:ff:ff:ff:ff:ff, vlan 20 (0x8100), ethertype 0x88b5
  parse         1 tag, vid 20
  vlan_ingress  drop: tagged_on_access
frame 3: port a, worker 0, 64 bytes, {S5} > {S4}, ethertype 0x88b5
  parse         untagged
  vlan_ingress  vlan 10
  fdb_learn     source MAC new: learned on the ingress port
  fdb_lookup    drop: same_port
"""
    assert out.decode() == want, out.decode()


def test_trace_json_and_refusals(h: harness, d: daemon, link: veth):
    t = background(h, "--json", "trace", "-c", "1", "--filter", f"src {S6} ethertype 0x88b5",
                   stdout=subprocess.PIPE, says="following 1")
    t.started()
    link.inject([frame(S6, dst=NOBODY), frame(S6, size=1450)])
    out, err = t.proc.communicate(timeout=20)
    assert t.proc.returncode == 0, err
    frames = json.loads(out)["frames"]
    assert len(frames) == 1 and frames[0]["length"] == 64, frames
    steps = [(s["stage"], s["decision"], s.get("port"), s.get("reason")) for s in frames[0]["steps"]]
    assert steps == [("parse", "tags", None, None), ("vlan_ingress", "domain", None, None),
                     ("fdb_learn", "new", None, None), ("fdb_lookup", "flood", None, None),
                     ("forward", "out", "o", None)], steps
    assert frames[0]["steps"][3]["text"] == "flood: unknown unicast"
    t = background(h, "--json", "trace", "-c", "1", "--filter", f"src {S6}", stdout=subprocess.PIPE,
                   says="following 1")
    t.started()
    link.inject([frame(S6, size=1450)])
    out, err = t.proc.communicate(timeout=20)
    steps = [(s["stage"], s["decision"], s.get("port"), s.get("reason")) for s in json.loads(out)["frames"][0]["steps"]]
    assert steps == [("parse", "tags", None, None), ("vlan_ingress", "domain", None, None),
                     ("fdb_learn", "known", None, None), ("fdb_lookup", "flood", None, None),
                     ("forward", "refused", "o", "egress_mtu_exceeded")], steps
    h.refused("trace", "--filter", "vlan 5000", says="trace.start: filter: vlan: '5000' is not a number in 1..4094")
    h.refused("trace", "--filter", "colour red", says="unknown word 'colour'")
    h.refused("trace", "--filter", "src", says="'src' needs a value")
    h.refused("trace", "--filter", "dst 02:00", says="dst: '02:00' is not a MAC address")
    h.refused("trace", "nope", says="no port is named 'nope'")


def vxlan_frame(inner: bytes, vni: int, src_ip: str, dst_ip: str) -> bytes:
    """inner in VXLAN over UDP over IPv4, from src_ip to dst_ip (port 4789)."""
    udp_len = 8 + 8 + len(inner)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0, 64, 17, 0,
                     socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    words = struct.unpack("!10H", ip)
    total = sum(words)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    ip = ip[:10] + struct.pack("!H", ~total & 0xFFFF) + ip[12:]
    udp = struct.pack("!HHHH", 49152, 4789, udp_len, 0)
    head = mac_bytes("02:00:00:00:99:02") + mac_bytes("02:00:00:00:99:01") + struct.pack("!H", 0x0800)
    return head + ip + udp + struct.pack("!II", 0x08000000, vni << 8) + inner


def test_vtep_is_named_by_address(h: harness, d: daemon, link: veth):
    """A switch that is a VTEP on a veth: a frame decapsulated from 192.0.2.2 is traced
    through vxlan_decap, and its source MAC shows in `mac show` as behind that VTEP."""
    S7 = "02:00:00:00:1c:07"
    wire = veth(f"{os.getpid() % 100000}v")
    sock = f"{h.tmp}/vtep.sock"
    config = f"{h.tmp}/vtep.yaml"
    with open(config, "w") as f:
        f.write(f"""
dataplane: {{ workers: 1, memory_mb: 256, mbufs: 8191 }}
control: {{ socket: {sock} }}
ports:
  - {{ name: up, device: "net_pcap_vxou,iface={wire.a}" }}
  - {{ name: h, device: "net_null_vxoh,no-rx=1", mode: access, vlan: 10 }}
vxlan:
  underlay: up
  address: 192.0.2.1
  next_hop_mac: "02:00:00:00:99:02"
  vnis: [{{ vni: 42, vlan: 10, remotes: [192.0.2.2] }}]
""")
    v = daemon(h.vxswitchd, config, f"{h.tmp}/vtep.log")
    try:
        v.wait_serving(sock)
        t = background(h, "trace", "up", "-c", "1", stdout=subprocess.PIPE, says="following 1", sock=sock)
        t.started()
        wire.inject([vxlan_frame(frame(S7), 42, "192.0.2.2", "192.0.2.1")])
        out, err = t.proc.communicate(timeout=20)
        assert t.proc.returncode == 0, err
        lines = out.decode().splitlines()
        assert lines[1:] == ["  vxlan_decap   vni 42 -> vlan 10", "  fdb_lookup    flood: group destination",
                             "  forward       out h"], out.decode()
        entries = wait_for("the learner", lambda: h.js("mac", "show", "--mac", S7, sock=sock)["entries"])
        assert entries == [{"mac": S7, "vlan": 10, "port": "vtep 192.0.2.2", "type": "learned",
                            "idle_s": entries[0]["idle_s"]}], entries
        assert f"  10  {S7}  vtep 192.0.2.2  learned" in h.ok("mac", "show", sock=sock).out
    finally:
        assert v.stop() == 0, v.log_text()
        wire.remove()


TESTS = [test_capture_rx_with_drops, test_capture_tx_to_stdout, test_capture_refusals, test_trace,
         test_trace_json_and_refusals, test_vtep_is_named_by_address]


def main() -> int:
    args = arguments(__doc__)
    if os.geteuid() != 0:
        print("SKIP: needs root (DPDK ports, veth)")
        return SKIP
    for tool in ("tcpdump", "tshark", "ip"):
        if shutil.which(tool) is None:
            print(f"FAIL: {tool} is not installed (tools/deps.txt)")
            return 1
    tmp = tempfile.mkdtemp(prefix="vxctl-observe.")
    h = harness(args, tmp)
    link = veth(str(os.getpid() % 100000))
    failures = 0
    try:
        with open(f"{tmp}/switch.yaml", "w") as f:
            f.write(config_text(tmp, h.sock, link.a))
        d = daemon(args.vxswitchd, f"{tmp}/switch.yaml", f"{tmp}/switch.log")
        try:
            d.wait_serving(h.sock)
            failures = run_tests(TESTS, args.k, h, d, link)
        finally:
            assert d.stop() == 0, d.log_text()
    finally:
        link.remove()
    return finish(failures, args.keep, tmp)


if __name__ == "__main__":
    sys.exit(main())

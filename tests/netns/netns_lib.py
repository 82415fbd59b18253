# SPDX-License-Identifier: MIT
"""The plumbing of the netns suite: namespaces, veths, a vxswitchd on net_af_xdp, scapy sockets.

A test builds a `lab`: one namespace for the switch and one per host, all named
vxnt<pid>-<name> so that runs never collide; each host gets a veth whose `eth0` end is in its
namespace and whose other end, p-<name>, is in the switch's namespace and becomes a net_af_xdp
port of vxswitchd. Nothing is created in the root namespace (a veth is created directly in
its two namespaces), and lab.close() removes everything, also after a failure or a signal.

AF_XDP on veth, and the namespace, as found on Linux 6.18 with DPDK 22.11 and libxdp 1.3:

  - The daemon runs in its own namespace through `ip netns exec`, which unshares the mount
    namespace and remounts /sys: the root's bpffs at /sys/fs/bpf is not visible there. We
    mount a private bpffs in that mount namespace (it disappears with the daemon), so libxdp
    finds one as it would on a host, and its lock directory stays out of the root's bpffs.
    Without it libxdp says "No bpffs found" and loads its single program anyway.
  - libxdp's multi-program dispatcher does not load on this kernel (EPERM on its freplace
    compatibility check, the same in the root namespace with the root's bpffs); libxdp falls
    back to one program per interface (`xsk_def_prog`, native XDP on veth). The libbpf lines
    about it in the daemon's log are harmless.
  - TX checksum offload must be off on the host side (`ethtool -K eth0 tx off`): a veth hands
    CHECKSUM_PARTIAL skbs to its peer, XDP sees the packet with its checksum unfinished, and
    AF_XDP forwards it as is. The receiving kernel then drops UDP/TCP with a bad checksum
    (UDP InCsumErrors went up, nothing was delivered). ICMP and ARP are unaffected, so
    vlan_hosts.py sends UDP too, to keep this covered.
  - Both ends of each veth must be up: the XDP end drops what it is asked to send while its
    peer has no carrier, and receives nothing while down. The daemon does not bring the
    interfaces up (DPDK's net_af_xdp only marks its own link up): the lab does, before.
  - Tagged frames to a host: the receiving kernel moves the 802.1Q tag into skb metadata
    (software VLAN untag, whatever rx-vlan-offload says; with no 802.1q module and no VLAN
    device the frame is then dropped, after the packet taps). A plain AF_PACKET read shows
    the frame UNTAGGED: the tag is in PACKET_AUXDATA, which scapy's L2Socket reads and puts
    back as a Dot1Q layer. Any tag check must go through auxdata, or it would pass on
    untagged frames.
  - IPv6 is disabled in every namespace, the switch's included, so no router solicitation,
    DAD or MLD frames flood the VLANs: MAC tables and drop counts are then exact.
  - Without hugepages, DPDK 22.11's net_af_xdp registers as UMEM only part of the packet
    pool, so some mbufs are unusable; see af_xdp_ports.py, which checks for it.
"""

import contextlib
import ctypes
import json
import logging
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
PREFIX = "vxnt"
SETTLE_S = 0.5  # how long "nothing arrives" is watched, after a positive control arrived


def skip(msg):
    print(f"SKIP: {msg}", flush=True)
    sys.exit(SKIP)


class Fatal(Exception):
    """A step that later steps need has failed: stop, clean up, fail."""


class Interrupted(BaseException):
    """SIGTERM/SIGINT/SIGHUP (meson's timeout, ^C): stop, clean up, fail."""


def run(*argv, ns=None, check=True, timeout=30):
    """Runs a command (in namespace ns), returns the CompletedProcess; raises Fatal on failure."""
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in argv]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise Fatal(f"`{' '.join(cmd)}` exited {p.returncode}: {p.stderr.strip() or p.stdout.strip()}")
    return p


_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1


@contextlib.contextmanager
def netns(name):
    """Moves this (single-threaded) process into netns `name` for the block. A socket keeps the
    namespace it was created in, so sockets opened here send and receive in `name` after."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns({name}): {os.strerror(e)}")
        yield
    finally:
        if _libc.setns(home, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns(back home): {os.strerror(e)}")
        os.close(target)
        os.close(home)


def prerequisites(daemon):
    """Skips (exit 77) when the machine cannot run the suite; raises Fatal on a broken build."""
    if os.geteuid() != 0:
        skip("needs root (network namespaces, veths, AF_XDP)")
    os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    for tool in ("ip", "ethtool", "sysctl", "ping", "mount"):
        if not shutil.which(tool):
            skip(f"'{tool}' is not installed")
    try:
        logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
        import scapy.all  # noqa: F401
    except ImportError as e:
        skip(f"scapy is missing for {sys.executable} ({e}); Debian: apt-get install python3-scapy")
    try:
        socket.socket(44, socket.SOCK_RAW, 0).close()  # AF_XDP
    except OSError as e:
        skip(f"the kernel offers no AF_XDP sockets ({e})")
    if not os.access(daemon, os.X_OK):
        raise Fatal(f"no vxswitchd at {daemon}")


def sweep_stale():
    """Removes namespaces left by runs of this suite that were SIGKILLed (their pid is gone)."""
    out = run("ip", "netns", "list", check=False).stdout
    for name, pid in re.findall(rf"^({PREFIX}(\d+)-\S+)", out, re.M):
        if not os.path.exists(f"/proc/{pid}"):
            run("ip", "netns", "del", name, check=False)


class lab:
    """Hosts in namespaces around one vxswitchd. `hosts` maps a host name to a dict with
    mac, ip (or None), port (the switch port's name) and mode (the port's YAML, e.g.
    "mode: access, vlan: 10"). Results of checks are collected in `failures`."""

    def __init__(self, daemon, hosts, dataplane_yaml=()):
        self.daemon = daemon
        self.hosts = hosts
        self.dataplane_yaml = list(dataplane_yaml)
        self.tag = f"{PREFIX}{os.getpid()}-"
        self.sw = self.tag + "sw"
        self.namespaces = []
        self.socks = {}
        self.proc = None
        self.tmp = tempfile.mkdtemp(prefix=self.tag)
        self.log = os.path.join(self.tmp, "vxswitchd.log")
        self.state_file = os.path.join(self.tmp, "state.json")
        self.failures = []
        self._last_traffic = 0.0

    def ns(self, host):
        return self.tag + host

    def check(self, ok, what):
        print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
        if not ok:
            self.failures.append(what)
        return ok

    # -- set-up and tear-down

    def _add_netns(self, name):
        p = run("ip", "netns", "add", name, check=False)
        if p.returncode != 0:
            if not self.namespaces and re.search(r"denied|not permitted", p.stderr, re.I):
                skip(f"cannot create network namespaces: {p.stderr.strip()}")
            raise Fatal(f"ip netns add {name}: {p.stderr.strip()}")
        self.namespaces.append(name)
        # No IPv6: no RS/DAD/MLD frames to flood, so tables and counters are exact.
        run("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
            ns=name, check=False)

    def build(self):
        self._add_netns(self.sw)
        for h, spec in self.hosts.items():
            ns = self.ns(h)
            self._add_netns(ns)
            run("ip", "link", "add", f"p-{h}", "netns", self.sw, "type", "veth",
                "peer", "name", "eth0", "address", spec["mac"], "netns", ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
            run("ip", "-n", ns, "link", "set", "eth0", "up")
            run("ethtool", "-K", "eth0", "tx", "off", ns=ns)  # TX checksum offload: see above
            if spec.get("ip"):
                run("ip", "-n", ns, "addr", "add", f"{spec['ip']}/24", "dev", "eth0")
            run("ip", "-n", self.sw, "link", "set", f"p-{h}", "up")

    def config(self):
        lines = ["# written by tests/netns", "dataplane:", "  workers: 1",
                 "  idle_sleep_us: 50   # do not spin a core of a shared test machine",
                 *(f"  {line}" for line in self.dataplane_yaml),
                 "fdb:", "  max_entries: 4096", "ports:"]
        for i, (h, spec) in enumerate(self.hosts.items()):
            lines.append(f'  - {{ name: {spec["port"]}, device: "net_af_xdp{i},iface=p-{h},start_queue=0,'
                         f'queue_count=1", {spec["mode"]} }}')
        path = os.path.join(self.tmp, "vxswitchd.yaml")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start(self):
        cfg = self.config()
        # `ip netns exec` gives a fresh mount namespace with a new /sys: mount a private bpffs
        # for libxdp there (see above), then exec, so that self.proc.pid is the daemon's.
        script = 'mount -t bpf bpf /sys/fs/bpf 2>/dev/null || echo "netns: no private bpffs" >&2; exec "$@"'
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.sw, "sh", "-c", script, "sh", self.daemon, "-c", cfg,
                 "--state-file", self.state_file],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                # If this driver is SIGKILLed, the daemon gets SIGTERM (the setting survives
                # the execs) instead of polling on in a namespace nobody can name any more.
                preexec_fn=lambda: _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(self.log) as f:
                if "forwarding;" in f.read():
                    return
            if self.proc.poll() is not None:
                raise Fatal(f"vxswitchd exited {self.proc.returncode} before forwarding")
            time.sleep(0.05)
        raise Fatal("vxswitchd did not start forwarding within 30 s")

    def stop(self):
        """SIGINT, as an operator would; returns the exit status (None if it had to be killed)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def stop_and_read_state(self):
        """Stops the daemon, checks it exited 0, returns its state file, and prints per-port counts."""
        t0 = time.monotonic()
        rc = self.stop()
        self.check(rc == 0, f"vxswitchd stopped on SIGINT and exited 0 (status {rc}, {time.monotonic() - t0:.1f} s)")
        try:
            with open(self.state_file) as f:
                state = json.load(f)
        except (OSError, ValueError) as e:
            raise Fatal(f"no readable state file: {e}")
        for p in state["ports"]:
            c = p["counters"]
            drops = {r: n for r, n in p["drops"].items() if n}
            print(f"     port {p['name']:<6} rx {c['rx_packets']:<4} tx {c['tx_packets']:<4} "
                  f"flooded {c['flooded']:<3} drops {drops or 0}")
        return state

    def close(self):
        for s in self.socks.values():
            s.close()
        self.socks.clear()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for name in reversed(self.namespaces):  # deleting a namespace deletes its veth ends
            run("ip", "netns", "del", name, check=False)
        left = [n for n in self.namespaces if os.path.exists(f"/run/netns/{n}")]
        if left:
            print(f"cleanup: could not delete namespaces {left}", file=sys.stderr)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def dump_log(self):
        try:
            with open(self.log) as f:
                text = f.read()
        except OSError:
            return
        print("---- vxswitchd log ----")
        print(text.rstrip())
        print("-----------------------")

    # -- frames

    def open_sockets(self):
        from scapy.arch.linux import L2Socket

        for h in self.hosts:
            with netns(self.ns(h)):
                # No BPF filter (scapy would need tcpdump to compile one), no promiscuity: a
                # packet socket sees every frame the veth receives, whatever its destination.
                self.socks[h] = L2Socket(iface="eth0", promisc=False, nofilter=1)

    def drain(self, h, seconds=0.0, until=None):
        """Frames host h received until `seconds` elapse or one satisfies `until`."""
        sock = self.socks[h]
        got = []
        deadline = time.monotonic() + seconds
        while True:
            left = max(0.0, deadline - time.monotonic())
            r, _, _ = select.select([sock.ins], [], [], left)
            if not r:
                return got
            p = sock.recv()
            if p is None:  # our own outgoing frame
                continue
            got.append(p)
            if until is not None and until(p):
                return got

    def expect(self, h, what, match, seconds=2.0):
        got = self.drain(h, seconds, until=match)
        ok = bool(got) and match(got[-1])
        self.check(ok, what)
        if not ok:
            print(f"     {h} received {len(got)} other frame(s): {[p.summary() for p in got[:5]]}")
        return got[-1] if ok else None

    def expect_none(self, h, what, bad):
        """Checks that nothing h received, up to SETTLE_S after the last traffic we made, is bad."""
        leaked = [p for p in self.drain(h, self._last_traffic + SETTLE_S - time.monotonic()) if bad(p)]
        self.check(not leaked, what)
        for p in leaked[:5]:
            print(f"     {h} received: {p.summary()}")

    def send(self, h, frame, count=1):
        for _ in range(count):
            self.socks[h].send(frame)
        self._last_traffic = time.monotonic()

    def ping(self, src, dst_ip, count=3):
        ok = run("ping", "-c", count, "-i", "0.2", "-w", 2, dst_ip, ns=self.ns(src), check=False).returncode == 0
        self._last_traffic = time.monotonic()
        return ok


def main(scenario, hosts, dataplane_yaml=()):
    """Runs scenario(lab) in a fresh lab; exits 0 (pass), 1 (fail) or 77 (skip)."""
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} VXSWITCHD   (as root)", file=sys.stderr)
        sys.exit(2)
    daemon = os.path.abspath(sys.argv[1])

    def on_signal(signum, _frame):
        raise Interrupted(f"signal {signum}")

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    try:
        prerequisites(daemon)
    except Fatal as e:
        print(f"FAIL: {e}")
        sys.exit(1)
    sweep_stale()
    t0 = time.monotonic()
    the_lab = lab(daemon, hosts, dataplane_yaml)
    error = None
    try:
        the_lab.build()
        scenario(the_lab)
    except (Fatal, Interrupted, subprocess.TimeoutExpired, OSError) as e:
        error = e
    finally:
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)  # a second ^C must not leave namespaces behind
        failed = error is not None or bool(the_lab.failures)
        if failed and the_lab.proc is not None:
            the_lab.stop()
            the_lab.dump_log()
        the_lab.close()
    if error is not None:
        print(f"FAIL: {type(error).__name__}: {error}")
    elif the_lab.failures:
        print(f"FAIL: {len(the_lab.failures)} check(s) failed:")
        for f in the_lab.failures:
            print(f"  - {f}")
    else:
        print(f"PASS in {time.monotonic() - t0:.1f} s")
    sys.exit(1 if failed else 0)

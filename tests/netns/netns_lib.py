# SPDX-License-Identifier: MIT
"""The plumbing of the netns suite: namespaces, veths, vxswitchd on net_af_xdp, scapy sockets.

A test builds a `lab`: one namespace per switch and one per host, all named vxnt<pid>-<name>
so that runs never collide. Each host gets a veth whose `eth0` end is in its namespace and
whose other end, p-<host>, is in its switch's namespace and becomes a net_af_xdp port of that
switch's vxswitchd. A `link` joins two switches: each has a veth end l-<link> as a port, and
a tap sits between them (below). Nothing is created in the root namespace (a veth is created
directly in its two namespaces), and lab.close() removes everything, also after a failure or
a signal. Each vxswitchd has its own configuration, log, state file and control socket (in
the lab's temporary directory) and its own DPDK file prefix, so switches run side by side,
and beside other tests.

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
  - Tagged frames to a host: the receiving kernel moves the outer tag (802.1Q or 802.1ad)
    into skb metadata (software VLAN untag, whatever rx-vlan-offload says; with no 802.1q
    module and no VLAN device the frame is then dropped, after the packet taps). A plain
    AF_PACKET read shows the frame without it: the tag and its TPID are in PACKET_AUXDATA,
    which scapy's L2Socket reads and puts back. Any tag check must go through auxdata, or it
    would pass on untagged frames.
  - A packet socket on a veth end that AF_XDP owns sees nothing: XDP redirects received
    frames to the AF_XDP socket before the kernel's taps, and AF_XDP transmits past them.
    So a link's two veths meet in a "wire" namespace, in a Linux bridge without VLAN
    filtering (it forwards any tag stack as it is); a packet socket on the wire end facing
    a switch (lab.tap(link, switch)) receives exactly what that switch sent on the link. The
    wire ends have VLAN TX offload off, so the outer tag that the receiving kernel moved into
    metadata is written back into the frame as it leaves the bridge, before the other
    switch's XDP program sees it.
  - IPv6 is disabled in every namespace, the switches' and the wire's included, so no router
    solicitation, DAD or MLD frames flood the VLANs: MAC tables and drop counts are exact.
  - DPDK 22.11's net_af_xdp registers as each socket's UMEM only [first chunk, + buffers x
    object size) of the packet pool; vxswitchd lays its pool out to fit
    (create_packet_pool in dataplane/ports/dpdk_port.cc). af_xdp_ports.py is the
    regression test.
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
import threading
import time

SKIP = 77
PREFIX = "vxnt"
SETTLE_S = 0.5  # how long "nothing arrives" is watched, after a positive control arrived


def skip(msg):
    print(f"SKIP: {msg}", flush=True)
    sys.exit(SKIP)


def require_tools(*tools):
    """Skips the test unless every (program, Debian package) is installed."""
    for tool, package in tools:
        if not shutil.which(tool):
            skip(f"{tool} is not installed (Debian: apt-get install {package})")


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


def vxlan_section(address, vni, flood, vlan=10, underlay="up"):
    """The `vxlan:` section of a switch whose VTEP is `address` (IPv4 or IPv6) on port
    `underlay`, extending `vlan` as `vni`; `flood` is the VNI's flood key ("remotes: [...]" or
    "group: G")."""
    key = "address6" if ":" in address else "address"
    return (f"vxlan:\n  underlay: {underlay}\n  {key}: {address}\n"
            f"  vnis:\n    - {{ vni: {vni}, vlan: {vlan}, {flood} }}\n")


class switch:
    """One vxswitchd in namespace `ns`; `ports` are (port name, interface, port YAML) in order."""

    def __init__(self, name, ns, tmp, dataplane_yaml):
        self.name = name
        self.ns = ns
        self.dataplane_yaml = list(dataplane_yaml)
        self.ports = []
        self.proc = None
        files = os.path.join(tmp, name)
        self.log = files + ".log"
        self.state_file = files + ".state.json"
        self.control_socket = files + ".sock"
        self.config_file = files + ".yaml"

    def write_config(self):
        """Writes the configuration file from the ports; returns its path."""
        lines = ["# written by tests/netns", "dataplane:", "  workers: 1",
                 "  idle_sleep_us: 50   # do not spin a core of a shared test machine",
                 # --no-shconf/--in-memory already keep DPDK's runtime files away; a prefix
                 # of its own keeps apart whatever runtime directory DPDK still makes.
                 f'  eal_args: ["--file-prefix={self.ns}"]',
                 *(f"  {line}" for line in self.dataplane_yaml),
                 "fdb:", "  max_entries: 4096", "ports:"]
        for i, (port, iface, mode) in enumerate(self.ports):
            lines.append(f'  - {{ name: {port}, device: "net_af_xdp{i},iface={iface},start_queue=0,'
                         f'queue_count=1", {mode} }}')
        with open(self.config_file, "w") as f:
            f.write("\n".join(lines) + "\n")
        return self.config_file

    def launch(self, daemon):
        # `ip netns exec` gives a fresh mount namespace with a new /sys: mount a private bpffs
        # for libxdp there (see above), then exec, so that self.proc.pid is the daemon's.
        script = 'mount -t bpf bpf /sys/fs/bpf 2>/dev/null || echo "netns: no private bpffs" >&2; exec "$@"'
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.ns, "sh", "-c", script, "sh", daemon, "-c", self.config_file,
                 "--state-file", self.state_file, "--control-socket", self.control_socket],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                # If this driver is SIGKILLed, the daemon gets SIGTERM (the setting survives
                # the execs) instead of polling on in a namespace nobody can name any more.
                preexec_fn=lambda: _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM))

    def forwarding(self):
        """True once the daemon says it forwards; raises Fatal if it exited."""
        with open(self.log) as f:
            if "forwarding;" in f.read():
                return True
        if self.proc.poll() is not None:
            raise Fatal(f"vxswitchd {self.name} exited {self.proc.returncode} before forwarding")
        return False

    def control(self, cmd, **args):
        """One request on the daemon's control socket (docs/control-protocol.md); its result."""
        reply = self.request(cmd, **args)
        if not reply.get("ok"):
            raise Fatal(f"vxswitchd {self.name} refused {cmd}: {reply.get('error')}")
        return reply["result"]

    def request(self, cmd, **args):
        """The daemon's whole reply to one request: {"ok": true, "result": ...} or {"ok": false, "error": ...}."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.control_socket)
            s.sendall(json.dumps({"cmd": cmd, "args": args}).encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    raise Fatal(f"vxswitchd {self.name} closed the control connection on {cmd}")
                buf += chunk
        return json.loads(buf)

    def counters(self):
        """{port: {counter or drop reason: value}}, read live."""
        return {p["name"]: {**p["counters"], **p["drops"]} for p in self.control("counters")["ports"]}

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

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def dump_log(self):
        try:
            with open(self.log) as f:
                text = f.read()
        except OSError:
            return
        print(f"---- vxswitchd {self.name} log ----")
        print(text.rstrip())
        print("-----------------------")


class lab:
    """Hosts in namespaces around one or more vxswitchd.

    `hosts` maps a host name to a dict with mac, ip (or None), port (the switch port's name),
    mode (the port's YAML, e.g. "mode: access, vlan: 10") and optionally switch (default
    "sw"). `switches` maps each switch name to the extra `dataplane:` YAML lines it runs
    with (default: one switch "sw" with `dataplane_yaml`). `links` maps a link name to its
    two ends, each (switch, port name, port YAML). Results of checks are collected in
    `failures`."""

    def __init__(self, daemon, hosts, dataplane_yaml=(), switches=None, links=None):
        self.daemon = daemon
        self.hosts = hosts
        self.links = links or {}
        self.tag = f"{PREFIX}{os.getpid()}-"
        self.tmp = tempfile.mkdtemp(prefix=self.tag)
        self.switches = {name: switch(name, self.tag + name, self.tmp, extra)
                         for name, extra in (switches or {"sw": dataplane_yaml}).items()}
        self.namespaces = []
        self.socks = {}
        self.failures = []
        self._last_traffic = 0.0

    def ns(self, host):
        return self.tag + host

    def _switch(self, name=None):
        """Switch `name`, or the only one."""
        (sw,) = [self.switches[name]] if name else self.switches.values()
        return sw

    # A one-switch lab's switch, as tests that extend the lab (a subclass's config()) use it.
    sw = property(lambda self: self._switch().ns)
    log = property(lambda self: self._switch().log)
    proc = property(lambda self: self._switch().proc)

    def config(self, name=None):
        """Writes switch `name`'s (or the only switch's) configuration file; returns its path.
        A subclass may override it to edit the file, calling super().config() first."""
        return self._switch(name).write_config()

    def wire_ns(self, link):
        return self.tag + "wire-" + link

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
        for sw in self.switches.values():
            self._add_netns(sw.ns)
        for h, spec in self.hosts.items():
            ns = self.ns(h)
            sw = self.switches[spec.get("switch", "sw")]
            self._add_netns(ns)
            run("ip", "link", "add", f"p-{h}", "netns", sw.ns, "type", "veth",
                "peer", "name", "eth0", "address", spec["mac"], "netns", ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
            run("ip", "-n", ns, "link", "set", "eth0", "up")
            run("ethtool", "-K", "eth0", "tx", "off", ns=ns)  # TX checksum offload: see above
            if spec.get("ip"):
                run("ip", "-n", ns, "addr", "add", f"{spec['ip']}/24", "dev", "eth0")
            run("ip", "-n", sw.ns, "link", "set", f"p-{h}", "up")
            sw.ports.append((spec["port"], f"p-{h}", spec["mode"]))
        for link, ends in self.links.items():
            self._build_link(link, ends)

    def _build_link(self, link, ends):
        wire = self.wire_ns(link)
        self._add_netns(wire)
        # No snooping: a snooping bridge joins the all-snoopers group (224.0.0.106) and sends
        # its own IGMP report out of every port, an untagged frame the switches would count.
        run("ip", "-n", wire, "link", "add", "br0", "type", "bridge", "stp_state", "0", "mcast_snooping", "0")
        for sw_name, port, mode in ends:
            sw = self.switches[sw_name]
            run("ip", "link", "add", f"l-{link}", "netns", sw.ns, "type", "veth",
                "peer", "name", sw_name, "netns", wire)
            # The bridge must write the outer tag back into the frame (see above).
            run("ethtool", "-K", sw_name, "txvlan", "off", "tx-vlan-stag-hw-insert", "off", ns=wire)
            run("ip", "-n", wire, "link", "set", sw_name, "master", "br0", "up")
            run("ip", "-n", sw.ns, "link", "set", f"l-{link}", "up")
            sw.ports.append((port, f"l-{link}", mode))
        run("ip", "-n", wire, "link", "set", "br0", "up")

    def start(self):
        for sw in self.switches.values():
            # A subclass's config() of a one-switch lab may take no name.
            self.config(*([sw.name] if len(self.switches) > 1 else []))
            sw.launch(self.daemon)
        deadline = time.monotonic() + 30
        waiting = list(self.switches.values())
        while waiting and time.monotonic() < deadline:
            waiting = [sw for sw in waiting if not sw.forwarding()]
            time.sleep(0.05)
        if waiting:
            raise Fatal(f"vxswitchd {', '.join(sw.name for sw in waiting)} did not start forwarding within 30 s")

    def stop_and_read_state(self, name=None):
        """Stops a switch (the only one if name is None), checks it exited 0, returns its state
        file, and prints per-port counts."""
        sw = self._switch(name)
        t0 = time.monotonic()
        rc = sw.stop()
        self.check(rc == 0, f"vxswitchd {sw.name} stopped on SIGINT and exited 0 (status {rc}, "
                   f"{time.monotonic() - t0:.1f} s)")
        try:
            with open(sw.state_file) as f:
                state = json.load(f)
        except (OSError, ValueError) as e:
            raise Fatal(f"no readable state file from {sw.name}: {e}")
        for p in state["ports"]:
            c = p["counters"]
            drops = {r: n for r, n in p["drops"].items() if n}
            print(f"     {sw.name} port {p['name']:<8} rx {c['rx_packets']:<4} tx {c['tx_packets']:<4} "
                  f"flooded {c['flooded']:<3} drops {drops or 0}")
        return state

    def close(self):
        for s in self.socks.values():
            s.close()
        self.socks.clear()
        for sw in self.switches.values():
            sw.kill()
        for name in reversed(self.namespaces):  # deleting a namespace deletes its veth ends
            run("ip", "netns", "del", name, check=False)
        left = [n for n in self.namespaces if os.path.exists(f"/run/netns/{n}")]
        if left:
            print(f"cleanup: could not delete namespaces {left}", file=sys.stderr)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def stop_all_and_dump_logs(self):
        for sw in self.switches.values():
            if sw.proc is not None:
                sw.stop()
                sw.dump_log()

    # -- frames

    def _open_socket(self, key, ns, iface):
        from scapy.arch.linux import L2Socket

        with netns(ns):
            # No BPF filter (scapy would need tcpdump to compile one), no promiscuity: a
            # packet socket sees every frame the veth receives, whatever its destination.
            self.socks[key] = L2Socket(iface=iface, promisc=False, nofilter=1)

    def open_sockets(self):
        for h in self.hosts:
            self._open_socket(h, self.ns(h), "eth0")

    def tap(self, link, sw_name):
        """The name of a socket (for drain/expect) that receives what switch sw_name sends on link."""
        key = f"tap:{link}:{sw_name}"
        if key not in self.socks:
            self._open_socket(key, self.wire_ns(link), sw_name)
        return key

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

    def ping(self, src, dst_ip, count=3, pattern=None):
        """The kernel's ping; `pattern` (hex, up to 16 bytes) fills the payload, so that the
        echo requests and replies of one test can be told apart from another's."""
        fill = ["-p", pattern] if pattern else []
        ok = run("ping", "-c", count, "-i", "0.2", "-w", 2, *fill, dst_ip, ns=self.ns(src), check=False).returncode == 0
        self._last_traffic = time.monotonic()
        return ok


def tcp_stream(server_ns, server_ip, client_ns, port, min_bytes, result, stop):
    """Streams from namespace `client_ns` to `server_ip`:`port` (a listener in `server_ns`) over TCP
    until `stop` is set and at least `min_bytes` went, so that the transfer spans the traffic a
    test makes meanwhile; fills result['sent'], result['received'] (and 'error'). Returns the
    threads to join and the sockets to close."""
    family = socket.AF_INET6 if ":" in server_ip else socket.AF_INET
    with netns(server_ns):
        server = socket.socket(family, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((server_ip, port))
        server.listen(1)
        server.settimeout(10)
    with netns(client_ns):
        client = socket.socket(family, socket.SOCK_STREAM)
        client.settimeout(10)

    def serve():
        try:
            conn, _ = server.accept()
            conn.settimeout(10)
            n = 0
            while chunk := conn.recv(65536):
                n += len(chunk)
            conn.close()
            result["received"] = n
        except OSError as e:
            result["error"] = f"server: {e}"

    def send():
        chunk = bytes(range(256)) * 256
        sent = 0
        try:
            client.connect((server_ip, port))
            while not stop.is_set() or sent < min_bytes:
                client.sendall(chunk)
                sent += len(chunk)
                time.sleep(0.02)  # ~3 MB/s: a stream, not a load test
            client.shutdown(socket.SHUT_WR)
        except OSError as e:
            result["error"] = f"client: {e}"
        result["sent"] = sent

    threads = [threading.Thread(target=serve), threading.Thread(target=send)]
    for t in threads:
        t.start()
    return threads, [server, client]


def vxctl_path(daemon):
    """The vxctl of the same build as the daemon (VXSWITCHD/../../ctl/vxctl); Fatal if it is missing."""
    vxctl = os.path.normpath(os.path.join(os.path.dirname(daemon), "..", "ctl", "vxctl"))
    if not os.access(vxctl, os.X_OK):
        raise Fatal(f"no vxctl at {vxctl}")
    return vxctl


def resources(sw):
    """What a leak in switch `sw` would show (the runtime port tests compare two readings): the
    pool's free buffers (the most over a few reads: a worker's cache), DPDK heap blocks and
    bytes, ethdevs, ports, the daemon's threads, file descriptors (the fewest over a few
    reads: a control connection just answered may not be closed yet) and RSS."""
    shows = [sw.control("show") for _ in range(5)]
    pid = sw.proc.pid
    with open(f"/proc/{pid}/status") as f:
        rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    fds = []
    for _ in range(5):
        time.sleep(0.05)
        fds.append(len(os.listdir(f"/proc/{pid}/fd")))
    return {"pool_free": max(j["pool"]["free"] for j in shows),
            "heap_blocks": shows[-1]["memory"]["dpdk_heap_allocations"],
            "heap_bytes": shows[-1]["memory"]["dpdk_heap_allocated_bytes"],
            "ethdevs": shows[-1]["ethdevs"],
            "ports": [p["name"] for p in shows[-1]["ports"]],
            "threads": len(os.listdir(f"/proc/{pid}/task")),
            "fds": min(fds),
            "rss_kib": rss}


def main(scenario, hosts, dataplane_yaml=(), switches=None, links=None):
    """Runs scenario(lab) in a fresh lab (see lab); exits 0 (pass), 1 (fail) or 77 (skip)."""
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
    the_lab = lab(daemon, hosts, dataplane_yaml, switches, links)
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
        if failed:
            the_lab.stop_all_and_dump_logs()
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

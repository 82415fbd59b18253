#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""xdp_steer_fallback: an af_xdp port never falls back silently, and never takes an interface
that already has an XDP program.

    usage: xdp_steer_fallback.py VXSWITCHD      (as root; exit 0 pass, 1 fail, 77 skip)

In one namespace: a veth pair and a macvlan on it. macvlan has no native XDP, so the kernel
runs vx_steer in generic (skb) mode: the daemon must say so with a warning naming the port,
the interface and the mode. Then, with an XDP program attached to the other veth end by
`ip link set ... xdp` (bpf/steer.bpf.o itself, in native mode), a daemon given that
interface must refuse to start (status 1), with a message naming the port, the interface and
the program already there, and leave that program in place.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import netns_lib


def start(daemon, ns, config, log):
    """Runs vxswitchd in `ns` (with a private bpffs, as netns_lib does) until it forwards or exits."""
    script = 'mount -t bpf bpf /sys/fs/bpf 2>/dev/null; exec "$@"'
    with open(log, "w") as out:
        proc = subprocess.Popen(["ip", "netns", "exec", ns, "sh", "-c", script, "sh", daemon, "-c", config],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        with open(log) as f:
            if "forwarding;" in f.read():
                break
        time.sleep(0.05)
    return proc


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def config(tmp, iface):
    path = os.path.join(tmp, f"{iface}.yaml")
    with open(path, "w") as f:
        f.write("dataplane: { workers: 1, idle_sleep_us: 50 }\n"
                f"control: {{ socket: {tmp}/vxswitchd.sock }}\n"
                f"ports:\n  - {{ name: fab, type: af_xdp, iface: {iface}, mode: trunk, vlans: [10] }}\n")
    return path


def main():
    if len(sys.argv) != 3:
        print(f"usage: {sys.argv[0]} VXSWITCHD STEER_BPF_OBJECT   (as root)", file=sys.stderr)
        sys.exit(2)
    daemon, bpf_object = map(os.path.abspath, sys.argv[1:])
    try:
        netns_lib.prerequisites(daemon)
    except netns_lib.Fatal as e:
        print(f"FAIL: {e}")
        sys.exit(1)
    netns_lib.sweep_stale()
    ns = f"{netns_lib.PREFIX}{os.getpid()}-fb"
    tmp = tempfile.mkdtemp(prefix=ns)
    failures = []

    def check(ok, what):
        print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)
        if not ok:
            failures.append(what)

    run = netns_lib.run
    try:
        run("ip", "netns", "add", ns)
        run("ip", "-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb")
        if run("ip", "-n", ns, "link", "add", "mv0", "link", "va", "type", "macvlan", "mode", "bridge",
               check=False).returncode != 0:
            netns_lib.skip("this kernel has no macvlan (a driver without native XDP is needed)")
        for dev in ("lo", "va", "vb", "mv0"):
            run("ip", "-n", ns, "link", "set", dev, "up")

        print("# 1. macvlan: generic XDP, said with a warning")
        log = os.path.join(tmp, "generic.log")
        proc = start(daemon, ns, config(tmp, "mv0"), log)
        forwarding = proc.poll() is None
        status = stop(proc)
        with open(log) as f:
            text = f.read()
        check(forwarding and status == 0, f"vxswitchd ran on mv0 and stopped cleanly (status {status})")
        check("warning port 'fab': vx_steer" in text and "runs on mv0 in generic XDP mode" in text
              and "no native XDP" in text, "the daemon warned that vx_steer runs in generic mode on mv0")
        shown = run("ip", "-n", ns, "link", "show", "mv0").stdout
        check("xdp" not in shown, "the program was detached when the daemon stopped")
        if failures:
            print(text)

        print("# 2. an interface with an XDP program already: refused, the program left alone")
        run("ip", "-n", ns, "link", "set", "dev", "vb", "xdpdrv", "obj", bpf_object, "sec", "xdp")
        log = os.path.join(tmp, "busy.log")
        proc = start(daemon, ns, config(tmp, "vb"), log)
        status = proc.wait(timeout=30) if proc.poll() is None else proc.returncode
        with open(log) as f:
            text = f.read()
        check(status == 1, f"vxswitchd refused to start (status {status})")
        check("port 'fab' (af_xdp, iface vb): the interface already has an XDP program ('vx_steer'" in text
              and "ip link set dev vb xdp off" in text, "the message names the port, the interface and the program")
        check("xdp" in run("ip", "-n", ns, "link", "show", "vb").stdout, "the other program is still attached")
        if failures:
            print(text)
    except (netns_lib.Fatal, subprocess.TimeoutExpired, OSError) as e:
        failures.append(f"{type(e).__name__}: {e}")
        print(f"FAIL: {e}")
    finally:
        run("ip", "netns", "del", ns, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"FAIL: {len(failures)} check(s) failed" if failures else "PASS")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

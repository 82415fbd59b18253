# SPDX-License-Identifier: MIT
"""vxbench --ports pci refuses what it cannot run, before it starts anything: each case runs the
real vxbench and wants exit status 2 and a message naming what is wrong. There is no NIC on the
test machine, so the addresses are this machine's own PCI devices (one bound to a kernel driver,
one bound to none, when it has them) or ones that do not exist.

  /usr/bin/python3 bench/system/vxbench_pci_test.py bench/system/vxbench
"""

import os
import subprocess
import sys
from pathlib import Path

DPDK_DRIVERS = ("vfio-pci", "uio_pci_generic", "igb_uio", "mlx5_core", "mlx4_core")
MISSING = ("0000:fe:1f.6", "0000:fe:1f.7")  # no such device on any machine we know


def devices_by_driver():
    """(address, driver or None) of this machine's PCI devices."""
    root = Path("/sys/bus/pci/devices")
    out = []
    for dev in sorted(root.iterdir()) if root.exists() else []:
        link = dev / "driver"
        out.append((dev.name, os.path.basename(os.readlink(link)) if link.exists() else None))
    return out


def cases():
    yield [], "needs --pci (the DUT's NICs) and --pci-gen"
    yield ["--pci", MISSING[0]], "needs --pci (the DUT's NICs) and --pci-gen"
    yield ["--pci", "03:00", "--pci-gen", MISSING[1]], "--pci '03:00': not a PCI address"
    yield ["--pci", f"{MISSING[0]},{MISSING[1]}", "--pci-gen", "fe:1f.5"], "--pci names 2 NICs and --pci-gen 1"
    yield ["--pci", "fe:1f.6", "--pci-gen", MISSING[0]], "0000:fe:1f.6 is named twice"
    yield ["--pci", MISSING[0], "--pci-gen", MISSING[1]], f"--pci {MISSING[0]}: no such PCI device"
    devs = devices_by_driver()
    kernel = next((a for a, d in devs if d and d not in DPDK_DRIVERS), None)
    unbound = next((a for a, d in devs if d is None), None)
    if kernel:
        driver = dict(devs)[kernel]
        yield (["--pci", kernel, "--pci-gen", MISSING[1]],
               f"--pci {kernel}: bound to {driver}, a kernel driver DPDK cannot use: bind it to vfio-pci")
    else:
        print("(no device bound to a kernel driver here: that case not run)")
    if unbound:
        yield (["--pci", unbound, "--pci-gen", MISSING[1]], f"--pci {unbound}: bound to no driver: bind it to "
               f"vfio-pci (dpdk-devbind.py -b vfio-pci {unbound})")
    else:
        print("(no device bound to no driver here: that case not run)")


def main() -> int:
    if len(sys.argv) != 2:
        print(f"usage: {sys.argv[0]} VXBENCH", file=sys.stderr)
        return 2
    vxbench = sys.argv[1]
    failures = 0
    for extra, want in cases():
        cmd = [sys.executable, vxbench, "--ports", "pci", "--no-install", "--contenders", "vxswitch",
               "--vxswitchd", "/bin/true"] + extra
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        ok = p.returncode == 2 and want in p.stderr and not p.stdout
        print(f"{'ok  ' if ok else 'FAIL'} {' '.join(extra) or '(no addresses)'}: exit {p.returncode}, "
              f"{p.stderr.strip()}")
        if not ok:
            print(f"     wanted exit 2 and '{want}'")
            failures += 1
    # Named without --ports pci, the addresses are refused too.
    p = subprocess.run([sys.executable, vxbench, "--pci", MISSING[0], "--no-install"], capture_output=True,
                       text=True, timeout=60)
    ok = p.returncode == 2 and "--pci and --pci-gen name the NICs of --ports pci" in p.stderr
    print(f"{'ok  ' if ok else 'FAIL'} --pci without --ports pci: exit {p.returncode}, {p.stderr.strip()}")
    failures += not ok
    print("PASS" if not failures else f"FAIL: {failures} case(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

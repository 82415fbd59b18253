#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""vxlan_runtime: VNIs added, changed and removed while the VTEP forwards, against the Linux
kernel's vxlan devices; traffic on the VNI the changes do not touch loses nothing.

    usage: vxlan_runtime.py VXSWITCHD      (as root; exit 0 pass, 1 fail, 77 skip)

    h1 (10.9.0.1) access vlan 10 --.                      .-- vx42 (VNI 42) br42 -- ka (10.9.0.2)
    h2 (10.9.1.1) access vlan 20 --[vxswitchd VTEP 192.0.2.1]-up-- kvtep eth0 192.0.2.2
    h3 (10.9.1.3) access vlan 30 --'                      '-- vx43 (VNI 43) br43 -- kb (10.9.1.2)

The switch starts with VNI 42 (vlan 10) only. While h1 pings ka every 10 ms, the VNI 43 is
added at runtime (h2 then pings kb through it), moved to vlan 30 (h3 pings kb, h2 no longer
does), given a multicast group and the group taken away again (the VTEP's IGMPv3 join and its
leave, change-to-include {} for the group, are read off the underlay in the kernel VTEP's
namespace), and removed (h3's ping fails, kb's MAC is gone from the MAC table), 24 times over
with vxctl's protocol (vni.add, vni.set, vni.remove). h1's ping loses nothing. Refused
changes (a VLAN no port carries, a second VNI 43, a changed ttl in config.apply) leave
`config dump` as it was.
"""

import struct
import subprocess
import time

import netns_lib

SWITCH_VTEP = "192.0.2.1"
KERNEL_VTEP = "192.0.2.2"
GROUP = "239.1.1.43"
KA = {"mac": "02:76:79:00:0a:02", "ip": "10.9.0.2"}
KB = {"mac": "02:76:79:00:0b:02", "ip": "10.9.1.2"}
HOSTS = {
    "h1": {"mac": "02:76:79:00:0a:01", "ip": "10.9.0.1", "port": "h1", "mode": "mode: access, vlan: 10"},
    "h2": {"mac": "02:76:79:00:0b:01", "ip": "10.9.1.1", "port": "h2", "mode": "mode: access, vlan: 20"},
    "h3": {"mac": "02:76:79:00:0b:03", "ip": "10.9.1.3", "port": "h3", "mode": "mode: access, vlan: 30"},
    "kvtep": {"mac": "02:76:79:00:0f:02", "ip": KERNEL_VTEP, "port": "up", "mode": "mode: access"},
}
ROUNDS = 24
PING_EVERY = 6  # rounds between two rounds that also ping through VNI 43 (pings take seconds)


class runtime_lab(netns_lib.lab):
    def config(self):
        path = super().config()
        with open(path, "a") as f:
            f.write(netns_lib.vxlan_section(SWITCH_VTEP, 42, f"remotes: [{KERNEL_VTEP}]"))
        return path


def kernel_segment(lab, vni, host):
    """vxVNI and brVNI in kvtep, and host's namespace behind them."""
    ns = lab.ns("kvtep")
    name = f"k{vni}"
    lab._add_netns(lab.ns(name))
    netns_lib.run("ip", "-n", ns, "link", "add", f"vx{vni}", "type", "vxlan", "id", vni, "remote", SWITCH_VTEP,
                  "dev", "eth0", "local", KERNEL_VTEP, "dstport", 4789)
    netns_lib.run("ip", "-n", ns, "link", "add", f"br{vni}", "type", "bridge")
    netns_lib.run("ip", "-n", ns, "link", "add", f"vh{vni}", "type", "veth", "peer", "name", "eth0",
                  "address", host["mac"], "netns", lab.ns(name))
    for dev in (f"vx{vni}", f"vh{vni}"):
        netns_lib.run("ip", "-n", ns, "link", "set", dev, "master", f"br{vni}")
        netns_lib.run("ip", "-n", ns, "link", "set", dev, "up")
    netns_lib.run("ip", "-n", ns, "link", "set", f"br{vni}", "up")
    netns_lib.run("ip", "-n", lab.ns(name), "link", "set", "lo", "up")
    netns_lib.run("ip", "-n", lab.ns(name), "link", "set", "eth0", "up")
    netns_lib.run("ip", "-n", lab.ns(name), "addr", "add", f"{host['ip']}/24", "dev", "eth0")
    return name


def igmp_records(frame):
    """The (record type, group) pairs of an IGMPv3 report, read from the raw bytes; [] otherwise."""
    raw = bytes(frame)
    if len(raw) < 14 + 20 or raw[12:14] != b"\x08\x00" or raw[14 + 9] != 2:
        return []
    ihl = (raw[14] & 0x0F) * 4
    igmp = raw[14 + ihl:]
    if len(igmp) < 8 or igmp[0] != 0x22:
        return []
    out = []
    at = 8
    for _ in range(struct.unpack("!H", igmp[6:8])[0]):
        rtype, aux, sources = igmp[at], igmp[at + 1], struct.unpack("!H", igmp[at + 2:at + 4])[0]
        out.append((rtype, ".".join(str(b) for b in igmp[at + 4:at + 8])))
        at += 8 + 4 * sources + 4 * aux
    return out


def reports_seen(lab, seconds):
    """The IGMPv3 records the kernel VTEP's eth0 received within `seconds`."""
    records = []
    for frame in lab.drain("underlay", seconds):
        records += igmp_records(frame)
    return records


def change(lab, cmd, **args):
    sw = lab._switch()
    return sw.control(cmd, **args)


def kb_learned(lab):
    return [e for e in change(lab, "mac.show")["entries"] if e["mac"] == KB["mac"]]


def refusals_change_nothing(lab):
    sw = lab._switch()
    before = change(lab, "config.dump")["yaml"]
    bad_vlan = sw.request("vni.add", vni=44, set={"vlan": 99, "remotes": [KERNEL_VTEP]})
    lab.check(not bad_vlan["ok"] and "no port carries vlan 99" in bad_vlan["error"],
              f"vni.add with a VLAN no port carries is refused, naming it: {bad_vlan.get('error')!r}")
    change(lab, "vni.add", vni=43, set={"vlan": 20, "remotes": [KERNEL_VTEP]})
    twice = sw.request("vni.add", vni=43, set={"vlan": 30})
    lab.check(not twice["ok"] and "vni 43 already exists" in twice["error"],
              f"a second VNI 43 is refused: {twice.get('error')!r}")
    change(lab, "vni.remove", vni=43)
    ttl = sw.request("config.apply", yaml=before.replace("ttl: 64", "ttl: 9"))
    lab.check(not ttl["ok"] and "vxlan.ttl: 64 -> 9 needs a restart" in ttl["error"],
              f"config.apply changing the ttl is refused as needing a restart: {ttl.get('error')!r}")
    after = change(lab, "config.dump")["yaml"]
    lab.check(after == before, "config dump is what it was after the refused changes")


def scenario(lab):
    kernel_segment(lab, 42, KA)
    kernel_segment(lab, 43, KB)
    lab.start()
    lab.check(lab.ping("h1", KA["ip"], count=3), "h1 pings ka over VNI 42")
    steady = subprocess.Popen(["ip", "netns", "exec", lab.ns("h1"), "ping", "-q", "-i", "0.01", "-c", "3000",
                               "-W", "1", KA["ip"]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    t0 = time.monotonic()
    leaves = joins = 0
    for i in range(ROUNDS):
        pinging = i % PING_EVERY == 0
        change(lab, "vni.add", vni=43, set={"vlan": 20, "remotes": [KERNEL_VTEP]})
        if pinging:
            lab.check(lab.ping("h2", KB["ip"], count=2), f"round {i}: h2 pings kb over VNI 43, added at runtime")
        change(lab, "vni.set", vni=43, set={"vlan": 30})
        if pinging:
            lab.check(lab.ping("h3", KB["ip"], count=2), f"round {i}: h3 pings kb once VNI 43 moved to vlan 30")
            lab.check(not lab.ping("h2", KB["ip"], count=1), f"round {i}: h2 no longer reaches kb")
        if i == 0:  # opened now: a packet socket's buffer holds only a second or two of the ping
            lab._open_socket("underlay", lab.ns("kvtep"), "eth0")
        change(lab, "vni.set", vni=43, set={"group": GROUP})
        if i == 0:  # each report twice, a second apart
            joins = reports_seen(lab, 1.6).count((4, GROUP))
        change(lab, "vni.set", vni=43, set={"group": None})
        if i == 0:
            leaves = reports_seen(lab, 1.6).count((3, GROUP))
        change(lab, "vni.remove", vni=43)
        if pinging:
            lab.check(not lab.ping("h3", KB["ip"], count=1), f"round {i}: h3 no longer reaches kb once VNI 43 is removed")
            learned = kb_learned(lab)
            lab.check(not learned, f"round {i}: kb's MAC is gone from the MAC table ({learned})")
    took = time.monotonic() - t0
    lab.check(steady.poll() is None, f"the steady ping ran through all {ROUNDS} rounds of changes ({took:.0f} s)")
    lab.check(joins == 2 and leaves == 2,
              f"the VTEP joined {GROUP} (IGMPv3 change-to-exclude, {joins} of 2) and left it "
              f"(change-to-include {{}}, {leaves} of 2) on the underlay")
    refusals_change_nothing(lab)
    out, _ = steady.communicate(timeout=60)
    summary = next((l for l in out.splitlines() if "packets transmitted" in l), out)
    lab.check(" 0% packet loss" in summary, f"h1's steady ping over VNI 42 lost nothing: {summary}")
    lab.stop_and_read_state()


if __name__ == "__main__":
    netns_lib.lab = runtime_lab
    netns_lib.main(scenario, HOSTS)

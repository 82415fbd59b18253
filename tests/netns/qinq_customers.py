#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""qinq_customers: two customers with the same C-VLAN and the same MACs cross one S-trunk.

    usage: qinq_customers.py VXSWITCHD    (as root; exit 0 pass, 1 fail, 77 skip)

    ns a1 02:..:02:01 10.252.0.1 ─ cust-a (customer, s_vlan 100) ┐ sw1          ┌ sw2 ─ cust-a ─ ns a2 02:..:02:02 10.252.0.2
    ns b1 02:..:02:01 10.252.0.1 ─ cust-b (customer, s_vlan 200) ┘ provider ─ wire ─ provider └ sw2 ─ cust-b ─ ns b2 02:..:02:02 10.252.0.2
                                                  (s-trunk, TPID 0x88a8, S-VLANs 100 and 200)

Two vxswitchd, each in its own namespace, on net_af_xdp ports; their provider ports are the
two ends of the link "s", which passes through a bridge in a wire namespace where packet
sockets see what each switch sends (netns_lib.py, "The tap of a link"). Customer A's hosts
and customer B's hosts have the same MAC and IP addresses, and send the same C-VLAN (10).

What is checked:
  1. The kernels' own ping, untagged: a1 <-> a2 and b1 <-> b2 (ARP and ICMP, the same
     addresses in both customers). Each customer's pings carry its own payload pattern.
  2. C-tagged frames (VLAN 10, PCP 5, crafted with scapy): from each customer's host 1,
     FRAMES broadcasts and FRAMES unicasts to host 2; from host 2, FRAMES unicasts back. Each
     arrives exactly once at its own customer's other host, still tagged 8100/10 with PCP 5
     (the S-tag popped, the C-tag untouched), and nowhere else.
  3. No host ever receives a frame (tagged, or a ping) of the other customer.
  4. On the S-trunk, in both directions, every frame has an 802.1ad outer tag (88a8) for
     S-VLAN 100 or 200: A's frames 100, B's 200; C-tagged frames carry 88a8/S-VLAN with
     the C-tag's PCP over the untouched 8100/10, pings 88a8/S-VLAN over IPv4.
  5. Both switches exit 0 on SIGINT; each state file holds exactly four MACs: the local MAC
     twice (domain 100 on cust-a, domain 200 on cust-b) and the remote MAC twice (domains
     100 and 200, both on provider); and no frame was dropped.
"""

import time

import netns_lib

ADDR1 = {"mac": "02:76:78:00:02:01", "ip": "10.252.0.1"}  # host 1 of either customer, on sw1
ADDR2 = {"mac": "02:76:78:00:02:02", "ip": "10.252.0.2"}  # host 2 of either customer, on sw2
CUSTOMERS = {"a": {"s_vlan": 100, "pattern": "aa"}, "b": {"s_vlan": 200, "pattern": "bb"}}
C_VLAN = 10
PCP = 5
FRAMES = 5  # of each kind, per customer
ETH_P_EXPERIMENTAL = 0x88B5  # the payload's EtherType (IEEE 802 local experimental)
TPIDS = (0x8100, 0x88A8, 0x9100)

HOSTS = {
    f"{c}{side}": {**addr, "switch": f"sw{side}", "port": f"cust-{c}",
                   "mode": f"mode: customer, s_vlan: {spec['s_vlan']}"}
    for c, spec in CUSTOMERS.items() for side, addr in ((1, ADDR1), (2, ADDR2))
}
SWITCHES = {"sw1": [], "sw2": []}
# The customers' 1518-byte C-tagged frames are 1522 bytes under the S-tag: MTU 1504.
S_TRUNK = "mode: s-trunk, vlans: [100, 200], mtu: 1504"
LINKS = {"s": [("sw1", "provider", S_TRUNK), ("sw2", "provider", S_TRUNK)]}


def tag_stack(frame):
    """The tags of a frame, outermost first, as (TPID, PCP, VID), and the EtherType after them."""
    tags, off = [], 12
    while True:
        ethertype = int.from_bytes(frame[off:off + 2], "big")
        if ethertype not in TPIDS:
            return tuple(tags), ethertype
        tci = int.from_bytes(frame[off + 2:off + 4], "big")
        tags.append((ethertype, tci >> 13, tci & 0xFFF))
        off += 4


def describe(stack):
    """((0x88a8, 5, 100), (0x8100, 5, 10)), 0x88b5 -> '88a8/100 pcp 5, 8100/10 pcp 5, 88b5'"""
    tags, ethertype = stack
    return ", ".join([f"{tpid:04x}/{vid} pcp {pcp}" for tpid, pcp, vid in tags] + [f"{ethertype:04x}"])


def marker(customer, kind):
    return f"vxswitch qinq_customers {customer} {kind}.".encode()


def ping_payload(customer):
    return bytes.fromhex(CUSTOMERS[customer]["pattern"]) * 16  # in every echo of this customer


def scenario(lab):
    from scapy.all import Dot1Q, Ether, Raw

    check = lab.check
    taps = {sw: lab.tap("s", sw) for sw in SWITCHES}  # what sw sent on the S-trunk
    lab.open_sockets()
    lab.start()
    seen = {key: [] for key in [*HOSTS, *taps.values()]}

    def collect():
        """Everything every host and tap received, up to SETTLE_S after the last traffic."""
        time.sleep(netns_lib.SETTLE_S)
        for key, frames in seen.items():
            frames.extend(bytes(p) for p in lab.drain(key))

    print("# 1. the kernels' own ping, untagged, the same addresses in both customers")
    for c, spec in CUSTOMERS.items():
        for src, dst in ((f"{c}1", ADDR2), (f"{c}2", ADDR1)):
            check(lab.ping(src, dst["ip"], pattern=spec["pattern"]), f"{src} pings {dst['ip']} (customer {c.upper()})")

    print(f"# 2. frames C-tagged {C_VLAN} (PCP {PCP}) between each customer's hosts")

    def c_tagged(src, dst, payload):
        return Ether(src=src, dst=dst) / Dot1Q(vlan=C_VLAN, prio=PCP, type=ETH_P_EXPERIMENTAL) / Raw(payload)

    for c in CUSTOMERS:
        lab.send(f"{c}1", c_tagged(ADDR1["mac"], "ff:ff:ff:ff:ff:ff", marker(c, "broadcast")), FRAMES)
        lab.send(f"{c}1", c_tagged(ADDR1["mac"], ADDR2["mac"], marker(c, "to host 2")), FRAMES)
        lab.send(f"{c}2", c_tagged(ADDR2["mac"], ADDR1["mac"], marker(c, "to host 1")), FRAMES)
    collect()

    c_tag_only = ((0x8100, PCP, C_VLAN),)
    for c in CUSTOMERS:
        for h, kinds in ((f"{c}2", ("broadcast", "to host 2")), (f"{c}1", ("to host 1",))):
            for kind in kinds:
                got = [f for f in seen[h] if marker(c, kind) in f]
                check(len(got) == FRAMES, f"{h} received {c.upper()}'s {kind} frames exactly once each "
                      f"({len(got)} of {FRAMES})")
                bad = [describe(tag_stack(f)) for f in got if tag_stack(f) != (c_tag_only, ETH_P_EXPERIMENTAL)]
                check(got and not bad, f"{h}: {c.upper()}'s {kind} frames tagged 8100/{C_VLAN} PCP {PCP} only "
                      f"(S-tag popped, C-tag untouched){f': {bad[:3]}' if bad else ''}")
        check(any(ping_payload(c) in f for h in (f"{c}1", f"{c}2") for f in seen[h]),
              f"customer {c.upper()}'s hosts received their pings (positive control of the sniffs)")

    print("# 3. neither customer sees the other's frames")
    for c in CUSTOMERS:
        for o in CUSTOMERS:
            if o == c:
                continue
            for h in (f"{c}1", f"{c}2"):
                leaked = [f for f in seen[h] if marker(o, "") in f or ping_payload(o) in f]
                check(not leaked, f"{h} received none of customer {o.upper()}'s frames ({len(leaked)}) "
                      f"of {len(seen[h])} received")

    print("# 4. the S-trunk: 88a8 outer tags, the C-tag untouched inside")
    for sw, tap in taps.items():
        frames = seen[tap]
        others = [describe(tag_stack(f)) for f in frames
                  if not tag_stack(f)[0] or tag_stack(f)[0][0][0] != 0x88A8 or tag_stack(f)[0][0][2] not in (100, 200)]
        check(frames and not others, f"{sw} -> S-trunk: all {len(frames)} frames 88a8-tagged for S-VLAN 100 or 200"
              f"{f' (not: {others[:3]})' if others else ''}")
        for c, spec in CUSTOMERS.items():
            s_vlan = spec["s_vlan"]
            kinds = ("broadcast", "to host 2") if sw == "sw1" else ("to host 1",)
            tagged = [f for f in frames if any(marker(c, k) in f for k in kinds)]
            stacks = {describe(tag_stack(f)) for f in tagged}
            want = (((0x88A8, PCP, s_vlan), (0x8100, PCP, C_VLAN)), ETH_P_EXPERIMENTAL)
            check(len(tagged) == FRAMES * len(kinds) and stacks == {describe(want)},
                  f"{sw} -> S-trunk: {c.upper()}'s {len(tagged)} C-tagged frames ({FRAMES * len(kinds)} sent) are "
                  f"{describe(want)} ({sorted(stacks)})")
            pings = {describe(tag_stack(f)) for f in frames if ping_payload(c) in f}
            check(pings == {describe((((0x88A8, 0, s_vlan),), 0x0800))},
                  f"{sw} -> S-trunk: {c.upper()}'s pings are 88a8/{s_vlan} over IPv4 ({sorted(pings)})")

    print("# 5. stop; each switch learned each MAC twice, in two bridge domains")
    for sw, local, remote in (("sw1", ADDR1["mac"], ADDR2["mac"]), ("sw2", ADDR2["mac"], ADDR1["mac"])):
        state = lab.stop_and_read_state(sw)
        have = {(e["mac"].lower(), e["vlan"], e["port"]) for e in state["fdb"]["entries"]}
        want = {(local, 100, "cust-a"), (local, 200, "cust-b"), (remote, 100, "provider"), (remote, 200, "provider")}
        check(have == want, f"{sw}'s MAC table: {sorted(have)}" + (f", expected {sorted(want)}" if have != want else ""))
        drops = {f"{p['name']}.{r}": n for p in state["ports"] for r, n in p["drops"].items() if n}
        check(not drops, f"{sw} dropped nothing {drops or ''}")


if __name__ == "__main__":
    netns_lib.main(scenario, HOSTS, switches=SWITCHES, links=LINKS)

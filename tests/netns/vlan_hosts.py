#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""vlan_hosts: four hosts in network namespaces, switched by a real vxswitchd on net_af_xdp.

    usage: vlan_hosts.py VXSWITCHD        (as root; exit 0 pass, 1 fail, 77 skip)

    ns a  eth0 10.250.0.1/24  ──veth── p-a  port a      access vlan 10 ┐ vxswitchd in its own
    ns b  eth0 10.250.0.2/24  ──veth── p-b  port b      access vlan 10 ├ namespace, one
    ns c  eth0 10.250.0.3/24  ──veth── p-c  port c      access vlan 20 │ net_af_xdp port per
    ns t  eth0 (scapy only)   ──veth── p-t  port trunk  trunk 10,20    ┘ veth, one worker

A, B and C share one IP subnet on purpose: if VLAN 20 leaked into VLAN 10, C's ARP would
reach A and B and its pings would succeed. T has no address: scapy crafts its tagged frames.
The plumbing, and the AF_XDP-on-veth quirks it works around, are in netns_lib.py.

What is checked, in order:
  1. A and B ping each other (the kernels' own ARP and ICMP), and a UDP datagram A -> B
     arrives (so checksums survive the AF_XDP path, see "TX checksum offload" in netns_lib).
  2. C pings A and B and fails; no frame of C's reaches A or B and none of A's or B's reaches
     C. Positive controls keep the sniffs honest: T, on the trunk, sees A's ARP broadcasts
     tagged 10 and C's tagged 20, so the frames were sent and the sockets do receive.
  3. T -> A tagged 10: an ARP request is answered by A, and an ICMP echo gets its reply,
     both back to T tagged 10; B sees T's broadcast untagged (the tag popped); C sees none.
  4. T -> C tagged 20: the same, replies tagged 20; A and B see none of it.
  5. Frames the switch must drop, each reaching no host and counted under its reason
     (dataplane/counters/counters.def): tagged 30 on the trunk (vlan_not_allowed), untagged
     on the trunk, which has no native VLAN (untagged_on_trunk), tagged on C's access port
     (tagged_on_access).
  6. SIGINT stops the daemon; it exits 0 and its state file holds exactly the MAC table
     {A/10/a, B/10/b, C/20/c, T/10/trunk, T/20/trunk} (so nothing was learned from dropped
     frames), the drop counts above, and no other drop.
"""

import subprocess
import sys
import time

import netns_lib

SUBNET = "10.250.0"
HOSTS = {
    "a": {"mac": "02:76:78:00:00:0a", "ip": f"{SUBNET}.1", "port": "a", "mode": "mode: access, vlan: 10"},
    "b": {"mac": "02:76:78:00:00:0b", "ip": f"{SUBNET}.2", "port": "b", "mode": "mode: access, vlan: 10"},
    "c": {"mac": "02:76:78:00:00:0c", "ip": f"{SUBNET}.3", "port": "c", "mode": "mode: access, vlan: 20"},
    "t": {"mac": "02:76:78:00:00:0e", "ip": None, "port": "trunk", "mode": "mode: trunk, vlans: [10, 20]"},
}
T_IP = f"{SUBNET}.4"  # what T claims in its crafted frames
DROPS_SENT = 5  # frames sent for each drop reason

UDP_RECEIVER = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5555))
s.settimeout(3)
print(s.recv(100).decode())
"""
UDP_SENDER = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(10):
    s.sendto(b"vlan_hosts udp", (sys.argv[1], 5555))
    time.sleep(0.1)
"""


def scenario(lab):
    from scapy.all import ARP, ICMP, IP, Dot1Q, Ether, Raw

    mac = {h: v["mac"] for h, v in HOSTS.items()}
    ip = {h: v["ip"] for h, v in HOSTS.items()}
    check = lab.check

    def src(*hosts):
        return lambda p: p[Ether].src in {mac[h] for h in hosts}

    def tagged(vlan):
        return lambda p: Dot1Q in p and p[Dot1Q].vlan == vlan

    def arp_req(sender_mac, target_ip):
        return lambda p: ARP in p and p[ARP].op == 1 and p[ARP].hwsrc == sender_mac and p[ARP].pdst == target_ip

    lab.open_sockets()
    lab.start()

    print("# 1. A and B, access vlan 10: the kernels' own ARP, ICMP and UDP")
    check(lab.ping("a", ip["b"]), f"A pings B ({ip['b']})")
    check(lab.ping("b", ip["a"]), f"B pings A ({ip['a']})")
    check(any(tagged(10)(p) and arp_req(mac["a"], ip["b"])(p) for p in lab.drain("t", netns_lib.SETTLE_S)),
          "T (trunk) saw A's ARP broadcast tagged 10")
    rx = subprocess.Popen(["ip", "netns", "exec", lab.ns("b"), sys.executable, "-c", UDP_RECEIVER],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)  # let B bind first; a datagram to a closed port is lost
    netns_lib.run(sys.executable, "-c", UDP_SENDER, ip["b"], ns=lab.ns("a"))
    out, err = rx.communicate(timeout=10)
    check(out.strip() == "vlan_hosts udp",
          "a UDP datagram A -> B arrives with a good checksum" + (f" ({err.strip().splitlines()[-1]})" if err.strip() else ""))

    print("# 2. C, access vlan 20, is cut off from vlan 10")
    for h in HOSTS:
        lab.drain(h)
    for h in ("a", "b"):
        check(not lab.ping("c", ip[h], count=2), f"C cannot ping {h.upper()} ({ip[h]})")
    lab.expect_none("a", "A received nothing from C", src("c"))
    lab.expect_none("b", "B received nothing from C", src("c"))
    lab.expect_none("c", "C received nothing from A or B", src("a", "b"))
    check(any(tagged(20)(p) and arp_req(mac["c"], ip["a"])(p) for p in lab.drain("t", netns_lib.SETTLE_S)),
          "T (trunk) saw C's ARP broadcast tagged 20 (so C's frames did go out)")

    for step, vlan, h, others, outsiders in ((3, 10, "a", ["b"], ["c"]), (4, 20, "c", [], ["a", "b"])):
        H = h.upper()
        print(f"# {step}. T on the trunk, tagged {vlan}, to {H}")
        for x in HOSTS:
            lab.drain(x)
        lab.send("t", Ether(src=mac["t"], dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=vlan) /
                 ARP(op=1, hwsrc=mac["t"], psrc=T_IP, pdst=ip[h]))
        lab.expect("t", f"{H} answers T's ARP request, tagged {vlan}",
                   lambda p: tagged(vlan)(p) and ARP in p and p[ARP].op == 2 and p[ARP].hwsrc == mac[h]
                   and p[ARP].psrc == ip[h] and p[Ether].dst == mac["t"])
        for o in others:
            lab.expect(o, f"{o.upper()} received T's broadcast untagged (tag popped on access)",
                       lambda p: arp_req(mac["t"], ip[h])(p) and Dot1Q not in p)
        lab.send("t", Ether(src=mac["t"], dst=mac[h]) / Dot1Q(vlan=vlan) /
                 IP(src=T_IP, dst=ip[h]) / ICMP(type=8, id=0x7678, seq=vlan) / Raw(b"vlan_hosts"))
        lab.expect("t", f"{H} answers T's ICMP echo, tagged {vlan}",
                   lambda p: tagged(vlan)(p) and ICMP in p and p[ICMP].type == 0 and p[ICMP].seq == vlan
                   and p[IP].src == ip[h] and p[Ether].src == mac[h])
        for o in outsiders:
            lab.expect_none(o, f"{o.upper()} received nothing of T's vlan {vlan} traffic", src("t"))

    print("# 5. frames the switch must drop")
    for x in HOSTS:
        lab.drain(x)
    bcast = Ether(src=mac["t"], dst="ff:ff:ff:ff:ff:ff")
    arp = ARP(op=1, hwsrc=mac["t"], psrc=T_IP, pdst=ip["a"])
    lab.send("t", bcast / Dot1Q(vlan=30) / arp, DROPS_SENT)  # vlan_not_allowed
    lab.send("t", bcast / arp, DROPS_SENT)  # untagged_on_trunk
    lab.send("c", Ether(src=mac["c"], dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=20) /
             ARP(op=1, hwsrc=mac["c"], psrc=ip["c"], pdst=ip["a"]), DROPS_SENT)  # tagged_on_access
    for x in ("a", "b", "c"):
        lab.expect_none(x, f"{x.upper()} received none of T's dropped frames", src("t"))
    for x in ("a", "b", "t"):
        lab.expect_none(x, f"{x.upper()} received none of C's tagged frames", src("c"))

    print("# 6. stop, and read what the switch learned and counted")
    state = lab.stop_and_read_state()

    who = {m: h.upper() for h, m in mac.items()}
    want = {(mac["a"], 10, "a"), (mac["b"], 10, "b"), (mac["c"], 20, "c"),
            (mac["t"], 10, "trunk"), (mac["t"], 20, "trunk")}
    have = {(e["mac"].lower(), e["vlan"], e["port"]) for e in state["fdb"]["entries"]}
    for m, vlan, port in sorted(want, key=lambda e: (who[e[0]], e[1])):
        check((m, vlan, port) in have, f"MAC table: {who[m]} ({m}) on vlan {vlan}, port {port}")
    extra = have - want
    check(not extra, "MAC table holds nothing else (nothing learned from dropped frames)")
    for m, vlan, port in sorted(extra):
        print(f"     unexpected entry: {who.get(m, '?')} {m} vlan {vlan} port {port}")
    drops = {p["name"]: p["drops"] for p in state["ports"]}
    expected = {("trunk", "vlan_not_allowed"): DROPS_SENT, ("trunk", "untagged_on_trunk"): DROPS_SENT,
                ("c", "tagged_on_access"): DROPS_SENT}
    for (port, reason), n in expected.items():
        got = drops.get(port, {}).get(reason)
        check(got == n, f"port {port}: {reason} = {got}, {n} sent")
    others = {f"{port}.{r}": v for port, d in drops.items() for r, v in d.items() if v and (port, r) not in expected}
    check(not others, f"no other drop {others or ''}")


if __name__ == "__main__":
    netns_lib.main(scenario, HOSTS)

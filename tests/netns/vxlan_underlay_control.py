#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""vxlan_underlay_control: what vxswitch's VTEP says on the underlay besides VXLAN, checked
byte by byte from the underlay's side with scapy: IGMPv3 and MLDv2 membership, and IPv6
neighbour discovery for its own address.

    usage: vxlan_underlay_control.py VXSWITCHD      (as root; exit 0 pass, 1 fail, 77 skip)

    h1 --access vlan 10-- [vxswitchd, VTEP 192.0.2.1 and 2001:db8::1] --underlay port "up"--
        veth -- querier (a packet socket on its eth0: the test plays router and peer)
    VNI 42 (vlan 10) floods to 239.1.1.1, VNI 43 (vlan 20) to ff05::42.

Checks:
  1. At start, vxswitch joins its groups: an IGMPv3 report (to 224.0.0.22, TTL 1, Router
     Alert, from 192.0.2.1, "change to exclude {}" for 239.1.1.1) and an MLDv2 report (to
     ff02::16, hop limit 1, a hop-by-hop Router Alert, from its EUI-64 link-local address, for
     ff05::42), each twice (robustness 2), with checksums right (computed here, not by vxswitch
     or scapy).
  2. Queries crafted here are answered within their maximum response time: an IGMPv3 general
     query, an MLDv2 general query and an IGMPv2 query for 239.1.1.1, each by a current-state
     report ("mode is exclude"); a query for a group vxswitch has not joined gets no answer.
  3. Neighbour discovery: vxswitch solicits its IPv6 remote 2001:db8::2 (VNI 43's head-end
     list, never answered here) at its solicited-node group with its source link-layer
     option; a solicitation for 2001:db8::1 is answered with a solicited advertisement
     carrying vxswitch's MAC (checksums checked here).
  4. Counters: membership_messages counts the queries and another host's reports (not
     answered), underlay_bad_control the one query sent with a broken checksum (not answered
     either), and no query or report is counted as vxlan_wrong_destination any more.
"""

import struct
import time

import netns_lib

SWITCH_V4 = "192.0.2.1"
SWITCH_V6 = "2001:db8::1"
REMOTE6 = "2001:db8::2"   # a remote of VNI 43's head-end list: vxswitch must solicit it
GROUP4 = "239.1.1.1"
GROUP6 = "ff05::42"
QUERIER = {"mac": "02:76:78:00:0e:09", "ip": None}
H1 = {"mac": "02:76:78:00:0e:01", "ip": "10.9.6.1"}
H2 = {"mac": "02:76:78:00:0e:02", "ip": "10.9.6.2"}
HOSTS = {
    "h1": {**H1, "port": "h1", "mode": "mode: access, vlan: 10"},
    "h2": {**H2, "port": "h2", "mode": "mode: access, vlan: 20"},
    "querier": {**QUERIER, "port": "up", "mode": "mode: access"},
}


class control_lab(netns_lib.lab):
    def config(self):
        path = super().config()
        with open(path, "a") as f:
            f.write(f"vxlan:\n  underlay: up\n  address: {SWITCH_V4}\n  address6: {SWITCH_V6}\n  vnis:\n"
                    f"    - {{ vni: 42, vlan: 10, group: {GROUP4} }}\n"
                    f"    - {{ vni: 43, vlan: 20, group: {GROUP6}, remotes: [{REMOTE6}] }}\n")
        return path


# ---- an independent reading of the bytes (no scapy dissector, no vxswitch code)

def ones_complement(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s  # 0xffff when a message holding its checksum is right


def ip6(text):
    import socket
    return socket.inet_pton(socket.AF_INET6, text)


def ip4(text):
    import socket
    return socket.inet_pton(socket.AF_INET, text)


def icmp6_ok(ip_hdr, msg):
    pseudo = ip_hdr[8:40] + struct.pack("!I", len(msg)) + b"\0\0\0\x3a"
    return ones_complement(pseudo + msg) == 0xFFFF


def igmp_report(raw):
    """(records [(type, group)], checks {what: ok}) of an IGMPv3 report frame, else None."""
    if raw[12:14] != b"\x08\x00" or raw[14 + 9] != 2:
        return None
    ip = raw[14:]
    ihl = (ip[0] & 15) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    igmp = ip[ihl:total]
    if igmp[0] != 0x22:
        return None
    count = struct.unpack("!H", igmp[6:8])[0]
    records = [(igmp[8 + 8 * i], ip[ihl + 8 + 8 * i + 4:ihl + 8 + 8 * i + 8]) for i in range(count)]
    checks = {"to 224.0.0.22": ip[16:20] == ip4("224.0.0.22") and raw[0:6] == bytes.fromhex("01005e000016"),
              f"from {SWITCH_V4}": ip[12:16] == ip4(SWITCH_V4), "TTL 1": ip[8] == 1,
              "Router Alert": ihl == 24 and ip[20:24] == b"\x94\x04\0\0",
              "IP header checksum": ones_complement(ip[:ihl]) == 0xFFFF,
              "IGMP checksum": ones_complement(igmp) == 0xFFFF}
    return records, checks


def mld_report(raw, switch_mac):
    """The same for an MLDv2 report."""
    if raw[12:14] != b"\x86\xdd" or raw[14 + 6] != 0:
        return None
    ip = raw[14:54]
    hop = raw[54:62]
    msg = raw[62:54 + struct.unpack("!H", ip[4:6])[0]]
    if hop[0] != 58 or msg[0] != 143:
        return None
    count = struct.unpack("!H", msg[6:8])[0]
    records = [(msg[8 + 20 * i], msg[8 + 20 * i + 4:8 + 20 * i + 20]) for i in range(count)]
    m = bytes.fromhex(switch_mac.replace(":", ""))
    link_local = b"\xfe\x80" + b"\0" * 6 + bytes([m[0] ^ 2]) + m[1:3] + b"\xff\xfe" + m[3:6]
    checks = {"to ff02::16": ip[24:40] == ip6("ff02::16") and raw[0:6] == bytes.fromhex("333300000016"),
              "from its EUI-64 link-local address": ip[8:24] == link_local, "hop limit 1": ip[7] == 1,
              "hop-by-hop Router Alert": hop[2:4] == b"\x05\x02",
              "ICMPv6 checksum": icmp6_ok(ip, msg)}
    return records, checks


def reports(frames, switch_mac):
    out = []
    for p in frames:
        raw = bytes(p)
        r = igmp_report(raw) or mld_report(raw, switch_mac)
        if r:
            out.append(r)
    return out


def check_report(lab, what, got, record_type, group):
    ok = [r for r in got if (record_type, group) in r[0]]
    lab.check(bool(ok), f"{what}: {len(ok)} report(s) with record type {record_type}")
    for records, checks in ok[:1]:
        bad = [k for k, v in checks.items() if not v]
        lab.check(not bad, f"{what}: {', '.join(checks)} (wrong: {bad})")
    return len(ok)


# ---- crafted frames (scapy writes them; the checks above do not use scapy's dissectors)

def igmp_query(group, mrcode, v3=True, corrupt=False):
    from scapy.all import Ether, IP
    from scapy.contrib.igmp import IGMP
    from scapy.contrib.igmpv3 import IGMPv3, IGMPv3mq
    dst = group if group != "0.0.0.0" else "224.0.0.1"
    body = IGMPv3(type=0x11, mrcode=mrcode) / IGMPv3mq(gaddr=group) if v3 else IGMP(type=0x11, mrcode=mrcode, gaddr=group)
    frame = Ether(src=QUERIER["mac"], dst="01:00:5e:00:00:01") / IP(src="192.0.2.9", dst=dst, ttl=1) / body
    raw = bytearray(bytes(frame))
    if corrupt:
        raw[-1] ^= 0x01
    return Ether(bytes(raw))


def mld_query(group, mrd):
    from scapy.all import Ether
    from scapy.layers.inet6 import IPv6, IPv6ExtHdrHopByHop, RouterAlert, PadN, ICMPv6MLQuery2
    return (Ether(src=QUERIER["mac"], dst="33:33:00:00:00:01") / IPv6(src="fe80::9", dst="ff02::1", hlim=1)
            / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0), PadN(optdata=b"")])
            / ICMPv6MLQuery2(mrd=mrd, mladdr=group))


def other_reports():
    """Another host's IGMPv2 report for vxswitch's group and MLDv2 report for another group."""
    from scapy.all import Ether, IP
    from scapy.contrib.igmp import IGMP
    from scapy.layers.inet6 import IPv6, IPv6ExtHdrHopByHop, RouterAlert, PadN, ICMPv6MLReport2, ICMPv6MLDMultAddrRec
    return [Ether(src=QUERIER["mac"], dst="01:00:5e:01:01:01") / IP(src="192.0.2.9", dst=GROUP4, ttl=1)
            / IGMP(type=0x16, gaddr=GROUP4),
            Ether(src=QUERIER["mac"], dst="33:33:00:00:00:16") / IPv6(src="fe80::9", dst="ff02::16", hlim=1)
            / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0), PadN(optdata=b"")])
            / ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(rtype=4, dst="ff05::99")])]


def answered_within(lab, what, query, seconds, record_type, group, switch_mac):
    t0 = time.monotonic()
    lab.send("querier", query)

    def match(p):
        r = reports([p], switch_mac)
        return bool(r) and (record_type, group) in r[0][0]
    got = lab.drain("querier", seconds + 1.0, until=match)
    took = time.monotonic() - t0
    n = check_report(lab, what, reports(got, switch_mac), record_type, group)
    if n:
        lab.check(took <= seconds + 0.5, f"{what}: answered after {took:.2f} s (maximum {seconds} s)")


def scenario(lab):
    from scapy.all import Ether
    from scapy.layers.inet6 import IPv6, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr

    lab.open_sockets()  # before the switch starts: its first reports go out at once
    lab.start()
    switch_mac = netns_lib.run("ip", "-n", lab.sw, "-br", "link", "show", "p-querier").stdout.split()[2]
    started = lab.drain("querier", 2.5)
    got = reports(started, switch_mac)
    for what, group in (("IGMPv3 join", ip4(GROUP4)), ("MLDv2 join", ip6(GROUP6))):
        n = check_report(lab, what, got, 4, group)
        lab.check(n == 2, f"{what} sent twice (robustness 2): {n}")
    # vxswitch resolves its IPv6 remote by neighbour discovery: a solicitation to the remote's
    # solicited-node group, with its own link-layer address.
    sol = [bytes(p) for p in started if bytes(p)[12:14] == b"\x86\xdd" and bytes(p)[20] == 58 and bytes(p)[54] == 135]
    lab.check(bool(sol) and sol[0][0:6] == bytes.fromhex("3333ff000002") and sol[0][38:54] == ip6("ff02::1:ff00:2")
              and sol[0][62:78] == ip6(REMOTE6) and sol[0][78:80] == b"\x01\x01"
              and sol[0][80:86] == bytes.fromhex(switch_mac.replace(":", "")) and sol[0][21] == 255
              and icmp6_ok(sol[0][14:54], sol[0][54:86]),
              f"vxswitch solicits its IPv6 remote {REMOTE6} (to ff02::1:ff00:2, source link-layer option, "
              f"hop limit 255, checksum right): {len(sol)} seen")

    # 2. Queries, each answered within its maximum response time (1 s).
    answered_within(lab, "IGMPv3 general query", igmp_query("0.0.0.0", 10), 1.0, 2, ip4(GROUP4), switch_mac)
    answered_within(lab, "MLDv2 general query", mld_query("::", 1000), 1.0, 2, ip6(GROUP6), switch_mac)
    answered_within(lab, "IGMPv2 query for its group", igmp_query(GROUP4, 10, v3=False), 1.0, 2, ip4(GROUP4),
                    switch_mac)
    lab.send("querier", igmp_query("239.9.9.9", 5))
    lab.send("querier", igmp_query("0.0.0.0", 5, corrupt=True))
    for frame in other_reports():
        lab.send("querier", frame)
    late = reports(lab.drain("querier", 1.5), switch_mac)
    lab.check(not late, f"no answer to a query for another group, to a corrupt one, nor to another host's "
              f"reports: {[r[0] for r in late]}")

    # 3. Neighbour discovery for the VTEP's address.
    ns = (Ether(src=QUERIER["mac"], dst="33:33:ff:00:00:01") / IPv6(src=REMOTE6, dst="ff02::1:ff00:1", hlim=255)
          / ICMPv6ND_NS(tgt=SWITCH_V6) / ICMPv6NDOptSrcLLAddr(lladdr=QUERIER["mac"]))
    lab.send("querier", ns)

    def is_na(p):
        raw = bytes(p)
        return raw[12:14] == b"\x86\xdd" and raw[20] == 58 and raw[54] == 136
    na = lab.expect("querier", "vxswitch answers a neighbour solicitation for its VTEP address", is_na)
    if na is not None:
        raw = bytes(na)
        mac = bytes.fromhex(switch_mac.replace(":", ""))
        checks = {"to the solicitor": raw[0:6] == bytes.fromhex(QUERIER["mac"].replace(":", ""))
                  and raw[38:54] == ip6(REMOTE6),
                  "from the VTEP address": raw[22:38] == ip6(SWITCH_V6), "hop limit 255": raw[21] == 255,
                  "S and O flags": raw[58] == 0x60, "target": raw[62:78] == ip6(SWITCH_V6),
                  "target link-layer option": raw[78:80] == b"\x02\x01" and raw[80:86] == mac,
                  "ICMPv6 checksum": icmp6_ok(raw[14:54], raw[54:86])}
        bad = [k for k, v in checks.items() if not v]
        lab.check(not bad, f"the advertisement: {', '.join(checks)} (wrong: {bad})")

    # 4. Counters.
    state = lab.stop_and_read_state()
    up = next(p for p in state["ports"] if p["name"] == "up")
    c, d = up["counters"], up["drops"]
    lab.check(c["membership_messages"] == 6,
              f"the 4 good queries and 2 reports counted as membership_messages: {c['membership_messages']}")
    lab.check(d["underlay_bad_control"] == 1, f"the corrupt query dropped as underlay_bad_control: {d['underlay_bad_control']}")
    lab.check(c["neighbour_adverts"] == 1, f"one neighbour_adverts: {c['neighbour_adverts']}")
    lab.check(d["vxlan_wrong_destination"] == 0, f"no query counted as vxlan_wrong_destination: {d['vxlan_wrong_destination']}")


if __name__ == "__main__":
    netns_lib.lab = control_lab  # main() builds a netns_lib.lab: ours, with the vxlan section
    netns_lib.main(scenario, HOSTS)

# SPDX-License-Identifier: MIT
"""The golden cases: 802.1Q and 802.1ad switching rules as configurations, frames in and out.

Each expected frame is spelt out with its exact tags, from the rules of the issue (access
ports untagged; trunks tagged with their allowed VLANs, the native VLAN untagged; a pushed
tag has PCP 0; PCP and DEI travel with the frame; flooding stays in the VLAN and never goes
back out of the ingress port; drops are counted by reason, names as in counters.def).

Conventions: hosts are host(n); U-numbered hosts (host(0xe0) and up) are destinations that
never send, so the switch cannot know them; every frame gets its own sequence number.
"""

from frames import BROADCAST, Frame, RawFrame, Tag, header_only, host
from spec import Case, Entry, Static, Translation, access, customer, drop, flood, s_trunk, trunk, unicast

MCAST_IPV4 = "01:00:5e:00:00:fb"
MCAST_IPV6 = "33:33:00:00:00:01"
TPID_QINQ = 0x88A8


def unknown(n: int) -> str:
    """A unicast MAC that never sends: always a table miss."""
    return host(0xE0 + n)


class Numbered:
    """Makes frames with consecutive sequence numbers, so each frame of a case is unique."""

    def __init__(self):
        self._next = 0

    def __call__(self, src: str, dst: str, *tags: Tag, pad: int = 0) -> Frame:
        self._next += 1
        return Frame(src, dst, tuple(tags), self._next, pad)


def untagged(f: Frame) -> Frame:
    return f.with_tags()


# ---- 802.1Q tagging -------------------------------------------------------------------------
# a10 and a30 are access ports; t1 is a trunk for 10 and 20 with native VLAN 30; t2 carries
# 10, 20 and 30 all tagged. Everything floods (broadcast or unknown), so each frame shows its
# tagging on every other port of its VLAN at once.

TAGGING_PORTS = [
    access("a10", 10),
    access("a30", 30),
    trunk("t1", (10, 20), native=30),
    trunk("t2", (10, 20, 30)),
]


def tagging_case() -> Case:
    f = Numbered()
    sends = []

    x = f(host(1), BROADCAST)  # access in: untagged; out of trunks tagged 10, PCP 0
    sends.append(flood("a10", x, {"t1": x.with_tags(Tag(10)), "t2": x.with_tags(Tag(10))}, vlan=10))

    x = f(host(2), unknown(1))  # the same for unknown unicast
    sends.append(flood("a10", x, {"t1": x.with_tags(Tag(10)), "t2": x.with_tags(Tag(10))}, vlan=10))

    x = f(host(3), BROADCAST, Tag(0, pcp=6))  # priority-tagged on access: VLAN 10, PCP kept
    sends.append(flood("a10", x, {"t1": x.with_tags(Tag(10, pcp=6)), "t2": x.with_tags(Tag(10, pcp=6))}, vlan=10))

    x = f(host(4), BROADCAST, Tag(10, pcp=5, dei=1))  # trunk in: popped to access, kept to trunk
    sends.append(flood("t1", x, {"a10": untagged(x), "t2": x}, vlan=10))

    x = f(host(5), BROADCAST, Tag(20, pcp=3))  # VLAN 20 lives on the two trunks only
    sends.append(flood("t1", x, {"t2": x}, vlan=20))

    x = f(host(6), BROADCAST)  # untagged on t1 is native VLAN 30: untagged to a30, tagged to t2
    sends.append(flood("t1", x, {"a30": x, "t2": x.with_tags(Tag(30))}, vlan=30))

    x = f(host(7), BROADCAST, Tag(30, pcp=7, dei=1))  # into the native VLAN: untagged out of t1
    sends.append(flood("t2", x, {"a30": untagged(x), "t1": untagged(x)}, vlan=30))

    x = f(host(8), BROADCAST, Tag(30, pcp=2))  # the native VID, tagged, is admitted too
    sends.append(flood("t1", x, {"a30": untagged(x), "t2": x}, vlan=30))

    x = f(host(9), BROADCAST)  # access VLAN 30: native (untagged) on t1, tagged on t2
    sends.append(flood("a30", x, {"t1": x, "t2": x.with_tags(Tag(30))}, vlan=30))

    x = f(host(10), unknown(2), Tag(20, dei=1))  # trunk to trunk: DEI alone is kept as well
    sends.append(flood("t2", x, {"t1": x}, vlan=20))

    x = f(host(11), BROADCAST, Tag(10, pcp=1), Tag(100, pcp=4))  # QinQ: only the outer tag changes
    sends.append(flood("t1", x, {"a10": x.with_tags(Tag(100, pcp=4)), "t2": x}, vlan=10))

    return Case(
        "tagging", "vlan",
        "access/trunk/native tagging, PCP/DEI kept, pushed tags PCP 0, flood within the VLAN; each frame counted in its VLAN",
        TAGGING_PORTS, [sends],
    )


def tpid_case() -> Case:
    """A trunk whose tags use TPID 0x88a8: its tags are read and written with it."""
    f = Numbered()
    sends = []
    x = f(host(1), BROADCAST, Tag(10, pcp=3, dei=1, tpid=TPID_QINQ))
    sends.append(flood("s", x, {"a10": untagged(x), "t": x.with_tags(Tag(10, pcp=3, dei=1))}))
    x = f(host(2), BROADCAST)
    sends.append(flood("a10", x, {"s": x.with_tags(Tag(10, tpid=TPID_QINQ)), "t": x.with_tags(Tag(10))}))
    x = f(host(3), BROADCAST, Tag(10, pcp=5))
    sends.append(flood("t", x, {"s": x.with_tags(Tag(10, pcp=5, tpid=TPID_QINQ)), "a10": untagged(x)}))
    return Case(
        "tpid", "vlan", "a trunk with tpid 0x88a8 reads and writes its tags with that TPID",
        [trunk("s", (10,), tpid=TPID_QINQ), access("a10", 10), trunk("t", (10,))], [sends],
    )


# ---- drops by reason, runts ---------------------------------------------------------------


def drops_case() -> Case:
    f = Numbered()
    sends = [
        drop("a10", f(host(1), BROADCAST, Tag(10)), "tagged_on_access"),  # even its own VID
        drop("a10", f(host(2), BROADCAST, Tag(20, pcp=3)), "tagged_on_access"),
        drop("t1", f(host(3), BROADCAST, Tag(40)), "vlan_not_allowed"),
        drop("t1", f(host(4), BROADCAST, Tag(4095)), "vlan_not_allowed"),
        drop("t2", f(host(5), BROADCAST), "untagged_on_trunk"),
        drop("t2", f(host(6), BROADCAST, Tag(0, pcp=5)), "untagged_on_trunk"),  # priority tag = untagged
        drop("a10", RawFrame(bytes(range(10)), "10-byte runt"), "truncated"),
        drop("a10", RawFrame(bytes(range(13)), "13-byte runt"), "truncated"),
        # Tags cut short: the tag needs 4 bytes and then an EtherType.
        drop("t1", RawFrame(header_only(host(7), BROADCAST, 0x8100, b"\x00\x0a"), "tag cut after the TCI"), "truncated"),
        drop("t1", RawFrame(header_only(host(8), BROADCAST, 0x8100, b"\x00\x0a\x08"), "tag cut inside the type"), "truncated"),
        drop("t1", RawFrame(header_only(host(9), BROADCAST, 0x8100, b"\x00\x0a\x81\x00\x00\x64"), "second tag cut"),
             "truncated"),
        drop("a10", f(MCAST_IPV4, BROADCAST), "source_group_mac"),
        drop("t1", f(BROADCAST, unknown(1), Tag(10)), "source_group_mac"),
    ]
    # The shortest valid frames: a bare header, and a bare header with one tag. They pass.
    bare = header_only(host(10), BROADCAST, 0x0800)
    bare_tagged = header_only(host(10), BROADCAST, 0x8100, b"\x00\x0a\x08\x00")
    sends.append(flood("a10", RawFrame(bare, "bare header"), {"t1": RawFrame(bare_tagged, "bare header, tag 10"),
                                                               "t2": RawFrame(bare_tagged, "bare header, tag 10")},
                       vlan=10))
    bare2 = header_only(host(11), BROADCAST, 0x0800)
    bare2_tagged = header_only(host(11), BROADCAST, 0x8100, b"\x00\x0a\x08\x00")
    sends.append(flood("t1", RawFrame(bare2_tagged, "bare header, tag 10"), {"a10": RawFrame(bare2, "bare header"),
                                                                             "t2": RawFrame(bare2_tagged, "bare tagged")},
                       vlan=10))
    return Case(
        "drops", "drops",
        "each malformed or inadmissible frame is dropped under its reason, on its port alone (no VLAN), and not learned",
        TAGGING_PORTS, [sends],
        # Only the two valid frames taught anything: dropped frames must not be learned.
        macs=[Entry(host(10), 10, "a10"), Entry(host(11), 10, "t1")],
    )


# ---- flooding -------------------------------------------------------------------------------


def flooding_case() -> Case:
    f = Numbered()
    sends = []
    for dst in (BROADCAST, MCAST_IPV4, unknown(1)):  # all three kinds flood alike
        x = f(host(1), dst)
        sends.append(flood("a1", x, {"a2": x, "t": x.with_tags(Tag(10))}, vlan=10))
    x = f(host(2), MCAST_IPV6)
    sends.append(flood("a2", x, {"a1": x, "t": x.with_tags(Tag(10))}, vlan=10))
    x = f(host(3), BROADCAST)
    sends.append(flood("a3", x, {"t": x.with_tags(Tag(20))}, vlan=20))
    x = f(host(4), BROADCAST, Tag(20, pcp=1))
    sends.append(flood("t", x, {"a3": untagged(x)}, vlan=20))
    x = f(host(4), unknown(2), Tag(10))
    sends.append(flood("t", x, {"a1": untagged(x), "a2": untagged(x)}, vlan=10))
    # VLAN 30 has no port but t: nowhere to flood.
    sends.append(drop("t", f(host(4), BROADCAST, Tag(30)), "flood_empty", vlan=30))
    sends.append(drop("t", f(host(4), unknown(3), Tag(30)), "flood_empty", vlan=30))
    return Case(
        "flooding", "flood", "broadcast, multicast and unknown unicast flood to the VLAN's other ports only; each copy counted in the VLAN",
        [access("a1", 10), access("a2", 10), access("a3", 20), trunk("t", (10, 20, 30))], [sends],
    )


# ---- learning -------------------------------------------------------------------------------


def learning_case() -> Case:
    f = Numbered()
    first = f(host(1), host(2))
    teach = [flood("p0", first, {"p1": first, "p2": first, "t": first.with_tags(Tag(10))}, vlan=10)]
    replies = []
    for port, src in (("p1", host(2)), ("p2", host(3))):
        x = f(src, host(1))
        replies.append(unicast(port, x, "p0", x, vlan=10))
    x = f(host(4), host(1), Tag(10, pcp=3))
    replies.append(unicast("t", x, "p0", untagged(x), vlan=10))
    replies.append(drop("p0", f(host(5), host(1)), "same_port", vlan=10))  # host(1) lives on p0 itself
    # host(1) is known in VLAN 10 only; in VLAN 20 it is unknown, and t is alone there.
    replies.append(drop("t", f(host(6), host(1), Tag(20)), "flood_empty", vlan=20))
    answers = []
    for dst, port in ((host(2), "p1"), (host(3), "p2")):
        x = f(host(1), dst)
        answers.append(unicast("p0", x, port, x, vlan=10))
    x = f(host(1), host(4))
    answers.append(unicast("p0", x, "t", x.with_tags(Tag(10)), vlan=10))
    return Case(
        "learning", "learning", "the first frame floods; replies and later frames go only to the learned port; drops after the lookup count in the VLAN",
        [access("p0", 10), access("p1", 10), access("p2", 10), trunk("t", (10, 20))],
        [teach, replies, answers],
        counters={"p0": {"learn_events": 2}, "p1": {"learn_events": 1}, "p2": {"learn_events": 1},
                  "t": {"learn_events": 2}},
        macs=[Entry(host(1), 10, "p0"), Entry(host(2), 10, "p1"), Entry(host(3), 10, "p2"),
              Entry(host(4), 10, "t"), Entry(host(5), 10, "p0"), Entry(host(6), 20, "t")],
        fdb={"moved": 0},
    )


def static_case() -> Case:
    s1, s2 = host(0x51), host(0x52)  # static: s1 on a3 in VLAN 10, s2 on t in VLAN 20
    f = Numbered()
    first = []
    x = f(host(1), s1)
    first.append(unicast("a1", x, "a3", x))  # known from the start: no flood
    x = f(host(4), s1, Tag(10, pcp=4))
    first.append(unicast("t", x, "a3", untagged(x)))
    x = f(host(2), s2)  # s2 is static in VLAN 20 only: unknown in VLAN 10
    first.append(flood("a2", x, {"a1": x, "a3": x, "t": x.with_tags(Tag(10))}))
    first.append(drop("t", f(host(3), s2, Tag(20)), "same_port"))
    # s1 sends from a2: forwarded, counted as a conflict, but the static entry does not move.
    spoof = f(s1, BROADCAST)
    conflict = [flood("a2", spoof, {"a1": spoof, "a3": spoof, "t": spoof.with_tags(Tag(10))})]
    later = []
    x = f(host(1), s1)
    later.append(unicast("a1", x, "a3", x))
    x = f(host(4), s1, Tag(10))
    later.append(unicast("t", x, "a3", untagged(x)))
    return Case(
        "static_macs", "fdb", "static MACs forward without flooding, per VLAN, and never move",
        [access("a1", 10), access("a2", 10), access("a3", 10), trunk("t", (10, 20))],
        [first, conflict, later],
        statics=[Static(s1, 10, "a3"), Static(s2, 20, "t")],
        counters={"a2": {"static_mac_conflict": 1, "learn_events": 1}, "a1": {"learn_events": 1},
                  "t": {"learn_events": 2}},
        macs=[Entry(s1, 10, "a3", True), Entry(s2, 20, "t", True), Entry(host(1), 10, "a1"),
              Entry(host(2), 10, "a2"), Entry(host(3), 20, "t"), Entry(host(4), 10, "t")],
        fdb={"moved": 0},
    )


def isolation_case() -> Case:
    m = host(0x4D)  # one MAC, present in VLAN 10 behind a10 and in VLAN 20 behind a20
    f = Numbered()
    x = f(m, BROADCAST)
    in10 = [flood("a10", x, {"b10": x, "t": x.with_tags(Tag(10))})]
    x = f(m, BROADCAST)
    in20 = [flood("a20", x, {"t": x.with_tags(Tag(20))})]
    to_m = []
    x = f(host(1), m, Tag(10))
    to_m.append(unicast("t", x, "a10", untagged(x)))
    x = f(host(2), m, Tag(20, pcp=2))
    to_m.append(unicast("t", x, "a20", untagged(x)))
    x = f(host(3), m)
    to_m.append(unicast("b10", x, "a10", x))
    return Case(
        "vlan_isolation", "fdb", "the same MAC in two VLANs is two entries, neither a move of the other",
        [access("a10", 10), access("a20", 20), trunk("t", (10, 20)), access("b10", 10)],
        [in10, in20, to_m],
        counters={"a10": {"learn_events": 1}, "a20": {"learn_events": 1}, "t": {"learn_events": 2},
                  "b10": {"learn_events": 1}},
        macs=[Entry(m, 10, "a10"), Entry(m, 20, "a20"), Entry(host(1), 10, "t"), Entry(host(2), 20, "t"),
              Entry(host(3), 10, "b10")],
        fdb={"moved": 0},
    )


def move_case() -> Case:
    a, b, c = host(0xA), host(0xB), host(0xC)
    f = Numbered()
    x = f(a, BROADCAST)
    on_p0 = [flood("p0", x, {"p1": x, "p2": x, "t": x.with_tags(Tag(10))})]
    x = f(a, BROADCAST)
    on_p1 = [flood("p1", x, {"p0": x, "p2": x, "t": x.with_tags(Tag(10))})]  # a moves to p1
    to_p1 = []
    x = f(b, a)
    to_p1.append(unicast("p2", x, "p1", x))
    x = f(c, a, Tag(10))
    to_p1.append(unicast("t", x, "p1", untagged(x)))
    x = f(a, b)
    back = [unicast("p0", x, "p2", x)]  # a moves back to p0
    x = f(c, a, Tag(10))
    to_p0 = [unicast("t", x, "p0", untagged(x))]
    return Case(
        "mac_move", "learning", "a MAC seen on another port moves there (counted), and unicast follows it",
        [access("p0", 10), access("p1", 10), access("p2", 10), trunk("t", (10,))],
        [on_p0, on_p1, to_p1, back, to_p0],
        counters={"p0": {"learn_events": 2}, "p1": {"learn_events": 1}, "p2": {"learn_events": 1},
                  "t": {"learn_events": 1}},
        macs=[Entry(a, 10, "p0"), Entry(b, 10, "p2"), Entry(c, 10, "t")],
        fdb={"moved": 2},
    )


# ---- bursts ---------------------------------------------------------------------------------


def stream_case() -> Case:
    """100 frames from one port: every burst size splits them differently, output must not change."""
    f = Numbered()
    sends = []
    for i in range(100):
        # Periods 3, 4, 8 and 16 differ, so VLANs, destinations, priorities and sources mix.
        vid, pcp, dei = (10, 20, 30)[i % 3], i % 8, (i // 8) % 2
        dst = (BROADCAST, MCAST_IPV4, unknown(i % 7), MCAST_IPV6)[i % 4]
        x = f(host(0x80 + i % 16), dst, Tag(vid, pcp=pcp, dei=dei))
        if vid == 10:
            out = {"a10": untagged(x), "t2": x}
        elif vid == 20:
            out = {"a20": untagged(x), "t2": x}
        else:
            out = {"t2": untagged(x)}  # native on t2
        sends.append(flood("t1", x, out))
    return Case(
        "stream", "stream", "a long mixed stream from one trunk is forwarded identically at every burst size",
        [trunk("t1", (10, 20, 30)), trunk("t2", (10, 20), native=30), access("a10", 10), access("a20", 20)],
        [sends], bursts=(1, 2, 3, 4, 31, 32),
    )


def order_case() -> Case:
    """Broadcast and known unicast from one port to one egress port keep their order."""
    f = Numbered()
    x = f(host(0xB), BROADCAST)
    teach = [flood("p1", x, {"p0": x, "p2": x})]
    mixed = []
    for _ in range(2):
        x = f(host(0xA), BROADCAST)
        mixed.append(flood("p0", x, {"p1": x, "p2": x}))
        x = f(host(0xA), host(0xB))
        mixed.append(unicast("p0", x, "p1", x))
    return Case(
        "order", "order", "frames from one ingress port leave each egress port in the order they came in",
        [access("p0", 10), access("p1", 10), access("p2", 10)], [teach, mixed],
    )


# ---- 802.1ad: s-trunks, customer ports, translation, TPIDs, MTU -----------------------------
# S-tags are 88a8 unless a case says otherwise; C-tags are 8100 (Tag's default).


def s_tag(vid: int, **bits) -> Tag:
    return Tag(vid, tpid=TPID_QINQ, **bits)


def customer_case() -> Case:
    """Two customers on one s-trunk, with the same C-VLAN and the same MACs, never meet."""
    m1, m2 = host(0x31), host(0x32)  # both customers use both MACs
    f = Numbered()
    push = []
    x = f(m1, BROADCAST)  # untagged: the S-tag alone is pushed, PCP 0
    push.append(flood("ca", x, {"ca2": x, "s": x.with_tags(s_tag(100))}, vlan=100))
    x = f(host(0x37), BROADCAST, Tag(0, pcp=6))  # a priority tag is customer payload, kept
    push.append(flood("ca2", x, {"ca": x, "s": x.with_tags(s_tag(100, pcp=6), Tag(0, pcp=6))}, vlan=100))
    # The same MAC in customer B (its own phase: one MAC sends on one port per phase).
    x = f(m1, BROADCAST, Tag(10, pcp=3, dei=1))  # C-tagged: S-tag pushed over it with its priority
    push_b = [flood("cb", x, {"s": x.with_tags(s_tag(200, pcp=3, dei=1), Tag(10, pcp=3, dei=1))}, vlan=200)]
    pop = []
    x = f(m2, m1, s_tag(100, pcp=2), Tag(10, pcp=5))  # to customer A only: S-tag popped, C kept
    pop.append(unicast("s", x, "ca", x.with_tags(Tag(10, pcp=5)), vlan=100))
    x = f(m2, m1, s_tag(200), Tag(10))  # the same MACs and C-VLAN, customer B
    pop.append(unicast("s", x, "cb", x.with_tags(Tag(10)), vlan=200))
    x = f(host(0x33), BROADCAST, s_tag(100))  # S-tag only: untagged to A's ports
    pop.append(flood("s", x, {"ca": x.with_tags(), "ca2": x.with_tags()}, vlan=100))
    x = f(host(0x34), BROADCAST, s_tag(100), Tag(10), Tag(20, pcp=1))  # three deep: C and below kept
    pop.append(flood("s", x, {"ca": x.with_tags(Tag(10), Tag(20, pcp=1)),
                              "ca2": x.with_tags(Tag(10), Tag(20, pcp=1))}, vlan=100))
    pop.append(drop("s", f(host(0x35), BROADCAST, s_tag(300)), "vlan_not_allowed"))
    pop.append(drop("s", f(host(0x36), BROADCAST), "untagged_on_trunk"))
    return Case(
        "qinq_customers", "qinq",
        "customer ports push and pop the S-tag, keep C-tags, PCP and deeper tags; two customers stay apart, "
        "each counted in its S-VLAN",
        [customer("ca", 100), customer("ca2", 100), customer("cb", 200), s_trunk("s", (100, 200))],
        [push, push_b, pop],
        macs=[Entry(m1, 100, "ca"), Entry(m1, 200, "cb"), Entry(m2, 100, "s"), Entry(m2, 200, "s"),
              Entry(host(0x37), 100, "ca2"),
              Entry(host(0x33), 100, "s"), Entry(host(0x34), 100, "s")],
        fdb={"moved": 0},
    )


def selective_qinq_case() -> Case:
    """A customer port with c_vlans admits only those C-VLANs."""
    f = Numbered()
    sends = []
    for vid in (10, 20):
        x = f(host(vid), BROADCAST, Tag(vid, pcp=1))
        sends.append(flood("c", x, {"s": x.with_tags(s_tag(100, pcp=1), Tag(vid, pcp=1))}))
    sends.append(drop("c", f(host(0x30), BROADCAST, Tag(30)), "c_vlan_not_allowed"))
    sends.append(drop("c", f(host(0x31), BROADCAST), "c_vlan_not_allowed"))
    return Case(
        "selective_qinq", "qinq", "c_vlans admits listed C-VLANs; other and untagged frames drop by reason",
        [customer("c", 100, c_vlans=(10, 20)), s_trunk("s", (100,))], [sends],
    )


def translation_case() -> Case:
    """1:1 (VLAN 300 on t's wire is domain 10) and 2:1 (S 400 + C 10 on s's wire is domain 20)."""
    f = Numbered()
    sends = []
    x = f(host(1), BROADCAST)
    sends.append(flood("a10", x, {"t": x.with_tags(Tag(300))}))
    x = f(host(2), BROADCAST, Tag(300, pcp=4))
    sends.append(flood("t", x, {"a10": x.with_tags()}))
    x = f(host(3), BROADCAST)
    sends.append(flood("a20", x, {"s": x.with_tags(s_tag(400), Tag(10))}))
    x = f(host(4), BROADCAST, s_tag(400, pcp=5), Tag(10, pcp=2))
    sends.append(flood("s", x, {"a20": x.with_tags()}))
    sends.append(drop("s", f(host(5), BROADCAST, s_tag(400), Tag(11)), "vlan_not_allowed"))
    sends.append(drop("t", f(host(6), BROADCAST, Tag(10)), "vlan_not_allowed"))  # 10 is not on t's wire
    return Case(
        "vlan_translation", "qinq", "1:1 and 2:1 translation map wire tags onto domains, both ways",
        [access("a10", 10), access("a20", 20), trunk("t", (), translate=(Translation(300, 10),)),
         s_trunk("s", (), translate=(Translation(400, 20, c_vlan=10),))],
        [sends],
        macs=[Entry(host(1), 10, "a10"), Entry(host(2), 10, "t"), Entry(host(3), 20, "a20"),
              Entry(host(4), 20, "s")],
    )


def odd_tpid_case() -> Case:
    """An s-trunk with TPID 0x9100; foreign TPIDs as payload on one port, dropped on another."""
    f = Numbered()
    sends = []
    x = f(host(1), BROADCAST, Tag(100, pcp=7, tpid=0x9100), Tag(10))
    sends.append(flood("s", x, {"c": x.with_tags(Tag(10)), "d": x.with_tags(Tag(10))}))
    x = f(host(2), BROADCAST)
    sends.append(flood("c", x, {"s": x.with_tags(Tag(100, tpid=0x9100)), "d": x}))
    # 88a8 on the 0x9100 trunk is a foreign TPID: payload of the (absent) native VLAN, dropped.
    sends.append(drop("s", f(host(3), BROADCAST, s_tag(100)), "untagged_on_trunk"))
    x = f(host(4), BROADCAST, Tag(100, tpid=0x9200))  # foreign on a customer port: untagged payload
    sends.append(flood("c", x, {"s": x.with_tags(Tag(100, tpid=0x9100), Tag(100, tpid=0x9200)), "d": x}))
    sends.append(drop("d", f(host(5), BROADCAST, Tag(100, tpid=0x9200)), "foreign_tpid"))
    return Case(
        "odd_tpid", "qinq", "any TPID on an s-trunk; a foreign outer TPID is payload or a counted drop",
        [s_trunk("s", (100,), tpid=0x9100), customer("c", 100), customer("d", 100, foreign_tpid="drop")],
        [sends],
        counters={"c": {"foreign_tpid_payload": 1}, "s": {"foreign_tpid_payload": 1}},
    )


def qinq_mtu_case() -> Case:
    """A 1518-byte C-tagged frame fits a customer port of MTU 1500, not an s-trunk of 1500 once
    S-tagged (1522 bytes); an s-trunk of MTU 1504 takes it."""
    f = Numbered()
    big = f(host(1), BROADCAST, Tag(10), pad=1518 - 64)
    assert len(big.to_bytes()) == 1518
    sends = [flood("c", big, {"s1504": big.with_tags(s_tag(100), Tag(10))}, vlan=100)]
    small = f(host(2), BROADCAST, Tag(10), pad=1514 - 64)
    sends.append(flood("c", small, {"s1500": small.with_tags(s_tag(100), Tag(10)),
                                    "s1504": small.with_tags(s_tag(100), Tag(10))}, vlan=100))
    return Case(
        "qinq_mtu", "qinq", "tags pushed count against the egress MTU; too long is egress_mtu_exceeded",
        [customer("c", 100, mtu=1500), s_trunk("s1500", (100,), mtu=1500), s_trunk("s1504", (100,), mtu=1504)],
        [sends],
        egress_drops={"s1500": {"egress_mtu_exceeded": 1}},
        vlan_egress_drops={100: {"egress_mtu_exceeded": 1}},
    )


CASES = [
    tagging_case(),
    tpid_case(),
    drops_case(),
    flooding_case(),
    learning_case(),
    static_case(),
    isolation_case(),
    move_case(),
    stream_case(),
    order_case(),
    customer_case(),
    selective_qinq_case(),
    translation_case(),
    odd_tpid_case(),
    qinq_mtu_case(),
]

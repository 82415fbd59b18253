# SPDX-License-Identifier: MIT
"""The vocabulary of the case table: ports, static MACs, frames sent and what must come out.

A case is a switch configuration plus phases of traffic. Within a phase, frames may be
received in any grouping of bursts and any interleaving of ports, so no frame of a phase may
depend on what another frame of the same phase teaches the switch; a later phase sees
everything the earlier ones taught (golden.py lays the pcaps out so that this holds).
"""

import dataclasses
from typing import Optional, Union

from frames import Frame, RawFrame

AnyFrame = Union[Frame, RawFrame]


@dataclasses.dataclass(frozen=True)
class Port:
    name: str
    mode: str = "access"  # "access", "trunk", "s-trunk" or "customer"
    vlan: int = 1  # access: the PVID
    vlans: tuple[int, ...] = ()  # trunk, s-trunk: allowed list
    native: Optional[int] = None  # trunk: VLAN carried untagged
    tpid: Optional[int] = None  # None: the mode's default (0x8100; 0x88a8 on an s-trunk)
    s_vlan: Optional[int] = None  # customer: the S-VLAN (domain) every frame joins
    c_vlans: tuple[int, ...] = ()  # customer: the C-VLANs admitted (selective QinQ); () = all
    translate: tuple["Translation", ...] = ()  # trunk, s-trunk
    mtu: Optional[int] = None
    foreign_tpid: Optional[str] = None  # "payload" or "drop"; None: the default (payload)


@dataclasses.dataclass(frozen=True)
class Translation:
    """Wire tag(s) of one port mapped onto a domain: 1:1 (vlan) or 2:1 (vlan, c_vlan)."""

    vlan: int
    domain: int
    c_vlan: Optional[int] = None


def access(name: str, vlan: int) -> Port:
    return Port(name, "access", vlan=vlan)


def trunk(name: str, vlans: tuple[int, ...], native: Optional[int] = None, **keys) -> Port:
    return Port(name, "trunk", vlans=vlans, native=native, **keys)


def s_trunk(name: str, vlans: tuple[int, ...], **keys) -> Port:
    return Port(name, "s-trunk", vlans=vlans, **keys)


def customer(name: str, s_vlan: int, **keys) -> Port:
    return Port(name, "customer", s_vlan=s_vlan, **keys)


@dataclasses.dataclass(frozen=True)
class Static:
    mac: str
    vlan: int
    port: str


@dataclasses.dataclass(frozen=True)
class Send:
    """One frame received on `port`, and its fate: flooded, sent to one port, or dropped."""

    port: str
    frame: AnyFrame
    kind: str  # "flood", "unicast" or "drop"
    out: dict[str, AnyFrame]  # egress port -> the exact frame that must leave there
    reason: Optional[str] = None  # for "drop": the drop reason, as named in counters.def
    # The bridge domain, by its VLAN, that the frame is in once classified; None when it is
    # dropped before it has one (or the case does not check VLANs). A case that gives one
    # to any send has every VLAN's counters checked (golden.py), so it gives one to each.
    vlan: Optional[int] = None


def flood(port: str, frame: AnyFrame, out: dict[str, AnyFrame], vlan: Optional[int] = None) -> Send:
    return Send(port, frame, "flood", out, vlan=vlan)


def unicast(port: str, frame: AnyFrame, to: str, as_sent: AnyFrame, vlan: Optional[int] = None) -> Send:
    return Send(port, frame, "unicast", {to: as_sent}, vlan=vlan)


def drop(port: str, frame: AnyFrame, reason: str, vlan: Optional[int] = None) -> Send:
    return Send(port, frame, "drop", {}, reason, vlan=vlan)


@dataclasses.dataclass(frozen=True)
class Entry:
    """One MAC table entry as the state file lists it (idle time aside)."""

    mac: str
    vlan: int
    port: str
    static: bool = False


KEY_BURSTS = (1, 3, 4, 31, 32)


@dataclasses.dataclass
class Case:
    name: str
    group: str
    why: str  # what the case proves, printed when it fails
    ports: list[Port]
    phases: list[list[Send]]
    statics: list[Static] = dataclasses.field(default_factory=list)
    # Counters checked besides those golden.py derives from the sends (rx/tx packets and
    # bytes, every drop reason, flooded, unknown_unicast): port -> counter -> value.
    counters: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)
    # Drops the sends cannot imply, because they are counted on the egress port (e.g.
    # egress_mtu_exceeded): port -> reason -> value, added to those of the sends.
    egress_drops: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)
    # The same per VLAN (bridge domain), for a case whose sends give their VLAN: VLAN -> reason -> value.
    vlan_egress_drops: dict[int, dict[str, int]] = dataclasses.field(default_factory=dict)
    macs: Optional[list[Entry]] = None  # the whole MAC table; None: not checked
    fdb: dict[str, int] = dataclasses.field(default_factory=dict)  # e.g. {"moved": 1}
    bursts: tuple[int, ...] = KEY_BURSTS

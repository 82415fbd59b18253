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
    mode: str = "access"  # "access" or "trunk"
    vlan: int = 1  # access: the PVID
    vlans: tuple[int, ...] = ()  # trunk: allowed list
    native: Optional[int] = None  # trunk: VLAN carried untagged
    tpid: Optional[int] = None  # None: the switch's default (0x8100)


def access(name: str, vlan: int) -> Port:
    return Port(name, "access", vlan=vlan)


def trunk(name: str, vlans: tuple[int, ...], native: Optional[int] = None, tpid: Optional[int] = None) -> Port:
    return Port(name, "trunk", vlans=vlans, native=native, tpid=tpid)


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


def flood(port: str, frame: AnyFrame, out: dict[str, AnyFrame]) -> Send:
    return Send(port, frame, "flood", out)


def unicast(port: str, frame: AnyFrame, to: str, as_sent: AnyFrame) -> Send:
    return Send(port, frame, "unicast", {to: as_sent})


def drop(port: str, frame: AnyFrame, reason: str) -> Send:
    return Send(port, frame, "drop", {}, reason)


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
    macs: Optional[list[Entry]] = None  # the whole MAC table; None: not checked
    fdb: dict[str, int] = dataclasses.field(default_factory=dict)  # e.g. {"moved": 1}
    bursts: tuple[int, ...] = KEY_BURSTS

# SPDX-License-Identifier: MIT
"""Frames for the golden tests, built with scapy, and the few byte-level tools around them.

Expected frames are written out in full by each case (tags and all) rather than computed
from the input by a model of the switch: a golden test that shares the switch's reasoning
would share its bugs. Every frame carries a sequence number in its UDP payload, so no two
frames of a case have the same bytes and each output frame can be traced to one input.
"""

import dataclasses
import re
import struct

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Raw

BROADCAST = "ff:ff:ff:ff:ff:ff"
TPID_8021Q = 0x8100


def host(n: int) -> str:
    """A locally administered unicast MAC; hosts are numbered so cases read easily."""
    return f"02:00:00:00:00:{n:02x}"


@dataclasses.dataclass(frozen=True)
class Tag:
    """One VLAN tag as it sits on the wire: TPID, then PCP(3) DEI(1) VID(12)."""

    vid: int
    pcp: int = 0
    dei: int = 0
    tpid: int = TPID_8021Q


@dataclasses.dataclass(frozen=True)
class Frame:
    """An Ethernet frame with zero or more tags (outermost first) and a small UDP payload."""

    src: str
    dst: str
    tags: tuple[Tag, ...] = ()
    seq: int = 0
    pad: int = 0  # zero bytes after the payload, to make a frame of a chosen length

    def with_tags(self, *tags: Tag) -> "Frame":
        """The same frame (same MACs and payload) carrying exactly `tags`."""
        return dataclasses.replace(self, tags=tuple(tags))

    def to_bytes(self) -> bytes:
        # Each EtherType/TPID field names what follows it, so the tag stack is built by
        # hand with explicit types: scapy would otherwise pick 0x8100 for every tag.
        types = [t.tpid for t in self.tags] + [0x0800]
        pkt = Ether(src=self.src, dst=self.dst, type=types[0])
        for tag, next_type in zip(self.tags, types[1:]):
            pkt = pkt / Dot1Q(prio=tag.pcp, id=tag.dei, vlan=tag.vid, type=next_type)
        payload = f"golden frame {self.seq:05d}".encode() + bytes(self.pad)
        pkt = pkt / IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=1024 + self.seq, dport=9) / Raw(payload)
        return bytes(pkt)

    def describe(self) -> str:
        tags = "".join(f" [{t.tpid:#06x} vid {t.vid} pcp {t.pcp} dei {t.dei}]" for t in self.tags)
        return f"#{self.seq} {self.src} > {self.dst}{tags or ' untagged'}"


@dataclasses.dataclass(frozen=True)
class RawFrame:
    """Bytes that are not a well-formed frame (runts, headers cut short), given literally."""

    data: bytes
    label: str

    def to_bytes(self) -> bytes:
        return self.data

    def describe(self) -> str:
        return f"{self.label} ({len(self.data)} bytes)"


def header_only(src: str, dst: str, ethertype: int, extra: bytes = b"") -> bytes:
    """An Ethernet header (and `extra` bytes) with no payload: the raw material of runts."""
    return bytes(Ether(src=src, dst=dst, type=ethertype)) + extra


_SHOWN_TPIDS = (0x8100, 0x88A8, 0x9100, 0x9200)


def summary(data: bytes) -> str:
    """One line a human can read: MACs, every tag in full, EtherType and sequence number."""
    if len(data) < 14:
        return f"{len(data)}-byte runt {data.hex()}"
    words = [f"{len(data)} bytes {data[6:12].hex(':')} > {data[0:6].hex(':')}"]
    at = 12
    while len(data) >= at + 4 and int.from_bytes(data[at : at + 2], "big") in _SHOWN_TPIDS:
        tpid, tci = struct.unpack("!HH", data[at : at + 4])
        words.append(f"[{tpid:#06x} vid {tci & 0xFFF} pcp {tci >> 13} dei {(tci >> 12) & 1}]")
        at += 4
    words.append(f"type {data[at : at + 2].hex() or '(cut)'}")
    seq = re.search(rb"golden frame (\d+)", data)
    words.append(f"#{int(seq.group(1))}" if seq else "")
    return " ".join(words).rstrip()


# pcap files are written and read here, not with scapy, so that the bytes on disk are exactly
# the bytes given (no dissection and rebuild) and a capture shorter than the wire is noticed.
_PCAP_MAGIC_US = 0xA1B2C3D4
_PCAP_MAGIC_NS = 0xA1B23C4D
_LINKTYPE_ETHERNET = 1


def write_pcap(path: str, frames: list[bytes]) -> None:
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", _PCAP_MAGIC_US, 2, 4, 0, 0, 65535, _LINKTYPE_ETHERNET))
        for i, data in enumerate(frames):
            f.write(struct.pack("<IIII", 1, i, len(data), len(data)))
            f.write(data)


def read_pcap(path: str) -> list[bytes]:
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 24:
        raise ValueError(f"{path}: {len(blob)} bytes, not a pcap file")
    for endian in "<>":
        (magic,) = struct.unpack(endian + "I", blob[:4])
        if magic in (_PCAP_MAGIC_US, _PCAP_MAGIC_NS):
            break
    else:
        raise ValueError(f"{path}: not a pcap file (magic {blob[:4].hex()})")
    frames, at = [], 24
    while at < len(blob):
        _, _, caplen, wirelen = struct.unpack(endian + "IIII", blob[at : at + 16])
        if caplen != wirelen:
            raise ValueError(f"{path}: frame {len(frames)} captured {caplen} of {wirelen} bytes")
        frames.append(blob[at + 16 : at + 16 + caplen])
        at += 16 + caplen
    return frames


def hexdiff(expected: bytes, got: bytes) -> str:
    """Expected and got side by side, 16 bytes a row, rows that differ marked with '!'."""
    rows = [f"      {'expected':<48}  {'got':<48}"]
    for at in range(0, max(len(expected), len(got)), 16):
        e, g = expected[at : at + 16], got[at : at + 16]
        mark = " " if e == g else "!"
        rows.append(f"{mark}{at:04x}  {e.hex(' '):<48}  {g.hex(' '):<48}")
    differ = [i for i in range(max(len(expected), len(got))) if expected[i : i + 1] != got[i : i + 1]]
    if differ:
        rows.append(f"  {len(differ)} byte(s) differ, first at offset {differ[0]:#x}; lengths {len(expected)} vs {len(got)}")
    return "\n".join(rows)

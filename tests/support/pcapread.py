"""A small reader of the pcap files ``aio/pcap.py`` writes (raw IPv6 + TCP), for the tests."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Frame", "read_pcap"]


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured TCP segment."""

    time: float
    src: bytes
    dst: bytes
    sport: int
    dport: int
    seq: int
    ack: int
    flags: int
    payload: bytes
    checksum_ok: bool


def _sum16(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return int(total)


def read_pcap(path: Path) -> tuple[int, list[Frame]]:
    """``(link type, frames)`` of the pcap file at ``path``; AssertionError if malformed."""
    data = path.read_bytes()
    magic, major, minor, _, _, _, linktype = struct.unpack_from("<IHHiIII", data)
    assert (magic, major, minor) == (0xA1B2C3D4, 2, 4)
    frames = []
    at = 24
    while at < len(data):
        sec, usec, incl, orig = struct.unpack_from("<IIII", data, at)
        at += 16
        assert incl == orig
        frame = data[at : at + incl]
        at += incl
        assert len(frame) == incl and frame[0] >> 4 == 6 and frame[6] == 6
        (length,) = struct.unpack_from("!H", frame, 4)
        src, dst = frame[8:24], frame[24:40]
        tcp = frame[40:]
        assert len(tcp) == length
        sport, dport, seq, ack, off, flags = struct.unpack_from("!HHIIBB", tcp)
        pseudo = src + dst + struct.pack("!IxxxB", length, 6)
        frames.append(
            Frame(
                sec + usec / 1e6, src, dst, sport, dport, seq, ack, flags,
                tcp[(off >> 4) * 4 :], _sum16(pseudo + tcp) == 0xFFFF,
            )
        )  # fmt: skip
    assert at == len(data)
    return linktype, frames

"""Streaming packet codec, signing and signature checks (reference sections A.1-A.5).

A :class:`Packet` is the parsed form of one streaming packet. :meth:`Packet.decode` parses raw
bytes and raises only :class:`~i2p_streaming.errors.DataFormatError`; :meth:`Packet.encode`
writes the exact wire form (option order DELAY, FROM, MTU, OFFLINE, SIG). Option-presence bits of
``flags`` are derived from the optional fields on encode, so a packet can never claim an option
it does not carry.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntFlag
from typing import TYPE_CHECKING, Final

from i2p_streaming.data import Destination, OfflineSignature, SigType
from i2p_streaming.data import sigtypes as _sigtypes
from i2p_streaming.errors import DataFormatError

if TYPE_CHECKING:
    from i2p_streaming.data import PrivateKeys

__all__ = [
    "MAX_PAYLOAD_SIZE",
    "MIN_HEADER_SIZE",
    "Flags",
    "Packet",
    # the Flags members as plain ints (same names)
    "CLOSE",
    "DELAY_REQUESTED",
    "ECHO",
    "FROM_INCLUDED",
    "MAX_PACKET_SIZE_INCLUDED",
    "NO_ACK",
    "OFFLINE_SIGNATURE",
    "OPTION_BITS",
    "RESET",
    "SIGNATURE_INCLUDED",
    "SYNCHRONIZE",
    "PeerKey",
    "encode_plain",
    "peer_key_of",
    "verify_packet",
]


class Flags(IntFlag):
    """The 16-bit flags field (A.2); bit 0 is the least significant bit."""

    SYNCHRONIZE = 0x0001
    CLOSE = 0x0002
    RESET = 0x0004
    SIGNATURE_INCLUDED = 0x0008
    SIGNATURE_REQUESTED = 0x0010
    FROM_INCLUDED = 0x0020
    DELAY_REQUESTED = 0x0040
    MAX_PACKET_SIZE_INCLUDED = 0x0080
    PROFILE_INTERACTIVE = 0x0100
    ECHO = 0x0200
    NO_ACK = 0x0400
    OFFLINE_SIGNATURE = 0x0800


# The members as plain ints, under the members' names, for the per-packet code: an operation
# on an IntFlag member costs about 0.5 µs, forty times one on an int (tests check they agree).
SYNCHRONIZE: Final = int(Flags.SYNCHRONIZE)
CLOSE: Final = int(Flags.CLOSE)
RESET: Final = int(Flags.RESET)
SIGNATURE_INCLUDED: Final = int(Flags.SIGNATURE_INCLUDED)
FROM_INCLUDED: Final = int(Flags.FROM_INCLUDED)
DELAY_REQUESTED: Final = int(Flags.DELAY_REQUESTED)
MAX_PACKET_SIZE_INCLUDED: Final = int(Flags.MAX_PACKET_SIZE_INCLUDED)
ECHO: Final = int(Flags.ECHO)
NO_ACK: Final = int(Flags.NO_ACK)
OFFLINE_SIGNATURE: Final = int(Flags.OFFLINE_SIGNATURE)
#: Flags whose presence is decided by the optional fields, not by the caller.
OPTION_BITS: Final = (
    SIGNATURE_INCLUDED
    | FROM_INCLUDED
    | DELAY_REQUESTED
    | MAX_PACKET_SIZE_INCLUDED
    | OFFLINE_SIGNATURE
)
_RESERVED = 0xF000

MIN_HEADER_SIZE = 22
#: Largest payload accepted (Java ``Packet.MAX_PAYLOAD_SIZE``).
MAX_PAYLOAD_SIZE = 32768
MAX_NACKS = 255

_HEAD = struct.Struct(">IIIIB")  # send id, receive id, seq, ackThrough, NC
_TAIL = struct.Struct(">BHH")  # resendDelay, flags, optionSize
_U16 = struct.Struct(">H")
_NACK_STRUCTS = [struct.Struct(f">{n}I") for n in range(MAX_NACKS + 1)]
_OFFLINE_HEAD = struct.Struct(">IH")

#: A signing key remembered for a peer: (signature type, raw public key).
PeerKey = tuple[SigType, bytes]


@dataclass(slots=True)
class Packet:
    """One streaming packet.

    ``nacks`` holds sequence numbers (in the initiator's SYN: the 8 words of the replay hash).
    ``delay`` is the DELAY_REQUESTED value in ms, ``max_packet_size`` the MTU option;
    ``signature`` is the signature bytes (zeroes while signing) or ``None`` when unsigned.
    """

    send_stream_id: int
    receive_stream_id: int
    sequence_num: int
    ack_through: int
    nacks: tuple[int, ...] = ()
    resend_delay: int = 0
    flags: int = 0
    delay: int | None = None
    from_destination: Destination | None = None
    max_packet_size: int | None = None
    offline_signature: OfflineSignature | None = None
    signature: bytes | None = None
    payload: bytes = b""

    # ------------------------------------------------------------------ encode
    def option_flags(self) -> int:
        """Return ``flags`` with the option bits set exactly for the fields present."""
        flags = self.flags & ~OPTION_BITS
        if self.delay is not None:
            flags |= DELAY_REQUESTED
        if self.from_destination is not None:
            flags |= FROM_INCLUDED
        if self.max_packet_size is not None:
            flags |= MAX_PACKET_SIZE_INCLUDED
        if self.offline_signature is not None:
            flags |= OFFLINE_SIGNATURE
        if self.signature is not None:
            flags |= SIGNATURE_INCLUDED
        return flags

    def encode(self) -> bytes:
        """Return the wire bytes. Raises ``ValueError`` for out-of-range fields."""
        nacks = self.nacks
        n = len(nacks)
        if n > MAX_NACKS:
            raise ValueError(f"too many NACKs ({n} > {MAX_NACKS})")
        if self.offline_signature is not None and self.from_destination is None:
            raise ValueError("an offline signature block may only be sent together with FROM")
        if len(self.payload) > MAX_PAYLOAD_SIZE:
            raise ValueError(f"payload of {len(self.payload)} bytes exceeds {MAX_PAYLOAD_SIZE}")
        opts: list[bytes] = []
        if self.delay is not None:
            opts.append(_U16.pack(self.delay))
        if self.from_destination is not None:
            opts.append(self.from_destination.to_bytes())
        if self.max_packet_size is not None:
            opts.append(_U16.pack(self.max_packet_size))
        if self.offline_signature is not None:
            opts.append(self.offline_signature.to_bytes())
        if self.signature is not None:
            opts.append(self.signature)
        options = b"".join(opts)
        if len(options) > 0xFFFF:
            raise ValueError("option area larger than 65535 bytes")
        try:
            return b"".join(
                (
                    _HEAD.pack(
                        self.send_stream_id,
                        self.receive_stream_id,
                        self.sequence_num,
                        self.ack_through,
                        n,
                    ),
                    _NACK_STRUCTS[n].pack(*nacks),
                    _TAIL.pack(self.resend_delay, self.option_flags(), len(options)),
                    options,
                    self.payload,
                )
            )
        except struct.error as exc:
            raise ValueError(f"streaming packet field out of range: {exc}") from None

    def encode_signed(self, keys: PrivateKeys) -> bytes:
        """Sign with ``keys`` and return the wire bytes.

        The packet is written with a zeroed signature of ``keys.signature_length`` bytes, signed
        as a whole, and the signature is patched in (A.4). ``self.signature`` is left holding it
        and ``self.flags`` holds the flags as sent.
        """
        siglen = keys.signature_length
        self.signature = bytes(siglen)
        raw = bytearray(self.encode())
        sig = keys.sign(bytes(raw))
        end = len(raw) - len(self.payload)
        raw[end - siglen : end] = sig
        self.signature = sig
        self.flags = self.option_flags()
        return bytes(raw)

    # ------------------------------------------------------------------ decode
    @classmethod
    def decode(cls, data: bytes | bytearray | memoryview) -> Packet:
        """Parse one streaming packet; raises only :class:`DataFormatError`."""
        try:
            return cls._decode(data)
        except DataFormatError:
            raise
        except Exception as exc:  # defensive: any parser slip becomes a format error
            raise DataFormatError(f"streaming packet: malformed ({exc!r})") from None

    @classmethod
    def _decode(cls, data: bytes | bytearray | memoryview) -> Packet:
        size = len(data)
        if size < MIN_HEADER_SIZE:
            raise DataFormatError(f"streaming packet: {size} bytes is shorter than 22 at offset 0")
        sid, rid, seq, ack, nc = _HEAD.unpack_from(data, 0)
        off = 17 + 4 * nc
        if size < off + 5:
            raise DataFormatError(f"streaming packet: NACK count {nc} overruns at offset 16")
        nacks = _NACK_STRUCTS[nc].unpack_from(data, 17) if nc else ()
        resend, flags, optsize = _TAIL.unpack_from(data, off)
        off += 5
        end = off + optsize
        if size < end:
            raise DataFormatError(
                f"streaming packet: option size {optsize} overruns at offset {off - 2}"
            )
        if size - end > MAX_PAYLOAD_SIZE:
            raise DataFormatError(f"streaming packet: payload larger than 32768 at offset {end}")
        if flags & _RESERVED:
            raise DataFormatError(f"streaming packet: reserved flag bits set at offset {off - 4}")
        delay = mtu = None
        dest = None
        offline = None
        signature = None
        if flags & OPTION_BITS:
            mv = memoryview(data)
            if flags & DELAY_REQUESTED:
                if off + 2 > end:
                    raise DataFormatError(f"streaming packet: DELAY overruns at offset {off}")
                delay = _U16.unpack_from(data, off)[0]
                off += 2
            if flags & FROM_INCLUDED:
                dest, used = Destination.from_bytes(mv[:end], off)
                off += used
            if flags & MAX_PACKET_SIZE_INCLUDED:
                if off + 2 > end:
                    raise DataFormatError(f"streaming packet: MTU overruns at offset {off}")
                mtu = _U16.unpack_from(data, off)[0]
                off += 2
            if flags & OFFLINE_SIGNATURE:
                if dest is None:
                    raise DataFormatError(
                        f"streaming packet: OFFLINE_SIGNATURE without FROM at offset {off}"
                    )
                offline, used = OfflineSignature.from_bytes(mv[:end], off, dest.sig_type)
                off += used
            if flags & SIGNATURE_INCLUDED:
                if dest is not None:
                    siglen = (
                        offline.transient_sig_type.signature_length
                        if offline is not None
                        else dest.signature_length
                    )
                    if end - off != siglen:
                        raise DataFormatError(
                            f"streaming packet: signature of {end - off} bytes, expected "
                            f"{siglen}, at offset {off}"
                        )
                elif end == off:
                    raise DataFormatError(f"streaming packet: empty signature at offset {off}")
                signature = bytes(mv[off:end])
                off = end
        if off != end:
            raise DataFormatError(
                f"streaming packet: {end - off} unexplained option bytes at offset {off}"
            )
        return cls(
            sid,
            rid,
            seq,
            ack,
            nacks,
            resend,
            flags,
            delay,
            dest,
            mtu,
            offline,
            signature,
            bytes(data[end:]),
        )

    # ------------------------------------------------------------------ helpers
    @property
    def is_syn(self) -> bool:
        return bool(self.flags & SYNCHRONIZE)

    def signature_offset(self, size: int) -> int:
        """Offset of the signature inside the ``size``-byte raw packet it was decoded from."""
        assert self.signature is not None
        return size - len(self.payload) - len(self.signature)


def peer_key_of(destination: Destination, offline: OfflineSignature | None) -> PeerKey:
    """The key that signs a peer's packets: the transient key if offline, else the Destination's."""
    if offline is not None:
        return (offline.transient_sig_type, offline.transient_public_key)
    return (destination.sig_type, destination.signing_public_key)


def verify_packet(
    data: bytes,
    packet: Packet,
    *,
    key: PeerKey | None = None,
    expected: Destination | None = None,
    epoch_now: float | None = None,
) -> bool:
    """Check the signature of ``packet`` against its raw received bytes ``data``.

    With FROM present the signature is checked with FROM's key (or with the transient key of a
    valid, unexpired offline block: expiry is compared with ``epoch_now``, seconds since the
    epoch, when given); FROM must equal ``expected`` when that is given. Without FROM the stored
    ``key`` is used. Returns False, never raises, for anything that does not verify.
    """
    sig = packet.signature
    if sig is None:
        return False
    dest = packet.from_destination
    if dest is not None:
        if expected is not None and dest != expected:
            return False
        offline = packet.offline_signature
        if offline is not None and not offline.verify(dest, epoch_now):
            return False
        key = peer_key_of(dest, offline)
    if key is None:
        return False
    sig_type, public = key
    if len(sig) != sig_type.signature_length:
        return False
    off = packet.signature_offset(len(data))
    buf = bytearray(data)
    buf[off : off + len(sig)] = bytes(len(sig))
    try:
        return _sigtypes.verify(sig_type, public, bytes(buf), sig)
    except Exception:  # the primitive promises False, but peer bytes must never escape
        return False


def encode_plain(
    send_id: int,
    receive_id: int,
    seq: int,
    ack_through: int,
    nacks: tuple[int, ...] | list[int],
    flags: int,
    delay: int | None,
    payload: bytes,
) -> bytes:
    """Fast path for unsigned packets without FROM/MTU (data packets and plain ACKs)."""
    n = len(nacks)
    if delay is None:
        tail = _TAIL.pack(1, flags & ~OPTION_BITS, 0)
    else:
        tail = _TAIL.pack(1, (flags & ~OPTION_BITS) | DELAY_REQUESTED, 2) + _U16.pack(delay)
    head = _HEAD.pack(send_id, receive_id, seq, ack_through, n)
    if n:
        return b"".join((head, _NACK_STRUCTS[n].pack(*nacks), tail, payload))
    return b"".join((head, tail, payload))

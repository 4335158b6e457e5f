"""The four I2CP datagram formats: encoders and parsers (pure functions, no I/O, no clock).

Layouts (spec ``datagrams``, proposal 163)::

    repliable (17)  from(Destination) | signature | payload
    raw (18)        payload
    Datagram2 (19)  from | flags(2) | [options Mapping] | [OfflineSignature] | payload | signature
    Datagram3 (20)  fromhash(32) | flags(2) | [options Mapping] | payload

Repliable: the signature (type of ``from``) covers the payload, or the SHA-256 of the payload
for DSA_SHA1. Datagram2: flags bits 0-3 are the version (2), bit 4 says options follow, bit 5
an offline signature; the signature (of the transient key when offline) covers ``target hash
| flags | options | offline block | payload``, the target hash being the 32-byte hash of the
*receiving* Destination (never on the wire): a datagram signed for one destination does not
verify at another. Datagram3: version 3, bit 4 options; unsigned.

Parsers raise :class:`~i2p_streaming.errors.DataFormatError` for malformed bytes; the
``verify_*`` functions return a bool and never raise.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from i2p_streaming.data import (
    Destination,
    OfflineSignature,
    PrivateKeys,
    SigType,
    decode_mapping,
    encode_mapping,
    verify,
)
from i2p_streaming.data.base import Buffer
from i2p_streaming.errors import DataFormatError

__all__ = [
    "FLAG_OFFLINE",
    "FLAG_OPTIONS",
    "MAX_DATAGRAM_SIZE",
    "RECOMMENDED_MAX_PAYLOAD",
    "Datagram2Parts",
    "DatagramKind",
    "encode_datagram2",
    "encode_datagram3",
    "encode_repliable",
    "max_payload",
    "overhead",
    "parse_datagram2",
    "parse_datagram3",
    "parse_repliable",
    "verify_datagram2",
    "verify_repliable",
]

#: Largest datagram (header, signature and payload, before the gzip wrapper) sent or
#: accepted: i2pd inflates a datagram into a 32 KiB buffer and drops anything larger.
MAX_DATAGRAM_SIZE = 32768
#: Payload size the spec recommends at most for reliable delivery (about 10-11 KB: every
#: 1 KB tunnel message lost loses the whole datagram).
RECOMMENDED_MAX_PAYLOAD = 11 * 1024

#: Datagram2/3 flags: options mapping present.
FLAG_OPTIONS = 0x10
#: Datagram2 flags: offline signature present.
FLAG_OFFLINE = 0x20
_VERSION_MASK = 0x0F
_V2 = 2
_V3 = 3
_HASH_LEN = 32
_FLAGS = struct.Struct(">H")


class DatagramKind(StrEnum):
    """The four datagram formats, by the name the API uses; :attr:`protocol` is the I2CP
    protocol number."""

    REPLIABLE = "repliable"
    RAW = "raw"
    DATAGRAM2 = "datagram2"
    DATAGRAM3 = "datagram3"

    @property
    def protocol(self) -> int:
        """The standard I2CP protocol number (17, 18, 19, 20)."""
        return _PROTOCOLS[self]

    @property
    def repliable(self) -> bool:
        """True when a datagram of this kind names its sender (all but raw)."""
        return self is not DatagramKind.RAW

    @classmethod
    def from_protocol(cls, protocol: int) -> DatagramKind | None:
        """The kind of an I2CP protocol number, None for a non-datagram protocol."""
        return _BY_PROTOCOL.get(protocol)


_PROTOCOLS = {
    DatagramKind.REPLIABLE: 17,
    DatagramKind.RAW: 18,
    DatagramKind.DATAGRAM2: 19,
    DatagramKind.DATAGRAM3: 20,
}
_BY_PROTOCOL = {v: k for k, v in _PROTOCOLS.items()}


def _signed_payload(sig_type: SigType, payload: bytes) -> bytes:
    # repliable datagrams: DSA_SHA1 signs the SHA-256 of the payload, every other type the payload
    return hashlib.sha256(payload).digest() if sig_type is SigType.DSA_SHA1 else payload


def overhead(kind: DatagramKind, keys: PrivateKeys, *, options_len: int = 0) -> int:
    """Bytes a datagram of ``kind`` from ``keys`` adds to its payload (``options_len``: the
    encoded options Mapping, Datagram2/3 only)."""
    dest_len = len(keys.destination)
    if kind is DatagramKind.RAW:
        return 0
    if kind is DatagramKind.REPLIABLE:
        return dest_len + keys.destination.signature_length
    if kind is DatagramKind.DATAGRAM3:
        return _HASH_LEN + 2 + options_len
    offline = len(keys.offline) if keys.offline is not None else 0
    return dest_len + 2 + options_len + offline + keys.signature_length


def max_payload(kind: DatagramKind, keys: PrivateKeys) -> int:
    """The largest payload of ``kind`` from ``keys`` that fits :data:`MAX_DATAGRAM_SIZE`."""
    return MAX_DATAGRAM_SIZE - overhead(kind, keys)


def encode_repliable(keys: PrivateKeys, payload: bytes) -> bytes:
    """A repliable datagram (protocol 17) of ``payload`` signed by ``keys``.

    Raises ValueError for offline keys (this format has no room for the offline block: use
    Datagram2) or a Destination type this library cannot sign with."""
    if keys.offline is not None:
        raise ValueError(
            "repliable datagrams cannot carry an offline signature: send datagram2 with "
            "offline keys"
        )
    dest = keys.destination
    signature = keys.sign(_signed_payload(dest.sig_type, payload))
    return b"".join((dest.to_bytes(), signature, payload))


def parse_repliable(data: Buffer) -> tuple[Destination, bytes, bytes]:
    """Split a repliable datagram into ``(from, signature, payload)``; DataFormatError when
    the Destination or the signature is truncated or malformed."""
    dest, used = Destination.from_bytes(data, 0)
    end = used + dest.signature_length
    if end > len(data):
        raise DataFormatError(
            f"repliable datagram: signature truncated at offset {used} "
            f"({len(data) - used} of {dest.signature_length} bytes)"
        )
    return dest, bytes(data[used:end]), bytes(data[end:])


def verify_repliable(dest: Destination, signature: bytes, payload: bytes) -> bool:
    """True when ``signature`` by ``dest`` covers ``payload`` (never raises)."""
    return dest.verify(_signed_payload(dest.sig_type, payload), signature)


def _flags_and_options(flags: int, options: Mapping[str, str] | None) -> bytes:
    if options:
        return _FLAGS.pack(flags | FLAG_OPTIONS) + encode_mapping(options)
    return _FLAGS.pack(flags)


def encode_datagram2(
    keys: PrivateKeys,
    payload: bytes,
    target_hash: bytes,
    options: Mapping[str, str] | None = None,
) -> bytes:
    """A Datagram2 (protocol 19) of ``payload`` to the Destination whose hash is
    ``target_hash``, signed by ``keys`` (with the offline block and the transient key when
    ``keys`` are offline). Raises ValueError for a hash that is not 32 bytes or keys that
    cannot sign, DataFormatError for options that do not encode."""
    if len(target_hash) != _HASH_LEN:
        raise ValueError(f"target hash must be {_HASH_LEN} bytes, got {len(target_hash)}")
    flags = _V2 | (FLAG_OFFLINE if keys.offline is not None else 0)
    head = _flags_and_options(flags, options)
    if keys.offline is not None:
        head += keys.offline.to_bytes()
    signature = keys.sign(b"".join((bytes(target_hash), head, payload)))
    return b"".join((keys.destination.to_bytes(), head, payload, signature))


@dataclass(frozen=True, slots=True)
class Datagram2Parts:
    """A parsed, not yet verified Datagram2: ``signed`` is the wire bytes from the flags to
    the end of the payload (what the signature covers after the target hash)."""

    sender: Destination
    flags: int
    options: dict[str, str]
    offline: OfflineSignature | None
    payload: bytes
    signed: bytes
    signature: bytes


def _parse_options(data: Buffer, flags: int, pos: int, what: str) -> tuple[dict[str, str], int]:
    if not flags & FLAG_OPTIONS:
        return {}, pos
    try:
        options, used = decode_mapping(data, pos)
    except DataFormatError as exc:
        raise DataFormatError(f"{what}: options: {exc}") from None
    return options, pos + used


def _flags(data: Buffer, pos: int, version: int, what: str) -> int:
    if pos + 2 > len(data):
        raise DataFormatError(f"{what}: flags truncated at offset {pos}")
    (flags,) = _FLAGS.unpack_from(data, pos)
    if flags & _VERSION_MASK != version:
        raise DataFormatError(
            f"{what}: version {flags & _VERSION_MASK} at offset {pos}, expected {version}"
        )
    return int(flags)


def parse_datagram2(data: Buffer) -> Datagram2Parts:
    """Split a Datagram2; DataFormatError when truncated, of another version, or with a
    malformed Destination, options mapping or offline block."""
    what = "datagram2"
    sender, pos = Destination.from_bytes(data, 0)
    flags_at = pos
    flags = _flags(data, pos, _V2, what)
    options, pos = _parse_options(data, flags, pos + 2, what)
    offline = None
    if flags & FLAG_OFFLINE:
        try:
            offline, used = OfflineSignature.from_bytes(data, pos, sender.sig_type)
        except DataFormatError as exc:
            raise DataFormatError(f"{what}: {exc}") from None
        pos += used
    sig_type = offline.transient_sig_type if offline is not None else sender.sig_type
    sig_at = len(data) - sig_type.signature_length
    if sig_at < pos:
        raise DataFormatError(
            f"{what}: {len(data) - pos} bytes after offset {pos} cannot hold the "
            f"{sig_type.signature_length}-byte {sig_type.name} signature"
        )
    return Datagram2Parts(
        sender,
        flags,
        options,
        offline,
        bytes(data[pos:sig_at]),
        bytes(data[flags_at:sig_at]),
        bytes(data[sig_at:]),
    )


def verify_datagram2(parts: Datagram2Parts, target_hash: bytes, epoch_now: float) -> bool:
    """True when ``parts`` were signed for ``target_hash`` by their sender — through an
    offline block that the sender signed and that has not expired at ``epoch_now`` (seconds
    since the epoch), when there is one. Never raises."""
    signed = b"".join((target_hash, parts.signed))
    offline = parts.offline
    if offline is None:
        return parts.sender.verify(signed, parts.signature)
    if not offline.verify(parts.sender, epoch_now):
        return False
    return verify(offline.transient_sig_type, offline.transient_public_key, signed, parts.signature)


def encode_datagram3(
    sender_hash: bytes, payload: bytes, options: Mapping[str, str] | None = None
) -> bytes:
    """A Datagram3 (protocol 20): the sender's 32-byte hash, flags, options, ``payload``.
    Raises ValueError for a hash that is not 32 bytes."""
    if len(sender_hash) != _HASH_LEN:
        raise ValueError(f"sender hash must be {_HASH_LEN} bytes, got {len(sender_hash)}")
    return b"".join((bytes(sender_hash), _flags_and_options(_V3, options), payload))


def parse_datagram3(data: Buffer) -> tuple[bytes, dict[str, str], bytes]:
    """Split a Datagram3 into ``(sender hash, options, payload)``; DataFormatError when
    truncated or of another version."""
    what = "datagram3"
    if len(data) < _HASH_LEN:
        raise DataFormatError(f"{what}: {len(data)} bytes cannot hold the 32-byte sender hash")
    flags = _flags(data, _HASH_LEN, _V3, what)
    options, pos = _parse_options(data, flags, _HASH_LEN + 2, what)
    return bytes(data[:_HASH_LEN]), options, bytes(data[pos:])

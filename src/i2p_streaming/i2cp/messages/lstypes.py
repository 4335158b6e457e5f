"""The lease set types other than LeaseSet2 that a client may hand its router.

A router (the embedded one) needs to parse them from CreateLeaseSet (4) and CreateLeaseSet2
(41) frames: :class:`LeaseSet1` (type 1, the original ElGamal LeaseSet Java clients send by
default), :class:`EncryptedLeaseSet` (type 5: blinded key, published/expires and an opaque
encrypted body) and :class:`MetaLeaseSet` (type 7: references to other lease sets). Each parses
with ``from_bytes(buf, offset) -> (value, used)`` (no type byte), serialises with
``to_bytes()``, and checks its own signature with ``verify()`` (never raises). Parsing raises
only :class:`~i2p_streaming.errors.DataFormatError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from i2p_streaming.data import (
    Destination,
    Lease,
    OfflineSignature,
    SigType,
    decode_mapping,
    encode_mapping,
    verify,
)
from i2p_streaming.data.base import Buffer, ByteReader
from i2p_streaming.errors import DataFormatError

__all__ = [
    "ENCRYPTED_LS2_TYPE",
    "LS1_TYPE",
    "META_LS2_TYPE",
    "EncryptedLeaseSet",
    "LeaseSet1",
    "MetaEntry",
    "MetaLeaseSet",
]

LS1_TYPE = 1
ENCRYPTED_LS2_TYPE = 5
META_LS2_TYPE = 7
_ELGAMAL_KEY = 256
_MAX_LEASES = 16
_OFFLINE_FLAG = 1


def _sig_type(r: ByteReader, field: str) -> SigType:
    at = r.pos
    code = r.u16(field)
    try:
        return SigType(code)
    except ValueError:
        raise r.fail(f"unknown {field} {code}", at) from None


def _offline(r: ByteReader, signer: SigType) -> OfflineSignature:
    try:
        block, used = OfflineSignature.from_bytes(r.buf, r.pos, signer)
    except DataFormatError as exc:
        raise DataFormatError(f"{r.what}: {exc}") from None
    r.take(used, "offline signature")
    return block


@dataclass(frozen=True, slots=True)
class LeaseSet1:
    """``Destination | ElGamal key(256) | signing key | n(1) | n x Lease(44) | signature``.

    The signing key and the signature have the Destination's signature type; leases end in ms.
    """

    destination: Destination
    encryption_key: bytes
    signing_key: bytes
    leases: tuple[Lease, ...]
    signature: bytes = field(repr=False)

    @property
    def properties(self) -> dict[str, str]:
        """A LeaseSet v1 has no options (the same attribute as on LeaseSet2)."""
        return {}

    def signed_bytes(self) -> bytes:
        """Everything before the signature (LS1 signs without a type byte)."""
        parts = [self.destination.to_bytes(), self.encryption_key, self.signing_key]
        parts.append(bytes((len(self.leases),)))
        parts.extend(lease.to_bytes() for lease in self.leases)
        return b"".join(parts)

    def to_bytes(self) -> bytes:
        return self.signed_bytes() + self.signature

    def verify(self) -> bool:
        """True if the Destination's key signed it."""
        return self.destination.verify(self.signed_bytes(), self.signature)

    @classmethod
    def from_bytes(cls, buf: Buffer, offset: int = 0) -> tuple[LeaseSet1, int]:
        dest, used = Destination.from_bytes(buf, offset)
        r = ByteReader(buf, offset + used, "LeaseSet1")
        enc = r.take(_ELGAMAL_KEY, "encryption key")
        spk = r.take(dest.sig_type.public_key_length, "signing key")
        count_at = r.pos
        count = r.u8("lease count")
        if count > _MAX_LEASES:
            raise r.fail(f"{count} leases, at most {_MAX_LEASES}", count_at)
        leases = tuple(Lease.from_bytes(r.take(44, "lease"))[0] for _ in range(count))
        sig = r.take(dest.sig_type.signature_length, "signature")
        return cls(dest, enc, spk, leases, sig), r.pos - offset


@dataclass(frozen=True, slots=True)
class EncryptedLeaseSet:
    """``sigType(2) | blinded key | published(4) | expires(2) | flags(2) | [offline] | len(2) |
    encrypted | signature``: stored and served as an opaque blob; only the outer signature (by
    the blinded key, or the transient key when offline) can be checked without the secret."""

    blinded_sig_type: SigType
    blinded_key: bytes
    published: int
    expires: int
    flags: int
    offline: OfflineSignature | None
    encrypted: bytes = field(repr=False)
    signature: bytes = field(repr=False)

    @property
    def properties(self) -> dict[str, str]:
        """The options are inside the encrypted part: none are visible."""
        return {}

    def signed_bytes(self) -> bytes:
        """``0x05`` + everything before the signature."""
        parts = [
            struct.pack(">BH", ENCRYPTED_LS2_TYPE, int(self.blinded_sig_type)),
            self.blinded_key,
            struct.pack(">IHH", self.published, self.expires - self.published, self.flags),
        ]
        if self.offline is not None:
            parts.append(self.offline.to_bytes())
        parts.append(struct.pack(">H", len(self.encrypted)))
        parts.append(self.encrypted)
        return b"".join(parts)

    def to_bytes(self) -> bytes:
        return self.signed_bytes()[1:] + self.signature

    def verify(self) -> bool:
        """True if the outer signature verifies (offline block included)."""
        signed = self.signed_bytes()
        if self.offline is not None:
            block = self.offline
            if not verify(
                self.blinded_sig_type, self.blinded_key, block.signed_bytes(), block.signature
            ):
                return False
            return verify(
                block.transient_sig_type, block.transient_public_key, signed, self.signature
            )
        return verify(self.blinded_sig_type, self.blinded_key, signed, self.signature)

    @classmethod
    def from_bytes(cls, buf: Buffer, offset: int = 0) -> tuple[EncryptedLeaseSet, int]:
        r = ByteReader(buf, offset, "EncryptedLeaseSet")
        sig_type = _sig_type(r, "blinded sig type")
        key = r.take(sig_type.public_key_length, "blinded key")
        published = r.u32("published")
        expires = published + r.u16("expires")
        flags = r.u16("flags")
        offline = _offline(r, sig_type) if flags & _OFFLINE_FLAG else None
        encrypted = r.take(r.u16("encrypted length"), "encrypted data")
        signer = offline.transient_sig_type if offline is not None else sig_type
        sig = r.take(signer.signature_length, "signature")
        value = cls(sig_type, key, published, expires, flags, offline, encrypted, sig)
        return value, r.pos - offset


@dataclass(frozen=True, slots=True)
class MetaEntry:
    """One reference of a MetaLeaseSet: ``hash(32) | flags(3) | cost(1) | end(4, s)``."""

    hash: bytes
    flags: int
    cost: int
    end: int

    def to_bytes(self) -> bytes:
        return (
            self.hash
            + self.flags.to_bytes(3, "big")
            + bytes((self.cost,))
            + struct.pack(">I", self.end)
        )


@dataclass(frozen=True, slots=True)
class MetaLeaseSet:
    """``Destination | published | expires | flags | [offline] | options | n | n x entry |
    m | m x revoked hash | signature`` (signed with a ``0x07`` prefix)."""

    destination: Destination
    published: int
    expires: int
    flags: int
    offline: OfflineSignature | None
    properties: dict[str, str]
    entries: tuple[MetaEntry, ...]
    revocations: tuple[bytes, ...]
    signature: bytes = field(repr=False)

    def signed_bytes(self) -> bytes:
        parts = [
            bytes((META_LS2_TYPE,)),
            self.destination.to_bytes(),
            struct.pack(">IHH", self.published, self.expires - self.published, self.flags),
        ]
        if self.offline is not None:
            parts.append(self.offline.to_bytes())
        parts.append(encode_mapping(self.properties, sort=False))
        parts.append(bytes((len(self.entries),)))
        parts.extend(entry.to_bytes() for entry in self.entries)
        parts.append(bytes((len(self.revocations),)))
        parts.extend(self.revocations)
        return b"".join(parts)

    def to_bytes(self) -> bytes:
        return self.signed_bytes()[1:] + self.signature

    def verify(self) -> bool:
        """True if the Destination (or its offline transient key) signed it."""
        signed = self.signed_bytes()
        if self.offline is not None:
            block = self.offline
            if not block.verify(self.destination):
                return False
            return verify(
                block.transient_sig_type, block.transient_public_key, signed, self.signature
            )
        return self.destination.verify(signed, self.signature)

    @classmethod
    def from_bytes(cls, buf: Buffer, offset: int = 0) -> tuple[MetaLeaseSet, int]:
        dest, used = Destination.from_bytes(buf, offset)
        r = ByteReader(buf, offset + used, "MetaLeaseSet")
        published = r.u32("published")
        expires = published + r.u16("expires")
        flags = r.u16("flags")
        offline = _offline(r, dest.sig_type) if flags & _OFFLINE_FLAG else None
        try:
            props, n = decode_mapping(r.buf, r.pos)
        except DataFormatError as exc:
            raise DataFormatError(f"MetaLeaseSet: {exc}") from None
        r.take(n, "options")
        entries = []
        for _ in range(r.u8("entry count")):
            raw = r.take(40, "entry")
            entries.append(
                MetaEntry(
                    raw[:32], int.from_bytes(raw[32:35], "big"), raw[35], int.from_bytes(raw[36:])
                )
            )
        revoked = tuple(r.take(32, "revocation") for _ in range(r.u8("revocation count")))
        signer = offline.transient_sig_type if offline is not None else dest.sig_type
        sig = r.take(signer.signature_length, "signature")
        value = cls(dest, published, expires, flags, offline, props, tuple(entries), revoked, sig)
        return value, r.pos - offset

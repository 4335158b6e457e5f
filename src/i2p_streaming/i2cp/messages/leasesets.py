"""Lease set messages: the router's request and our CreateLeaseSet2 (and legacy CreateLeaseSet).

CreateLeaseSet2 carries any lease set type (1, 3, 5 or 7, see :mod:`.lstypes`); this client
sends type 3 only, the embedded router accepts all four.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Self

from i2p_streaming.data import Lease, LeaseSet2
from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp.messages.base import Message, u16
from i2p_streaming.i2cp.messages.lstypes import (
    ENCRYPTED_LS2_TYPE,
    LS1_TYPE,
    META_LS2_TYPE,
    EncryptedLeaseSet,
    LeaseSet1,
    MetaLeaseSet,
)
from i2p_streaming.i2cp.reader import MessageReader as _Reader

__all__ = [
    "AnyLeaseSet",
    "CreateLeaseSet",
    "CreateLeaseSet2",
    "CreateLeaseSet2Other",
    "OtherLeaseSet",
    "RequestVariableLeaseSet",
    "decode_create_lease_set2",
]

#: Every lease set a client may submit.
AnyLeaseSet = LeaseSet2 | LeaseSet1 | EncryptedLeaseSet | MetaLeaseSet


@dataclass(frozen=True, slots=True)
class CreateLeaseSet(Message):
    """Legacy (LS1) lease set: kept as raw bytes; this client never sends it."""

    TYPE: ClassVar[int] = 4
    session_id: int
    signing_private_key: bytes  # 20 bytes
    private_key: bytes  # 256-byte ElGamal key
    lease_set: bytes

    def encode(self) -> bytes:
        if len(self.signing_private_key) != 20 or len(self.private_key) != 256:
            raise ValueError("CreateLeaseSet needs a 20-byte and a 256-byte private key")
        return u16(self.session_id) + self.signing_private_key + self.private_key + self.lease_set

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "CreateLeaseSet")
        return cls(r.uint(2, "session id"), r.take(20, "signing key"), r.take(256, "key"), r.rest())


@dataclass(frozen=True, slots=True)
class RequestVariableLeaseSet(Message):
    TYPE: ClassVar[int] = 37
    session_id: int
    leases: tuple[Lease, ...]

    def encode(self) -> bytes:
        parts = [u16(self.session_id), bytes((len(self.leases),))]
        parts.extend(lease.to_bytes() for lease in self.leases)
        return b"".join(parts)

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "RequestVariableLeaseSet")
        sid = r.uint(2, "session id")
        count = r.uint(1, "lease count")
        leases = tuple(r.parse(Lease.from_bytes) for _ in range(count))
        r.done()
        return cls(sid, leases)


def _private_keys(r: _Reader, ls_type: int) -> tuple[tuple[int, bytes], ...]:
    keys: list[tuple[int, bytes]] = []
    if ls_type == LS1_TYPE:
        keys.append((0, r.take(256, "ElGamal private key")))
    elif ls_type != META_LS2_TYPE:
        for _ in range(r.uint(1, "private key count")):
            enc_type = r.uint(2, "encryption type")
            keys.append((enc_type, r.take(r.uint(2, "key length"), "private key")))
    r.done()
    return tuple(keys)


def _encode_keys(ls_type: int, private_keys: tuple[tuple[int, bytes], ...]) -> bytes:
    if ls_type == LS1_TYPE:
        return b"".join(key for _, key in private_keys[:1])
    if ls_type == META_LS2_TYPE:
        return b""
    parts = [bytes((len(private_keys),))]
    parts.extend(u16(enc_type) + u16(len(key)) + key for enc_type, key in private_keys)
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class CreateLeaseSet2(Message):
    """``SessionId | type(1)=3 | LeaseSet2 | n | n x (encType(2) len(2) key)``.

    The same message with another lease set type decodes as :class:`CreateLeaseSet2Other`
    (see :func:`decode_create_lease_set2`).
    """

    TYPE: ClassVar[int] = 41
    session_id: int
    lease_set: LeaseSet2
    private_keys: tuple[tuple[int, bytes], ...] = field(default=())

    def encode(self) -> bytes:
        return (
            u16(self.session_id)
            + b"\x03"
            + self.lease_set.to_bytes()
            + _encode_keys(3, self.private_keys)
        )

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "CreateLeaseSet2")
        sid = r.uint(2, "session id")
        ls_type = r.uint(1, "lease set type")
        if ls_type != 3:
            raise DataFormatError(f"CreateLeaseSet2: lease set type {ls_type} is not 3")
        lease_set = r.parse(LeaseSet2.from_bytes)
        return cls(sid, lease_set, _private_keys(r, 3))


OtherLeaseSet = LeaseSet1 | EncryptedLeaseSet | MetaLeaseSet


@dataclass(frozen=True, slots=True)
class CreateLeaseSet2Other(Message):
    """Message 41 with lease set type 1 (keys: one raw 256-byte ElGamal key, kept as
    ``((0, key),)``), 5 (encrypted: ``n | n x (encType len key)``) or 7 (meta: no keys)."""

    TYPE: ClassVar[int] = 41
    session_id: int
    lease_set: OtherLeaseSet
    private_keys: tuple[tuple[int, bytes], ...] = field(default=())

    @property
    def lease_set_type(self) -> int:
        """1, 5 or 7."""
        if isinstance(self.lease_set, LeaseSet1):
            return LS1_TYPE
        if isinstance(self.lease_set, EncryptedLeaseSet):
            return ENCRYPTED_LS2_TYPE
        return META_LS2_TYPE

    def encode(self) -> bytes:
        ls_type = self.lease_set_type
        return (
            u16(self.session_id)
            + bytes((ls_type,))
            + self.lease_set.to_bytes()
            + _encode_keys(ls_type, self.private_keys)
        )

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "CreateLeaseSet2")
        sid = r.uint(2, "session id")
        ls_type = r.uint(1, "lease set type")
        lease_set: OtherLeaseSet
        if ls_type == LS1_TYPE:
            lease_set = r.parse(LeaseSet1.from_bytes)
        elif ls_type == ENCRYPTED_LS2_TYPE:
            lease_set = r.parse(EncryptedLeaseSet.from_bytes)
        elif ls_type == META_LS2_TYPE:
            lease_set = r.parse(MetaLeaseSet.from_bytes)
        else:
            raise DataFormatError(
                f"CreateLeaseSet2: unsupported lease set type {ls_type} at offset 2"
            )
        return cls(sid, lease_set, _private_keys(r, ls_type))


def decode_create_lease_set2(body: bytes) -> CreateLeaseSet2 | CreateLeaseSet2Other:
    """Message 41 by its lease set type (byte 2): 3 gives CreateLeaseSet2, 1/5/7 the other."""
    if len(body) > 2 and body[2] == 3:
        return CreateLeaseSet2.decode(body)
    return CreateLeaseSet2Other.decode(body)

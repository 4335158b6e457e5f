"""Lease set messages: the router's request and our CreateLeaseSet2 (and legacy CreateLeaseSet)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Self

from i2p_streaming.data import Lease, LeaseSet2
from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp.messages.base import Message, u16
from i2p_streaming.i2cp.reader import MessageReader as _Reader

__all__ = ["CreateLeaseSet", "CreateLeaseSet2", "RequestVariableLeaseSet"]


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


@dataclass(frozen=True, slots=True)
class CreateLeaseSet2(Message):
    """``SessionId | type(1)=3 | LeaseSet2 | n | n x (encType(2) len(2) key)``."""

    TYPE: ClassVar[int] = 41
    session_id: int
    lease_set: LeaseSet2
    private_keys: tuple[tuple[int, bytes], ...] = field(default=())

    def encode(self) -> bytes:
        parts = [u16(self.session_id), b"\x03", self.lease_set.to_bytes()]
        parts.append(bytes((len(self.private_keys),)))
        for enc_type, key in self.private_keys:
            parts.append(u16(enc_type) + u16(len(key)) + key)
        return b"".join(parts)

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, "CreateLeaseSet2")
        sid = r.uint(2, "session id")
        ls_type = r.uint(1, "lease set type")
        if ls_type != 3:
            raise DataFormatError(
                f"CreateLeaseSet2: unsupported lease set type {ls_type} at offset 2"
            )
        lease_set = r.parse(LeaseSet2.from_bytes)
        keys = []
        for _ in range(r.uint(1, "private key count")):
            enc_type = r.uint(2, "encryption type")
            keys.append((enc_type, r.take(r.uint(2, "key length"), "private key")))
        r.done()
        return cls(sid, lease_set, tuple(keys))

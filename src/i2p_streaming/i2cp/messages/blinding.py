"""BlindingInfo (42): a client tells its router how to reach an encrypted (blinded) LeaseSet.

``SessionId | flags(1) | endpointType(1) | blindedSigType(2) | expiration(4, s) | endpoint |
[authKey(32)] | [secret String]``. Flags: bit 0 per-client authentication, bits 3-1 its scheme
(0 DH, 1 PSK), bit 4 a secret follows; bits 7-5 must be 0 (rejected otherwise). Endpoint by
type: 0 Hash(32), 1 host name String, 2 Destination, 3 ``sigType(2) | signing public key``.
The router sends no reply.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from i2p_streaming.data import Destination, SigType, encode_string
from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp.messages.base import Message, u16, u32
from i2p_streaming.i2cp.reader import MessageReader as _Reader

__all__ = ["AUTH_DH", "AUTH_NONE", "AUTH_PSK", "BlindingInfo"]

AUTH_NONE = 0
AUTH_DH = 1  # per-client, scheme 0
AUTH_PSK = 3  # per-client, scheme 1
_AUTH_MASK = 0x0F
_SECRET = 0x10
ENDPOINT_HASH, ENDPOINT_HOST, ENDPOINT_DEST, ENDPOINT_KEY = 0, 1, 2, 3

Endpoint = bytes | str | Destination | tuple[SigType, bytes]


@dataclass(frozen=True, slots=True)
class BlindingInfo(Message):
    """``endpoint`` is a 32-byte hash, a host name, a Destination or ``(sig type, key)``."""

    TYPE: ClassVar[int] = 42
    session_id: int
    endpoint: Endpoint
    blinded_sig_type: int
    expiration: int
    auth_type: int = AUTH_NONE
    auth_key: bytes | None = None
    secret: str | None = None

    @property
    def endpoint_type(self) -> int:
        """0 hash, 1 host name, 2 Destination, 3 signing key."""
        endpoint = self.endpoint
        if isinstance(endpoint, bytes):
            return ENDPOINT_HASH
        if isinstance(endpoint, str):
            return ENDPOINT_HOST
        if isinstance(endpoint, Destination):
            return ENDPOINT_DEST
        return ENDPOINT_KEY

    @property
    def signing_key(self) -> tuple[SigType, bytes] | None:
        """The unblinded signing key, when the endpoint names one (types 2 and 3)."""
        endpoint = self.endpoint
        if isinstance(endpoint, Destination):
            return endpoint.sig_type, endpoint.signing_public_key
        if isinstance(endpoint, tuple):
            return endpoint
        return None

    def encode(self) -> bytes:
        flags = self.auth_type | (_SECRET if self.secret is not None else 0)
        parts = [
            u16(self.session_id),
            struct.pack(">BBH", flags, self.endpoint_type, self.blinded_sig_type),
            u32(self.expiration),
        ]
        endpoint = self.endpoint
        if isinstance(endpoint, bytes):
            parts.append(endpoint)
        elif isinstance(endpoint, str):
            parts.append(encode_string(endpoint))
        elif isinstance(endpoint, Destination):
            parts.append(endpoint.to_bytes())
        else:
            parts.append(u16(int(endpoint[0])) + endpoint[1])
        if self.auth_type != AUTH_NONE:
            if self.auth_key is None or len(self.auth_key) != 32:
                raise ValueError("BlindingInfo with authentication needs a 32-byte key")
            parts.append(self.auth_key)
        if self.secret is not None:
            parts.append(encode_string(self.secret))
        return b"".join(parts)

    @classmethod
    def decode(cls, body: bytes) -> Self:
        r = _Reader(body, cls.__name__)
        sid = r.uint(2, "session id")
        flags = r.uint(1, "flags")
        if flags & ~(_AUTH_MASK | _SECRET):
            raise DataFormatError(f"BlindingInfo: unused flag bits set in 0x{flags:02x}")
        kind = r.uint(1, "endpoint type")
        blinded = r.uint(2, "blinded sig type")
        expiration = r.uint(4, "expiration")
        endpoint: Endpoint
        if kind == ENDPOINT_HASH:
            endpoint = r.take(32, "hash")
        elif kind == ENDPOINT_HOST:
            endpoint = r.string()
            if not endpoint:
                raise DataFormatError("BlindingInfo: empty host name")
        elif kind == ENDPOINT_DEST:
            endpoint = r.destination()
        elif kind == ENDPOINT_KEY:
            code = r.uint(2, "sig type")
            try:
                sig_type = SigType(code)
            except ValueError:
                raise DataFormatError(f"BlindingInfo: unknown sig type {code}") from None
            endpoint = (sig_type, r.take(sig_type.public_key_length, "signing key"))
        else:
            raise DataFormatError(f"BlindingInfo: unknown endpoint type {kind}")
        auth = flags & _AUTH_MASK
        key = None
        if auth in (AUTH_DH, AUTH_PSK):
            key = r.take(32, "auth key")
        elif auth != AUTH_NONE:
            raise DataFormatError(f"BlindingInfo: unknown authentication type {auth}")
        secret = r.string() if flags & _SECRET else None
        r.done()
        return cls(sid, endpoint, blinded, expiration, auth, key, secret)

"""KeysAndCert and Destination (spec D.3): byte-exact parse/serialise, hash, b32, verify.

Layout: ``[0, 256)`` crypto-key slot (key left-aligned), ``[256, 384)`` padding then the
signing key right-aligned to 384 (at most 128 bytes there, the rest in the KEY certificate),
then the certificate. Objects keep their exact original bytes, so padding is preserved.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, Self

from i2p_streaming.data.base import Buffer, ByteReader, b32_address, b64decode, b64encode
from i2p_streaming.data.certificate import (
    CERT_NULL,
    SIGNING_SLOT,
    Certificate,
)
from i2p_streaming.data.sigtypes import EncType, SigType, verify
from i2p_streaming.errors import DataFormatError

__all__ = ["KEYS_LENGTH", "Destination", "KeysAndCert", "repeated_padding"]

KEYS_LENGTH = 384
"""Bytes before the certificate in every KeysAndCert."""
CRYPTO_SLOT = 256


def repeated_padding(length: int) -> bytes:
    """``length`` bytes of one random 32-byte block repeated (spec D.3 padding advice)."""
    block = secrets.token_bytes(32)
    return (block * (length // 32 + 1))[:length]


class KeysAndCert:
    """An immutable, hashable KeysAndCert; equality and hash are by the exact bytes."""

    __slots__ = (
        "_hash",
        "_raw",
        "certificate",
        "enc_type",
        "public_key",
        "sig_type",
        "signing_public_key",
    )

    _raw: bytes
    _hash: bytes
    certificate: Certificate
    sig_type: SigType
    enc_type: EncType
    signing_public_key: bytes
    public_key: bytes

    def __init__(self, raw: bytes) -> None:
        """Wrap exactly one serialised KeysAndCert; DataFormatError if ``raw`` is not one."""
        obj, used = self._parse(raw, 0)
        if used != len(raw):
            raise DataFormatError(
                f"{type(self).__name__}: {len(raw) - used} trailing bytes at offset {used}"
            )
        for name in KeysAndCert.__slots__:
            object.__setattr__(self, name, getattr(obj, name))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    @classmethod
    def _parse(cls, buf: Buffer, offset: int) -> tuple[Self, int]:
        what = cls.__name__
        r = ByteReader(buf, offset, what)
        keys = r.take(KEYS_LENGTH, "keys")
        try:
            cert, used = Certificate.from_bytes(r.buf, r.pos)
        except DataFormatError as exc:
            raise DataFormatError(f"{what}: {exc}") from None
        r.take(used, "certificate")
        sig_type, enc_type = cert.sig_type, cert.enc_type
        in_slot = min(sig_type.public_key_length, SIGNING_SLOT)
        signing = keys[KEYS_LENGTH - in_slot :] + cert.excess_signing_key
        obj = cls.__new__(cls)
        raw = keys + cert.to_bytes()
        values = {
            "_raw": raw,
            "_hash": hashlib.sha256(raw).digest(),
            "certificate": cert,
            "sig_type": sig_type,
            "enc_type": enc_type,
            "signing_public_key": signing,
            "public_key": keys[: enc_type.public_key_length],
        }
        for name, value in values.items():
            object.__setattr__(obj, name, value)
        return obj, r.pos - offset

    @classmethod
    def from_bytes(cls, buf: Buffer, offset: int = 0) -> tuple[Self, int]:
        """Parse one object at ``offset``; return ``(object, bytes used)``.

        Bytes after it are left alone. Raises DataFormatError (with the offset) if truncated
        or if the certificate is invalid.
        """
        return cls._parse(buf, offset)

    @classmethod
    def from_base64(cls, text: str) -> Self:
        """Decode I2P Base64 holding exactly one object; DataFormatError otherwise."""
        return cls(b64decode(text))

    @classmethod
    def build(
        cls,
        public_key: bytes,
        signing_public_key: bytes,
        sig_type: SigType,
        enc_type: EncType = EncType.ELGAMAL,
        padding: bytes | None = None,
    ) -> Self:
        """Assemble from keys; NULL certificate for DSA_SHA1+ElGamal, KEY certificate otherwise.

        ``padding`` (the bytes between the two keys) defaults to a random 32-byte block
        repeated. Raises DataFormatError for keys or padding of the wrong length.
        """
        sig_type, enc_type = SigType(sig_type), EncType(enc_type)
        if len(public_key) != enc_type.public_key_length:
            raise DataFormatError(
                f"{cls.__name__}.build: {enc_type.name} public key must be "
                f"{enc_type.public_key_length} bytes, got {len(public_key)}"
            )
        if len(signing_public_key) != sig_type.public_key_length:
            raise DataFormatError(
                f"{cls.__name__}.build: {sig_type.name} signing key must be "
                f"{sig_type.public_key_length} bytes, got {len(signing_public_key)}"
            )
        in_slot = min(sig_type.public_key_length, SIGNING_SLOT)
        pad_len = KEYS_LENGTH - enc_type.public_key_length - in_slot
        if padding is None:
            padding = repeated_padding(pad_len)
        if len(padding) != pad_len:
            raise DataFormatError(
                f"{cls.__name__}.build: padding must be {pad_len} bytes, got {len(padding)}"
            )
        if sig_type is SigType.DSA_SHA1 and enc_type is EncType.ELGAMAL:
            cert = Certificate.null()
        else:
            cert = Certificate.key(sig_type, enc_type, bytes(signing_public_key[in_slot:]))
        raw = bytes(public_key) + bytes(padding) + bytes(signing_public_key[:in_slot])
        return cls(raw + cert.to_bytes())

    def to_bytes(self) -> bytes:
        """The exact serialised bytes (as parsed or built)."""
        return self._raw

    def __bytes__(self) -> bytes:
        return self._raw

    def __len__(self) -> int:
        return len(self._raw)

    def to_base64(self) -> str:
        """I2P Base64 of :meth:`to_bytes`."""
        return b64encode(self._raw)

    @property
    def hash(self) -> bytes:
        """SHA-256 of the full serialised bytes (certificate included)."""
        return self._hash

    @property
    def b32(self) -> str:
        """The ``<52 chars>.b32.i2p`` address."""
        return b32_address(self._hash)

    @property
    def padding(self) -> bytes:
        """The bytes between the crypto key and the signing key."""
        in_slot = min(self.sig_type.public_key_length, SIGNING_SLOT)
        return self._raw[self.enc_type.public_key_length : KEYS_LENGTH - in_slot]

    @property
    def signature_length(self) -> int:
        """Length of a signature by this object's signing key."""
        return self.sig_type.signature_length

    def verify(self, data: bytes, signature: bytes) -> bool:
        """True if ``signature`` over ``data`` verifies with the signing key (never raises)."""
        return verify(self.sig_type, self.signing_public_key, data, signature)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeysAndCert):
            return NotImplemented
        return self._raw == other._raw

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        cert = "NULL" if self.certificate.cert_type == CERT_NULL else "KEY"
        return (
            f"{type(self).__name__}({self.b32}, {self.sig_type.name}, {self.enc_type.name}, "
            f"{cert}, {len(self._raw)} bytes)"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._raw,))


class Destination(KeysAndCert):
    """An I2P Destination (a KeysAndCert whose hash is its network address)."""

    __slots__ = ()

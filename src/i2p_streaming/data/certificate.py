"""I2P Certificate: ``type(1) | length(2) | payload`` (spec D.2).

NULL (0) and KEY (5) are understood; any other type is kept as opaque type + payload.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from i2p_streaming.data.base import Buffer, ByteReader
from i2p_streaming.data.sigtypes import EncType, SigType
from i2p_streaming.errors import DataFormatError

__all__ = ["CERT_KEY", "CERT_NULL", "Certificate", "excess_signing_key_length"]

CERT_NULL = 0
CERT_KEY = 5

SIGNING_SLOT = 128
"""Bytes of the signing key that live in a KeysAndCert's 384-byte area (the rest is excess)."""


def excess_signing_key_length(sig_type: SigType) -> int:
    """Bytes of the signing public key that spill into a KEY certificate (P-521: 4, RSA: more)."""
    return max(0, sig_type.public_key_length - SIGNING_SLOT)


def _key_types(payload: bytes) -> tuple[int, int]:
    sig, enc = struct.unpack_from(">HH", payload, 0)
    return int(sig), int(enc)


@dataclass(frozen=True, slots=True)
class Certificate:
    """A certificate; ``payload`` excludes the 3-byte header.

    Constructing one validates it: NULL must have an empty payload; KEY must name a known
    signature and crypto type and carry exactly the excess key bytes those types need.
    Violations raise DataFormatError.
    """

    cert_type: int
    payload: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.cert_type <= 255:
            raise DataFormatError(f"Certificate: type {self.cert_type} out of range")
        if len(self.payload) > 0xFFFF:
            raise DataFormatError(f"Certificate: payload of {len(self.payload)} bytes too long")
        if self.cert_type == CERT_NULL and self.payload:
            raise DataFormatError("Certificate: NULL certificate with non-empty payload")
        if self.cert_type == CERT_KEY:
            if len(self.payload) < 4:
                raise DataFormatError(
                    f"Certificate: KEY payload of {len(self.payload)} bytes, need at least 4"
                )
            sig_code, enc_code = _key_types(self.payload)
            try:
                sig = SigType(sig_code)
            except ValueError:
                raise DataFormatError(f"Certificate: unknown signature type {sig_code}") from None
            try:
                enc = EncType(enc_code)
            except ValueError:
                raise DataFormatError(f"Certificate: unknown crypto type {enc_code}") from None
            if enc.lease_set_only:
                raise DataFormatError(
                    f"Certificate: crypto type {enc_code} ({enc.name}) is for LeaseSets only"
                )
            want = 4 + excess_signing_key_length(sig)
            if len(self.payload) != want:
                raise DataFormatError(
                    f"Certificate: KEY payload for {sig.name} must be {want} bytes, "
                    f"got {len(self.payload)}"
                )

    @classmethod
    def null(cls) -> Certificate:
        """The NULL certificate (``00 00 00``)."""
        return cls(CERT_NULL, b"")

    @classmethod
    def key(cls, sig_type: SigType, enc_type: EncType, excess: bytes = b"") -> Certificate:
        """A KEY certificate; ``excess`` is the spilled signing-key tail (P-521/RSA only).

        Raises DataFormatError if ``excess`` has the wrong length for ``sig_type``.
        """
        payload = struct.pack(">HH", int(sig_type), int(enc_type)) + bytes(excess)
        return cls(CERT_KEY, payload)

    @property
    def sig_type(self) -> SigType:
        """Signature type named by a KEY certificate; DSA_SHA1 for every other certificate."""
        if self.cert_type == CERT_KEY:
            return SigType(_key_types(self.payload)[0])
        return SigType.DSA_SHA1

    @property
    def enc_type(self) -> EncType:
        """Crypto type named by a KEY certificate; ELGAMAL for every other certificate."""
        if self.cert_type == CERT_KEY:
            return EncType(_key_types(self.payload)[1])
        return EncType.ELGAMAL

    @property
    def excess_signing_key(self) -> bytes:
        """The signing-key bytes carried in the certificate (empty unless P-521/RSA)."""
        if self.cert_type == CERT_KEY:
            return self.payload[4:]
        return b""

    def to_bytes(self) -> bytes:
        """Serialise: ``type(1) | length(2) | payload``."""
        return struct.pack(">BH", self.cert_type, len(self.payload)) + self.payload

    def __len__(self) -> int:
        return 3 + len(self.payload)

    @classmethod
    def from_bytes(cls, buf: Buffer, offset: int = 0) -> tuple[Certificate, int]:
        """Parse a certificate at ``offset``; return ``(certificate, bytes used)``.

        Raises DataFormatError (with the offset) if truncated or invalid.
        """
        r = ByteReader(buf, offset, "Certificate")
        cert_type = r.u8("type")
        length = r.u16("length")
        payload = r.take(length, "payload")
        try:
            cert = cls(cert_type, payload)
        except DataFormatError as exc:
            raise DataFormatError(f"{exc} (certificate at offset {offset})") from None
        return cert, r.pos - offset

"""PrivateKeys: a Destination with its private keys, in the binary file format of spec D.5.

``Destination | encryption private key | signing private key`` and, only when the signing
private key is all zero bytes, ``OfflineSignature | transient private key``. The same bytes
in I2P Base64 are SAM's DESTINATION/PRIV blob.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from i2p_streaming.data.base import Buffer, ByteReader, b64decode, b64encode
from i2p_streaming.data.destination import Destination, repeated_padding
from i2p_streaming.data.offline import OfflineSignature
from i2p_streaming.data.sigtypes import (
    EncType,
    SigType,
    generate_signing_key,
    sign,
    signing_public_from_private,
)
from i2p_streaming.errors import DataFormatError

__all__ = ["PrivateKeys"]

StrPath = str | os.PathLike[str]


@dataclass(frozen=True, slots=True, repr=False)
class PrivateKeys:
    """A Destination plus its private keys (immutable).

    When ``offline`` is set, ``signing_private_key`` is all zeros (the Destination key is kept
    elsewhere) and :meth:`sign` uses ``transient_private_key``. Constructing one checks the
    lengths, that a signing key matches the Destination, and that an offline block is signed
    by the Destination; violations raise DataFormatError.
    """

    destination: Destination
    encryption_private_key: bytes
    signing_private_key: bytes
    offline: OfflineSignature | None = None
    transient_private_key: bytes | None = None

    def __post_init__(self) -> None:
        dest = self.destination
        if len(self.encryption_private_key) != dest.enc_type.private_key_length:
            raise DataFormatError(
                f"PrivateKeys: {dest.enc_type.name} private key must be "
                f"{dest.enc_type.private_key_length} bytes, got {len(self.encryption_private_key)}"
            )
        if len(self.signing_private_key) != dest.sig_type.private_key_length:
            raise DataFormatError(
                f"PrivateKeys: {dest.sig_type.name} signing private key must be "
                f"{dest.sig_type.private_key_length} bytes, got {len(self.signing_private_key)}"
            )
        zero = not any(self.signing_private_key)
        if self.offline is None:
            if self.transient_private_key is not None:
                raise DataFormatError("PrivateKeys: transient private key without offline block")
            if zero:
                raise DataFormatError("PrivateKeys: all-zero signing key needs an offline block")
            if dest.sig_type.can_sign:
                derived = signing_public_from_private(dest.sig_type, self.signing_private_key)
                if derived != dest.signing_public_key:
                    raise DataFormatError(
                        "PrivateKeys: signing private key does not match the Destination"
                    )
            return
        if not zero:
            raise DataFormatError("PrivateKeys: offline block needs an all-zero signing key")
        tpriv = self.transient_private_key
        ttype = self.offline.transient_sig_type
        if tpriv is None or len(tpriv) != ttype.private_key_length:
            raise DataFormatError(
                f"PrivateKeys: {ttype.name} transient private key must be "
                f"{ttype.private_key_length} bytes"
            )
        if len(self.offline.signature) != dest.sig_type.signature_length:
            raise DataFormatError("PrivateKeys: offline signature has the wrong length")
        verifiable = dest.sig_type is not SigType.EdDSA_SHA512_Ed25519ph
        if verifiable and not self.offline.verify(dest):
            raise DataFormatError("PrivateKeys: offline signature does not verify")
        if ttype.can_sign and signing_public_from_private(ttype, tpriv) != (
            self.offline.transient_public_key
        ):
            raise DataFormatError("PrivateKeys: transient private key does not match")

    @classmethod
    def generate(cls, sig_type: SigType = SigType.EdDSA_SHA512_Ed25519) -> PrivateKeys:
        """Create a new Destination with crypto type 0 (ElGamal slot, random, unused).

        The public-key slot and padding are one random 32-byte block repeated; the
        encryption private key is 256 random bytes. DSA_SHA1 gets a NULL certificate, every
        other type a KEY certificate. Raises ValueError for a type that cannot sign.
        """
        st = SigType(sig_type)
        priv, pub = generate_signing_key(st)
        block = repeated_padding(384)
        enc = EncType.ELGAMAL
        in_slot = min(len(pub), 128)
        dest = Destination.build(block[:256], pub, st, enc, padding=block[256 : 384 - in_slot])
        return cls(dest, secrets.token_bytes(256), priv)

    @property
    def signing_sig_type(self) -> SigType:
        """The type of the key :meth:`sign` uses (the transient type when offline)."""
        if self.offline is not None:
            return self.offline.transient_sig_type
        return self.destination.sig_type

    @property
    def signature_length(self) -> int:
        """Length of the signatures :meth:`sign` returns."""
        return self.signing_sig_type.signature_length

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` with the Destination key, or the transient key when offline.

        Raises ValueError if that key's type cannot sign (e.g. an RSA Destination without
        offline keys).
        """
        if self.offline is not None and self.transient_private_key is not None:
            return sign(self.offline.transient_sig_type, self.transient_private_key, data)
        return sign(self.destination.sig_type, self.signing_private_key, data)

    def with_offline_signature(self, transient_sig_type: SigType, expires: int) -> PrivateKeys:
        """Return new keys that sign with a fresh transient key certified until ``expires``
        (seconds since the epoch); the Destination signing key is zeroed in the new object.

        Raises ValueError if these keys are already offline.
        """
        block, tpriv = OfflineSignature.create(self, transient_sig_type, expires)
        zeros = bytes(len(self.signing_private_key))
        return PrivateKeys(self.destination, self.encryption_private_key, zeros, block, tpriv)

    def to_bytes(self) -> bytes:
        """Serialise in the D.5 file format."""
        out = self.destination.to_bytes() + self.encryption_private_key + self.signing_private_key
        if self.offline is not None and self.transient_private_key is not None:
            out += self.offline.to_bytes() + self.transient_private_key
        return out

    @classmethod
    def from_bytes(cls, buf: Buffer) -> PrivateKeys:
        """Parse exactly one D.5 private-key blob (no trailing bytes allowed).

        Raises DataFormatError if truncated, trailing, inconsistent (keys that do not match the
        Destination, an offline block that does not verify).
        """
        dest, pos = Destination.from_bytes(buf, 0)
        r = ByteReader(buf, pos, "PrivateKeys")
        enc_priv = r.take(dest.enc_type.private_key_length, "encryption private key")
        sig_priv = r.take(dest.sig_type.private_key_length, "signing private key")
        offline = None
        tpriv = None
        if not any(sig_priv):
            try:
                offline, used = OfflineSignature.from_bytes(r.buf, r.pos, dest.sig_type)
            except DataFormatError as exc:
                raise DataFormatError(f"PrivateKeys: {exc}") from None
            r.take(used, "offline signature")
            tpriv = r.take(offline.transient_sig_type.private_key_length, "transient private key")
        if r.remaining:
            raise r.fail(f"{r.remaining} trailing bytes")
        return cls(dest, enc_priv, sig_priv, offline, tpriv)

    def save(self, path: StrPath) -> None:
        """Write :meth:`to_bytes` to ``path`` (created with mode 0600, replaced if present)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(self.to_bytes())

    @classmethod
    def load(cls, path: StrPath) -> PrivateKeys:
        """Read a file written by :meth:`save`, Java I2P or i2pd (OSError / DataFormatError)."""
        with open(path, "rb") as fh:
            return cls.from_bytes(fh.read())

    def to_base64(self) -> str:
        """I2P Base64 of :meth:`to_bytes` (the SAM DESTINATION/PRIV blob)."""
        return b64encode(self.to_bytes())

    @classmethod
    def from_base64(cls, text: str) -> PrivateKeys:
        """Parse a SAM PRIV blob; DataFormatError if it is not valid."""
        return cls.from_bytes(b64decode(text))

    def __repr__(self) -> str:
        offline = f", offline until {self.offline.expires}" if self.offline else ""
        return f"PrivateKeys({self.destination.b32}, {self.destination.sig_type.name}{offline})"

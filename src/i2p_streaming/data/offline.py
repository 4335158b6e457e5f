"""OfflineSignature (spec D.7, A.5): a transient signing key certified by the Destination key.

Wire form: ``expires(4, s) | transientSigType(2) | transientPub | signature`` where the
signature (length of the *Destination's* sig type) covers the first three fields.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from i2p_streaming.data.base import Buffer, ByteReader
from i2p_streaming.data.sigtypes import SigType, generate_signing_key, sign
from i2p_streaming.errors import DataFormatError

if TYPE_CHECKING:
    from i2p_streaming.data.destination import KeysAndCert
    from i2p_streaming.data.privatekeys import PrivateKeys

__all__ = ["OfflineSignature"]


@dataclass(frozen=True, slots=True)
class OfflineSignature:
    """An offline-signature block.

    Constructing one checks ``expires`` fits 4 bytes and the transient key length matches
    ``transient_sig_type``; violations raise DataFormatError.
    """

    expires: int
    transient_sig_type: SigType
    transient_public_key: bytes
    signature: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.expires, int) or not 0 <= self.expires <= 0xFFFFFFFF:
            raise DataFormatError(f"OfflineSignature: expires {self.expires!r} out of range")
        try:
            st = SigType(self.transient_sig_type)
        except ValueError:
            raise DataFormatError(
                f"OfflineSignature: unknown transient sig type {self.transient_sig_type!r}"
            ) from None
        object.__setattr__(self, "transient_sig_type", st)
        if len(self.transient_public_key) != st.public_key_length:
            raise DataFormatError(
                f"OfflineSignature: {st.name} transient key must be {st.public_key_length} "
                f"bytes, got {len(self.transient_public_key)}"
            )

    def signed_bytes(self) -> bytes:
        """The bytes the Destination key signs: ``expires | type | transient public key``."""
        return (
            struct.pack(">IH", self.expires, int(self.transient_sig_type))
            + self.transient_public_key
        )

    def to_bytes(self) -> bytes:
        """Serialise the whole block (signed bytes + signature)."""
        return self.signed_bytes() + self.signature

    def __len__(self) -> int:
        return 6 + len(self.transient_public_key) + len(self.signature)

    @classmethod
    def from_bytes(
        cls, buf: Buffer, offset: int, dest_sig_type: SigType
    ) -> tuple[OfflineSignature, int]:
        """Parse a block at ``offset``; the signature length comes from ``dest_sig_type``.

        Returns ``(block, bytes used)``. Raises DataFormatError if truncated or the transient
        sig type is unknown.
        """
        r = ByteReader(buf, offset, "OfflineSignature")
        expires = r.u32("expires")
        type_at = r.pos
        code = r.u16("transient sig type")
        try:
            st = SigType(code)
        except ValueError:
            raise r.fail(f"unknown transient sig type {code}", type_at) from None
        pub = r.take(st.public_key_length, "transient public key")
        sig = r.take(SigType(dest_sig_type).signature_length, "signature")
        return cls(expires, st, pub, sig), r.pos - offset

    def verify(self, destination: KeysAndCert, now: float | None = None) -> bool:
        """True if the Destination's key signed this block and, when ``now`` (seconds since the
        epoch) is given, ``expires > now``. Never raises."""
        if now is not None and not self.expires > now:
            return False
        return destination.verify(self.signed_bytes(), self.signature)

    def is_expired(self, now: float) -> bool:
        """True if ``expires <= now`` (seconds since the epoch)."""
        return self.expires <= now

    @classmethod
    def create(
        cls, keys: PrivateKeys, transient_sig_type: SigType, expires: int
    ) -> tuple[OfflineSignature, bytes]:
        """Generate a transient key and certify it with ``keys``' Destination signing key.

        Returns ``(block, transient private key)``. Raises ValueError if ``keys`` are already
        offline (no Destination private key) or a type cannot sign, DataFormatError if
        ``expires`` is out of range.
        """
        if keys.offline is not None:
            raise ValueError("keys are already offline: the Destination private key is absent")
        priv, pub = generate_signing_key(transient_sig_type)
        unsigned = cls(expires, SigType(transient_sig_type), pub, b"")
        dest_type = keys.destination.sig_type
        signature = sign(dest_type, keys.signing_private_key, unsigned.signed_bytes())
        return cls(expires, unsigned.transient_sig_type, pub, signature), priv

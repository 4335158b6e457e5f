"""Fixed key material for seeds and targets (fuzzing only: these private keys are public).

Ed25519 keys are derived from fixed seeds, so everything they sign is reproducible; DSA and
ECDSA signatures use a random nonce and differ between runs of :mod:`fuzz.make_seeds`.
"""

from __future__ import annotations

import functools
import hashlib

from i2p_streaming.data import (
    Destination,
    EncType,
    OfflineSignature,
    PrivateKeys,
    SigType,
    sign,
    signing_public_from_private,
)

__all__ = ["TRANSIENT_EXPIRES", "keys_for", "offline_keys_for"]

#: Expiry of every offline block in the seeds (2033-05-18, seconds since the epoch).
TRANSIENT_EXPIRES = 2_000_000_000

_DSA_Q = 0xA5DFC28FEF4CA1E286744CD8EED9D29D684046B7


def _private(sig_type: SigType, label: str) -> bytes:
    digest = hashlib.sha512(f"i2p-streaming fuzz {label} {int(sig_type)}".encode()).digest()
    n = sig_type.private_key_length
    raw = (digest * (n // len(digest) + 1))[:n]
    if sig_type is SigType.DSA_SHA1:
        return (int.from_bytes(raw, "big") % (_DSA_Q - 1) + 1).to_bytes(20, "big")
    if sig_type in (SigType.ECDSA_SHA256_P256, SigType.ECDSA_SHA384_P384):
        return b"\x01" + raw[1:]  # below every curve order
    if sig_type is SigType.ECDSA_SHA512_P521:
        return b"\x00\x01" + raw[2:]
    return raw


@functools.cache
def keys_for(sig_type: SigType = SigType.EdDSA_SHA512_Ed25519, label: str = "a") -> PrivateKeys:
    """A Destination with fixed keys of ``sig_type`` (ElGamal slot, fixed padding)."""
    priv = _private(sig_type, label)
    pub = signing_public_from_private(sig_type, priv)
    block = hashlib.sha256(f"pad {label}".encode()).digest()
    filler = block * 12  # 384 bytes
    in_slot = min(len(pub), 128)
    dest = Destination.build(
        filler[:256], pub, sig_type, EncType.ELGAMAL, padding=filler[256 : 384 - in_slot]
    )
    return PrivateKeys(dest, filler[:256], priv)


@functools.cache
def offline_keys_for(
    sig_type: SigType = SigType.EdDSA_SHA512_Ed25519,
    transient: SigType = SigType.EdDSA_SHA512_Ed25519,
) -> PrivateKeys:
    """:func:`keys_for` ``sig_type`` with a fixed transient key certified until
    :data:`TRANSIENT_EXPIRES` (the Destination signing key zeroed, as in a key file)."""
    keys = keys_for(sig_type)
    tpriv = _private(transient, "transient")
    tpub = signing_public_from_private(transient, tpriv)
    unsigned = OfflineSignature(TRANSIENT_EXPIRES, transient, tpub, b"")
    signature = sign(sig_type, keys.signing_private_key, unsigned.signed_bytes())
    block = OfflineSignature(TRANSIENT_EXPIRES, transient, tpub, signature)
    zeros = bytes(len(keys.signing_private_key))
    return PrivateKeys(keys.destination, keys.encryption_private_key, zeros, block, tpriv)

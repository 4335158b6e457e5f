"""Signature and encryption types, and the sign/verify/keygen primitives (all via ``cryptography``).

Raw I2P encodings (spec D.1): DSA public key = 128-byte big-endian ``y``, private = 20-byte ``x``,
signature = ``r || s`` (20 bytes each); ECDSA public key = ``X || Y`` and signature ``r || s``,
each half fixed-width big-endian; RSA public key = big-endian modulus (e = 65537); Ed25519 and
RedDSA use the RFC 8032 little-endian encodings, the private key being the 32-byte seed.
"""

from __future__ import annotations

import functools
from enum import IntEnum
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from i2p_streaming.errors import DataFormatError

__all__ = [
    "EncType",
    "SigType",
    "generate_signing_key",
    "generate_x25519",
    "sign",
    "signing_public_from_private",
    "verify",
    "x25519_public_from_private",
]


class SigType(IntEnum):
    """I2P signature type codes (spec D.1)."""

    DSA_SHA1 = 0
    ECDSA_SHA256_P256 = 1
    ECDSA_SHA384_P384 = 2
    ECDSA_SHA512_P521 = 3
    RSA_SHA256_2048 = 4
    RSA_SHA384_3072 = 5
    RSA_SHA512_4096 = 6
    EdDSA_SHA512_Ed25519 = 7
    EdDSA_SHA512_Ed25519ph = 8
    RedDSA_SHA512_Ed25519 = 11

    @property
    def public_key_length(self) -> int:
        """Length in bytes of the raw public key."""
        return _SIG_LENGTHS[self][0]

    @property
    def private_key_length(self) -> int:
        """Length in bytes of the raw private key."""
        return _SIG_LENGTHS[self][1]

    @property
    def signature_length(self) -> int:
        """Length in bytes of a signature."""
        return _SIG_LENGTHS[self][2]

    @property
    def can_sign(self) -> bool:
        """True for the types this library can generate keys for and sign with (0, 1, 2, 3, 7)."""
        return self in _SIGNABLE


# (public key, private key, signature) lengths, spec D.1.
_SIG_LENGTHS: dict[SigType, tuple[int, int, int]] = {
    SigType.DSA_SHA1: (128, 20, 40),
    SigType.ECDSA_SHA256_P256: (64, 32, 64),
    SigType.ECDSA_SHA384_P384: (96, 48, 96),
    SigType.ECDSA_SHA512_P521: (132, 66, 132),
    SigType.RSA_SHA256_2048: (256, 512, 256),
    SigType.RSA_SHA384_3072: (384, 768, 384),
    SigType.RSA_SHA512_4096: (512, 1024, 512),
    SigType.EdDSA_SHA512_Ed25519: (32, 32, 64),
    SigType.EdDSA_SHA512_Ed25519ph: (32, 32, 64),
    SigType.RedDSA_SHA512_Ed25519: (32, 32, 64),
}

_SIGNABLE = frozenset(
    {
        SigType.DSA_SHA1,
        SigType.ECDSA_SHA256_P256,
        SigType.ECDSA_SHA384_P384,
        SigType.ECDSA_SHA512_P521,
        SigType.EdDSA_SHA512_Ed25519,
    }
)


class EncType(IntEnum):
    """I2P encryption (crypto) type codes.

    0 and 4 may appear in a KEY certificate and in a LeaseSet2; the ML-KEM hybrids 5/6/7
    (API 0.9.67) only in a LeaseSet2, where they carry the 32-byte X25519 static key: the
    ML-KEM keys are ephemeral, made by the routers per handshake (spec ecies-hybrid).
    """

    ELGAMAL = 0
    ECIES_X25519 = 4
    MLKEM512_X25519 = 5
    MLKEM768_X25519 = 6
    MLKEM1024_X25519 = 7

    @property
    def lease_set_only(self) -> bool:
        """True for the hybrid types, never allowed in a Destination's key certificate."""
        return self in _HYBRID_ENC_TYPES

    @property
    def public_key_length(self) -> int:
        """Length in bytes of the raw public key."""
        return 256 if self is EncType.ELGAMAL else 32

    @property
    def private_key_length(self) -> int:
        """Length in bytes of the raw private key."""
        return 256 if self is EncType.ELGAMAL else 32


_HYBRID_ENC_TYPES = frozenset(
    {EncType.MLKEM512_X25519, EncType.MLKEM768_X25519, EncType.MLKEM1024_X25519}
)

# I2P's fixed 1024-bit DSA group (public constants, I2P spec "DSA" / CryptoConstants).
_DSA_P = int(
    "9c05b2aa960d9b97b8931963c9cc9e8c3026e9b8ed92fad0a69cc886d5bf8015fcadae31"
    "a0ad18fab3f01b00a358de237655c4964afaa2b337e96ad316b9fb1cc564b5aec5b69a9f"
    "f6c3e4548707fef8503d91dd8602e867e6d35d2235c1869ce2479c3b9d5401de04e0727f"
    "b33d6511285d4cf29538d9e3b6051f5b22cc1c93",
    16,
)
_DSA_Q = int("a5dfc28fef4ca1e286744cd8eed9d29d684046b7", 16)
_DSA_G = int(
    "c1f4d27d40093b429e962d7223824e0bbc47e7c832a39236fc683af84889581075ff9082"
    "ed32353d4374d7301cda1d23c431f4698599dda02451824ff369752593647cc3ddc197de"
    "985e43d136cdcfc6bd5409cd2f450821142a5e6f8eb1c3ab5d0484b8129fcf17bce4f7f3"
    "3321c3cb3dbb14a905e7b2b3e93be4708cbcc82",
    16,
)
_DSA_PARAMS = dsa.DSAParameterNumbers(_DSA_P, _DSA_Q, _DSA_G)

_EC: dict[SigType, tuple[ec.EllipticCurve, hashes.HashAlgorithm]] = {
    SigType.ECDSA_SHA256_P256: (ec.SECP256R1(), hashes.SHA256()),
    SigType.ECDSA_SHA384_P384: (ec.SECP384R1(), hashes.SHA384()),
    SigType.ECDSA_SHA512_P521: (ec.SECP521R1(), hashes.SHA512()),
}
_RSA_HASH: dict[SigType, hashes.HashAlgorithm] = {
    SigType.RSA_SHA256_2048: hashes.SHA256(),
    SigType.RSA_SHA384_3072: hashes.SHA384(),
    SigType.RSA_SHA512_4096: hashes.SHA512(),
}
_ED = frozenset({SigType.EdDSA_SHA512_Ed25519, SigType.RedDSA_SHA512_Ed25519})


def _check_len(what: str, data: bytes, expected: int) -> None:
    if len(data) != expected:
        raise DataFormatError(f"{what}: expected {expected} bytes, got {len(data)}")


def _require_signable(sig_type: SigType) -> SigType:
    st = SigType(sig_type)
    if not st.can_sign:
        raise ValueError(f"signing with {st.name} is not supported")
    return st


def _dsa_private(private_key: bytes) -> dsa.DSAPrivateKey:
    x = int.from_bytes(private_key, "big")
    if not 0 < x < _DSA_Q:
        raise DataFormatError("DSA private key: out of range")
    # Public value y = g^x mod p (cryptography needs it alongside x).
    y = pow(_DSA_G, x, _DSA_P)
    return dsa.DSAPrivateNumbers(x, dsa.DSAPublicNumbers(y, _DSA_PARAMS)).private_key()


def _ec_private(sig_type: SigType, private_key: bytes) -> ec.EllipticCurvePrivateKey:
    curve = _EC[sig_type][0]
    try:
        return ec.derive_private_key(int.from_bytes(private_key, "big"), curve)
    except ValueError as exc:
        raise DataFormatError(f"{sig_type.name} private key: {exc}") from None


def _ec_public_bytes(sig_type: SigType, key: ec.EllipticCurvePublicKey) -> bytes:
    half = sig_type.public_key_length // 2
    nums = key.public_numbers()
    return nums.x.to_bytes(half, "big") + nums.y.to_bytes(half, "big")


def sign(sig_type: SigType, private_key: bytes, data: bytes) -> bytes:
    """Sign ``data`` and return the raw I2P signature (``sig_type.signature_length`` bytes).

    Raises DataFormatError for a private key of the wrong length or out of range, and
    ValueError for a type that cannot sign (``not sig_type.can_sign``).
    """
    st = _require_signable(sig_type)
    _check_len(f"{st.name} private key", private_key, st.private_key_length)
    if st is SigType.EdDSA_SHA512_Ed25519:
        return ed25519.Ed25519PrivateKey.from_private_bytes(bytes(private_key)).sign(data)
    if st is SigType.DSA_SHA1:
        der = _dsa_private(private_key).sign(data, hashes.SHA1())
        half = 20
    else:
        curve_hash = _EC[st][1]
        der = _ec_private(st, private_key).sign(data, ec.ECDSA(curve_hash))
        half = st.signature_length // 2
    r, s = decode_dss_signature(der)
    return r.to_bytes(half, "big") + s.to_bytes(half, "big")


@functools.lru_cache(maxsize=256)
def _public_key(sig_type: SigType, public_key: bytes) -> Any:
    """Load a raw public key into a cryptography object (cached: peers re-verify often)."""
    if sig_type is SigType.DSA_SHA1:
        y = int.from_bytes(public_key, "big")
        return dsa.DSAPublicNumbers(y, _DSA_PARAMS).public_key()
    if sig_type in _EC:
        return ec.EllipticCurvePublicKey.from_encoded_point(_EC[sig_type][0], b"\x04" + public_key)
    if sig_type in _RSA_HASH:
        return rsa.RSAPublicNumbers(65537, int.from_bytes(public_key, "big")).public_key()
    return ed25519.Ed25519PublicKey.from_public_bytes(public_key)


def verify(sig_type: SigType, public_key: bytes, data: bytes, signature: bytes) -> bool:
    """Return True when ``signature`` is a valid signature of ``data`` by ``public_key``.

    Never raises for bad key or signature bytes or an unknown/unsupported type: it returns
    False. EdDSA_SHA512_Ed25519ph is not supported (always False); RedDSA is verified as Ed25519.
    """
    try:
        st = SigType(sig_type)
        public_key = bytes(public_key)
        signature = bytes(signature)
        if len(public_key) != st.public_key_length or len(signature) != st.signature_length:
            return False
        if st is SigType.EdDSA_SHA512_Ed25519ph:
            return False
        key = _public_key(st, public_key)
        if st in _ED:
            key.verify(signature, data)
        elif st in _RSA_HASH:
            key.verify(signature, data, padding.PKCS1v15(), _RSA_HASH[st])
        else:
            half = st.signature_length // 2
            r = int.from_bytes(signature[:half], "big")
            s = int.from_bytes(signature[half:], "big")
            if r == 0 or s == 0:
                return False
            der = encode_dss_signature(r, s)
            if st is SigType.DSA_SHA1:
                key.verify(der, data, hashes.SHA1())
            else:
                key.verify(der, data, ec.ECDSA(_EC[st][1]))
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm, OverflowError):
        return False
    return True


def generate_signing_key(sig_type: SigType) -> tuple[bytes, bytes]:
    """Generate a fresh key pair; return ``(private, public)`` in raw I2P encodings.

    Raises ValueError for a type that cannot sign.
    """
    st = _require_signable(sig_type)
    if st is SigType.EdDSA_SHA512_Ed25519:
        key = ed25519.Ed25519PrivateKey.generate()
        return key.private_bytes_raw(), key.public_key().public_bytes_raw()
    if st is SigType.DSA_SHA1:
        dkey = _DSA_PARAMS.parameters().generate_private_key()
        nums = dkey.private_numbers()
        return nums.x.to_bytes(20, "big"), nums.public_numbers.y.to_bytes(128, "big")
    ekey = ec.generate_private_key(_EC[st][0])
    priv = ekey.private_numbers().private_value.to_bytes(st.private_key_length, "big")
    return priv, _ec_public_bytes(st, ekey.public_key())


def signing_public_from_private(sig_type: SigType, private_key: bytes) -> bytes:
    """Derive the raw public key from a raw private key.

    Raises DataFormatError for a key of the wrong length or out of range, ValueError for a type
    that cannot sign.
    """
    st = _require_signable(sig_type)
    _check_len(f"{st.name} private key", private_key, st.private_key_length)
    if st is SigType.EdDSA_SHA512_Ed25519:
        key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(private_key))
        return key.public_key().public_bytes_raw()
    if st is SigType.DSA_SHA1:
        y = _dsa_private(private_key).public_key().public_numbers().y
        return y.to_bytes(128, "big")
    return _ec_public_bytes(st, _ec_private(st, private_key).public_key())


def generate_x25519() -> tuple[bytes, bytes]:
    """Generate an X25519 key pair; return ``(private, public)``, 32 raw bytes each (RFC 7748)."""
    key = x25519.X25519PrivateKey.generate()
    return key.private_bytes_raw(), key.public_key().public_bytes_raw()


def x25519_public_from_private(private_key: bytes) -> bytes:
    """Derive the 32-byte X25519 public key; DataFormatError if ``private_key`` is not 32 bytes."""
    _check_len("X25519 private key", private_key, 32)
    key = x25519.X25519PrivateKey.from_private_bytes(bytes(private_key))
    return key.public_key().public_bytes_raw()

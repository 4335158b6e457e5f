"""Signature types: lengths, sign/verify for every signing type, verify-only RSA and RedDSA."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ed25519, padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from i2p_streaming.data import (
    EncType,
    SigType,
    generate_signing_key,
    generate_x25519,
    sign,
    signing_public_from_private,
    verify,
    x25519_public_from_private,
)
from i2p_streaming.errors import DataFormatError

SIGNABLE = [
    SigType.DSA_SHA1,
    SigType.ECDSA_SHA256_P256,
    SigType.ECDSA_SHA384_P384,
    SigType.ECDSA_SHA512_P521,
    SigType.EdDSA_SHA512_Ed25519,
]
RSA_TYPES = [
    (SigType.RSA_SHA256_2048, 2048, hashes.SHA256()),
    (SigType.RSA_SHA384_3072, 3072, hashes.SHA384()),
    (SigType.RSA_SHA512_4096, 4096, hashes.SHA512()),
]
MESSAGE = b"the quick brown fox" * 20


@pytest.fixture(scope="module")
def rsa_keys() -> dict[SigType, rsa.RSAPrivateKey]:
    """One RSA key per size, generated once (slow)."""
    return {st: rsa.generate_private_key(65537, bits) for st, bits, _ in RSA_TYPES}


def test_length_table() -> None:
    table = {
        0: (128, 20, 40),
        1: (64, 32, 64),
        2: (96, 48, 96),
        3: (132, 66, 132),
        4: (256, 512, 256),
        5: (384, 768, 384),
        6: (512, 1024, 512),
        7: (32, 32, 64),
        8: (32, 32, 64),
        11: (32, 32, 64),
    }
    assert {int(s) for s in SigType} == set(table)
    for code, (pub, priv, sig) in table.items():
        st = SigType(code)
        assert (st.public_key_length, st.private_key_length, st.signature_length) == (
            pub,
            priv,
            sig,
        )
        assert st.can_sign == (code in (0, 1, 2, 3, 7))
    assert (EncType.ELGAMAL.public_key_length, EncType.ELGAMAL.private_key_length) == (256, 256)
    assert (EncType(4).public_key_length, EncType(4).private_key_length) == (32, 32)


@pytest.mark.parametrize("sig_type", SIGNABLE, ids=lambda s: s.name)
def test_sign_verify(sig_type: SigType) -> None:
    priv, pub = generate_signing_key(sig_type)
    assert len(priv) == sig_type.private_key_length
    assert len(pub) == sig_type.public_key_length
    assert signing_public_from_private(sig_type, priv) == pub
    sig = sign(sig_type, priv, MESSAGE)
    assert len(sig) == sig_type.signature_length
    assert verify(sig_type, pub, MESSAGE, sig)
    assert not verify(sig_type, pub, MESSAGE + b"!", sig)
    bad = bytearray(sig)
    bad[len(bad) // 2] ^= 1
    assert not verify(sig_type, pub, MESSAGE, bytes(bad))
    assert not verify(sig_type, pub, MESSAGE, sig[:-1])
    assert not verify(sig_type, pub[:-1], MESSAGE, sig)
    assert not verify(sig_type, bytes(len(pub)), MESSAGE, sig)
    assert not verify(sig_type, pub, MESSAGE, bytes(len(sig)))
    assert not verify(sig_type, b"\xff" * len(pub), MESSAGE, b"\xff" * len(sig))


def test_dsa_signature_is_r_s_under_i2p_group() -> None:
    """The raw r||s decodes to a DER signature that cryptography accepts under SHA-1."""
    priv, pub = generate_signing_key(SigType.DSA_SHA1)
    sig = sign(SigType.DSA_SHA1, priv, MESSAGE)
    q = int("a5dfc28fef4ca1e286744cd8eed9d29d684046b7", 16)
    r, s = int.from_bytes(sig[:20], "big"), int.from_bytes(sig[20:], "big")
    assert 0 < r < q
    assert 0 < s < q
    from i2p_streaming.data import sigtypes

    key = dsa.DSAPublicNumbers(int.from_bytes(pub, "big"), sigtypes._DSA_PARAMS).public_key()
    key.verify(encode_dss_signature(r, s), MESSAGE, hashes.SHA1())
    assert key.key_size == 1024


def test_ecdsa_p521_fixed_width() -> None:
    for _ in range(3):
        priv, pub = generate_signing_key(SigType.ECDSA_SHA512_P521)
        sig = sign(SigType.ECDSA_SHA512_P521, priv, b"x")
        assert len(pub) == 132
        assert len(sig) == 132
        assert verify(SigType.ECDSA_SHA512_P521, pub, b"x", sig)


def test_ed25519_private_key_is_seed() -> None:
    seed = bytes(range(32))
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    pub = key.public_key().public_bytes_raw()
    assert signing_public_from_private(SigType.EdDSA_SHA512_Ed25519, seed) == pub
    assert sign(SigType.EdDSA_SHA512_Ed25519, seed, b"m") == key.sign(b"m")


@pytest.mark.parametrize(("sig_type", "bits", "hash_alg"), RSA_TYPES, ids=lambda x: str(x))
def test_rsa_verify_only(
    rsa_keys: dict[SigType, rsa.RSAPrivateKey],
    sig_type: SigType,
    bits: int,
    hash_alg: hashes.HashAlgorithm,
) -> None:
    key = rsa_keys[sig_type]
    pub = key.public_key().public_numbers().n.to_bytes(bits // 8, "big")
    sig = key.sign(MESSAGE, padding.PKCS1v15(), hash_alg)
    assert verify(sig_type, pub, MESSAGE, sig)
    assert not verify(sig_type, pub, MESSAGE + b"x", sig)
    assert not verify(sig_type, pub, MESSAGE, bytes(len(sig)))
    assert not verify(sig_type, bytes(len(pub)), MESSAGE, sig)
    assert not sig_type.can_sign
    with pytest.raises(ValueError, match="not supported"):
        sign(sig_type, bytes(sig_type.private_key_length), MESSAGE)
    with pytest.raises(ValueError, match="not supported"):
        generate_signing_key(sig_type)


def test_reddsa_verifies_as_ed25519() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes_raw()
    sig = key.sign(MESSAGE)
    assert verify(SigType.RedDSA_SHA512_Ed25519, pub, MESSAGE, sig)
    assert not verify(SigType.RedDSA_SHA512_Ed25519, pub, MESSAGE[:-1], sig)


def test_ed25519ph_is_verify_unsupported() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes_raw()
    assert not verify(SigType.EdDSA_SHA512_Ed25519ph, pub, MESSAGE, key.sign(MESSAGE))


def test_verify_unknown_type_is_false() -> None:
    assert not verify(99, b"", b"", b"")  # type: ignore[arg-type]


def test_bad_private_keys() -> None:
    with pytest.raises(DataFormatError, match="expected 32 bytes"):
        sign(SigType.EdDSA_SHA512_Ed25519, b"short", b"m")
    with pytest.raises(DataFormatError, match="out of range"):
        sign(SigType.DSA_SHA1, bytes(20), b"m")
    with pytest.raises(DataFormatError, match="out of range"):
        signing_public_from_private(SigType.DSA_SHA1, b"\xff" * 20)
    with pytest.raises(DataFormatError):
        sign(SigType.ECDSA_SHA256_P256, bytes(32), b"m")
    with pytest.raises(DataFormatError):
        signing_public_from_private(SigType.ECDSA_SHA256_P256, b"\xff" * 32)


def test_x25519() -> None:
    priv, pub = generate_x25519()
    assert len(priv) == len(pub) == 32
    assert x25519_public_from_private(priv) == pub
    peer = x25519.X25519PrivateKey.generate()
    ours = x25519.X25519PrivateKey.from_private_bytes(priv)
    assert ours.exchange(peer.public_key()) == peer.exchange(
        x25519.X25519PublicKey.from_public_bytes(pub)
    )
    with pytest.raises(DataFormatError):
        x25519_public_from_private(b"1")

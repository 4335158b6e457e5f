"""Certificate, KeysAndCert, Destination: golden bytes from real routers, layouts, round trips."""

from __future__ import annotations

import base64
import hashlib
import pickle

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from i2p_streaming.data import (
    CERT_KEY,
    CERT_NULL,
    Certificate,
    Destination,
    EncType,
    KeysAndCert,
    PrivateKeys,
    SigType,
    b64decode,
    generate_signing_key,
    generate_x25519,
)
from i2p_streaming.errors import DataFormatError

from .golden_vectors import VECTORS

# ---------------------------------------------------------------- Certificate golden bytes


def test_certificate_null_golden() -> None:
    cert = Certificate.null()
    assert cert.to_bytes() == bytes.fromhex("000000")
    assert Certificate.from_bytes(b"\x00\x00\x00") == (cert, 3)
    assert cert.sig_type is SigType.DSA_SHA1
    assert cert.enc_type is EncType.ELGAMAL
    assert len(cert) == 3


def test_certificate_key_ed25519_golden() -> None:
    cert = Certificate.key(SigType.EdDSA_SHA512_Ed25519, EncType.ELGAMAL)
    assert cert.to_bytes() == bytes.fromhex("05 0004 0007 0000")
    assert cert.cert_type == CERT_KEY
    parsed, used = Certificate.from_bytes(bytes.fromhex("aa 05 0004 0007 0000 ff"), 1)
    assert (parsed, used) == (cert, 7)


def test_certificate_key_p521_excess_golden() -> None:
    cert = Certificate.key(SigType.ECDSA_SHA512_P521, EncType.ECIES_X25519, b"\x01\x02\x03\x04")
    assert cert.to_bytes() == bytes.fromhex("05 0008 0003 0004 01020304")
    assert cert.excess_signing_key == b"\x01\x02\x03\x04"
    assert cert.enc_type is EncType.ECIES_X25519


def test_certificate_opaque_types() -> None:
    raw = bytes.fromhex("01 0003 aabbcc")  # HASHCASH, obsolete: kept as opaque bytes
    cert, used = Certificate.from_bytes(raw)
    assert (cert.cert_type, cert.payload, used) == (1, b"\xaa\xbb\xcc", 6)
    assert cert.to_bytes() == raw
    assert cert.sig_type is SigType.DSA_SHA1


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("00", "truncated length at offset 1"),
        ("05 0004 0007", "truncated payload at offset 3: need 4 bytes, have 2"),
        ("00 0001 00", "NULL certificate with non-empty payload"),
        ("05 0002 0007", "need at least 4"),
        ("05 0004 0063 0000", "unknown signature type 99"),
        ("05 0004 0007 0002", "unknown crypto type 2"),
        ("05 0005 0007 0000 00", "must be 4 bytes, got 5"),
        ("05 0004 0003 0000", "must be 8 bytes, got 4"),
    ],
)
def test_certificate_rejects(raw: str, fragment: str) -> None:
    with pytest.raises(DataFormatError, match="Certificate") as info:
        Certificate.from_bytes(bytes.fromhex(raw))
    assert fragment in str(info.value)


# ---------------------------------------------------------------- real destinations


@pytest.mark.parametrize("router", sorted(VECTORS))
@pytest.mark.parametrize("which", ["sender_destination", "receiver_destination"])
def test_real_destinations(router: str, which: str) -> None:
    text = VECTORS[router][which]
    raw = base64.b64decode(text, altchars=b"-~")
    dest = Destination.from_base64(text)
    assert len(dest) == 391
    assert dest.to_bytes() == raw
    assert bytes(dest) == raw
    assert dest.to_base64() == text
    assert len(text) == 524
    assert dest.sig_type is SigType.EdDSA_SHA512_Ed25519
    assert dest.enc_type is EncType.ELGAMAL
    assert dest.certificate == Certificate.key(SigType.EdDSA_SHA512_Ed25519, EncType.ELGAMAL)
    assert raw[384:] == bytes.fromhex("05 0004 0007 0000")
    assert dest.signing_public_key == raw[352:384]
    assert dest.public_key == raw[:256]
    assert dest.padding == raw[256:352]
    assert dest.signature_length == 64
    digest = hashlib.sha256(raw).digest()
    assert dest.hash == digest
    b32 = base64.b32encode(digest).decode().rstrip("=").lower() + ".b32.i2p"
    assert dest.b32 == b32
    assert len(dest.b32) == 60
    if which == "sender_destination":
        # Both routers' SAM-generated destinations follow the padding advice (spec D.3):
        # one 32-byte block repeated over [0, 352).
        assert raw[:352] == raw[:32] * 11


@pytest.mark.parametrize("router", sorted(VECTORS))
def test_real_syn_signature_and_replay_hash(router: str) -> None:
    vec = VECTORS[router]
    packet = base64.b64decode(vec["packet"])
    sender = Destination.from_base64(vec["sender_destination"])
    receiver = Destination.from_base64(vec["receiver_destination"])
    assert packet[17:49] == receiver.hash
    unsigned = packet[:-64] + bytes(64)
    assert sender.verify(unsigned, packet[-64:])
    assert not receiver.verify(unsigned, packet[-64:])
    # FROM is embedded in the packet: parse it in place, with an offset, from a memoryview.
    at = packet.index(sender.to_bytes())
    parsed, used = Destination.from_bytes(memoryview(packet), at)
    assert (parsed, used) == (sender, 391)


def test_from_base64_rejects_trailing_and_short() -> None:
    text = VECTORS["java"]["sender_destination"]
    raw = b64decode(text)
    with pytest.raises(DataFormatError, match="Destination: 3 trailing bytes at offset 391"):
        Destination(raw + b"abc")
    with pytest.raises(DataFormatError, match="Destination: truncated keys at offset 0"):
        Destination(raw[:300])
    with pytest.raises(DataFormatError, match="Destination: Certificate: truncated payload"):
        Destination(raw[:389])
    with pytest.raises(DataFormatError, match="base64"):
        Destination.from_base64(text[:-2])


def test_equality_hash_immutability_pickle() -> None:
    text = VECTORS["i2pd"]["sender_destination"]
    a = Destination.from_base64(text)
    b = Destination(b64decode(text))
    c = Destination.from_base64(VECTORS["i2pd"]["receiver_destination"])
    assert a == b
    assert a != c
    assert len({a, b, c}) == 2
    assert a != "x"
    with pytest.raises(AttributeError):
        a.sig_type = SigType.DSA_SHA1
    with pytest.raises(AttributeError):
        del a.public_key
    assert pickle.loads(pickle.dumps(a)) == a
    assert isinstance(pickle.loads(pickle.dumps(a)), Destination)
    assert "b32.i2p" in repr(a)
    kc, _ = KeysAndCert.from_bytes(a.to_bytes())
    assert kc == a


# ---------------------------------------------------------------- built destinations


def test_build_ed25519_layout() -> None:
    _, pub = generate_signing_key(SigType.EdDSA_SHA512_Ed25519)
    slot = bytes(range(256))
    dest = Destination.build(slot, pub, SigType.EdDSA_SHA512_Ed25519, padding=b"\x55" * 96)
    raw = dest.to_bytes()
    assert raw == slot + b"\x55" * 96 + pub + bytes.fromhex("050004 0007 0000")
    assert Destination(raw) == dest


def test_build_random_padding_is_repeated_block() -> None:
    _, pub = generate_signing_key(SigType.EdDSA_SHA512_Ed25519)
    xpub = generate_x25519()[1]
    dest = Destination.build(xpub, pub, SigType.EdDSA_SHA512_Ed25519, EncType.ECIES_X25519)
    assert dest.enc_type is EncType.ECIES_X25519
    assert dest.public_key == xpub
    pad = dest.padding
    assert len(pad) == 384 - 32 - 32
    assert pad == (pad[:32] * 10)[: len(pad)]
    assert dest.to_bytes()[384:] == bytes.fromhex("050004 0007 0004")


def test_dsa_destination_null_cert_387() -> None:
    keys = PrivateKeys.generate(SigType.DSA_SHA1)
    dest = keys.destination
    assert len(dest) == 387
    assert dest.certificate.cert_type == CERT_NULL
    assert dest.to_bytes()[384:] == b"\x00\x00\x00"
    assert dest.signing_public_key == dest.to_bytes()[256:384]
    assert dest.padding == b""
    assert Destination(dest.to_bytes()) == dest
    assert len(dest.to_base64()) == 516
    assert dest.verify(b"m", keys.sign(b"m"))


def test_p256_destination_layout() -> None:
    keys = PrivateKeys.generate(SigType.ECDSA_SHA256_P256)
    raw = keys.destination.to_bytes()
    assert len(raw) == 391
    assert raw[384:] == bytes.fromhex("050004 0001 0000")
    assert raw[320:384] == keys.destination.signing_public_key


def test_p521_destination_excess_in_cert() -> None:
    priv, pub = generate_signing_key(SigType.ECDSA_SHA512_P521)
    dest = Destination.build(bytes(256), pub, SigType.ECDSA_SHA512_P521)
    raw = dest.to_bytes()
    assert len(raw) == 395
    assert raw[256:384] == pub[:128]
    assert raw[384:] == bytes.fromhex("050008 0003 0000") + pub[128:]
    parsed, used = Destination.from_bytes(raw + b"trailing")
    assert used == 395
    assert parsed == dest
    assert parsed.signing_public_key == pub
    assert parsed.padding == b""
    from i2p_streaming.data import sign

    assert parsed.verify(b"m", sign(SigType.ECDSA_SHA512_P521, priv, b"m"))


@pytest.mark.parametrize(
    ("sig_type", "bits", "hash_alg"),
    [
        (SigType.RSA_SHA256_2048, 2048, hashes.SHA256()),
        (SigType.RSA_SHA384_3072, 3072, hashes.SHA384()),
    ],
    ids=["rsa2048", "rsa3072"],
)
def test_rsa_destination_excess_and_verify(
    sig_type: SigType, bits: int, hash_alg: hashes.HashAlgorithm
) -> None:
    key = rsa.generate_private_key(65537, bits)
    pub = key.public_key().public_numbers().n.to_bytes(bits // 8, "big")
    dest = Destination.build(bytes(256), pub, sig_type)
    raw = dest.to_bytes()
    excess = bits // 8 - 128
    assert len(raw) == 387 + 4 + excess
    assert raw[256:384] == pub[:128]
    parsed = Destination(raw)
    assert parsed.signing_public_key == pub
    assert parsed.verify(b"data", key.sign(b"data", padding.PKCS1v15(), hash_alg))
    assert not parsed.verify(b"other", key.sign(b"data", padding.PKCS1v15(), hash_alg))


def test_build_rejects_bad_lengths() -> None:
    _, pub = generate_signing_key(SigType.EdDSA_SHA512_Ed25519)
    with pytest.raises(DataFormatError, match="public key must be 256"):
        Destination.build(bytes(32), pub, SigType.EdDSA_SHA512_Ed25519)
    with pytest.raises(DataFormatError, match="signing key must be 32"):
        Destination.build(bytes(256), pub + b"x", SigType.EdDSA_SHA512_Ed25519)
    with pytest.raises(DataFormatError, match="padding must be 96"):
        Destination.build(bytes(256), pub, SigType.EdDSA_SHA512_Ed25519, padding=b"x")


def test_embedded_vectors_match_shared_copy() -> None:
    """golden_vectors.py is a verbatim copy of the shared captures (when they are present)."""
    import json
    from pathlib import Path

    shared = Path("/work/shared/vectors")
    files = {"java": "syn-java-2.7.0.json", "i2pd": "syn-i2pd-2.56.0.json"}
    if not all((shared / f).is_file() for f in files.values()):
        pytest.skip("shared vectors not present")
    for name, fname in files.items():
        data = json.loads((shared / fname).read_text())
        assert VECTORS[name]["sender_destination"] == data["sender_destination"]
        assert VECTORS[name]["receiver_destination"] == data["receiver_destination"]
        assert VECTORS[name]["packet"] == data["packets"][0]["packet"]

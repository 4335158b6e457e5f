"""PrivateKeys: generate, sign, D.5 file format (with and without the offline section)."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from i2p_streaming.data import (
    CERT_NULL,
    Destination,
    EncType,
    OfflineSignature,
    PrivateKeys,
    SigType,
    b64decode,
    generate_signing_key,
    sign,
    verify,
)
from i2p_streaming.errors import DataFormatError

SIGNABLE = [
    SigType.DSA_SHA1,
    SigType.ECDSA_SHA256_P256,
    SigType.ECDSA_SHA384_P384,
    SigType.ECDSA_SHA512_P521,
    SigType.EdDSA_SHA512_Ed25519,
]
EXPIRES = 1_900_000_000


@pytest.fixture(scope="module")
def ed_keys() -> PrivateKeys:
    return PrivateKeys.generate()


def test_generate_default_ed25519(ed_keys: PrivateKeys) -> None:
    dest = ed_keys.destination
    raw = dest.to_bytes()
    assert dest.sig_type is SigType.EdDSA_SHA512_Ed25519
    assert dest.enc_type is EncType.ELGAMAL
    assert len(raw) == 391
    assert raw[384:] == bytes.fromhex("050004 0007 0000")
    assert raw[:352] == raw[:32] * 11  # one random block repeated (spec D.3)
    assert len(ed_keys.encryption_private_key) == 256
    assert ed_keys.signing_sig_type is SigType.EdDSA_SHA512_Ed25519
    assert ed_keys.signature_length == 64
    assert ed_keys.offline is None
    assert ed_keys.transient_private_key is None
    assert PrivateKeys.generate().destination != dest
    assert "PrivateKeys(" in repr(ed_keys)
    assert ed_keys.signing_private_key.hex() not in repr(ed_keys)


@pytest.mark.parametrize("sig_type", SIGNABLE, ids=lambda s: s.name)
def test_generate_sign_round_trip(sig_type: SigType, tmp_path: Path) -> None:
    keys = PrivateKeys.generate(sig_type)
    assert keys.destination.sig_type is sig_type
    if sig_type is SigType.DSA_SHA1:
        assert keys.destination.certificate.cert_type == CERT_NULL
    sig = keys.sign(b"payload")
    assert len(sig) == keys.signature_length == sig_type.signature_length
    assert keys.destination.verify(b"payload", sig)
    raw = keys.to_bytes()
    assert len(raw) == len(keys.destination) + 256 + sig_type.private_key_length
    assert PrivateKeys.from_bytes(raw) == keys
    assert PrivateKeys.from_base64(keys.to_base64()) == keys
    path = tmp_path / "keys.dat"
    keys.save(path)
    assert path.read_bytes() == raw
    assert (os.stat(path).st_mode & 0o777) == 0o600
    assert PrivateKeys.load(str(path)) == keys


def test_file_layout_hand_built() -> None:
    """A file assembled by hand (as i2pd writes it: random encryption key) parses."""
    seed = bytes(range(1, 33))
    pub = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    dest_raw = b"\x07" * 352 + pub + bytes.fromhex("050004 0007 0000")
    enc = bytes(range(256))
    blob = dest_raw + enc + seed
    assert len(blob) == 679
    keys = PrivateKeys.from_bytes(blob)
    assert keys.destination == Destination(dest_raw)
    assert keys.encryption_private_key == enc
    assert keys.signing_private_key == seed
    assert keys.to_bytes() == blob
    # Java >= 0.9.57 writes zeros for the (unused) encryption key: also fine.
    assert PrivateKeys.from_bytes(dest_raw + bytes(256) + seed).to_bytes()[391:647] == bytes(256)


def test_offline_section_layout(ed_keys: PrivateKeys, tmp_path: Path) -> None:
    off = ed_keys.with_offline_signature(SigType.EdDSA_SHA512_Ed25519, EXPIRES)
    assert off.destination == ed_keys.destination
    assert off.signing_private_key == bytes(32)
    assert off.offline is not None
    assert off.transient_private_key is not None
    assert off.signing_sig_type is SigType.EdDSA_SHA512_Ed25519
    raw = off.to_bytes()
    assert len(raw) == 679 + 4 + 2 + 32 + 64 + 32
    assert raw[647:679] == bytes(32)
    assert raw[679:685] == struct.pack(">IH", EXPIRES, 7)
    assert raw[685:717] == off.offline.transient_public_key
    assert raw[781:] == off.transient_private_key
    # the offline block is signed by the destination key
    assert ed_keys.destination.verify(raw[679:717], raw[717:781])
    assert off.offline.verify(off.destination, now=EXPIRES - 1)
    assert not off.offline.verify(off.destination, now=EXPIRES)
    assert off.offline.is_expired(EXPIRES)
    # signatures now come from the transient key
    sig = off.sign(b"data")
    assert not off.destination.verify(b"data", sig)
    assert verify(SigType.EdDSA_SHA512_Ed25519, off.offline.transient_public_key, b"data", sig)
    # file and base64 round trips
    assert PrivateKeys.from_bytes(raw) == off
    assert PrivateKeys.from_base64(off.to_base64()) == off
    off.save(tmp_path / "off.dat")
    assert PrivateKeys.load(tmp_path / "off.dat") == off
    with pytest.raises(ValueError, match="already offline"):
        off.with_offline_signature(SigType.EdDSA_SHA512_Ed25519, EXPIRES)
    assert "offline until" in repr(off)


def test_offline_with_different_transient_type(ed_keys: PrivateKeys) -> None:
    off = ed_keys.with_offline_signature(SigType.ECDSA_SHA256_P256, EXPIRES)
    assert off.signing_sig_type is SigType.ECDSA_SHA256_P256
    assert off.signature_length == 64
    raw = off.to_bytes()
    assert len(raw) == 679 + 6 + 64 + 64 + 32
    back = PrivateKeys.from_bytes(raw)
    assert back == off
    assert off.offline is not None
    tpub = off.offline.transient_public_key
    assert verify(SigType.ECDSA_SHA256_P256, tpub, b"m", back.sign(b"m"))


def test_dsa_destination_offline_ed25519_transient() -> None:
    keys = PrivateKeys.generate(SigType.DSA_SHA1)
    off = keys.with_offline_signature(SigType.EdDSA_SHA512_Ed25519, EXPIRES)
    raw = off.to_bytes()
    assert len(raw) == 387 + 256 + 20 + 6 + 32 + 40 + 32
    assert PrivateKeys.from_bytes(raw) == off


def test_offline_signature_block_parse(ed_keys: PrivateKeys) -> None:
    block, tpriv = OfflineSignature.create(ed_keys, SigType.EdDSA_SHA512_Ed25519, EXPIRES)
    raw = block.to_bytes()
    assert len(raw) == len(block) == 6 + 32 + 64
    assert raw[:6] == struct.pack(">IH", EXPIRES, 7)
    assert block.signed_bytes() == raw[:38]
    parsed, used = OfflineSignature.from_bytes(
        b"zz" + raw + b"tail", 2, SigType.EdDSA_SHA512_Ed25519
    )
    assert (parsed, used) == (block, 102)
    assert parsed.verify(ed_keys.destination)
    assert not parsed.verify(PrivateKeys.generate().destination)
    pub = sign(SigType.EdDSA_SHA512_Ed25519, tpriv, b"x")
    assert verify(SigType.EdDSA_SHA512_Ed25519, block.transient_public_key, b"x", pub)
    with pytest.raises(DataFormatError, match="unknown transient sig type 9 at offset 4"):
        OfflineSignature.from_bytes(raw[:4] + b"\x00\x09" + raw[6:], 0, SigType.DSA_SHA1)
    with pytest.raises(DataFormatError, match="truncated signature at offset 38"):
        OfflineSignature.from_bytes(raw[:-1], 0, SigType.EdDSA_SHA512_Ed25519)
    with pytest.raises(DataFormatError, match="expires"):
        OfflineSignature(2**32, SigType.EdDSA_SHA512_Ed25519, bytes(32), b"")
    with pytest.raises(DataFormatError, match="must be 32 bytes"):
        OfflineSignature(1, SigType.EdDSA_SHA512_Ed25519, bytes(31), b"")
    with pytest.raises(DataFormatError, match="unknown transient"):
        OfflineSignature(1, 9, bytes(31), b"")  # type: ignore[arg-type]


def test_rejects_inconsistent_files(ed_keys: PrivateKeys) -> None:
    raw = ed_keys.to_bytes()
    with pytest.raises(DataFormatError, match="PrivateKeys: 1 trailing bytes at offset 679"):
        PrivateKeys.from_bytes(raw + b"x")
    with pytest.raises(DataFormatError, match="truncated signing private key at offset 647"):
        PrivateKeys.from_bytes(raw[:-1])
    other = PrivateKeys.generate()
    with pytest.raises(DataFormatError, match="does not match the Destination"):
        PrivateKeys.from_bytes(raw[:647] + other.signing_private_key)
    # zero signing key but no offline section
    with pytest.raises(DataFormatError, match="truncated expires at offset 679"):
        PrivateKeys.from_bytes(raw[:647] + bytes(32))
    off = ed_keys.with_offline_signature(SigType.EdDSA_SHA512_Ed25519, EXPIRES).to_bytes()
    bad_sig = bytearray(off)
    bad_sig[720] ^= 1
    with pytest.raises(DataFormatError, match="offline signature does not verify"):
        PrivateKeys.from_bytes(bytes(bad_sig))
    with pytest.raises(DataFormatError, match="transient private key does not match"):
        PrivateKeys.from_bytes(off[:-32] + other.signing_private_key)
    with pytest.raises(DataFormatError, match="truncated transient private key"):
        PrivateKeys.from_bytes(off[:-1])
    with pytest.raises(DataFormatError, match="base64"):
        PrivateKeys.from_base64("not base64!")


def test_constructor_validation(ed_keys: PrivateKeys) -> None:
    d = ed_keys.destination
    seed = ed_keys.signing_private_key
    with pytest.raises(DataFormatError, match="ELGAMAL private key must be 256"):
        PrivateKeys(d, bytes(32), seed)
    with pytest.raises(DataFormatError, match="signing private key must be 32"):
        PrivateKeys(d, bytes(256), seed[:20])
    with pytest.raises(DataFormatError, match="needs an offline block"):
        PrivateKeys(d, bytes(256), bytes(32))
    with pytest.raises(DataFormatError, match="without offline block"):
        PrivateKeys(d, bytes(256), seed, None, bytes(32))
    off = ed_keys.with_offline_signature(SigType.EdDSA_SHA512_Ed25519, EXPIRES)
    with pytest.raises(DataFormatError, match="needs an all-zero signing key"):
        PrivateKeys(d, bytes(256), seed, off.offline, off.transient_private_key)
    with pytest.raises(DataFormatError, match="transient private key must be 32"):
        PrivateKeys(d, bytes(256), bytes(32), off.offline, None)


def test_generate_rejects_unsignable() -> None:
    with pytest.raises(ValueError, match="not supported"):
        PrivateKeys.generate(SigType.RSA_SHA256_2048)


def test_sam_priv_blob_is_base64_of_file(ed_keys: PrivateKeys) -> None:
    blob = ed_keys.to_base64()
    assert b64decode(blob) == ed_keys.to_bytes()
    assert blob.startswith(ed_keys.destination.to_base64()[:520])


def test_p521_keys_round_trip() -> None:
    keys = PrivateKeys.generate(SigType.ECDSA_SHA512_P521)
    assert len(keys.destination) == 395
    assert len(keys.to_bytes()) == 395 + 256 + 66
    assert PrivateKeys.from_bytes(keys.to_bytes()) == keys
    priv, _ = generate_signing_key(SigType.EdDSA_SHA512_Ed25519)
    assert len(priv) == 32

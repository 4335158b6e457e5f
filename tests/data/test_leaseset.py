"""LeaseSet2: build, sign, parse, verify, tampering, offline keys."""

from __future__ import annotations

import dataclasses
import struct

import pytest

from i2p_streaming.data import (
    FLAG_OFFLINE_KEYS,
    FLAG_UNPUBLISHED,
    LS2_TYPE,
    Certificate,
    EncryptionKey,
    Lease,
    Lease2,
    LeaseSet2,
    PrivateKeys,
    SigType,
    generate_x25519,
    verify,
)
from i2p_streaming.errors import DataFormatError

PUBLISHED = 1_700_000_000
GW1 = b"\x11" * 32
GW2 = b"\x22" * 32


@pytest.fixture(scope="module")
def keys() -> PrivateKeys:
    return PrivateKeys.generate()


@pytest.fixture(scope="module")
def x_pub() -> bytes:
    return generate_x25519()[1]


def _leases() -> list[Lease2 | Lease]:
    return [Lease2(GW1, 7, PUBLISHED + 600), Lease(GW2, 8, (PUBLISHED + 540) * 1000 + 999)]


def test_build_layout_and_verify(keys: PrivateKeys, x_pub: bytes) -> None:
    ls = LeaseSet2.build(
        keys,
        encryption_keys=[EncryptionKey(4, x_pub)],
        leases=_leases(),
        published=PUBLISHED,
        properties={"z": "1", "a": "2"},
    )
    assert ls.expires == PUBLISHED + 600
    assert ls.flags == 0
    assert ls.leases[1] == Lease2(GW2, 8, PUBLISHED + 540)
    assert list(ls.properties) == ["a", "z"]
    raw = ls.to_bytes()
    d = keys.destination.to_bytes()
    mapping = bytes.fromhex("000c 01613d01323b 017a3d01313b")
    expected_body = (
        d
        + struct.pack(">IHH", PUBLISHED, 600, 0)
        + mapping
        + b"\x01"
        + struct.pack(">HH", 4, 32)
        + x_pub
        + b"\x02"
        + GW1
        + struct.pack(">II", 7, PUBLISHED + 600)
        + GW2
        + struct.pack(">II", 8, PUBLISHED + 540)
    )
    assert raw[:-64] == expected_body
    assert ls.signed_bytes() == bytes([LS2_TYPE]) + expected_body
    assert keys.destination.verify(ls.signed_bytes(), raw[-64:])
    assert ls.verify()
    parsed, used = LeaseSet2.from_bytes(raw)
    assert used == len(raw)
    assert parsed == ls
    assert parsed.to_bytes() == raw
    assert parsed.verify()
    assert not ls.unpublished


def test_elgamal_and_x25519_keys_and_unpublished(keys: PrivateKeys, x_pub: bytes) -> None:
    ls = LeaseSet2.build(
        keys,
        encryption_keys=[(4, x_pub), (0, bytes(range(256)))],
        leases=[Lease2(GW1, 1, PUBLISHED + 10)],
        published=PUBLISHED,
        expires=PUBLISHED + 20,
        unpublished=True,
    )
    assert ls.flags == FLAG_UNPUBLISHED
    assert ls.unpublished
    assert [k.enc_type for k in ls.keys] == [4, 0]
    assert ls.expires == PUBLISHED + 20
    parsed, _ = LeaseSet2.from_bytes(b"\xee" + ls.to_bytes(), 1)
    assert parsed == ls
    assert parsed.verify()


def test_unknown_enc_type_kept_opaque(keys: PrivateKeys) -> None:
    ls = LeaseSet2.build(
        keys,
        encryption_keys=[EncryptionKey(6, b"\x01" * 32), EncryptionKey(300, b"abc")],
        leases=[],
        published=PUBLISHED,
        expires=PUBLISHED,
    )
    parsed, _ = LeaseSet2.from_bytes(ls.to_bytes())
    assert parsed.keys == (EncryptionKey(6, b"\x01" * 32), EncryptionKey(300, b"abc"))
    assert parsed.leases == ()
    assert parsed.verify()


def test_tampering_detected(keys: PrivateKeys, x_pub: bytes) -> None:
    ls = LeaseSet2.build(keys, encryption_keys=[(4, x_pub)], leases=_leases(), published=PUBLISHED)
    raw = ls.to_bytes()
    for pos in (0, 391, 395, 397, 400, 420, len(raw) - 70, len(raw) - 1):
        bad = bytearray(raw)
        bad[pos] ^= 0x01
        try:
            parsed, _ = LeaseSet2.from_bytes(bytes(bad))
        except DataFormatError:
            continue
        assert not parsed.verify(), pos
    assert not dataclasses.replace(ls, published=PUBLISHED + 1, expires=ls.expires + 1).verify()
    other = LeaseSet2.build(
        PrivateKeys.generate(), encryption_keys=[(4, x_pub)], leases=_leases(), published=PUBLISHED
    )
    assert not dataclasses.replace(ls, signature=other.signature).verify()


def test_offline_keys(keys: PrivateKeys, x_pub: bytes) -> None:
    off = keys.with_offline_signature(SigType.EdDSA_SHA512_Ed25519, PUBLISHED + 86400)
    ls = LeaseSet2.build(off, encryption_keys=[(4, x_pub)], leases=_leases(), published=PUBLISHED)
    assert ls.flags == FLAG_OFFLINE_KEYS
    assert ls.offline == off.offline
    raw = ls.to_bytes()
    assert raw[391 + 8 : 391 + 8 + 102] == off.offline.to_bytes()  # type: ignore[union-attr]
    assert ls.verify()
    assert not keys.destination.verify(ls.signed_bytes(), ls.signature)
    assert verify(
        SigType.EdDSA_SHA512_Ed25519,
        off.offline.transient_public_key,  # type: ignore[union-attr]
        ls.signed_bytes(),
        ls.signature,
    )
    parsed, used = LeaseSet2.from_bytes(raw)
    assert (parsed, used) == (ls, len(raw))
    assert parsed.verify()
    # an offline block certified by some other destination does not verify
    stranger = PrivateKeys.generate().with_offline_signature(SigType.EdDSA_SHA512_Ed25519, 2**31)
    forged = LeaseSet2.build(
        stranger,
        encryption_keys=[(4, x_pub)],
        leases=_leases(),
        published=PUBLISHED,
    )
    assert forged.verify()
    spliced = dataclasses.replace(forged, destination=keys.destination)
    assert not spliced.verify()


def test_offline_with_p256_transient(keys: PrivateKeys, x_pub: bytes) -> None:
    off = keys.with_offline_signature(SigType.ECDSA_SHA256_P256, PUBLISHED + 86400)
    ls = LeaseSet2.build(off, encryption_keys=[(4, x_pub)], leases=_leases(), published=PUBLISHED)
    parsed, _ = LeaseSet2.from_bytes(ls.to_bytes())
    assert parsed.signing_sig_type is SigType.ECDSA_SHA256_P256
    assert parsed.verify()


def test_unsorted_properties_preserved_on_parse(keys: PrivateKeys, x_pub: bytes) -> None:
    """A peer's LS2 with unsorted options re-serialises byte-exact (and still verifies)."""
    ls = LeaseSet2.build(keys, encryption_keys=[(4, x_pub)], leases=_leases(), published=PUBLISHED)
    unsorted = dataclasses.replace(ls, properties={"b": "1", "a": "2"})
    resigned = dataclasses.replace(unsorted, signature=keys.sign(unsorted.signed_bytes()))
    parsed, _ = LeaseSet2.from_bytes(resigned.to_bytes())
    assert list(parsed.properties) == ["b", "a"]
    assert parsed.to_bytes() == resigned.to_bytes()
    assert parsed.verify()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"leases": []}, "no leases and no expires"),
        ({"expires": PUBLISHED - 1}, "expires"),
        ({"expires": PUBLISHED + 65536}, "expires"),
        ({"encryption_keys": []}, "0 keys"),
        ({"encryption_keys": [(4, b"x")]}, "needs 32 bytes"),
        ({"encryption_keys": [(4, b"\x00" * 32)] * 9}, "9 keys"),
        ({"leases": [Lease2(GW1, i, PUBLISHED + 5) for i in range(17)]}, "17 leases"),
        ({"properties": {"k": "v" * 300}}, "at most 255"),
        ({"published": -1}, "published"),
    ],
)
def test_build_rejects(keys: PrivateKeys, kwargs: dict[str, object], fragment: str) -> None:
    args: dict[str, object] = {
        "encryption_keys": [(4, b"\x00" * 32)],
        "leases": [Lease2(GW1, 1, PUBLISHED + 5)],
        "published": PUBLISHED,
    }
    args.update(kwargs)
    with pytest.raises(DataFormatError) as info:
        LeaseSet2.build(keys, **args)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_constructor_consistency(keys: PrivateKeys, x_pub: bytes) -> None:
    ls = LeaseSet2.build(keys, encryption_keys=[(4, x_pub)], leases=_leases(), published=PUBLISHED)
    with pytest.raises(DataFormatError, match="disagree"):
        dataclasses.replace(ls, flags=FLAG_OFFLINE_KEYS)
    with pytest.raises(DataFormatError, match="signature must be 64"):
        dataclasses.replace(ls, signature=b"short")
    with pytest.raises(DataFormatError, match="flags"):
        dataclasses.replace(ls, flags=0x10000)


@pytest.mark.parametrize(
    ("cut", "fragment"),
    [
        (391 + 2, "LeaseSet2: truncated published at offset 391"),
        (391 + 7, "truncated flags at offset 397"),
        (391 + 8, "LeaseSet2: Mapping: truncated length at offset 399"),
        (391 + 10, "truncated key count at offset 401"),
        (391 + 12, "truncated key type at offset 402"),
        (391 + 40, "truncated key at offset 406"),
    ],
)
def test_parse_truncations(keys: PrivateKeys, x_pub: bytes, cut: int, fragment: str) -> None:
    ls = LeaseSet2.build(keys, encryption_keys=[(4, x_pub)], leases=_leases(), published=PUBLISHED)
    with pytest.raises(DataFormatError) as info:
        LeaseSet2.from_bytes(ls.to_bytes()[:cut])
    assert fragment in str(info.value)


def test_parse_rejects_bad_counts(keys: PrivateKeys, x_pub: bytes) -> None:
    ls = LeaseSet2.build(
        keys, encryption_keys=[(4, x_pub)], leases=[], published=PUBLISHED, expires=PUBLISHED
    )
    raw = bytearray(ls.to_bytes())
    nkeys_at = 391 + 8 + 2
    raw[nkeys_at] = 0
    with pytest.raises(DataFormatError, match=r"0 keys, need 1\.\.8 at offset 401"):
        LeaseSet2.from_bytes(bytes(raw))
    raw[nkeys_at] = 1
    nleases_at = nkeys_at + 1 + 4 + 32
    raw[nleases_at] = 17
    with pytest.raises(DataFormatError, match="17 leases, at most 16 at offset 438"):
        LeaseSet2.from_bytes(bytes(raw))
    raw[nleases_at] = 0
    raw[nkeys_at + 4] = 31  # X25519 key length 31
    with pytest.raises(DataFormatError, match="needs 32 bytes"):
        LeaseSet2.from_bytes(bytes(raw))


@pytest.mark.parametrize("types", [(0,), (4,), (5, 4), (6, 4), (7, 4), (6, 0, 4), (7, 6, 5, 4)])
def test_peer_lease_sets_with_hybrid_keys_parse(keys: PrivateKeys, types: tuple[int, ...]) -> None:
    """A peer's LS2 with any of the types 0/4/5/6/7 parses (5/6/7 carry 32-byte X25519 keys)."""
    enc = [EncryptionKey(t, bytes([t]) * (256 if t == 0 else 32)) for t in types]
    ls = LeaseSet2.build(keys, encryption_keys=enc, leases=_leases(), published=PUBLISHED)
    parsed, _ = LeaseSet2.from_bytes(ls.to_bytes())
    assert parsed.verify()
    assert [(k.enc_type, len(k.public_key)) for k in parsed.keys] == [
        (t, 256 if t == 0 else 32) for t in types
    ]


@pytest.mark.parametrize("enc_type", [5, 6, 7])
def test_hybrid_key_must_be_32_bytes(enc_type: int) -> None:
    with pytest.raises(DataFormatError, match=f"type {enc_type} needs 32 bytes"):
        EncryptionKey(enc_type, bytes(1184))  # an ML-KEM-768 key never goes in a LeaseSet


@pytest.mark.parametrize("enc_type", [5, 6, 7])
def test_hybrid_types_are_refused_in_key_certificates(enc_type: int) -> None:
    payload = struct.pack(">HH", int(SigType.EdDSA_SHA512_Ed25519), enc_type)
    with pytest.raises(DataFormatError, match="LeaseSets only"):
        Certificate.from_bytes(b"\x05" + struct.pack(">H", len(payload)) + payload)


@pytest.mark.parametrize("sig_code", [9, 10, 12, 15, 20, 65535])
def test_unregistered_or_reserved_signature_types_are_a_clear_error(sig_code: int) -> None:
    """Types beyond the registered table (ML-DSA 12+ reserved) never parse with a guessed size."""
    payload = struct.pack(">HH", sig_code, 0)
    with pytest.raises(DataFormatError, match=f"unknown signature type {sig_code}"):
        Certificate.from_bytes(b"\x05" + struct.pack(">H", len(payload)) + payload)

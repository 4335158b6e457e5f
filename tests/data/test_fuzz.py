"""Every parser fed random and mutated bytes: it returns a value or raises DataFormatError.

When a parser accepts input, re-serialising what it returned gives back exactly the bytes it
consumed (byte-exact round trip), and signature checks on it return a bool.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from i2p_streaming.data import (
    Certificate,
    Destination,
    EncryptionKey,
    KeysAndCert,
    Lease,
    Lease2,
    LeaseSet2,
    OfflineSignature,
    PrivateKeys,
    SigType,
    b32_address,
    b32_address_to_hash,
    b64decode,
    b64encode,
    decode_date,
    decode_mapping,
    decode_string,
    encode_mapping,
    encode_string,
    generate_signing_key,
    generate_x25519,
    verify,
)
from i2p_streaming.errors import DataFormatError

from .golden_vectors import VECTORS

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PUBLISHED = 1_700_000_000


@functools.cache
def samples() -> dict[str, list[bytes]]:
    """Valid encodings of every structure, the seeds for mutation."""
    ed = PrivateKeys.generate()
    ed_off = ed.with_offline_signature(SigType.EdDSA_SHA512_Ed25519, PUBLISHED + 9999)
    dsa = PrivateKeys.generate(SigType.DSA_SHA1)
    p521 = PrivateKeys.generate(SigType.ECDSA_SHA512_P521)
    p256_off = PrivateKeys.generate(SigType.ECDSA_SHA256_P256).with_offline_signature(
        SigType.EdDSA_SHA512_Ed25519, PUBLISHED + 9999
    )
    rsa_dest = Destination.build(bytes(256), b"\xc1" * 256, SigType.RSA_SHA256_2048)
    opaque = Destination(b"\x05" * 384 + bytes.fromhex("010002abcd"))
    real = [b64decode(v[k]) for v in VECTORS.values() for k in v if k.endswith("destination")]
    dests = [
        ed.destination.to_bytes(),
        dsa.destination.to_bytes(),
        p521.destination.to_bytes(),
        rsa_dest.to_bytes(),
        opaque.to_bytes(),
        *real,
    ]
    x_pub = generate_x25519()[1]
    leases = [Lease2(b"\x11" * 32, 5, PUBLISHED + 600), Lease2(b"\x22" * 32, 6, PUBLISHED + 500)]
    ls2 = [
        LeaseSet2.build(
            ed, encryption_keys=[(4, x_pub)], leases=leases, published=PUBLISHED
        ).to_bytes(),
        LeaseSet2.build(
            ed_off,
            encryption_keys=[(4, x_pub), (0, bytes(256))],
            leases=leases[:1],
            published=PUBLISHED,
            properties={"a": "b", "c": "d"},
            unpublished=True,
        ).to_bytes(),
        LeaseSet2.build(
            p256_off,
            encryption_keys=[EncryptionKey(7, b"\x01" * 32)],
            leases=[],
            published=PUBLISHED,
            expires=PUBLISHED + 5,
        ).to_bytes(),
    ]
    offline = [ed_off.offline.to_bytes(), p256_off.offline.to_bytes()]  # type: ignore[union-attr]
    return {
        "cert": [
            b"\x00\x00\x00",
            bytes.fromhex("0500040007 0000"),
            bytes.fromhex("0500080003 0000 01020304"),
            bytes.fromhex("010002abcd"),
        ],
        "dest": dests,
        "keys": [k.to_bytes() for k in (ed, ed_off, dsa, p521, p256_off)],
        "mapping": [
            encode_mapping({}),
            encode_mapping({"a": "1", "bb": "22", "é": "ü"}),
            encode_mapping({"k" * 255: "v" * 255}),
        ],
        "string": [encode_string(""), encode_string("hello"), encode_string("é" * 100)],
        "date": [bytes(8), bytes.fromhex("0000018bcfe56800")],
        "lease": [Lease(b"\x11" * 32, 1, 2).to_bytes()],
        "lease2": [leases[0].to_bytes()],
        "offline": offline,
        "ls2": ls2,
    }


@st.composite
def mutated(draw: st.DrawFn, kind: str) -> bytes:
    """A valid sample of ``kind`` with 1-4 random edits (flip, set, truncate, insert, delete)."""
    data = bytearray(draw(st.sampled_from(samples()[kind])))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "set", "truncate", "insert", "delete"]))
        pos = draw(st.integers(0, len(data)))
        if op == "flip" and pos < len(data):
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and pos < len(data):
            data[pos] = draw(
                st.sampled_from([0x00, 0x01, 0x03, 0x05, 0x07, 0x0B, 0x7F, 0x80, 0xFF])
            )
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 8))]
    return bytes(data)


def inputs(kind: str) -> st.SearchStrategy[bytes]:
    """Mutated valid encodings, plus plain random bytes."""
    return st.one_of(mutated(kind), mutated(kind), st.binary(max_size=1200))


def only_data_format_error(fn: Callable[[], Any]) -> Any:
    """Run ``fn``; a DataFormatError becomes None, anything else propagates (test failure)."""
    try:
        return fn()
    except DataFormatError as exc:
        message = str(exc)
    assert message  # every error says what was wrong
    return None


@FUZZ
@given(inputs("cert"), st.integers(-2, 8))
def test_certificate(data: bytes, offset: int) -> None:
    res = only_data_format_error(lambda: Certificate.from_bytes(data, offset))
    if res is not None:
        cert, used = res
        assert cert.to_bytes() == data[offset : offset + used]
        assert isinstance(cert.sig_type, SigType)


@FUZZ
@given(inputs("dest"))
def test_destination(data: bytes) -> None:
    for cls in (Destination, KeysAndCert):
        res = only_data_format_error(lambda cls=cls: cls.from_bytes(data))  # type: ignore[misc]
        if res is not None:
            dest, used = res
            assert dest.to_bytes() == data[:used]
            assert len(dest.hash) == 32
            assert dest.b32.endswith(".b32.i2p")
            assert dest.verify(b"m", bytes(dest.signature_length)) is False
            assert dest.verify(b"m", data[-dest.signature_length :]) in (True, False)
    res = only_data_format_error(lambda: Destination.from_base64(b64encode(data)))
    if res is not None:
        assert res.to_bytes() == data


@FUZZ
@given(inputs("keys"))
def test_private_keys(data: bytes) -> None:
    keys = only_data_format_error(lambda: PrivateKeys.from_bytes(data))
    if keys is not None:
        assert keys.to_bytes() == data
        if keys.signing_sig_type.can_sign:
            assert keys.destination.verify(b"m", keys.sign(b"m")) == (keys.offline is None)
    only_data_format_error(lambda: PrivateKeys.from_base64(b64encode(data)))


@FUZZ
@given(inputs("mapping"), st.integers(-1, 3))
def test_mapping(data: bytes, offset: int) -> None:
    res = only_data_format_error(lambda: decode_mapping(data, offset))
    if res is not None:
        items, used = res
        assert encode_mapping(items, sort=False) == data[offset : offset + used]


@FUZZ
@given(inputs("string"), inputs("date"))
def test_string_and_date(data: bytes, date: bytes) -> None:
    res = only_data_format_error(lambda: decode_string(data))
    if res is not None:
        assert encode_string(res[0]) == data[: res[1]]
    res = only_data_format_error(lambda: decode_date(date))
    if res is not None:
        assert res[0].to_bytes(8, "big") == date[:8]


@FUZZ
@given(inputs("lease"), inputs("lease2"))
def test_leases(lease: bytes, lease2: bytes) -> None:
    res = only_data_format_error(lambda: Lease.from_bytes(lease))
    if res is not None:
        assert res[0].to_bytes() == lease[:44]
    res = only_data_format_error(lambda: Lease2.from_bytes(lease2))
    if res is not None:
        assert res[0].to_bytes() == lease2[:40]


@FUZZ
@given(inputs("offline"), st.sampled_from(list(SigType)))
def test_offline_signature(data: bytes, dest_type: SigType) -> None:
    res = only_data_format_error(lambda: OfflineSignature.from_bytes(data, 0, dest_type))
    if res is not None:
        block, used = res
        assert block.to_bytes() == data[:used]


@FUZZ
@given(inputs("ls2"))
def test_leaseset2(data: bytes) -> None:
    res = only_data_format_error(lambda: LeaseSet2.from_bytes(data))
    if res is not None:
        ls, used = res
        assert ls.to_bytes() == data[:used]
        assert ls.verify() in (True, False)


@FUZZ
@given(st.one_of(st.text(max_size=80), st.builds(b64encode, st.binary(max_size=60))), st.data())
def test_text_decoders(text: str, data: st.DataObject) -> None:
    if text and data.draw(st.booleans()):
        pos = data.draw(st.integers(0, len(text) - 1))
        text = text[:pos] + data.draw(st.sampled_from("=-~+/ \n\x00é")) + text[pos + 1 :]
    raw = only_data_format_error(lambda: b64decode(text))
    if raw is not None:
        assert b64encode(raw) == text
    addr = data.draw(
        st.one_of(st.just(text), st.builds(b32_address, st.binary(min_size=32, max_size=32)))
    )
    if data.draw(st.booleans()):
        addr = addr.upper()
    h = only_data_format_error(lambda: b32_address_to_hash(addr))
    if h is not None:
        assert b32_address(h) == addr.lower()


@FUZZ
@given(st.sampled_from(list(SigType)), st.binary(max_size=600), st.binary(max_size=600))
def test_verify_never_raises(sig_type: SigType, pub: bytes, sig: bytes) -> None:
    pub = (
        (pub * (sig_type.public_key_length // max(1, len(pub)) + 1))[: sig_type.public_key_length]
        if pub
        else pub
    )
    sig = (
        (sig * (sig_type.signature_length // max(1, len(sig)) + 1))[: sig_type.signature_length]
        if sig
        else sig
    )
    # Mostly False; True is possible for degenerate Ed25519 keys (an all-zero small-order
    # public key with an all-zero signature verifies in OpenSSL), so only the type is checked.
    assert isinstance(verify(sig_type, pub, b"msg", sig), bool)


def test_samples_are_valid() -> None:
    """The mutation seeds themselves parse (so mutations start from real encodings)."""
    s = samples()
    assert all(Certificate.from_bytes(c)[1] == len(c) for c in s["cert"])
    assert all(Destination.from_bytes(d)[1] == len(d) for d in s["dest"])
    assert all(PrivateKeys.from_bytes(k).to_bytes() == k for k in s["keys"])
    assert all(LeaseSet2.from_bytes(x)[0].verify() for x in s["ls2"])
    assert generate_signing_key(SigType.EdDSA_SHA512_Ed25519)

"""One fuzz target per parser: ``one_input(data)`` returns normally or fails the contract.

A target fails (raises) when the parser lets anything but its documented error escape, or when
a value it accepted does not survive the round trip its codec promises. ``DataFormatError`` is
the documented error of every parser here; the I2CP frame reader and the signature checks
promise never to raise at all. Inputs are the raw bytes of the structure unless a target says
otherwise (``i2cp_message``: type byte + body; ``frame_reader``, ``offline_signature``,
``packet_verify``: control bytes first).

Imported names (adjust here after module splits): ``i2p_streaming.data``,
``i2p_streaming.errors``, ``i2p_streaming.i2cp`` (wrap/unwrap), ``i2p_streaming.i2cp.frames``,
``i2p_streaming.i2cp.messages``, ``i2p_streaming.streaming`` (Packet) and
``i2p_streaming.streaming.packet`` (verify_packet, PeerKey).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, ParamSpec, TypeVar

from fuzz.keys import keys_for
from i2p_streaming.data import (
    Certificate,
    Destination,
    EncType,
    KeysAndCert,
    Lease,
    Lease2,
    LeaseSet2,
    OfflineSignature,
    PrivateKeys,
    SigType,
    b32_address_to_hash,
    b64encode,
    decode_date,
    decode_mapping,
    decode_string,
    encode_date,
    encode_mapping,
    encode_string,
    verify,
)
from i2p_streaming.datagrams import (
    DROP_REASONS,
    DatagramCore,
    DatagramKind,
    parse_datagram2,
    parse_datagram3,
    parse_repliable,
    verify_datagram2,
    verify_repliable,
)
from i2p_streaming.errors import DataFormatError
from i2p_streaming.i2cp import messages as i2cp_messages
from i2p_streaming.i2cp import unwrap, wrap
from i2p_streaming.i2cp.frames import HEADER_LEN, Frame, FrameError, FrameReader, encode_frame
from i2p_streaming.streaming import Packet
from i2p_streaming.streaming.packet import PeerKey, verify_packet

__all__ = ["DATAGRAM_TARGET", "MESSAGE_TYPES", "TARGETS", "Target", "accepts"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def accepts(parse: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R | None:
    """Run a parser: its value, or None for a :class:`DataFormatError` (which must say why).

    Every other exception propagates: that is the contract violation a fuzzer reports.
    """
    try:
        return parse(*args, **kwargs)
    except DataFormatError as exc:
        message = str(exc)
    assert message, f"{parse!r} raised a DataFormatError without a message"
    return None


def _is_bool(value: object) -> bool:
    return value is True or value is False


# --------------------------------------------------------------------------- streaming packet
#: Keys tried on packets without FROM: the seeds' Ed25519 key, then junk of each key type.
_KEYS: Final[tuple[PeerKey, ...]] = (
    (SigType.EdDSA_SHA512_Ed25519, keys_for().destination.signing_public_key),
    (SigType.EdDSA_SHA512_Ed25519, bytes(32)),
    (SigType.EdDSA_SHA512_Ed25519, bytes(range(32))),
    (SigType.DSA_SHA1, b"\x07" * 128),
    (SigType.ECDSA_SHA256_P256, b"\x01" * 64),
    (SigType.ECDSA_SHA512_P521, b"\x01" * 132),
    (SigType.RSA_SHA256_2048, b"\xc1" * 256),
    (SigType.EdDSA_SHA512_Ed25519ph, bytes(32)),
)


def packet(data: bytes) -> None:
    """Packet.decode: DataFormatError only; byte-exact re-encode; verify never raises."""
    pkt = accepts(Packet.decode, data)
    if pkt is None:
        return
    wire = pkt.encode()
    assert wire == data, "decoded packet does not re-encode byte for byte"
    assert Packet.decode(memoryview(wire)) == pkt
    assert len(pkt.payload) <= 32768 and len(pkt.nacks) <= 255
    if pkt.signature is not None:
        assert _is_bool(verify_packet(data, pkt))
        assert _is_bool(verify_packet(data, pkt, key=_KEYS[1], epoch_now=1.7e9))


def packet_verify(data: bytes) -> None:
    """verify_packet with any key: never raises; a verified packet stops verifying when one
    signed byte or the signature changes.

    Input: ``key selector(1) | packet``; the selector picks the stored key for FROM-less
    packets and whether an ``expected`` Destination and a clock are given.
    """
    if len(data) < 1:
        return
    sel, raw = data[0], data[1:]
    pkt = accepts(Packet.decode, raw)
    if pkt is None or pkt.signature is None:
        return
    key = _KEYS[sel % len(_KEYS)] if sel & 0x80 else None
    expected = pkt.from_destination if sel & 0x40 else None
    epoch_now = float(sel * 7_000_000) if sel & 0x20 else None
    ok = verify_packet(raw, pkt, key=key, expected=expected, epoch_now=epoch_now)
    assert _is_bool(ok)
    if pkt.from_destination is not None:
        other = Destination.build(bytes(256), bytes(32), SigType.EdDSA_SHA512_Ed25519)
        assert verify_packet(raw, pkt, expected=other) is False
    if not ok:
        return
    assert pkt.signature is not None
    sig_at = pkt.signature_offset(len(raw))
    zeroed = bytearray(raw)
    zeroed[sig_at : sig_at + len(pkt.signature)] = bytes(len(pkt.signature))
    assert verify_packet(bytes(zeroed), Packet.decode(bytes(zeroed)), key=key) is False
    flipped = bytearray(raw)
    flipped[8] ^= 0x01  # the sequence number: covered by the signature
    again = Packet.decode(bytes(flipped))
    assert verify_packet(bytes(flipped), again, key=key, epoch_now=epoch_now) is False


# --------------------------------------------------------------------------- I2CP
#: Every message class the codec knows, by type (from the module's public names).
MESSAGE_TYPES: Final[dict[int, type[i2cp_messages.Message]]] = {
    obj.TYPE: obj
    for name in i2cp_messages.__all__
    if isinstance(obj := getattr(i2cp_messages, name), type)
    and issubclass(obj, i2cp_messages.Message)
    and hasattr(obj, "TYPE")
}
#: Types whose encode is canonical rather than byte-exact: SessionConfig re-sorts its options
#: (the signature covers the sorted form), an empty GetDate body is re-encoded as version "".
_CANONICAL_ONLY: Final = frozenset(
    {
        i2cp_messages.CreateSession.TYPE,
        i2cp_messages.ReconfigureSession.TYPE,
        i2cp_messages.GetDate.TYPE,
    }
)


def i2cp_message(data: bytes) -> None:
    """decode_message (and each class's decode): DataFormatError only; decode(encode(m)) == m,
    byte-exact except for the canonicalising types. Input: ``type(1) | body``."""
    if len(data) < 1:
        return
    msg_type, body = data[0], data[1:]
    cls = MESSAGE_TYPES.get(msg_type)
    if cls is not None:
        accepts(cls.decode, body)  # the class contract, without decode_message's safety net
    if msg_type == i2cp_messages.CreateLeaseSet2.TYPE:
        accepts(i2cp_messages.CreateLeaseSet2.decode, body)
    msg = accepts(i2cp_messages.decode_message, msg_type, body)
    if msg is None:
        return
    if isinstance(msg, i2cp_messages.UnknownMessage):
        assert cls is None and msg.msg_type == msg_type and msg.body == body
        return
    # message 41 decodes by its lease set type: CreateLeaseSet2 (type 3) or the other class
    if msg_type == i2cp_messages.CreateLeaseSet2.TYPE:
        assert type(msg) in (i2cp_messages.CreateLeaseSet2, i2cp_messages.CreateLeaseSet2Other)
    else:
        assert type(msg) is cls
    frame = i2cp_messages.encode_message(msg)
    assert frame[4] == msg_type and int.from_bytes(frame[:4], "big") == len(frame) - HEADER_LEN
    if msg_type not in _CANONICAL_ONLY:
        assert frame[HEADER_LEN:] == body, f"{type(msg).__name__} does not re-encode byte for byte"
    assert i2cp_messages.decode_message(msg_type, frame[HEADER_LEN:]) == msg
    if isinstance(msg, i2cp_messages.CreateSession | i2cp_messages.ReconfigureSession):
        assert _is_bool(msg.config.verify())
    elif isinstance(msg, i2cp_messages.CreateLeaseSet2 | i2cp_messages.CreateLeaseSet2Other):
        assert _is_bool(msg.lease_set.verify())


def _drain(reader: FrameReader, out: list[Frame | FrameError]) -> None:
    while (item := reader.next_frame()) is not None:
        out.append(item)


def frame_reader(data: bytes) -> None:
    """FrameReader fed in random chunk splits: never raises, same frames as one feed, frames
    re-encode to the bytes fed, buffer bounded, dead after an error; bodies decode safely.

    Input: ``split seed(1) | limit(1) | stream``; limit 0 means the default 65535-byte body
    limit, otherwise ``limit * 16`` bytes.
    """
    if len(data) < 2:
        return
    seed, limit, stream = data[0], data[1], data[2:]
    max_body = 65535 if limit == 0 else limit * 16
    whole = FrameReader(max_body)
    whole.feed(stream)
    expected: list[Frame | FrameError] = []
    _drain(whole, expected)

    rng = random.Random(seed)
    chunked = FrameReader(max_body)
    got: list[Frame | FrameError] = []
    pos = 0
    while pos < len(stream):
        size = rng.choice((0, 1, 2, 3, 5, 7, 64, 300, 4096))
        chunked.feed(memoryview(stream)[pos : pos + size])
        pos += size
        _drain(chunked, got)
        assert chunked.buffered < HEADER_LEN + max_body + 1 or chunked.error is not None
    assert got == expected, "chunk boundaries changed the frames read"
    assert (chunked.eof_error() is None) == (whole.eof_error() is None)

    consumed = 0
    for item in got:
        if isinstance(item, FrameError):
            assert item is got[-1] and item.reason and chunked.error == item
            chunked.feed(b"\x00" * 8)
            assert chunked.next_frame() is None and chunked.buffered == 0
            break
        assert len(item.body) <= max_body
        wire = encode_frame(item.msg_type, item.body)
        assert stream[consumed : consumed + len(wire)] == wire
        consumed += len(wire)
        accepts(i2cp_messages.decode_message, item.msg_type, item.body)
    else:
        assert chunked.buffered == len(stream) - consumed


def payload(data: bytes) -> None:
    """unwrap: DataFormatError only; the output never exceeds the cap; wrap/unwrap round trip.

    Run with the default 64 KiB cap and with a cap of half the input length.
    """
    for cap in (65536, len(data) // 2):
        got = accepts(unwrap, data, max_size=cap)
        if got is None:
            continue
        assert len(got.data) <= cap, f"unwrap returned {len(got.data)} bytes over a {cap} cap"
        assert 0 <= got.src_port <= 0xFFFF and 0 <= got.dst_port <= 0xFFFF
        assert 0 <= got.protocol <= 0xFF
        ports = {"src_port": got.src_port, "dst_port": got.dst_port}
        for compress in (False, True) if len(got.data) <= 65535 else (True,):
            blob = wrap(got.data, protocol=got.protocol, compress=compress, **ports)
            assert unwrap(blob, max_size=cap) == got


# --------------------------------------------------------------------------- data structures
def destination(data: bytes) -> None:
    """Destination/KeysAndCert.from_bytes: DataFormatError only; exact bytes kept; hash, b32,
    Base64 and verify consistent."""
    for cls in (Destination, KeysAndCert):
        res = accepts(cls.from_bytes, data)
        if res is None:
            continue
        dest, used = res
        raw = data[:used]
        assert dest.to_bytes() == raw and len(dest) == used
        assert cls(raw) == dest and cls.from_base64(dest.to_base64()) == dest
        assert b32_address_to_hash(dest.b32) == dest.hash
        assert len(dest.signing_public_key) == dest.sig_type.public_key_length
        assert len(dest.public_key) == dest.enc_type.public_key_length
        assert _is_bool(dest.verify(b"m", data[-dest.signature_length :]))
        repr(dest)


def certificate(data: bytes) -> None:
    """Certificate.from_bytes: DataFormatError only; byte-exact; key types readable."""
    res = accepts(Certificate.from_bytes, data)
    if res is None:
        return
    cert, used = res
    assert cert.to_bytes() == data[:used] and len(cert) == used
    assert Certificate.from_bytes(cert.to_bytes()) == (cert, used)
    assert isinstance(cert.sig_type, SigType)
    assert isinstance(cert.enc_type, EncType)
    assert len(cert.excess_signing_key) <= len(cert.payload)


_SIG_TYPES: Final = tuple(SigType)
_CHECKER: Final = Destination.build(bytes(256), bytes(32), SigType.EdDSA_SHA512_Ed25519)


def offline_signature(data: bytes) -> None:
    """OfflineSignature.from_bytes: DataFormatError only; byte-exact; verify never raises.

    Input: ``Destination sig type selector(1) | block``.
    """
    if len(data) < 1:
        return
    dest_type = _SIG_TYPES[data[0] % len(_SIG_TYPES)]
    res = accepts(OfflineSignature.from_bytes, data, 1, dest_type)
    if res is None:
        return
    block, used = res
    assert block.to_bytes() == data[1 : 1 + used] and len(block) == used
    assert len(block.signature) == dest_type.signature_length
    assert _is_bool(block.verify(_CHECKER, 1.7e9)) and _is_bool(block.is_expired(1.7e9))


def leaseset2(data: bytes) -> None:
    """LeaseSet2.from_bytes: DataFormatError only; byte-exact; verify never raises."""
    res = accepts(LeaseSet2.from_bytes, data)
    if res is None:
        return
    ls, used = res
    assert ls.to_bytes() == data[:used]
    assert LeaseSet2.from_bytes(ls.to_bytes()) == (ls, used)
    assert ls.signed_bytes()[0] == 3 and _is_bool(ls.verify())
    assert 1 <= len(ls.keys) <= 8 and len(ls.leases) <= 16


def lease(data: bytes) -> None:
    """Lease and Lease2 from_bytes: DataFormatError only; byte-exact."""
    ls1 = accepts(Lease.from_bytes, data)
    if ls1 is not None:
        assert ls1[0].to_bytes() == data[:44] and ls1[1] == 44
        converted = accepts(Lease2.from_lease, ls1[0])  # ends past 2**32 s do not convert
        assert converted is None or converted.end == ls1[0].end_ms // 1000
    ls2 = accepts(Lease2.from_bytes, data)
    if ls2 is not None:
        assert ls2[0].to_bytes() == data[:40] and ls2[1] == 40


def mapping(data: bytes) -> None:
    """Mapping, String and Date decoders: DataFormatError only; byte-exact in wire order and
    a sorted re-encode decodes to the same items."""
    res = accepts(decode_mapping, data)
    if res is not None:
        items, used = res
        assert encode_mapping(items, sort=False) == data[:used]
        assert decode_mapping(encode_mapping(items))[0] == items
    text = accepts(decode_string, data)
    if text is not None:
        assert encode_string(text[0]) == data[: text[1]]
    date = accepts(decode_date, data)
    if date is not None:
        assert encode_date(date[0]) == data[:8]


def private_keys(data: bytes) -> None:
    """PrivateKeys.from_bytes (the D.5 key file): DataFormatError only; byte-exact; a parsed
    signing key signs what its Destination (or offline block) verifies."""
    keys = accepts(PrivateKeys.from_bytes, data)
    if keys is None:
        return
    assert keys.to_bytes() == data and PrivateKeys.from_bytes(keys.to_bytes()) == keys
    assert keys.signature_length == keys.signing_sig_type.signature_length
    if keys.signing_sig_type.can_sign:
        sig = keys.sign(b"fuzz")
        if keys.offline is None:
            assert keys.destination.verify(b"fuzz", sig)
        else:
            off = keys.offline
            assert verify(off.transient_sig_type, off.transient_public_key, b"fuzz", sig)
    repr(keys)


def sam_private_keys(data: bytes) -> None:
    """The SAM DESTINATION/PRIV blob and Destination Base64 as text (each byte one char):
    DataFormatError only; Base64 round trips exactly."""
    text = data.decode("latin-1")
    keys = accepts(PrivateKeys.from_base64, text)
    if keys is not None:
        assert keys.to_base64() == text
    dest = accepts(Destination.from_base64, text)
    if dest is not None:
        assert dest.to_base64() == text and b64encode(dest.to_bytes()) == text


# --------------------------------------------------------------------------- datagrams
#: The destination the datagram seeds are addressed to (Datagram2 signatures cover its hash).
DATAGRAM_TARGET: Final = keys_for(label="datagram target")
_PROTOCOL_OF = (17, 18, 19, 20)


def datagram(data: bytes) -> None:
    """The datagram parsers and DatagramCore.receive_payload. Input: ``selector(1) |
    datagram``; ``selector % 4`` picks the protocol (17, 18, 19, 20).

    Parsers: DataFormatError only, the parts re-assemble to the input byte for byte, the
    checks return a bool. The core never raises and counts every input exactly once (as
    received or by one drop reason); a second delivery of an accepted Datagram2 is a replay.
    """
    if len(data) < 1:
        return
    protocol, raw = _PROTOCOL_OF[data[0] % 4], data[1:]
    target = DATAGRAM_TARGET.destination.hash
    if protocol == 17 and (rep := accepts(parse_repliable, raw)) is not None:
        dest, signature, body = rep
        assert dest.to_bytes() + signature + body == raw
        assert _is_bool(verify_repliable(dest, signature, body))
    if protocol == 19 and (parts := accepts(parse_datagram2, raw)) is not None:
        assert parts.sender.to_bytes() + parts.signed + parts.signature == raw
        assert parts.signed.endswith(parts.payload)
        assert _is_bool(verify_datagram2(parts, target, 1.7e9))
    if protocol == 20 and (d3 := accepts(parse_datagram3, raw)) is not None:
        sender_hash, _options, body = d3
        assert raw.startswith(sender_hash) and raw.endswith(body) and len(sender_hash) == 32
    core = DatagramCore(DATAGRAM_TARGET, epoch_offset=1.7e9)
    for kind in DatagramKind:
        core.bind(kind, 0)
    counted = ("received", *DROP_REASONS)
    core.receive_payload(protocol, raw, 1, 2, 0.0)
    assert sum(core.counters[k] for k in counted) == 1, core.counters
    assert core.counters["internal_error"] == 0
    event = core.next_event()
    assert (event is not None) == (core.counters["received"] == 1)
    if event is not None and protocol == 19:
        core.receive_payload(protocol, raw, 1, 2, 1.0)
        assert core.counters["replayed"] == 1 and core.next_event() is None


# --------------------------------------------------------------------------- registry
@dataclass(frozen=True, slots=True)
class Target:
    """A fuzz target: its name (seed and regression folder), function and input size limit."""

    name: str
    one_input: Callable[[bytes], None]
    max_len: int = 4096


TARGETS: Final[dict[str, Target]] = {
    t.name: t
    for t in (
        Target("packet", packet),
        Target("packet_verify", packet_verify),
        Target("i2cp_message", i2cp_message),
        Target("frame_reader", frame_reader, max_len=8192),
        Target("payload", payload, max_len=8192),
        Target("destination", destination),
        Target("certificate", certificate, max_len=1024),
        Target("offline_signature", offline_signature, max_len=2048),
        Target("leaseset2", leaseset2),
        Target("lease", lease, max_len=256),
        Target("mapping", mapping),
        Target("private_keys", private_keys),
        Target("sam_private_keys", sam_private_keys, max_len=8192),
        Target("datagram", datagram),
    )
}

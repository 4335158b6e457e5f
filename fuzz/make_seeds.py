"""Regenerate ``fuzz/seeds/<target>/`` from the captured SYNs and the project's own encoders.

Usage (from the repository root)::

    PYTHONPATH=src python -m fuzz.make_seeds [--vectors /work/shared/vectors]

The captured vectors are the JSON files described in that folder's README (Java I2P and
i2pd SYNs, standard Base64). Every other seed is built with this library's encoders and the
fixed keys of :mod:`fuzz.keys`. Each target's folder is emptied first.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import zlib
from collections.abc import Iterable
from pathlib import Path

from fuzz.corpus import SEEDS_DIR
from fuzz.keys import TRANSIENT_EXPIRES, keys_for, offline_keys_for
from fuzz.targets import DATAGRAM_TARGET, TARGETS
from i2p_streaming.data import (
    Certificate,
    Destination,
    EncryptionKey,
    EncType,
    Lease,
    Lease2,
    LeaseSet2,
    PrivateKeys,
    SigType,
    b64decode,
    encode_date,
    encode_mapping,
    encode_string,
    x25519_public_from_private,
)
from i2p_streaming.datagrams import encode_datagram2, encode_datagram3, encode_repliable
from i2p_streaming.i2cp import PROTO_STREAMING, wrap
from i2p_streaming.i2cp import messages as m
from i2p_streaming.i2cp.frames import encode_frame
from i2p_streaming.streaming import Flags, Packet
from i2p_streaming.streaming.packet import encode_plain

__all__ = ["build_seeds", "main"]

DEFAULT_VECTORS = Path("/work/shared/vectors")
PUBLISHED = 1_700_000_000
DATE_MS = PUBLISHED * 1000
ED = SigType.EdDSA_SHA512_Ed25519


class Captured:
    """The captured SYNs: raw streaming packets with their ports, and both Destinations."""

    def __init__(self, folder: Path) -> None:
        self.packets: dict[str, tuple[bytes, int, int]] = {}
        self.destinations: dict[str, bytes] = {}
        for path in sorted(folder.glob("*.json")):
            doc = json.loads(path.read_text(encoding="utf-8"))
            name = str(doc["router"])
            for role in ("sender", "receiver"):
                self.destinations[f"{name}-{role}"] = b64decode(doc[f"{role}_destination"])
            for i, entry in enumerate(doc["packets"]):
                src, dst = entry["ports"]
                raw = base64.b64decode(entry["packet"], validate=True)
                self.packets[f"{name}-syn{i or ''}"] = (raw, int(src), int(dst))


def _syn(keys: PrivateKeys, peer: Destination, *, delay: int | None = 0) -> bytes:
    h = peer.hash
    nacks = tuple(int.from_bytes(h[i : i + 4], "big") for i in range(0, 32, 4))
    pkt = Packet(
        0,
        0x1234ABCD,
        0,
        0,
        nacks,
        resend_delay=3,
        flags=Flags.SYNCHRONIZE | Flags.NO_ACK,
        delay=delay,
        from_destination=keys.destination,
        max_packet_size=1812,
        offline_signature=keys.offline,
    )
    return pkt.encode_signed(keys)


def packet_seeds(cap: Captured) -> dict[str, bytes]:
    ed, peer = keys_for(ED), keys_for(ED, "b").destination
    seeds = {name: raw for name, (raw, _, _) in cap.packets.items()}
    seeds["own-syn"] = _syn(ed, peer)
    seeds["own-syn-offline"] = _syn(offline_keys_for(), peer, delay=None)
    seeds["own-syn-dsa"] = _syn(keys_for(SigType.DSA_SHA1), peer)
    seeds["own-syn-p521"] = _syn(keys_for(SigType.ECDSA_SHA512_P521), peer)
    seeds["ack-nacks"] = encode_plain(7, 9, 0, 41, (38, 39, 40), 0, None, b"")
    seeds["data-delay"] = encode_plain(7, 9, 42, 10, (), 0, 500, b"hello, stream" * 8)
    close = Packet(7, 9, 43, 12, flags=Flags.CLOSE, signature=b"")
    seeds["close-signed"] = close.encode_signed(ed)
    reset = Packet(7, 9, 0, 0, flags=Flags.RESET, from_destination=ed.destination)
    seeds["reset-signed"] = reset.encode_signed(ed)
    ping = Packet(5, 0, 0, 0, flags=Flags.ECHO, from_destination=ed.destination)
    seeds["ping-signed"] = ping.encode_signed(ed)
    return seeds


def _config(keys: PrivateKeys) -> m.SessionConfig:
    opts = {"inbound.length": "0", "outbound.length": "0", "i2cp.fastReceive": "true"}
    return m.SessionConfig.create(keys, opts, DATE_MS)


def _lease_sets() -> dict[str, LeaseSet2]:
    x_pub = x25519_public_from_private(bytes(range(1, 33)))
    leases = [Lease2(b"\x11" * 32, 5, PUBLISHED + 600), Lease2(b"\x22" * 32, 6, PUBLISHED + 500)]
    return {
        "ed": LeaseSet2.build(
            keys_for(ED), encryption_keys=[(4, x_pub)], leases=leases, published=PUBLISHED
        ),
        "ed-offline": LeaseSet2.build(
            offline_keys_for(),
            encryption_keys=[(4, x_pub), (0, bytes(256))],
            leases=leases[:1],
            published=PUBLISHED,
            properties={"a": "b", "caps": "R"},
            unpublished=True,
        ),
        "p256-offline": LeaseSet2.build(
            offline_keys_for(SigType.ECDSA_SHA256_P256),
            encryption_keys=[EncryptionKey(7, b"\x01" * 32)],
            leases=[],
            published=PUBLISHED,
            expires=PUBLISHED + 5,
        ),
    }


def i2cp_messages(cap: Captured) -> list[tuple[str, m.Message]]:
    ed, dest = keys_for(ED), keys_for(ED).destination
    syn, src, dst = next(iter(cap.packets.values()))
    wrapped = wrap(syn, protocol=PROTO_STREAMING, src_port=src, dst_port=dst)
    leases = (Lease(b"\x33" * 32, 77, DATE_MS + 600_000), Lease(b"\x44" * 32, 78, DATE_MS))
    ls = _lease_sets()
    return [
        ("create-session", m.CreateSession(_config(ed))),
        ("create-session-offline", m.CreateSession(_config(offline_keys_for()))),
        ("reconfigure", m.ReconfigureSession(1, _config(ed))),
        ("destroy", m.DestroySession(1)),
        ("create-leaseset", m.CreateLeaseSet(1, b"\x01" * 20, b"\x02" * 256, b"\x03" * 40)),
        ("send", m.SendMessage(1, dest, wrapped, 17)),
        ("send-expires", m.SendMessageExpires(1, dest, wrapped, 18, 0x0100, 60_000)),
        ("get-bw", m.GetBandwidthLimits()),
        ("session-status", m.SessionStatus(1, m.SessionStatus.CREATED)),
        ("message-status", m.MessageStatus(1, 99, 4, len(wrapped), 17)),
        ("bw-limits", m.BandwidthLimits(tuple(range(16)))),
        ("disconnect", m.Disconnect("router shutting down")),
        ("payload", m.MessagePayload(1, 100, wrapped)),
        ("get-date", m.GetDate("0.9.66")),
        ("get-date-auth", m.GetDate("0.9.66", {"i2cp.username": "u", "i2cp.password": "p"})),
        ("set-date", m.SetDate(DATE_MS, "0.9.66")),
        ("set-date-old", m.SetDate(DATE_MS)),
        ("dest-lookup", m.DestLookup(dest.hash)),
        ("dest-reply", m.DestReply(dest)),
        ("dest-reply-fail", m.DestReply(None, dest.hash)),
        ("request-vls", m.RequestVariableLeaseSet(1, leases)),
        ("host-lookup-hash", m.HostLookup(1, 5, 10_000, 0, dest.hash)),
        ("host-lookup-name", m.HostLookup(1, 6, 10_000, 1, "example.i2p")),
        ("host-lookup-dest", m.HostLookup(1, 7, 10_000, 4, dest)),
        ("host-reply", m.HostReply(1, 5, 0, dest)),
        ("host-reply-options", m.HostReply(1, 7, 0, dest, {"s": "v"})),
        ("host-reply-fail", m.HostReply(1, 6, 1)),
        ("create-ls2", m.CreateLeaseSet2(1, ls["ed"], ((4, bytes(range(32))),))),
        ("create-ls2-offline", m.CreateLeaseSet2(1, ls["ed-offline"], ())),
        ("create-ls2-encrypted", m.CreateLeaseSet2Other(1, _encrypted(ed), ((4, bytes(32)),))),
        ("receive-begin", m.ReceiveMessageBegin(1, 99)),
        ("receive-end", m.ReceiveMessageEnd(1, 99)),
        ("report-abuse", m.ReportAbuse(1, 1, "spam", 99)),
        ("blinding-info", m.BlindingInfo(1, dest, 11, DATE_MS // 1000, 1, bytes(32), "s")),
        ("unknown", m.UnknownMessage(200, b"\x00\x01junk")),
    ]


def _encrypted(keys: PrivateKeys) -> m.EncryptedLeaseSet:
    """An EncryptedLeaseSet with an opaque body, signed by ``keys`` as the blinded key."""
    published = DATE_MS // 1000
    unsigned = m.EncryptedLeaseSet(
        SigType.RedDSA_SHA512_Ed25519,
        keys.destination.signing_public_key,
        published,
        published + 600,
        0,
        None,
        b"\x42" * 48,
        bytes(64),
    )
    return dataclasses.replace(unsigned, signature=keys.sign(unsigned.signed_bytes()))


def i2cp_seeds(cap: Captured) -> dict[str, bytes]:
    seeds = {}
    for name, msg in i2cp_messages(cap):
        frame = m.encode_message(msg)
        seeds[name] = frame[4:]  # type byte + body
    return seeds


def frame_reader_seeds(cap: Captured) -> dict[str, bytes]:
    msgs = dict(i2cp_messages(cap))
    start = b"".join(
        m.encode_message(msgs[k])
        for k in ("get-date", "set-date", "create-session", "session-status", "request-vls")
    )
    traffic = b"".join(
        m.encode_message(msgs[k]) for k in ("payload", "message-status", "send", "host-reply")
    )
    return {
        "session-start": b"\x00\x00" + start,
        "traffic-small-chunks": b"\x01\x00" + traffic,
        "oversize-frame": b"\x02\x04" + encode_frame(20, b"\x00\x01\x01") + traffic,
        "truncated": b"\x03\x00" + traffic[:-7],
        "empty-bodies": b"\x04\x01" + encode_frame(8, b"") * 4 + encode_frame(250, b""),
    }


def payload_seeds(cap: Captured) -> dict[str, bytes]:
    syns = list(cap.packets.values())
    text = b"GET / HTTP/1.1\r\nHost: example.i2p\r\n\r\n" * 20
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bomb.compress(bytes(4 << 20)) + bomb.flush()
    bomb_blob = (
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x06"
        + zeros
        + (zlib.crc32(bytes(4 << 20))).to_bytes(4, "little")
        + (4 << 20).to_bytes(4, "little")
    )
    seeds = {
        f"stored-{name}": wrap(raw, protocol=PROTO_STREAMING, src_port=s, dst_port=d)
        for name, (raw, s, d) in zip(cap.packets, syns, strict=True)
    }
    seeds["stored-empty"] = wrap(b"", protocol=18, src_port=1, dst_port=2)
    seeds["deflate-text"] = wrap(text, protocol=18, src_port=80, dst_port=8080, compress=True)
    seeds["deflate-syn"] = wrap(syns[-1][0], protocol=PROTO_STREAMING, compress=True)
    seeds["bomb-4mib-zeros"] = bomb_blob
    return seeds


def _dests(cap: Captured) -> dict[str, bytes]:
    out = dict(cap.destinations)
    for st in (ED, SigType.DSA_SHA1, SigType.ECDSA_SHA512_P521):
        out[f"own-{st.name}"] = keys_for(st).destination.to_bytes()
    rsa_pub = b"\xc1" * 256
    out["rsa2048"] = Destination.build(
        bytes(256), rsa_pub, SigType.RSA_SHA256_2048, padding=b""
    ).to_bytes()
    ed_pub = keys_for(ED).destination.signing_public_key
    out["x25519"] = Destination.build(
        bytes(range(32)), ed_pub, ED, EncType.ECIES_X25519, padding=b"\x5a" * 320
    ).to_bytes()
    out["opaque-cert"] = b"\x05" * 384 + bytes.fromhex("010002abcd")
    return out


def data_seeds(cap: Captured) -> dict[str, dict[str, bytes]]:
    ls = _lease_sets()
    key_files = {
        "ed": keys_for(ED),
        "ed-offline": offline_keys_for(),
        "dsa": keys_for(SigType.DSA_SHA1),
        "p256": keys_for(SigType.ECDSA_SHA256_P256),
        "p521": keys_for(SigType.ECDSA_SHA512_P521),
        "p256-offline": offline_keys_for(SigType.ECDSA_SHA256_P256),
    }
    sig_types = list(SigType)
    offline = {
        name: bytes((sig_types.index(k.destination.sig_type),)) + k.offline.to_bytes()
        for name, k in key_files.items()
        if k.offline is not None
    }
    dests = _dests(cap)
    sam = {f"keys-{name}": k.to_base64().encode() for name, k in key_files.items()}
    sam.update({f"dest-{n}": base64_i2p(raw) for n, raw in dests.items() if "own" in n})
    return {
        "destination": dests,
        "certificate": {
            "null": Certificate.null().to_bytes(),
            "key-ed25519-x25519": Certificate.key(ED, EncType.ECIES_X25519).to_bytes(),
            "key-p521": Certificate.key(
                SigType.ECDSA_SHA512_P521, EncType.ELGAMAL, b"\x01" * 4
            ).to_bytes(),
            "opaque": bytes.fromhex("010002abcd"),
        },
        "offline_signature": offline,
        "leaseset2": {name: value.to_bytes() for name, value in ls.items()},
        "lease": {
            "lease1": Lease(b"\x11" * 32, 1, DATE_MS).to_bytes(),
            "lease2": Lease2(b"\x22" * 32, 2, PUBLISHED).to_bytes(),
        },
        "mapping": {
            "empty": encode_mapping({}),
            "small": encode_mapping({"a": "1", "bb": "22", "\u00e9": "\u00fc"}),
            "long": encode_mapping({"k" * 255: "v" * 255}),
            "string": encode_string("hello \u00e9"),
            "date": encode_date(DATE_MS),
        },
        "private_keys": {name: k.to_bytes() for name, k in key_files.items()},
        "sam_private_keys": sam,
    }


def base64_i2p(raw: bytes) -> bytes:
    """I2P Base64 as ASCII bytes (the sam_private_keys target reads bytes as Latin-1 text)."""
    return Destination(raw).to_base64().encode()


def datagram_seeds() -> dict[str, bytes]:
    """One datagram of each kind (selector byte first), signed for DATAGRAM_TARGET."""
    to = DATAGRAM_TARGET.destination.hash
    ed, dsa = keys_for(ED), keys_for(SigType.DSA_SHA1)
    seeds = {
        "repliable-ed": (17, encode_repliable(ed, b"hello")),
        "repliable-dsa": (17, encode_repliable(dsa, b"dsa signs the sha256")),
        "raw": (18, b"raw payload"),
        "datagram2-ed": (19, encode_datagram2(ed, b"two", to)),
        "datagram2-options": (19, encode_datagram2(ed, b"", to, {"a": "1", "bb": "22"})),
        "datagram2-offline": (19, encode_datagram2(offline_keys_for(), b"offline", to)),
        "datagram2-sender-prelude": (19, encode_datagram2(ed, b"as i2pd", ed.destination.hash)),
        "datagram3": (20, encode_datagram3(ed.destination.hash, b"three")),
        "datagram3-options": (20, encode_datagram3(ed.destination.hash, b"", {"k": "v"})),
    }
    return {name: bytes((protocol - 17,)) + wire for name, (protocol, wire) in seeds.items()}


def build_seeds(vectors: Path) -> dict[str, dict[str, bytes]]:
    """Every target's seeds, by target and file name."""
    cap = Captured(vectors)
    if not cap.packets:
        raise SystemExit(f"no captured vectors (*.json) in {vectors}")
    packets = packet_seeds(cap)
    signed = {n: raw for n, raw in packets.items() if Packet.decode(raw).signature is not None}
    verify = {}
    for name, raw in signed.items():
        # FROM-less packets verify with stored key 0 (the seeds' key); others against FROM,
        # with `expected` and a clock.
        sel = 0x80 if Packet.decode(raw).from_destination is None else 0x60
        verify[name] = bytes((sel,)) + raw
    seeds = {
        "packet": packets,
        "packet_verify": verify,
        "i2cp_message": i2cp_seeds(cap),
        "frame_reader": frame_reader_seeds(cap),
        "payload": payload_seeds(cap),
        "datagram": datagram_seeds(),
        **data_seeds(cap),
    }
    assert set(seeds) == set(TARGETS), set(seeds) ^ set(TARGETS)
    assert TRANSIENT_EXPIRES > PUBLISHED
    return seeds


def write(seeds: dict[str, dict[str, bytes]], root: Path = SEEDS_DIR) -> Iterable[str]:
    """Replace each target's seed folder; yield one summary line per target."""
    for target, files in sorted(seeds.items()):
        folder = root / target
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        for name, data in sorted(files.items()):
            (folder / name).write_bytes(data[: TARGETS[target].max_len])
        yield f"{target}: {len(files)} seeds, {sum(len(d) for d in files.values())} bytes"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--vectors", type=Path, default=DEFAULT_VECTORS)
    args = parser.parse_args(argv)
    for line in write(build_seeds(args.vectors)):
        print(line)


if __name__ == "__main__":
    main()

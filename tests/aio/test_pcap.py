"""pcap=FILE: every streaming packet of a session in a pcap that tcpdump reads, checked against
what was really sent (both ends capture; the embedded router loses nothing)."""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
from pathlib import Path

import pytest

from i2p_streaming.aio import create_session
from i2p_streaming.aio.pcap import PcapWriter, pcap_address, split_pcap_options
from i2p_streaming.data import PrivateKeys
from tests.aio.conftest import address
from tests.support.embedded import RouterTarget
from tests.support.pcapread import Frame, read_pcap

UP = bytes(range(256)) * 300  # 76 800 bytes, client to server
DOWN = b"pcap-down-" * 3000  # 30 000 bytes, server to client
PORT = 80


def _data(frames: list[Frame], src: bytes) -> bytes:
    """The payload bytes from ``src``, in sequence order, each sequence number once."""
    by_seq: dict[int, bytes] = {}
    for f in frames:
        if f.src == src and f.payload:
            assert by_seq.setdefault(f.seq, f.payload) == f.payload  # a resend is the same
    seqs = sorted(by_seq)
    assert seqs == list(range(1, len(seqs) + 1))  # data numbered 1..N, no gap
    return b"".join(by_seq[s] for s in seqs)


async def _transfer(router: RouterTarget, tmp_path: Path) -> tuple[Path, Path, bytes, bytes, int]:
    pa, pb = tmp_path / "client.pcap", tmp_path / "server.pcap"
    done: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got = await reader.read()
        writer.write(DOWN)
        writer.write_eof()
        await writer.drain()
        done.set_result(got)

    async with (
        create_session(address(router), options={"pcap": str(pa)}) as a,
        create_session(address(router), options={"pcap": str(pb)}) as b,
    ):
        await b.start_server(serve, PORT)
        reader, writer = await a.open_connection(b.b32, PORT, timeout=20)
        sid = writer.get_extra_info("stream_id")
        writer.write(UP)
        writer.write_eof()
        down = await asyncio.wait_for(reader.read(), 20)
        assert await asyncio.wait_for(done, 20) == UP
        assert down == DOWN
        writer.close()
        await writer.wait_closed()
        await asyncio.sleep(0)
        ha, hb = pcap_address(a.destination.hash), pcap_address(b.destination.hash)
        assert a.pcap is not None and a.pcap.dropped == 0
    return pa, pb, ha, hb, sid


async def test_pcap_of_a_transfer_matches_what_was_sent(
    router: RouterTarget, tmp_path: Path
) -> None:
    pa, pb, ha, hb, sid = await _transfer(router, tmp_path)
    link, fa = read_pcap(pa)
    _, fb = read_pcap(pb)
    assert link == 101
    assert all(f.checksum_ok for f in fa + fb)
    for frames in (fa, fb):
        assert {(f.src, f.dst) for f in frames} == {(ha, hb), (hb, ha)}
        # the opener's port is its stream id, the acceptor's its I2P port, as in TCP
        assert {(f.sport, f.dport) for f in frames if f.src == ha} == {(sid & 0xFFFF, PORT)}
        assert {(f.sport, f.dport) for f in frames if f.src == hb} == {(PORT, sid & 0xFFFF)}
        assert _data(frames, ha) == UP
        assert _data(frames, hb) == DOWN
        syn = [f for f in frames if f.flags & 0x02]
        assert [(f.src, f.seq, f.flags & 0x10) for f in syn] == [(ha, 0, 0), (hb, 0, 0x10)]
        assert {f.src for f in frames if f.flags & 0x01} == {ha, hb}  # a FIN (CLOSE) each way
        top_up = max(f.seq for f in frames if f.src == ha)
        assert max(f.ack for f in frames if f.src == hb) == top_up + 1

    # what one end sent with data, the other received, identical
    def key(f: Frame) -> tuple[bytes, int, int, int, int, bytes]:
        return f.src, f.sport, f.dport, f.seq, f.flags, f.payload

    for src in (ha, hb):
        sent = sorted(key(f) for f in (fa if src == ha else fb) if f.src == src and f.payload)
        got = sorted(key(f) for f in (fb if src == ha else fa) if f.src == src and f.payload)
        assert sent == got
    if shutil.which("tcpdump"):
        out = subprocess.run(
            ["tcpdump", "-nn", "-r", str(pa)], capture_output=True, text=True, timeout=20
        )
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert len(lines) == len(fa)
        assert "Flags [S]" in lines[0] and f".{sid & 0xFFFF} > " in lines[0]
        assert f".{PORT}: " in lines[0]
        assert f"length {len(UP)}" not in out.stdout  # one packet per MTU, not one blob
        assert sum(int(line.rsplit("length ", 1)[1].split(":")[0]) for line in lines) == sum(
            len(f.payload) for f in fa
        )


def test_the_file_stays_under_its_bound_and_valid(tmp_path: Path) -> None:
    keys = PrivateKeys.generate()
    path = tmp_path / "small.pcap"
    writer = PcapWriter.open(str(path), keys.destination.hash, max_size=1000)
    from i2p_streaming.streaming.packet import Packet

    packet = Packet(1234, 5678, 3, 2, payload=b"x" * 300).encode()
    for _ in range(10):
        writer.received(packet, 0, 80, 1_700_000_000.25)
    writer.received(b"not a packet", 0, 80, 1_700_000_000.5)  # counted, never raises
    writer.close()
    assert path.stat().st_size <= 1000
    _, frames = read_pcap(path)
    assert len(frames) == writer.written == 2
    assert writer.dropped == 9
    assert frames[0].time == pytest.approx(1_700_000_000.25)
    assert (frames[0].seq, frames[0].ack, frames[0].payload) == (3, 3, b"x" * 300)
    assert frames[0].src == b"\xfd\xff" + bytes(14)  # a stray packet: peer unknown
    assert (frames[0].sport, frames[0].dport) == (5678, 80)


def test_pcap_options_are_split_off_before_the_router_sees_them() -> None:
    assert split_pcap_options({"inbound.length": "0"}) == ({"inbound.length": "0"}, None)
    rest, capture = split_pcap_options({"pcap": "x.pcap", "pcap.maxSize": "1MB", "a": "b"})
    assert rest == {"a": "b"} and capture == ("x.pcap", 1_000_000)
    with pytest.raises(ValueError, match="needs pcap=FILE"):
        split_pcap_options({"pcap.maxSize": "1MB"})
    with pytest.raises(ValueError, match="invalid size"):
        split_pcap_options({"pcap": "x", "pcap.maxSize": "lots"})
    writer = PcapWriter(io.BytesIO(), bytes(32))
    assert writer.size == 24

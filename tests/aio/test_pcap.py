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
from i2p_streaming.aio.pcap import PcapWriter, SeqSpace, pcap_address, split_pcap_options
from i2p_streaming.data import PrivateKeys
from i2p_streaming.router import Impairments
from i2p_streaming.streaming.packet import CLOSE, SYNCHRONIZE, Packet
from tests.aio.conftest import address
from tests.support.embedded import RouterTarget, embedded_router
from tests.support.pcapread import Frame, read_pcap

UP = bytes(range(256)) * 300  # 76 800 bytes, client to server
DOWN = b"pcap-down-" * 3000  # 30 000 bytes, server to client
PORT = 80


def _data(frames: list[Frame], src: bytes) -> bytes:
    """The payload bytes from ``src`` by TCP sequence number: each offset once (a resend is
    the same bytes at the same offset), contiguous from 1 (the SYN takes 0)."""
    at: dict[int, bytes] = {}
    for f in frames:
        if f.src == src and f.payload:
            assert at.setdefault(f.seq, f.payload) == f.payload
    data, offset = bytearray(), 1
    for seq in sorted(at):
        assert seq == offset, (seq, offset)
        data += at[seq]
        offset += len(at[seq])
    return bytes(data)


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


async def test_pcap_under_loss_and_reordering_keeps_byte_offsets(tmp_path: Path) -> None:
    lossy = Impairments(loss=0.05, reorder=0.1, delay=0.005)
    async with embedded_router(seed=11, impairments=lossy) as router:
        pa, pb, ha, hb, _ = await _transfer(router, tmp_path)
    _, fa = read_pcap(pa)
    _, fb = read_pcap(pb)
    resent = 0
    for frames in (fa, fb):
        # every copy of a packet at the offset of its first copy, received or sent
        assert _data(frames, ha) == UP
        assert _data(frames, hb) == DOWN
        resent += len([f for f in frames if f.payload]) - len({f.seq for f in frames if f.payload})
    assert resent > 0  # the loss did cost resends, and they landed where they belong


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
        # the last ACKs cover every byte, and the SYN and the FIN: the TCP way
        assert max(f.ack for f in frames if f.src == hb) == len(UP) + 2
        assert max(f.ack for f in frames if f.src == ha) == len(DOWN) + 2
        fin = [f for f in frames if f.src == ha and f.flags & 0x01]
        assert {f.seq + len(f.payload) for f in fin} == {len(UP) + 1}

    # what one end sent with data, the other received, identical
    def key(f: Frame) -> tuple[bytes, int, int, int, int, bytes]:
        return f.src, f.sport, f.dport, f.seq, f.flags, f.payload

    for src in (ha, hb):
        sent = sorted(key(f) for f in (fa if src == ha else fb) if f.src == src and f.payload)
        got = sorted(key(f) for f in (fb if src == ha else fa) if f.src == src and f.payload)
        assert sent == got
    if shutil.which("tcpdump"):
        out = subprocess.run(
            ["tcpdump", "-vv", "-nn", "-r", str(pa)], capture_output=True, text=True, timeout=20
        )
        assert out.returncode == 0, out.stderr
        lines = [line for line in out.stdout.splitlines() if " IP6 " in line]
        assert len(lines) == len(fa)
        assert all("(correct)" in line for line in lines)  # tcpdump checks the TCP checksum
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
    # packet 3 of a stream never seen: placed after packets 0-2 taken as long as it is
    assert (frames[0].seq, frames[0].ack, frames[0].payload) == (900, 0, b"x" * 300)
    assert frames[0].src == b"\xfd\xff" + bytes(14)  # a stray packet: peer unknown
    assert (frames[0].sport, frames[0].dport) == (5678, 80)


def test_sequence_numbers_become_byte_offsets_across_loss_and_resends() -> None:
    space = SeqSpace()

    def packet(seq: int, size: int, flags: int = 0) -> Packet:
        return Packet(1, 2, seq, 0, flags=flags, payload=b"d" * size)

    assert space.place(packet(0, 0, SYNCHRONIZE)) == 0  # the SYN takes one number
    assert space.place(packet(1, 100)) == 1
    # after a gap: the missing packet is taken to be as long as the longest seen
    assert space.place(packet(3, 50, CLOSE)) == 201
    assert space.ack(1) == 101
    assert space.place(packet(2, 100)) == 101  # the gap fills
    assert space.place(packet(2, 100)) == 101  # a resend: the offset of the first copy
    assert space.place(packet(3, 50, CLOSE)) == 201  # now exact
    assert space.place(packet(0, 0)) == 252  # a bare ACK: the next offset (FIN took one)
    assert (space.ack(3), space.ack(2), space.ack(0)) == (252, 201, 1)


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

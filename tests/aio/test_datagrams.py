"""Datagrams on the asyncio session over the embedded router: the four kinds both ways with
the sender checked, port demux beside streams, the asyncio protocol form, size limits,
hostile input from a raw I2CP client, and the router's impairments applied to datagrams."""

from __future__ import annotations

import asyncio

import pytest

from i2p_streaming.aio import DatagramTransport, I2CPClient, Session, create_session
from i2p_streaming.data import PrivateKeys
from i2p_streaming.datagrams import (
    DatagramKind,
    DatagramTooLarge,
    encode_datagram2,
    encode_repliable,
    max_payload,
)
from i2p_streaming.router import Impairments
from tests.aio.conftest import address
from tests.support.embedded import RouterTarget, embedded_router

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize("kind", [k.value for k in DatagramKind])
async def test_round_trip_with_a_reply(pair: tuple[Session, Session], kind: str) -> None:
    a, b = pair
    server = await b.open_datagram_endpoint(port=5000, kind=kind)
    client = await a.open_datagram_endpoint(port=6000, kind=kind)
    await client.send(b"question", b.destination, 5000)
    got = await server.recv(timeout=10)
    assert (got.data, got.src_port, got.dst_port) == (b"question", 6000, 5000)
    if kind == "raw":
        assert got.sender is None
        await server.send(b"answer", a.b32, 6000)  # raw: the application knows the peer
    else:
        assert got.sender == a.b32
        await server.send(b"answer", got.sender, got.src_port)
    if kind in ("repliable", "datagram2"):
        assert got.destination == a.destination
    reply = await client.recv(timeout=10)
    assert reply.data == b"answer" and reply.src_port == 5000
    assert reply.sender == (None if kind == "raw" else b.b32)
    counters = b.datagrams.core.counters
    assert counters["received"] == 1 and counters["bad_signature"] == counters["malformed"] == 0


class Recorder(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.transport: asyncio.BaseTransport | None = None
        self.got: asyncio.Queue[tuple[bytes, tuple[str | None, int]]] = asyncio.Queue()
        self.errors: asyncio.Queue[Exception] = asyncio.Queue()
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str | None, int]) -> None:
        self.got.put_nowait((data, addr))

    def error_received(self, exc: Exception) -> None:
        self.errors.put_nowait(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set_result(exc)


async def test_protocol_form_echo_and_port_demux_beside_a_stream(
    pair: tuple[Session, Session],
) -> None:
    a, b = pair
    echo_transport: list[DatagramTransport] = []

    class Echo(asyncio.DatagramProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            assert isinstance(transport, DatagramTransport)
            echo_transport.append(transport)

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            echo_transport[0].sendto(data.upper(), addr)

    transport, _ = await b.create_datagram_endpoint(Echo, port=7, kind="repliable")
    assert transport.get_extra_info("sockname") == (b.b32, 7)
    _, raw_proto = await b.create_datagram_endpoint(Recorder, port=0, kind="raw")
    assert isinstance(raw_proto, Recorder)

    async def stream_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.read())
        writer.close()

    await b.start_server(stream_echo, 7)  # the same port number, another protocol
    mine, proto = await a.create_datagram_endpoint(Recorder, port=9, kind="repliable")
    assert isinstance(proto, Recorder) and isinstance(mine, DatagramTransport)
    mine.sendto(b"hello", (b.destination, 7))
    mine.sendto(b"by name", (b.b32, 7))  # b32: looked up first
    seen = {await asyncio.wait_for(proto.got.get(), 10) for _ in range(2)}
    assert seen == {(b"HELLO", (b.b32, 7)), (b"BY NAME", (b.b32, 7))}
    reader, writer = await a.open_connection(b.destination, 7, timeout=10)
    writer.write(b"stream")
    writer.write_eof()
    assert await asyncio.wait_for(reader.read(), 10) == b"stream"
    raw = await a.open_datagram_endpoint(kind="raw")
    await raw.send(b"to any port", b.destination, 4242)
    assert await asyncio.wait_for(raw_proto.got.get(), 10) == (b"to any port", (None, 0))
    with pytest.raises(OSError, match="already bound"):
        await b.create_datagram_endpoint(Recorder, port=7, kind="repliable")
    with pytest.raises(ValueError, match="unknown datagram kind"):
        await b.create_datagram_endpoint(Recorder, port=8, kind="udp")
    mine.close()
    assert await asyncio.wait_for(proto.lost, 5) is None
    with pytest.raises(ConnectionError, match="closed"):
        mine.sendto(b"late", (b.destination, 7))


async def test_size_limits(pair: tuple[Session, Session]) -> None:
    a, b = pair
    server = await b.open_datagram_endpoint(port=1, kind="datagram2")
    client = await a.open_datagram_endpoint(port=1, kind="datagram2")
    limit = max_payload(DatagramKind.DATAGRAM2, a.keys)
    with pytest.raises(DatagramTooLarge, match=f"{limit}-byte limit"):
        await client.send(bytes(limit + 1), b.destination, 1)
    await client.send(bytes(limit), b.destination, 1)
    got = await server.recv(timeout=10)
    assert len(got.data) == limit


async def test_hostile_datagrams_are_dropped_and_counted(
    router: RouterTarget, pair: tuple[Session, Session]
) -> None:
    """Forged signatures, truncated headers and a replayed Datagram2 from a raw I2CP client;
    a good datagram after them still arrives."""
    _, b = pair
    rep = await b.open_datagram_endpoint(port=1, kind="repliable")
    d2 = await b.open_datagram_endpoint(port=1, kind="datagram2")
    await b.open_datagram_endpoint(port=1, kind="datagram3")
    attacker = await I2CPClient.connect(*router.i2cp_address, timeout=5)
    victim = PrivateKeys.generate()  # the destination the attacker pretends to be
    async with attacker:
        mine = attacker.destination
        good = encode_repliable(victim, b"real")
        forged = victim.destination.to_bytes() + bytes(64) + b"fake"
        d2_good = encode_datagram2(victim, b"once", b.destination.hash)
        for protocol, data in [
            (17, forged),
            (17, good[:400]),  # truncated signature
            (19, d2_good[:395]),  # truncated flags
            (19, encode_datagram2(victim, b"for someone else", mine.hash)),
            (19, d2_good),
            (19, d2_good),  # replayed
            (20, b"\x00" * 20),  # truncated hash
            (17, good),
        ]:
            status = await attacker.send(b.destination, data, protocol=protocol, dst_port=1)
            assert status.delivered
    assert (await d2.recv(timeout=10)).data == b"once"
    got = await rep.recv(timeout=10)
    assert (got.data, got.sender) == (b"real", victim.destination.b32)
    counters = b.datagrams.core.counters
    assert counters["bad_signature"] == 2 and counters["malformed"] == 3
    assert counters["replayed"] == 1 and counters["received"] == 2


async def test_endpoints_end_with_the_session(router: RouterTarget) -> None:
    async with create_session(address(router)) as s:
        _, proto = await s.create_datagram_endpoint(Recorder, port=3, kind="raw")
        queue = await s.open_datagram_endpoint(port=4, kind="raw")
    assert isinstance(proto, Recorder)
    assert await asyncio.wait_for(proto.lost, 5) is None
    with pytest.raises(ConnectionError):
        await queue.recv(timeout=5)


async def test_the_embedded_router_impairs_datagrams_too() -> None:
    """Loss applies to datagrams as to streaming payloads: with 50 % loss some of 200 raw
    datagrams arrive and some do not (seeded)."""
    async with (
        embedded_router(seed=3, impairments=Impairments(loss=0.5)) as target,
        create_session(address(target)) as a,
        create_session(address(target)) as b,
    ):
        server = await b.open_datagram_endpoint(port=1, kind="raw")
        client = await a.open_datagram_endpoint(port=1, kind="raw")
        for i in range(200):
            await client.send(i.to_bytes(2, "big"), b.destination, 1)
        got: set[bytes] = set()
        try:
            while True:
                got.add((await server.recv(timeout=1)).data)
        except TimeoutError:
            pass
        assert 40 < len(got) < 160


async def test_datagram2_and_3_options(pair: tuple[Session, Session]) -> None:
    a, b = pair
    for kind in ("datagram2", "datagram3"):
        server = await b.open_datagram_endpoint(port=2, kind=kind)
        client = await a.open_datagram_endpoint(port=2, kind=kind)
        await client.send(b"opt", b.destination, 2, options={"token": "abc", "v": "1"})
        got = await server.recv(timeout=10)
        assert (got.data, dict(got.options)) == (b"opt", {"token": "abc", "v": "1"})
        server.close()
        client.close()
    raw = await a.open_datagram_endpoint(port=2, kind="raw")
    with pytest.raises(ValueError, match="no options"):
        await raw.send(b"x", b.destination, 2, options={"a": "b"})


async def test_a_failing_protocol_does_not_stop_delivery(pair: tuple[Session, Session]) -> None:
    a, b = pair
    got: list[bytes] = []

    class Fussy(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            if data == b"bad":
                raise RuntimeError("the application's bug")
            got.append(data)

    await b.create_datagram_endpoint(Fussy, port=3, kind="raw")
    client = await a.open_datagram_endpoint(port=3, kind="raw")
    _, probe = await b.create_datagram_endpoint(Recorder, port=4, kind="raw")
    assert isinstance(probe, Recorder)
    for data in (b"bad", b"good"):
        await client.send(data, b.destination, 3)
    await client.send(b"last", b.destination, 4)  # same path, sent after: arrives after
    assert await asyncio.wait_for(probe.got.get(), 10) == (b"last", (None, 3))
    assert got == [b"good"] and b.datagrams.protocol_errors == 1


async def test_transport_details_and_a_failed_lookup(pair: tuple[Session, Session]) -> None:
    a, b = pair
    transport, proto = await a.create_datagram_endpoint(Recorder, port=11, kind="raw")
    assert isinstance(proto, Recorder) and isinstance(transport, DatagramTransport)
    assert transport.get_protocol() is proto and transport.get_write_buffer_size() == 0
    assert transport.get_extra_info("kind") is DatagramKind.RAW and "open" in repr(transport)
    for bad in (None, ("x",), (b.destination, "7"), (42, 7)):
        with pytest.raises(ValueError, match="sendto needs"):
            transport.sendto(b"x", bad)
    transport.sendto(b"x", ("nobody.i2p", 7))  # looked up later: the failure is reported
    error = await asyncio.wait_for(proto.errors.get(), 10)
    assert "nobody.i2p" in str(error) and proto.errors.empty()
    transport.abort()
    assert await asyncio.wait_for(proto.lost, 5) is None and transport.is_closing()
    transport.close()  # idempotent
    with pytest.raises(ConnectionError, match="closed"):
        transport.send_options(b"x", (b.destination, 7), {"a": "b"})


async def test_a_full_recv_queue_drops_and_counts(pair: tuple[Session, Session]) -> None:
    """1030 datagrams nobody reads: 1024 are kept, 6 dropped and counted."""
    a, b = pair
    async with await b.open_datagram_endpoint(port=12, kind="raw") as server:
        _, probe = await b.create_datagram_endpoint(Recorder, port=13, kind="raw")
        assert isinstance(probe, Recorder)
        client = await a.open_datagram_endpoint(port=12, kind="raw")
        for i in range(1030):
            await client.send(i.to_bytes(2, "big"), b.destination, 12)
        await client.send(b"end", b.destination, 13)  # the same path, after the others
        assert (await asyncio.wait_for(probe.got.get(), 10))[0] == b"end"
        assert server.dropped == 6 and (server.port, server.kind) == (12, "raw")
        assert (await server.recv(timeout=1)).data == b"\x00\x00"


async def test_duplicated_datagram2_is_dropped_as_a_replay_raw_is_not() -> None:
    """The router's duplication applies to datagrams: every payload arrives twice; the
    Datagram2 replay cache drops the copies, raw datagrams are delivered twice."""
    async with (
        embedded_router(seed=4, impairments=Impairments(duplicate=1.0)) as target,
        create_session(address(target)) as a,
        create_session(address(target)) as b,
    ):
        d2_in = await b.open_datagram_endpoint(port=1, kind="datagram2")
        raw_in = await b.open_datagram_endpoint(port=1, kind="raw")
        d2_out = await a.open_datagram_endpoint(port=1, kind="datagram2")
        raw_out = await a.open_datagram_endpoint(port=1, kind="raw")
        for i in range(5):
            await d2_out.send(b"d2 %d" % i, b.destination, 1)
        for i in range(5):
            await raw_out.send(b"raw %d" % i, b.destination, 1)
        raws = [(await raw_in.recv(timeout=10)).data for _ in range(10)]
        assert sorted(raws) == sorted([b"raw %d" % i for i in range(5)] * 2)
        d2s = [(await d2_in.recv(timeout=1)).data for _ in range(5)]
        assert sorted(d2s) == [b"d2 %d" % i for i in range(5)]
        assert b.datagrams.core.counters["replayed"] == 5


async def test_concurrent_receivers_each_get_a_datagram(pair: tuple[Session, Session]) -> None:
    a, b = pair
    server = await b.open_datagram_endpoint(port=21, kind="repliable")
    readers = [asyncio.create_task(server.recv(timeout=10)) for _ in range(3)]
    client = await a.open_datagram_endpoint(port=22, kind="repliable")
    for i in range(3):
        await client.send(bytes([i]), b.destination, 21)
    got = sorted([(await r).data for r in readers])
    assert got == [b"\x00", b"\x01", b"\x02"]

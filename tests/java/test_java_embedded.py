"""Java I2P's streaming library (default options) as a client of the embedded router.

Cells: Java<->Java, Java client -> Python server, Python client -> Java server, each on a clean
and an impaired path (the embedded router's impairments); plus Java's other lease set and
receive modes (fastReceive=false, LS2 with X25519, an encrypted LeaseSet reached by its b33
name), lookups by b32 name and ping both ways. Every transfer is checked byte for byte (a
pattern both sides compute) and every Java process must exit 0.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from i2p_streaming.aio import Session, create_session
from i2p_streaming.data import Destination, LeaseSet2
from i2p_streaming.i2cp import messages as m
from i2p_streaming.router import Impairments
from tests.support.embedded import RouterTarget, embedded_router
from tests.support.java import JavaPeer, JavaProcess

pytestmark = [pytest.mark.java, pytest.mark.timeout(180)]

#: the impaired path: 40 ms +- 10 ms each way, 1 % loss, 0.5 % reordering.
IMPAIRED = Impairments(delay=0.04, jitter=0.01, loss=0.01, reorder=0.005)
PATHS = {"clean": (Impairments(), 1_000_000), "impaired": (IMPAIRED, 300_000)}


def pattern(size: int) -> bytes:
    """The bytes JavaPeer sends and expects: byte i is i % 251."""
    block = bytes(range(251))
    return (block * (size // 251 + 1))[:size]


def address(target: RouterTarget) -> str:
    host, port = target.i2cp_address
    return f"{host}:{port}"


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.write_eof()
    await writer.drain()
    writer.close()


async def python_client(session: Session, dest: Destination | str, size: int) -> float:
    """Send ``size`` pattern bytes, half-close, read the echo to EOF; return seconds."""
    start = time.monotonic()
    reader, writer = await session.open_connection(dest, 0, timeout=30)
    data = pattern(size)

    async def send() -> None:
        writer.write(data)
        await writer.drain()
        writer.write_eof()

    sender = asyncio.create_task(send())
    got = await asyncio.wait_for(reader.read(), 120)
    await sender
    assert len(got) == size and got == data
    writer.close()
    await writer.wait_closed()
    return time.monotonic() - start


async def java_server(
    java: JavaPeer, target: RouterTarget, count: int = 1, **opts: str
) -> tuple[JavaProcess, Destination, str]:
    """A Java echo server for ``count`` streams: (process, its Destination, its b32/b33)."""
    proc = await java.start("server", target.i2cp_address, str(count), options=opts or None)
    dest = Destination.from_base64(await proc.line("DEST"))
    name = await proc.line("NAME")
    return proc, dest, name


async def server_done(server: JavaProcess, streams: int) -> None:
    """The Java server echoed ``streams`` streams and exited 0 (its close() errors printed)."""
    assert (await server.result(60))[0] == streams
    if server.close_errors:
        print(f"\nFIGURE Java close() threw 'disconnected' {server.close_errors} times")


@pytest.mark.parametrize("path", list(PATHS))
async def test_java_to_java(java: JavaPeer, path: str) -> None:
    impairments, size = PATHS[path]
    async with embedded_router(seed=11, impairments=impairments) as target:
        server, dest, _ = await java_server(java, target)
        session = target.embedded.find_session(dest.hash)
        assert session is not None
        # Java's defaults: an ElGamal-only LeaseSet v1 through the legacy CreateLeaseSet
        assert isinstance(session.lease_set, m.LeaseSet1)
        client = await java.start("client", target.i2cp_address, dest.to_base64(), str(size))
        assert (await client.result(120))[0] == size
        await server_done(server, 1)
        assert target.embedded.stats().protocol_errors == 0


@pytest.mark.parametrize("path", list(PATHS))
async def test_java_client_python_server(java: JavaPeer, path: str) -> None:
    impairments, size = PATHS[path]
    async with (
        embedded_router(seed=12, impairments=impairments) as target,
        create_session(address(target)) as ours,
    ):
        server = await ours.start_server(echo, 0)
        client = await java.start("client", target.i2cp_address, ours.b32, str(size))
        assert (await client.result(120))[0] == size
        server.close()
        assert target.embedded.stats().protocol_errors == 0


@pytest.mark.parametrize("path", list(PATHS))
async def test_python_client_java_server(java: JavaPeer, path: str) -> None:
    impairments, size = PATHS[path]
    async with embedded_router(seed=13, impairments=impairments) as target:
        server, dest, _ = await java_server(java, target)
        async with create_session(address(target)) as ours:
            await python_client(ours, dest, size)
        await server_done(server, 1)
        assert target.embedded.stats().protocol_errors == 0


@pytest.mark.parametrize(
    "options",
    [
        {"i2cp.fastReceive": "false"},
        {"i2cp.leaseSetEncType": "4,0"},
        {"i2cp.leaseSetEncType": "4", "i2cp.messageReliability": "BestEffort"},
    ],
    ids=["no-fast-receive", "ls2-x25519-elgamal", "ls2-best-effort"],
)
async def test_java_option_variants(java: JavaPeer, options: dict[str, str]) -> None:
    async with (
        embedded_router(seed=14) as target,
        create_session(address(target)) as ours,
    ):
        server, dest, name = await java_server(java, target, 2, **options)
        session = target.embedded.find_session(dest.hash)
        assert session is not None
        if "i2cp.leaseSetEncType" in options:
            assert isinstance(session.lease_set, LeaseSet2)
        await python_client(ours, name, 200_000)
        client = await java.start(
            "client", target.i2cp_address, dest.to_base64(), "200000", options=options
        )
        assert (await client.result(60))[0] == 200_000
        await server_done(server, 2)
        assert target.embedded.stats().protocol_errors == 0


async def test_encrypted_lease_set_by_b33_name(java: JavaPeer) -> None:
    async with (
        embedded_router(seed=15) as target,
        create_session(address(target)) as ours,
    ):
        opts = {"i2cp.leaseSetType": "5", "i2cp.leaseSetEncType": "4"}
        server, dest, name = await java_server(java, target, 2, **opts)
        assert len(name) > 60  # a b33 name, not a 52-character b32
        session = target.embedded.find_session(dest.hash)
        assert session is not None and isinstance(session.lease_set, m.EncryptedLeaseSet)
        client = await java.start("client", target.i2cp_address, name, "100000")
        assert (await client.result(60))[0] == 100_000
        await python_client(ours, name, 100_000)
        await server_done(server, 2)
        assert target.embedded.stats().protocol_errors == 0


async def test_ping_both_ways(java: JavaPeer) -> None:
    async with (
        embedded_router(seed=16) as target,
        create_session(address(target)) as ours,
    ):
        ping = await java.start("ping", target.i2cp_address, ours.b32)
        assert (await ping.line("PING")).split()[0] == "true"
        assert await ping.wait() == 0
        server, dest, _ = await java_server(java, target)
        rtt = await ours.ping(dest, timeout=20)
        assert 0 < rtt < 5
        await server.stop()

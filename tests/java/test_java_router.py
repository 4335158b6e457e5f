"""Against a real Java I2P 2.7 router (started per module, SAM bridge on): the interop cells
of issue 14. Our client -> Java SAM echo and a Java SAM client -> our server (1 and 10 MB,
both close orders), 100 concurrent streams into Java's streaming, ping both ways, RESET both
ways, and Python <-> Python through Java's I2CP. Timings are printed (run with ``-s``), never
asserted."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from i2p_streaming.aio import ZERO_HOP, Session, create_session
from i2p_streaming.data import Destination
from tests.java.javarouter import JavaRouter, start_java_router
from tests.java.test_java_embedded import echo, pattern
from tests.support.java import JavaInstall, JavaPeer
from tests.support.sam import SAMSession

pytestmark = [pytest.mark.java, pytest.mark.timeout(300)]

SIZES = {"1MB": 1_000_000, "10MB": 10_000_000}
ORDERS = ("we-close-first", "java-closes-first")
JAVA_ZERO_HOP = {"inbound.length": "0", "outbound.length": "0"}


@pytest.fixture(scope="module")
def java_router(
    java_install: JavaInstall, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JavaRouter]:
    router = start_java_router(java_install, tmp_path_factory.mktemp("java-router"))
    try:
        yield router
    finally:
        router.stop()


@pytest.fixture
async def ours(java_router: JavaRouter) -> AsyncIterator[Session]:
    host, port = java_router.i2cp_address
    async with create_session(f"{host}:{port}", options=dict(ZERO_HOP)) as session:
        yield session


def report(cell: str, size: int, seconds: float) -> None:
    rate = size / seconds / 1e6 if seconds > 0 else 0.0
    print(f"\nFIGURE {cell}: {size} bytes in {seconds:.2f} s ({rate:.2f} MB/s)")


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, got = [], 0
    while got < size:
        chunk = sock.recv(min(65536, size - got))
        if not chunk:
            raise EOFError(f"EOF after {got} of {size} bytes")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def sam_echo(sam: SAMSession, size: int, order: str) -> None:
    """Accept one stream; echo ``size`` bytes; then close (Java first) or wait for EOF."""
    sock, _ = sam.accept(timeout=120)
    with sock:
        sock.settimeout(120)
        sock.sendall(recv_exactly(sock, size))
        if order == "we-close-first":
            assert sock.recv(1) == b""  # our CLOSE: SAM closes the socket


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("size", list(SIZES))
async def test_our_client_to_java_sam_echo(
    java_router: JavaRouter, ours: Session, size: str, order: str
) -> None:
    n = SIZES[size]
    sam = await asyncio.to_thread(SAMSession.create, java_router.sam_address)
    try:
        server = asyncio.create_task(asyncio.to_thread(sam_echo, sam, n, order))
        start = time.monotonic()
        reader, writer = await ours.open_connection(Destination.from_base64(sam.destination), 0)
        data = pattern(n)
        writer.write(data)
        got = await asyncio.wait_for(reader.readexactly(n), 240)
        assert got == data
        last_byte = time.monotonic() - start
        if order == "we-close-first":
            writer.write_eof()
        assert await asyncio.wait_for(reader.read(), 60) == b""
        writer.close()
        await writer.wait_closed()
        report(f"ours->java-sam {size} {order}", n, time.monotonic() - start)
        print(f"FIGURE   (last byte echoed after {last_byte:.2f} s)")
        await asyncio.wait_for(server, 60)
    finally:
        await asyncio.to_thread(sam.close)


def sam_client(sam: SAMSession, dest: str, size: int, order: str) -> float:
    start = time.monotonic()
    sock = sam.connect(dest, timeout=120)
    with sock:
        sock.settimeout(240)
        data = pattern(size)
        sock.sendall(data)
        assert recv_exactly(sock, size) == data
        if order == "we-close-first":
            assert sock.recv(1) == b""  # our server closed: EOF
    return time.monotonic() - start


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("size", list(SIZES))
async def test_java_sam_client_to_our_server(
    java_router: JavaRouter, ours: Session, size: str, order: str
) -> None:
    n = SIZES[size]
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.readexactly(n)
        writer.write(data)
        await writer.drain()
        if order == "we-close-first":
            writer.write_eof()
        else:
            assert await reader.read() == b""  # Java's CLOSE first
        writer.close()
        done.set_result(len(data))

    server = await ours.start_server(handler, 0)
    sam = await asyncio.to_thread(SAMSession.create, java_router.sam_address)
    try:
        dest = ours.destination.to_base64()
        seconds = await asyncio.to_thread(sam_client, sam, dest, n, order)
        assert await asyncio.wait_for(done, 60) == n
        report(f"java-sam->ours {size} {order}", n, seconds)
    finally:
        await asyncio.to_thread(sam.close)
        server.close()


async def test_100_concurrent_streams_into_java_streaming(
    java_router: JavaRouter, ours: Session, java: JavaPeer
) -> None:
    proc = await java.start("server", java_router.i2cp_address, "100", options=JAVA_ZERO_HOP)
    dest = Destination.from_base64(await proc.line("DEST", 120))
    data = pattern(20_000)

    async def one() -> None:
        reader, writer = await ours.open_connection(dest, 0, timeout=120)
        writer.write(data)
        writer.write_eof()
        assert await asyncio.wait_for(reader.read(), 200) == data
        writer.close()

    start = time.monotonic()
    await asyncio.gather(*(one() for _ in range(100)))
    assert (await proc.result(120))[0] == 100
    report(
        "100 streams ours->java-streaming (20 KB each)", 100 * len(data), time.monotonic() - start
    )
    print(f"FIGURE 100 streams: Java close() threw 'disconnected' {proc.close_errors} times")


async def test_ping_both_ways_with_java(
    java_router: JavaRouter, ours: Session, java: JavaPeer
) -> None:
    ping = await java.start(
        "ping", java_router.i2cp_address, ours.destination.to_base64(), options=JAVA_ZERO_HOP
    )
    assert (await ping.line("PING", 120)).split()[0] == "true"
    assert await ping.wait() == 0
    server = await java.start("server", java_router.i2cp_address, "1", options=JAVA_ZERO_HOP)
    dest = Destination.from_base64(await server.line("DEST", 120))
    rtt = await ours.ping(dest, timeout=60)
    print(f"\nFIGURE ping ours->java: {rtt * 1000:.1f} ms")
    assert rtt > 0


async def test_reset_both_ways_with_java(
    java_router: JavaRouter, ours: Session, java: JavaPeer
) -> None:
    # Java resets: our reader sees ConnectionResetError
    reset_seen: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(1000)
        writer.write(b"x")
        try:
            while await reader.read(65536):
                pass
            reset_seen.set_result(False)
        except ConnectionResetError:
            reset_seen.set_result(True)

    server = await ours.start_server(handler, 0)
    resetter = await java.start(
        "resetter", java_router.i2cp_address, ours.destination.to_base64(), options=JAVA_ZERO_HOP
    )
    assert (await resetter.result(120))[0] == 1
    assert await asyncio.wait_for(reset_seen, 60) is True
    server.close()
    # we reset: Java's read fails with an IOException
    resetee = await java.start("resetee", java_router.i2cp_address, options=JAVA_ZERO_HOP)
    dest = Destination.from_base64(await resetee.line("DEST", 120))
    reader, writer = await ours.open_connection(dest, 0, timeout=120)
    writer.write(b"hello")
    await writer.drain()
    assert await asyncio.wait_for(reader.readexactly(1), 60) == b"\x01"
    writer.transport.abort()
    assert (await resetee.result(60))[0] == 1


async def test_python_to_python_through_java_i2cp(java_router: JavaRouter, ours: Session) -> None:
    host, port = java_router.i2cp_address
    async with create_session(f"{host}:{port}", options=dict(ZERO_HOP)) as other:
        server = await other.start_server(echo, 0)
        data = pattern(1_000_000)
        start = time.monotonic()
        reader, writer = await ours.open_connection(other.destination, 0, timeout=120)
        writer.write(data)
        writer.write_eof()
        assert await asyncio.wait_for(reader.read(), 240) == data
        writer.close()
        report("python<->python via java i2cp 1MB echo", len(data), time.monotonic() - start)
        server.close()


def test_run_dir_is_outside_the_checkout(java_router: JavaRouter) -> None:
    assert Path(__file__).resolve().parents[2] not in java_router.run_dir.resolve().parents

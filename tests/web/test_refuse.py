"""Non-I2P URLs through the clients: a clear error and no connection at all (a local TCP
listener sees nothing), unless a fallback is given (then the listener does see it)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Iterator

import aiohttp
import httpx
import pytest

from i2p_streaming.aio import Session
from i2p_streaming.sync import SyncSession
from i2p_streaming.web import AsyncI2PTransport, I2PConnector, I2PTransport, NonI2PHostError
from i2p_streaming.web.names import check_i2p_host, is_i2p_host

pytestmark = pytest.mark.timeout(30)


class Listener:
    """A local TCP listener answering every connection with a tiny HTTP response, counting
    the connections it accepted."""

    def __init__(self) -> None:
        self.accepted = 0
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nplain")
        await writer.drain()
        writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/"


@pytest.fixture
async def tcp() -> AsyncIterator[Listener]:
    listener = Listener()
    listener.server = await asyncio.start_server(listener.handle, "127.0.0.1", 0)
    yield listener
    listener.server.close()
    await listener.server.wait_closed()


@pytest.fixture
def sync_tcp() -> Iterator[tuple[str, list[int]]]:
    """A blocking local listener thread: (url, [connections accepted])."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.settimeout(0.2)
    count = [0]
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            count[0] += 1
            conn.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/", count
    stop.set()
    thread.join(5)
    sock.close()


def test_host_checks() -> None:
    assert is_i2p_host("site.i2p") and is_i2p_host("SITE.I2P.") and is_i2p_host("x.b32.i2p")
    assert not is_i2p_host("example.com") and not is_i2p_host("127.0.0.1")
    assert not is_i2p_host(".i2p") and not is_i2p_host("i2p") and not is_i2p_host("")
    assert check_i2p_host("Site.I2P.") == "site.i2p"
    with pytest.raises(NonI2PHostError, match=r"example\.org") as info:
        check_i2p_host("example.org")
    assert info.value.host == "example.org"


async def test_async_clients_refuse_without_connecting(
    pair: tuple[Session, Session], tcp: Listener
) -> None:
    client, _ = pair
    async with httpx.AsyncClient(transport=AsyncI2PTransport(client)) as http:
        with pytest.raises(NonI2PHostError, match=r"127\.0\.0\.1.*not an I2P host"):
            await http.get(tcp.url)
    async with aiohttp.ClientSession(connector=I2PConnector(client)) as session:
        with pytest.raises(NonI2PHostError, match=r"127\.0\.0\.1"):
            await session.get(tcp.url)
    assert tcp.accepted == 0
    # the same URLs with a fallback reach the listener: the check above could fail
    fallback = httpx.AsyncHTTPTransport()
    async with httpx.AsyncClient(transport=AsyncI2PTransport(client, fallback=fallback)) as http:
        assert (await http.get(tcp.url)).text == "plain"
    connector = I2PConnector(client, fallback=aiohttp.TCPConnector())
    async with aiohttp.ClientSession(connector=connector) as session, session.get(tcp.url) as r:
        assert await r.text() == "plain"
    assert tcp.accepted == 2


async def test_https_over_i2p_is_refused_clearly(pair: tuple[Session, Session]) -> None:
    client, server = pair
    await server.create_server(asyncio.Protocol, 443)
    async with httpx.AsyncClient(transport=AsyncI2PTransport(client), timeout=10) as http:
        with pytest.raises(httpx.ConnectError, match="https over I2P is not supported"):
            await http.get(f"https://{server.b32}/")
    async with aiohttp.ClientSession(connector=I2PConnector(client)) as session:
        with pytest.raises(aiohttp.ClientConnectionError, match="https over I2P"):
            await session.get(f"https://{server.b32}/")


def test_sync_transport_refuses_without_connecting(
    sync_pair: tuple[SyncSession, SyncSession], sync_tcp: tuple[str, list[int]]
) -> None:
    client, _ = sync_pair
    url, count = sync_tcp
    with (
        httpx.Client(transport=I2PTransport(client)) as http,
        pytest.raises(NonI2PHostError, match="not an I2P host"),
    ):
        http.get(url)
    with httpx.Client(transport=I2PTransport(client)) as http, pytest.raises(NonI2PHostError):
        http.get("http://example.com/")
    assert count == [0]

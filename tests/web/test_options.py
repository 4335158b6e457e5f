"""web_stream_options: the clients' streams send each write at once; a server on a session
that holds partial packets says so, and still answers."""

from __future__ import annotations

import logging

import httpcore
import httpx
import pytest

from i2p_streaming.aio import Session, create_session
from i2p_streaming.streaming import StreamOptions
from i2p_streaming.web import ASGIServer, AsyncI2PTransport, web_stream_options
from i2p_streaming.web.httpx_transport import AsyncI2PNetworkBackend
from i2p_streaming.web.options import holds_partial_packets
from tests.support.embedded import RouterTarget
from tests.web.apps import starlette_app
from tests.web.conftest import address

pytestmark = pytest.mark.timeout(30)


def test_web_stream_options_keep_the_rest() -> None:
    base = StreamOptions(max_window_size=64)
    opts = web_stream_options(base)
    assert opts.passive_flush_delay == 0.0 and opts.max_window_size == 64
    assert not opts.interactive
    assert holds_partial_packets(base) and not holds_partial_packets(opts)
    assert not holds_partial_packets(StreamOptions(profile=2))


async def test_default_server_session_is_told_and_still_serves(
    router: RouterTarget, pair: tuple[Session, Session], caplog: pytest.LogCaptureFixture
) -> None:
    client, _ = pair
    async with create_session(address(router)) as server:
        site = ASGIServer(starlette_app(), server, 80, log_level="warning")
        with caplog.at_level(logging.INFO, logger="i2p_streaming.web"):
            await site.start()
        assert "web_stream_options" in caplog.text
        try:
            async with httpx.AsyncClient(transport=AsyncI2PTransport(client), timeout=20) as h:
                r = await h.get(f"http://{server.b32}/hello")
                assert r.status_code == 200 and r.json()["hello"] == "i2p"
        finally:
            await site.stop()


class _Recorder:
    """Stands in for a Session: records what a backend asks of create_connection."""

    def __init__(self) -> None:
        self.options = StreamOptions(max_window_size=32)
        self.asked: list[tuple[str, int, object]] = []

    async def create_connection(self, factory: object, dest: str, port: int, **kw: object) -> None:
        self.asked.append((dest, port, kw["options"]))
        raise ConnectionRefusedError("recorded")


async def test_client_streams_use_web_options() -> None:
    fake = _Recorder()
    backend = AsyncI2PNetworkBackend(fake)  # type: ignore[arg-type]
    with pytest.raises(httpcore.ConnectError, match="recorded"):
        await backend.connect_tcp("Site.I2P", 80, timeout=5)
    ((dest, port, opts),) = fake.asked
    assert (dest, port) == ("site.i2p", 80)
    assert isinstance(opts, StreamOptions)
    assert opts.passive_flush_delay == 0.0 and opts.max_window_size == 32
    mine = StreamOptions(profile=2)
    backend = AsyncI2PNetworkBackend(fake, mine)  # type: ignore[arg-type]
    with pytest.raises(httpcore.ConnectError):
        await backend.connect_tcp("site.i2p", 8080)
    assert fake.asked[-1] == ("site.i2p", 8080, mine)

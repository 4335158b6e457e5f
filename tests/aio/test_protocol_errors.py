"""Protocols and factories that raise: the stream is reset or refused, the error is logged."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from i2p_streaming.aio import Session
from tests.support.protocols import Recorder, connected

pytestmark = pytest.mark.timeout(30)


class FailsOnData(Recorder):
    def data_received(self, data: bytes) -> None:
        raise RuntimeError("boom")


class FailsOnMade(Recorder):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        raise RuntimeError("boom")


class FailsOnEof(Recorder):
    def eof_received(self) -> bool:
        raise RuntimeError("boom")


@pytest.mark.parametrize("server_proto", [FailsOnData, FailsOnMade, FailsOnEof])
async def test_failing_server_protocol_resets_the_client(
    pair: tuple[Session, Session], server_proto: type[Recorder], caplog: pytest.LogCaptureFixture
) -> None:
    a, b = pair
    transport, protocol, _ = await connected(a, b, 48, server_proto)
    with contextlib.suppress(ConnectionResetError):  # FailsOnMade may have reset us already
        transport.write(b"data")
    transport.write_eof()
    exc = await asyncio.wait_for(protocol.lost, 10)
    assert isinstance(exc, ConnectionResetError)
    assert "failed" in caplog.text


async def test_failing_protocol_factory_refuses(
    pair: tuple[Session, Session], caplog: pytest.LogCaptureFixture
) -> None:
    a, b = pair

    def factory() -> asyncio.Protocol:
        raise RuntimeError("no protocol today")

    await b.create_server(factory, 49)
    try:
        _, protocol = await a.create_connection(Recorder, b.destination, 49, timeout=10)
    except ConnectionRefusedError:
        pass
    else:  # the SYN was answered before the factory ran: the stream is reset at once
        assert isinstance(protocol, Recorder)
        assert isinstance(await asyncio.wait_for(protocol.lost, 10), ConnectionResetError)
    assert "protocol factory failed" in caplog.text


async def test_callbacks_that_raise_are_logged_not_propagated(
    pair: tuple[Session, Session], caplog: pytest.LogCaptureFixture
) -> None:
    a, b = pair

    class Fragile(Recorder):
        def pause_writing(self) -> None:
            super().pause_writing()
            raise RuntimeError("pause boom")

        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            raise RuntimeError("lost boom")

    await b.create_server(Recorder, 56)
    transport, protocol = await a.create_connection(Fragile, b.destination, 56)
    assert isinstance(protocol, Fragile)
    transport.set_write_buffer_limits(high=10)
    transport.write(b"z" * 1000)  # over the limit: pause_writing raises, write does not
    assert protocol.paused == 1
    transport.abort()
    assert await asyncio.wait_for(protocol.lost, 5) is None
    await asyncio.sleep(0)  # let the loop run the failing callback to its end
    assert "pause_writing failed" in caplog.text and "connection_lost failed" in caplog.text
    transport.set_write_buffer_limits(high=0)  # after the end: no more callbacks
    assert protocol.paused == 1

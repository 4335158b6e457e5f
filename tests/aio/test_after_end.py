"""What a user sees after close, abort or a peer reset: write errors, the last stats snapshot,
data that arrives too late."""

from __future__ import annotations

import asyncio

import pytest

from i2p_streaming.aio import Session
from i2p_streaming.streaming import StreamStats
from tests.support.protocols import Recorder, connected

pytestmark = pytest.mark.timeout(30)


async def test_write_after_close_and_abort_raise_broken_pipe(pair: tuple[Session, Session]) -> None:
    a, b = pair
    transport, protocol, _ = await connected(a, b, 40)
    transport.close()
    assert transport.is_closing()
    with pytest.raises(BrokenPipeError, match="closed"):
        transport.write(b"late")
    with pytest.raises(BrokenPipeError):
        transport.writelines([b"a", b"b"])
    transport.close()  # idempotent
    transport.write_eof()  # no-op after close
    assert await asyncio.wait_for(protocol.lost, 10) is None
    assert not transport.is_reading()
    transport.abort()  # no-op once lost
    with pytest.raises(BrokenPipeError):
        transport.write(b"x")

    t2, p2, _ = await connected(a, b, 41)
    t2.abort()
    with pytest.raises(BrokenPipeError):
        t2.write(b"after abort")
    assert await asyncio.wait_for(p2.lost, 5) is None


async def test_write_after_peer_reset_raises_connection_reset(
    pair: tuple[Session, Session],
) -> None:
    a, b = pair
    transport, protocol, accepted = await connected(a, b, 42)
    transport.write(b"hi")
    server_proto = await asyncio.wait_for(accepted, 10)
    assert isinstance(server_proto, Recorder) and server_proto.transport is not None
    server_proto.transport.abort()
    exc = await asyncio.wait_for(protocol.lost, 10)
    assert isinstance(exc, ConnectionResetError)
    assert transport.is_closing()
    with pytest.raises(ConnectionResetError, match="reset or lost"):
        transport.write(b"x")
    transport.write_eof()  # ignored once the stream is gone
    assert transport.get_write_buffer_size() == 0


async def test_stats_snapshot_survives_a_peer_reset(pair: tuple[Session, Session]) -> None:
    a, b = pair
    transport, protocol, accepted = await connected(a, b, 53)
    transport.write(b"hi")
    server_proto = await asyncio.wait_for(accepted, 10)
    assert isinstance(server_proto, Recorder) and server_proto.transport is not None
    await asyncio.wait_for(server_proto.got_data, 10)
    server_proto.transport.abort()
    assert isinstance(await asyncio.wait_for(protocol.lost, 10), ConnectionResetError)
    stats = transport.get_extra_info("stats")
    assert isinstance(stats, StreamStats) and stats.bytes_sent == 2


async def test_stats_snapshot_survives_a_clean_close(pair: tuple[Session, Session]) -> None:
    a, b = pair
    transport, protocol, accepted = await connected(a, b, 54)
    transport.write(b"abc")
    server_proto = await asyncio.wait_for(accepted, 10)
    assert isinstance(server_proto, Recorder) and server_proto.transport is not None
    await asyncio.wait_for(server_proto.got_data, 10)
    server_proto.transport.close()
    transport.close()
    assert await asyncio.wait_for(protocol.lost, 10) is None
    stats = transport.get_extra_info("stats")
    assert isinstance(stats, StreamStats) and stats.bytes_sent == 3


async def test_data_arriving_after_close_is_not_delivered(pair: tuple[Session, Session]) -> None:
    a, b = pair
    transport, protocol, accepted = await connected(a, b, 55)
    server_proto = await asyncio.wait_for(accepted, 10)
    assert isinstance(server_proto, Recorder) and server_proto.transport is not None
    server_proto.transport.write(b"first")
    await asyncio.wait_for(protocol.got_data, 10)
    transport.close()
    server_proto.transport.write(b"y" * 50_000)  # arrives after our close: dropped
    server_proto.transport.close()
    assert await asyncio.wait_for(protocol.lost, 10) is None
    assert protocol.data == b"first"
    assert await asyncio.wait_for(server_proto.lost, 10) is None

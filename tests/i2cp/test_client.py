"""The asyncio shell against an in-process fake router and hostile routers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from i2p_streaming.aio import I2CPClient, ReconnectPolicy, SessionLost, SessionRestored
from i2p_streaming.data import PrivateKeys
from i2p_streaming.errors import (
    DestinationLookupError,
    I2CPConnectionError,
    I2CPError,
    I2CPProtocolError,
    SessionRefusedError,
)
from i2p_streaming.i2cp import PROTO_RAW, SendOutcome
from i2p_streaming.i2cp import messages as m
from i2p_streaming.i2cp.events import PayloadReceived
from tests.support.fakerouter import ROUTER_TIME_MS, FakeRouter

Addr = tuple[str, int]


@pytest.fixture
async def fake() -> AsyncIterator[FakeRouter]:
    router = FakeRouter()
    await router.start()
    yield router
    await router.stop()


async def _connect(router: FakeRouter, **kwargs: object) -> I2CPClient:
    return await I2CPClient.connect("127.0.0.1", router.port, timeout=5, **kwargs)  # type: ignore[arg-type]


async def test_send_receive_lookup_reconfigure(fake: FakeRouter) -> None:
    seen: list[PayloadReceived] = []
    async with await _connect(fake) as a, await _connect(fake, on_payload=seen.append) as b:
        assert a.is_connected
        assert a.session_id is not None
        assert a.router_version == "0.9.66"
        assert a.router == f"127.0.0.1:{fake.port}"
        assert a.b32.endswith(".b32.i2p")
        result = await a.send(b.destination, b"hi", protocol=PROTO_RAW, src_port=1, dst_port=2)
        assert result.delivered
        assert result.status == 4
        assert result.outcome is SendOutcome.DELIVERED
        assert a.send_nowait(b.destination, b"fast", protocol=6, compress=True)
        result = await b.send(a.destination, b"back", protocol=PROTO_RAW)
        got = await a.receive(timeout=5)
        assert (got.protocol, got.data) == (PROTO_RAW, b"back")
        assert [p.data for p in seen] == [b"hi", b"fast"]
        assert seen[0].src_port == 1
        assert await a.lookup(b.b32) == b.destination
        with pytest.raises(DestinationLookupError, match="not found") as info:
            await a.lookup(PrivateKeys.generate().destination.b32)
        assert a.router in str(info.value)
        assert a.b32 in str(info.value)
        await a.reconfigure({"inbound.quantity": "2"})
        fake.reconfigure_status = 3
        with pytest.raises(SessionRefusedError, match="rejected"):
            await a.reconfigure({"inbound.quantity": "3"})
        missing = PrivateKeys.generate().destination
        failed = await a.send(missing, b"x", protocol=PROTO_RAW)
        assert not failed.delivered
        assert failed.status == 21
        conn = fake.sessions[a.destination.hash]
        assert any(isinstance(x, m.CreateLeaseSet2) for x in conn.received)
    assert not a.is_connected
    with pytest.raises(I2CPConnectionError, match="destroyed by us"):
        await a.receive()
    with pytest.raises(I2CPConnectionError, match="cannot send"):
        await a.send(b.destination, b"", protocol=6)
    with pytest.raises(I2CPConnectionError):
        a.send_nowait(b.destination, b"", protocol=6)
    await a.close()


async def test_timeouts_on_silent_router(fake: FakeRouter) -> None:
    fake.status_code = 1  # only "accepted": the final status never comes
    fake.answer_lookups = False
    async with await _connect(fake) as a, await _connect(fake) as b:
        result = await a.send(b.destination, b"x", protocol=PROTO_RAW, timeout=0.2)
        assert result.outcome is SendOutcome.FAILED
        assert result.status is None
        with pytest.raises(DestinationLookupError, match="in time"):
            await a.lookup("x.i2p", timeout=0.2)
        with pytest.raises(TimeoutError):
            await a.receive(timeout=0.05)


async def test_receive_queue_bound_and_write_bound(fake: FakeRouter) -> None:
    async with await _connect(fake, receive_queue_size=2) as a, await _connect(fake) as b:
        for i in range(3):
            assert b.send_nowait(a.destination, bytes([i]), protocol=PROTO_RAW)
        await b.send(a.destination, b"last", protocol=PROTO_RAW)
        assert [(await a.receive()).data for _ in range(2)] == [b"\x00", b"\x01"]
        assert a.dropped_payloads == 2
        b.max_write_buffer = -1
        assert not b.send_nowait(a.destination, b"", protocol=PROTO_RAW)
        assert b.dropped_sends == 1


@pytest.mark.parametrize(
    ("setup", "error", "match"),
    [
        (lambda r: setattr(r, "refuse_status", 4), SessionRefusedError, "refused"),
        (lambda r: setattr(r, "refuse_status", 3), SessionRefusedError, "invalid"),
        (lambda r: setattr(r, "disconnect_reason", "go away"), SessionRefusedError, "go away"),
    ],
)
async def test_session_refused(
    fake: FakeRouter, setup: Callable[[FakeRouter], None], error: type[I2CPError], match: str
) -> None:
    setup(fake)
    with pytest.raises(error, match=match) as info:
        await _connect(fake)
    assert info.value.router == f"127.0.0.1:{fake.port}"


async def test_no_lease_set_request_times_out(fake: FakeRouter) -> None:
    fake.request_leaseset = False
    with pytest.raises(
        I2CPConnectionError,
        match=r"no RequestVariableLeaseSet \(the router had not built our tunnels\) within 0.3 s",
    ):
        await I2CPClient.connect("127.0.0.1", fake.port, timeout=0.3)


async def test_connection_refused() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(I2CPConnectionError, match="cannot connect") as info:
        await I2CPClient.connect("127.0.0.1", port, timeout=2)
    assert str(port) in str(info.value)


async def test_router_goes_away_without_reconnect(fake: FakeRouter) -> None:
    events: list[object] = []
    a = await _connect(fake, on_session_event=events.append)
    lookup = asyncio.ensure_future(a.lookup("x.i2p", timeout=5))
    fake.answer_lookups = False
    await asyncio.sleep(0)
    fake.drop_all()
    with pytest.raises(I2CPConnectionError, match="closed the connection"):
        await lookup
    with pytest.raises(I2CPConnectionError, match="closed the connection"):
        await a.receive(timeout=5)
    assert events == [SessionLost(a.router, a.b32, "the router closed the connection", False)]
    await a.close()


async def test_reconnect_with_same_keys(fake: FakeRouter) -> None:
    events: list[object] = []
    restored = asyncio.Event()

    def on_event(event: object) -> None:
        events.append(event)
        if isinstance(event, SessionRestored):
            restored.set()

    policy = ReconnectPolicy(initial_delay=0.01, max_delay=0.05)
    a = await _connect(fake, on_session_event=on_event, reconnect=policy)
    first_id = a.session_id
    fake.drop_all()
    await asyncio.wait_for(a.wait_closed(), 5)
    assert not a.send_nowait(a.destination, b"", protocol=6)
    await asyncio.wait_for(restored.wait(), 5)
    assert isinstance(events[0], SessionLost)
    assert events[0].reconnecting
    assert isinstance(events[1], SessionRestored)
    assert events[1].attempts >= 1
    assert a.session_id != first_id
    assert a.destination.hash in fake.sessions
    await a.close()


async def test_reconnect_gives_up(fake: FakeRouter) -> None:
    events: list[object] = []
    policy = ReconnectPolicy(initial_delay=0.01, max_delay=0.02, max_attempts=2)
    a = await _connect(fake, on_session_event=events.append, reconnect=policy)
    fake.refuse_status = 4
    fake.drop_all()
    with pytest.raises(I2CPConnectionError, match="gave up reconnecting after 2"):
        await a.receive(timeout=5)
    assert [type(e) for e in events] == [SessionLost, SessionLost]
    await a.close()


async def test_close_without_destroy_reply(fake: FakeRouter) -> None:
    fake.reply_to_destroy = False
    a = await _connect(fake)
    await a.close(timeout=0.1)
    await a.close()
    assert not a.is_connected


# -- hostile routers ---------------------------------------------------------------------------

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def hostile(script: Script) -> AsyncIterator[Addr]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readexactly(1)
            await script(reader, writer)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[:2]
    finally:
        server.close()


def _frame(msg: m.Message) -> bytes:
    return m.encode_message(msg)


async def _until_session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer GetDate and CreateSession like a router, then let the caller misbehave."""
    await reader.read(1000)
    writer.write(_frame(m.SetDate(ROUTER_TIME_MS, "0.9.66")))
    await reader.read(5000)


async def _garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"\x00\x00\x00\x02\x14" + b"HTTP/1.1 400 Bad Request\r\n" * 4000)
    await writer.drain()
    await reader.read(100)


async def _oversized(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"\x00\x10\x00\x00\x1f" + bytes(1000))
    await reader.read(100)


async def _truncated(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _until_session(reader, writer)
    writer.write(_frame(m.SessionStatus(7, 1))[:-1])


async def _close_mid_frame_after_ready(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    await _until_session(reader, writer)
    writer.write(_frame(m.SessionStatus(7, 1)))
    writer.write(_frame(m.RequestVariableLeaseSet(7, ())))
    from tests.support.fakerouter import lease

    writer.write(_frame(m.RequestVariableLeaseSet(7, (lease(),))))
    await reader.read(5000)
    writer.write(b"\x00\x00\x01\x00\x1f\x00\x07")


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while await reader.read(100):
        pass


async def _eof_now(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    return


@pytest.mark.parametrize(
    ("script", "error", "match"),
    [
        (_garbage, (I2CPProtocolError, SessionRefusedError), "body|SessionStatus"),
        (_oversized, I2CPProtocolError, "1048576-byte body"),
        (_truncated, I2CPProtocolError, "middle of a frame"),
        (_silent, I2CPConnectionError, r"no SetDate \(the answer to our GetDate\) within 1 s"),
        (_eof_now, I2CPConnectionError, "closed the connection"),
    ],
)
async def test_hostile_router_during_connect(
    script: Script, error: type[I2CPError] | tuple[type[I2CPError], ...], match: str
) -> None:
    async with hostile(script) as (host, port):
        with pytest.raises(error, match=match) as info:
            await I2CPClient.connect(host, port, timeout=1)
        assert f"{host}:{port}" in str(info.value)


async def test_hostile_router_after_ready_fails_pending() -> None:
    async with hostile(_close_mid_frame_after_ready) as (host, port):
        client = await I2CPClient.connect(host, port, timeout=2)
        with pytest.raises(I2CPProtocolError, match="middle of a frame") as info:
            await client.lookup("x.i2p", timeout=5)
        assert client.b32 in str(info.value)
        with pytest.raises(I2CPProtocolError):
            await client.receive(timeout=5)
        await client.close()


async def test_offline_keys_open_a_session_on_the_embedded_router() -> None:
    """With offline keys the SessionConfig carries the offline block and is transient-signed."""
    import time

    from i2p_streaming.data import PrivateKeys, SigType
    from tests.support.embedded import embedded_router

    keys = PrivateKeys.generate().with_offline_signature(
        SigType.EdDSA_SHA512_Ed25519, int(time.time()) + 3600
    )
    async with embedded_router(seed=1) as target:
        host, port = target.i2cp_address
        async with await I2CPClient.connect(host, port, keys=keys, timeout=10) as client:
            assert client.destination == keys.destination
            assert client.session_id is not None


async def test_a_flood_of_unknown_messages_logs_a_handful_of_lines(
    fake: FakeRouter, caplog: pytest.LogCaptureFixture
) -> None:
    a = await _connect(fake)
    async with a:
        [conn] = [c for c in fake.conns if c.destination == a.destination]
        flood = b"".join((2).to_bytes(4, "big") + bytes([240 + i % 3]) + b"zz" for i in range(3000))
        with caplog.at_level("WARNING", logger="i2p_streaming.i2cp"):
            conn.writer.write(flood)
            assert await a.lookup(a.destination.b32, timeout=5) == a.destination  # in order
        lines = [r for r in caplog.records if "UnknownMessageReceived" in r.getMessage()]
        assert 0 < len(lines) <= 5, [r.getMessage() for r in lines]
        assert a.router_warnings.total == 3000
        assert a.is_connected

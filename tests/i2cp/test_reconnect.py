"""Session loss and reconnecting: pending waiters fail, calls say "not established", retried
and abandoned attempts, close and wait_closed while reconnecting."""

from __future__ import annotations

import asyncio

import pytest

from i2p_streaming.aio import I2CPClient, ReconnectPolicy, SessionLost, SessionRestored
from i2p_streaming.errors import I2CPConnectionError
from i2p_streaming.i2cp import PROTO_RAW
from i2p_streaming.i2cp import messages as m
from tests.support.gated import GatedRouter, connect_client

LOGGER = "i2p_streaming.i2cp"


async def test_session_loss_fails_pending_reconfigure_and_skips_cancelled_waiters(
    gated: GatedRouter,
) -> None:
    async with await connect_client(gated) as a:
        gated.hold = {m.HostLookup, m.ReconfigureSession}
        lookup = asyncio.ensure_future(a.lookup("somewhere.i2p"))
        await gated.wait_held(1)
        lookup.cancel()
        with pytest.raises(asyncio.CancelledError):
            await lookup
        reconfigure = asyncio.ensure_future(a.reconfigure({"inbound.quantity": "2"}))
        await gated.wait_held(2)
        gated.drop_all()
        with pytest.raises(I2CPConnectionError, match="closed the connection") as info:
            await asyncio.wait_for(reconfigure, 5)
        assert a.b32 in str(info.value)
        with pytest.raises(I2CPConnectionError, match="closed the connection"):
            await a.receive(timeout=5)
        assert not a.is_connected


async def test_calls_while_waiting_to_reconnect_say_not_established(gated: GatedRouter) -> None:
    policy = ReconnectPolicy(initial_delay=60.0)  # stays in the "waiting to retry" window
    a = await connect_client(gated, reconnect=policy)
    b = await connect_client(gated)
    try:
        gated.conns[0].writer.close()  # only a's connection goes away
        await asyncio.wait_for(a.wait_closed(), 5)
        assert not a.is_connected
        with pytest.raises(I2CPConnectionError, match="cannot send: session is not established"):
            await a.send(b.destination, b"x", protocol=PROTO_RAW)
        with pytest.raises(I2CPConnectionError, match="cannot look up a destination: session"):
            await a.lookup(b.b32)
        with pytest.raises(I2CPConnectionError, match="cannot reconfigure: session is not"):
            await a.reconfigure({"inbound.quantity": "2"})
        assert not a.send_nowait(b.destination, b"x", protocol=PROTO_RAW)
        assert a.dropped_sends == 1
    finally:
        await asyncio.wait_for(a.close(), 2)  # cancels the pending retry at once
        await b.close()
    with pytest.raises(I2CPConnectionError, match="cannot send: client closed"):
        await a.send(b.destination, b"x", protocol=PROTO_RAW)


async def test_timed_out_reconnect_attempt_is_retried_and_its_reader_is_inert(
    gated: GatedRouter,
) -> None:
    """With no delay between attempts the reader of an aborted attempt is still running when
    the next attempt installs its session; it must neither process nor close the new one."""
    events: list[object] = []
    restored = asyncio.Event()

    def on_event(event: object) -> None:
        events.append(event)
        if isinstance(event, SessionRestored):
            restored.set()

    policy = ReconnectPolicy(initial_delay=0.0, max_attempts=3)
    a = await I2CPClient.connect(
        "127.0.0.1", gated.port, timeout=0.3, reconnect=policy, on_session_event=on_event
    )
    b = await connect_client(gated)
    try:
        gated.stall_sessions = 1  # attempt 1 never gets a lease-set request: times out
        gated.conns[0].writer.close()
        await asyncio.wait_for(restored.wait(), 5)
        assert events == [
            SessionLost(a.router, a.b32, "the router closed the connection", True),
            SessionRestored(a.router, a.b32, a.session_id or 0, 2),
        ]
        assert a.is_connected
        result = await asyncio.wait_for(a.send(b.destination, b"again", protocol=PROTO_RAW), 5)
        assert result.delivered
        assert (await b.receive(timeout=5)).data == b"again"
        # the stalled attempt was destroyed by us, not left open on the router
        stalled = [
            c for c in gated.conns if any(isinstance(x, m.CreateSession) for x in c.received)
        ]
        assert len(stalled) == 4  # a, b, a's stalled attempt, a's successful attempt
        assert any(isinstance(x, m.DestroySession) for x in stalled[2].received)
    finally:
        await a.close()
        await b.close()


async def test_close_while_a_reconnect_attempt_fails_stops_retrying(
    gated: GatedRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """close() landing while an attempt is failing must end the retry loop (no new attempts,
    no SessionRestored / "gave up" event), even though the cancellation races the failure."""
    events: list[object] = []
    a = await connect_client(
        gated, reconnect=ReconnectPolicy(initial_delay=0.0), on_session_event=events.append
    )
    attempts: list[asyncio.Task[None]] = []
    tried = asyncio.Event()

    async def refused(*args: object, **kwargs: object) -> object:
        attempts.append(asyncio.ensure_future(a.close()))  # close() runs before we resume
        tried.set()
        raise ConnectionRefusedError("router restarting")

    monkeypatch.setattr(asyncio, "open_connection", refused)
    gated.drop_all()
    await asyncio.wait_for(tried.wait(), 5)
    await asyncio.wait_for(attempts[0], 5)
    retry = a._reconnect_task
    assert retry is not None
    await asyncio.wait([retry], timeout=2)
    assert retry.done()
    assert len(attempts) == 1
    assert events == [SessionLost(a.router, a.b32, "the router closed the connection", True)]
    with pytest.raises(I2CPConnectionError, match="closed"):
        await a.receive(timeout=1)


async def test_wait_closed_returns_after_reconnecting_gave_up(gated: GatedRouter) -> None:
    events: list[object] = []
    policy = ReconnectPolicy(initial_delay=0.0, max_attempts=1)
    a = await connect_client(gated, reconnect=policy, on_session_event=events.append)
    try:
        await gated.stop()  # the connection drops and the port refuses connections
        with pytest.raises(I2CPConnectionError, match="gave up reconnecting after 1"):
            await a.receive(timeout=5)
        assert [type(e) for e in events] == [SessionLost, SessionLost]
        await asyncio.wait_for(a.wait_closed(), 0.5)
    finally:
        await a.close()

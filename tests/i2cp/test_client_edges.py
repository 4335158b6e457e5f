"""Edge cases of the asyncio I2CP client and its sans-I/O core.

Cancellation and late answers, session loss with waiters pending, reconnect corners, callbacks
that raise, back-pressure (drain timeout, connection reset while draining) and the core's id and
timer bookkeeping. Synchronisation is on events/futures only; the timeouts in here are the
behaviour under test, not waits for something else to happen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from i2p_streaming.data import PrivateKeys
from i2p_streaming.errors import I2CPConnectionError
from i2p_streaming.i2cp import (
    PROTO_RAW,
    I2CPClient,
    ReconnectPolicy,
    SessionLost,
    SessionRestored,
)
from i2p_streaming.i2cp import events as ev
from i2p_streaming.i2cp import messages as m
from i2p_streaming.i2cp.events import PayloadReceived
from i2p_streaming.i2cp.payload import wrap
from i2p_streaming.i2cp.pending import Pending
from i2p_streaming.i2cp.session import I2CPSession
from i2p_streaming.router import Impairments
from tests.support.embedded import embedded_router
from tests.support.fakerouter import ROUTER_TIME_MS, Conn, FakeRouter

LOGGER = "i2p_streaming.i2cp"


class GatedRouter(FakeRouter):
    """A FakeRouter that can hold back requests of chosen types until :meth:`release`, and
    can leave the next ``stall_sessions`` sessions without a lease-set request."""

    def __init__(self) -> None:
        super().__init__()
        self.hold: set[type[m.Message]] = set()
        self.held: list[tuple[Conn, m.Message]] = []
        self.stall_sessions = 0
        self._changed = asyncio.Event()

    def _on_message(self, conn: Conn, msg: m.Message) -> None:
        if type(msg) in self.hold:
            self.held.append((conn, msg))
            self._changed.set()
            return
        if isinstance(msg, m.CreateSession) and self.stall_sessions > 0:
            self.stall_sessions -= 1
            self.request_leaseset = False
            try:
                super()._on_message(conn, msg)
            finally:
                self.request_leaseset = True
            return
        super()._on_message(conn, msg)

    async def wait_held(self, count: int) -> None:
        """Wait until ``count`` requests are being held."""
        while len(self.held) < count:
            self._changed.clear()
            await self._changed.wait()

    def release(self) -> None:
        """Answer every held request now, in arrival order."""
        held, self.held = self.held, []
        for conn, msg in held:
            super()._on_message(conn, msg)


@pytest.fixture
async def gated() -> AsyncIterator[GatedRouter]:
    router = GatedRouter()
    await router.start()
    yield router
    await router.stop()


async def _connect(router: FakeRouter, **kwargs: object) -> I2CPClient:
    return await I2CPClient.connect("127.0.0.1", router.port, timeout=5, **kwargs)  # type: ignore[arg-type]


def _messages(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and text in r.getMessage()]


# -- cancellation and late answers ------------------------------------------------------------


async def test_cancelled_send_ignores_its_late_status(gated: GatedRouter) -> None:
    """A status arriving for a send whose caller gave up must not break the read loop."""
    async with await _connect(gated) as a, await _connect(gated) as b:
        gated.hold = {m.SendMessage}
        task = asyncio.ensure_future(a.send(b.destination, b"late", protocol=PROTO_RAW))
        await gated.wait_held(1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gated.hold = set()
        gated.release()  # the payload and MessageStatus of the cancelled send go out now
        result = await asyncio.wait_for(a.send(b.destination, b"next", protocol=PROTO_RAW), 5)
        assert result.delivered
        assert [(await b.receive(timeout=5)).data for _ in range(2)] == [b"late", b"next"]
        assert a.is_connected


async def test_cancelled_lookup_ignores_its_late_reply(gated: GatedRouter) -> None:
    async with await _connect(gated) as a, await _connect(gated) as b:
        gated.hold = {m.HostLookup}
        task = asyncio.ensure_future(a.lookup(b.b32))
        await gated.wait_held(1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        gated.hold = set()
        gated.release()
        assert await asyncio.wait_for(a.lookup(b.b32), 5) == b.destination
        assert a.is_connected


async def test_reconfigure_timeout_then_late_answer_is_ignored(gated: GatedRouter) -> None:
    async with await _connect(gated) as a, await _connect(gated) as b:
        gated.hold = {m.ReconfigureSession}
        with pytest.raises(I2CPConnectionError, match="no answer to ReconfigureSession") as info:
            await a.reconfigure({"inbound.quantity": "2"}, timeout=0.1)
        assert a.router in str(info.value)
        gated.hold = set()
        gated.release()  # SessionStatus Updated arrives with nobody waiting for it
        # A round trip on the same connection: the late answer has been handled after it.
        assert await asyncio.wait_for(a.lookup(b.b32), 5) == b.destination
        await asyncio.wait_for(a.reconfigure({"inbound.quantity": "3"}), 5)
        assert a.is_connected


async def test_session_loss_fails_pending_reconfigure_and_skips_cancelled_waiters(
    gated: GatedRouter,
) -> None:
    async with await _connect(gated) as a:
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


# -- reconnect corners --------------------------------------------------------------------------


async def test_calls_while_waiting_to_reconnect_say_not_established(gated: GatedRouter) -> None:
    policy = ReconnectPolicy(initial_delay=60.0)  # stays in the "waiting to retry" window
    a = await _connect(gated, reconnect=policy)
    b = await _connect(gated)
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
    b = await _connect(gated)
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
    a = await _connect(
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
    a = await _connect(gated, reconnect=policy, on_session_event=events.append)
    try:
        await gated.stop()  # the connection drops and the port refuses connections
        with pytest.raises(I2CPConnectionError, match="gave up reconnecting after 1"):
            await a.receive(timeout=5)
        assert [type(e) for e in events] == [SessionLost, SessionLost]
        await asyncio.wait_for(a.wait_closed(), 0.5)
    finally:
        await a.close()


# -- callbacks that raise, payloads that cannot be unwrapped -------------------------------------


async def test_payload_callback_exception_is_logged_and_delivery_continues(
    gated: GatedRouter, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[bytes] = []
    both = asyncio.Event()

    def flaky(payload: PayloadReceived) -> None:
        got.append(payload.data)
        if len(got) == 2:
            both.set()
        if len(got) == 1:
            raise RuntimeError("callback bug")

    async with await _connect(gated) as a, await _connect(gated, on_payload=flaky) as b:
        assert (await a.send(b.destination, b"one", protocol=PROTO_RAW)).delivered
        assert (await a.send(b.destination, b"two", protocol=PROTO_RAW)).delivered
        await asyncio.wait_for(both.wait(), 5)
        assert got == [b"one", b"two"]
        assert b.is_connected
    [record] = _messages(caplog, "payload callback failed")
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)


async def test_session_event_callback_exception_does_not_stop_reconnecting(
    gated: GatedRouter, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[object] = []
    restored = asyncio.Event()

    def broken(event: object) -> None:
        events.append(event)
        if isinstance(event, SessionRestored):
            restored.set()
        raise RuntimeError("callback bug")

    policy = ReconnectPolicy(initial_delay=0.0)
    a = await _connect(gated, reconnect=policy, on_session_event=broken)
    try:
        gated.drop_all()
        await asyncio.wait_for(restored.wait(), 5)
        assert [type(e) for e in events] == [SessionLost, SessionRestored]
        assert a.is_connected
    finally:
        await a.close()
    assert len(_messages(caplog, "session event callback failed")) == 2


async def test_corrupt_payload_is_dropped_logged_and_later_ones_delivered(
    gated: GatedRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    async with await _connect(gated) as a:
        conn = gated.sessions[a.destination.hash]
        bad = bytearray(wrap(b"payload", protocol=PROTO_RAW))
        bad[-8] ^= 0xFF  # CRC-32 of the gzip trailer
        conn.send(m.MessagePayload(conn.session_id, 77, bytes(bad)))
        conn.send(m.MessagePayload(conn.session_id, 78, wrap(b"fine", protocol=PROTO_RAW)))
        got = await a.receive(timeout=5)
        assert (got.data, got.message_id) == (b"fine", 78)
        assert a.dropped_payloads == 0  # not a queue overflow
        assert a.is_connected
    [record] = _messages(caplog, "dropped payload 77")
    assert record.levelno == logging.DEBUG


# -- back-pressure against the embedded router ---------------------------------------------------


async def _stall_router_and_fill(a: I2CPClient, b: I2CPClient, router: object) -> None:
    """Make the router stop reading ``a``'s socket, then fill every buffer on the way."""
    from i2p_streaming.router import EmbeddedRouter

    assert isinstance(router, EmbeddedRouter)
    chunk = bytes(32 * 1024)
    for _ in range(4):  # > max_pending_bytes scheduled: the router pauses reading a
        assert a.send_nowait(b.destination, chunk, protocol=PROTO_RAW)
    await router.wait_until(lambda r: r.stats().read_pauses >= 1, timeout=5)
    a.max_write_buffer = 256 * 1024
    for _ in range(2000):  # kernel buffers fill, then a's own buffer passes its bound
        if not a.send_nowait(b.destination, chunk, protocol=PROTO_RAW):
            break
    else:
        pytest.fail("the write buffer never filled although the router stopped reading")
    assert a.dropped_sends == 1


async def test_send_fails_when_the_router_stops_reading() -> None:
    async with embedded_router(
        impairments=Impairments(delay=60.0), max_pending_bytes=64 * 1024, seed=1
    ) as target:
        a = await I2CPClient.connect(*target.i2cp_address, timeout=5)
        b = await I2CPClient.connect(*target.i2cp_address, timeout=5)
        try:
            await _stall_router_and_fill(a, b, target.embedded)
            with pytest.raises(I2CPConnectionError, match="does not read our data") as info:
                await a.send(b.destination, b"x", protocol=PROTO_RAW, timeout=0.2)
            assert a.router in str(info.value)
        finally:
            target.embedded.find_session(a.destination.hash).conn.abort()  # type: ignore[union-attr]
            await a.close(timeout=0.5)
            await b.close()


async def test_send_fails_when_the_connection_resets_while_draining() -> None:
    async with embedded_router(
        impairments=Impairments(delay=60.0), max_pending_bytes=64 * 1024, seed=1
    ) as target:
        a = await I2CPClient.connect(*target.i2cp_address, timeout=5)
        b = await I2CPClient.connect(*target.i2cp_address, timeout=5)
        try:
            await _stall_router_and_fill(a, b, target.embedded)
            session = target.embedded.find_session(a.destination.hash)
            assert session is not None
            send = asyncio.ensure_future(a.send(b.destination, b"x", protocol=PROTO_RAW))
            session.conn.abort()  # unread data on the router side: the client gets a reset
            with pytest.raises(I2CPConnectionError, match="write failed") as info:
                await asyncio.wait_for(send, 5)
            assert a.b32 in str(info.value)
            await asyncio.wait_for(a.wait_closed(), 5)
            assert not a.is_connected
        finally:
            await a.close(timeout=0.5)
            await b.close()


# -- the sans-I/O core: versions, stale timers, id wrap-around -----------------------------------

KEYS = PrivateKeys.generate()
PEER = PrivateKeys.generate().destination
SID = 7


def _established(version: str | None) -> I2CPSession:
    core = I2CPSession(KEYS, None)
    core.start()
    core.data_to_send()
    for msg in (
        m.SetDate(ROUTER_TIME_MS, version),
        m.SessionStatus(SID, 1),
        m.RequestVariableLeaseSet(SID, ()),
    ):
        core.receive_data(m.encode_message(msg), 0.0)
    core.data_to_send()
    while core.next_event() is not None:
        pass
    return core


def _sent(core: I2CPSession) -> list[m.Message]:
    assert core.pending_output > 0
    data = core.data_to_send()
    assert core.pending_output == 0
    out = []
    while data:
        size = int.from_bytes(data[:4], "big")
        out.append(m.decode_message(data[4], data[5 : 5 + size]))
        data = data[5 + size :]
    return out


@pytest.mark.parametrize("version", [None, "", "0.9.x-rc1"])
def test_unknown_router_version_is_treated_as_modern(version: str | None) -> None:
    """No or unparsable version in SetDate: HostLookup is used, also for host names."""
    core = _established(version)
    assert core.destination == KEYS.destination
    rid = core.lookup("name.i2p", now=0.0)
    [msg] = _sent(core)
    assert isinstance(msg, m.HostLookup)
    assert (msg.request_id, msg.lookup_type, msg.key) == (rid, m.HostLookup.BY_NAME, "name.i2p")
    assert core.next_event() is None


def test_timer_after_answers_expires_nothing() -> None:
    core = _established("0.9.66")
    nonce = core.send_message(PEER, b"x", protocol=PROTO_RAW, want_status=True, now=0, timeout=5)
    rid = core.lookup(PEER.b32, now=0.0, timeout=5)
    core.data_to_send()
    core.receive_data(m.encode_message(m.MessageStatus(SID, 1, 4, 0, nonce)), 1.0)
    core.receive_data(m.encode_message(m.HostReply(SID, rid, 0, PEER)), 1.0)
    assert [type(e) for e in iter(core.next_event, None)] == [ev.SendStatus, ev.LookupResult]
    core.handle_timer(10.0)  # both deadlines passed, but nothing is pending any more
    assert core.next_event() is None
    assert core.get_timer() is None


def test_ids_wrap_around_skipping_zero_and_ids_in_use() -> None:
    pending = Pending(first_id=0xFFFFFFFF)  # next ids: 0xFFFFFFFF, 0 (skipped), 1, ...
    first = pending.new_nonce()
    pending.add_send(first, 1.0)
    second = pending.new_nonce()
    pending.add_send(second, 1.0)
    assert (first, second) == (0xFFFFFFFF, 1)
    pending = Pending(first_id=0x1_0000_0001)  # wraps to 1, still awaiting its status
    pending.add_send(1, 1.0)
    assert pending.new_nonce() == 2
    pending = Pending(first_id=0x1_0000_0000)  # wraps to 0 (skipped), then 1
    assert pending.add_lookup("a.i2p", None, 1.0) == 1
    pending = Pending(first_id=0x1_0000_0001)
    pending.add_lookup("x.i2p", None, 1.0)  # takes id 1
    assert pending.add_lookup("b.i2p", None, 1.0) == 2


def test_lookup_messages_carry_the_returned_request_ids() -> None:
    core = _established("0.9.66")
    ids = [core.lookup("a.i2p", now=0.0), core.lookup("b.i2p", now=0.0)]
    lookups = [x for x in _sent(core) if isinstance(x, m.HostLookup)]
    assert [x.request_id for x in lookups] == ids == [1, 2]


async def test_send_many_nowait_delivers_a_batch_in_order() -> None:
    """A batch goes to the router in one write and arrives complete and in order."""
    from i2p_streaming.i2cp import PROTO_RAW
    from tests.support.embedded import embedded_router

    async with embedded_router(seed=1) as target:
        host, port = target.i2cp_address
        async with (
            await I2CPClient.connect(host, port, timeout=10) as a,
            await I2CPClient.connect(host, port, timeout=10) as b,
        ):
            batch = [(b.destination, b"%d" % i, PROTO_RAW, i, 7, None) for i in range(50)]
            assert a.send_many_nowait(batch) == 50
            got = [await b.receive(timeout=5) for _ in range(50)]
            assert [(p.data, p.src_port, p.dst_port) for p in got] == [
                (b"%d" % i, i, 7) for i in range(50)
            ]
            assert a.dropped_sends == 0

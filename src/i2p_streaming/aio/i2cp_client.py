"""asyncio shell over the sans-I/O :class:`~i2p_streaming.i2cp.session.I2CPSession`.

One :class:`I2CPClient` = one TCP (or TLS) connection to a router = one session. Errors name the
router (``host:port``), our session (b32) and what happened, and are
:class:`~i2p_streaming.errors.I2CPError` subclasses. The core is driven by the shared
:class:`~i2p_streaming.aio.pump.Pump` (flush, one timer); request futures live in
:class:`~i2p_streaming.aio.i2cp_waiters.Waiters`; events are dispatched through a table.
"""

from __future__ import annotations

import asyncio
import logging
import ssl as ssl_module
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Self

from i2p_streaming.aio.i2cp_inbox import Inbox
from i2p_streaming.aio.i2cp_link import RouterLink
from i2p_streaming.aio.i2cp_reconnect import open_with_fallback, reconnect
from i2p_streaming.aio.i2cp_types import (
    END_ERRORS,
    HANDSHAKE_TIMEOUT,
    ClientSettings,
    OutgoingPayload,
    ReconnectPolicy,
    SendResult,
    SessionEvent,
    SessionLost,
    SessionRestored,
)
from i2p_streaming.aio.i2cp_waiters import Waiters
from i2p_streaming.aio.probe import explain, wait_ready
from i2p_streaming.aio.pump import Pump
from i2p_streaming.aio.ratelog import RateLimitedLog
from i2p_streaming.checks import check_port
from i2p_streaming.data import Destination, PrivateKeys
from i2p_streaming.errors import (
    DestinationLookupError,
    I2CPConnectionError,
    I2CPError,
    InvalidStateError,
)
from i2p_streaming.i2cp import events as ev
from i2p_streaming.i2cp.options import ENC_TYPE_OPTION
from i2p_streaming.i2cp.session import I2CPSession, SessionState

__all__ = ["I2CPClient", "ReconnectPolicy", "SendResult", "SessionLost", "SessionRestored"]

log = logging.getLogger("i2p_streaming.i2cp")


class I2CPClient:
    """An I2CP session on a router. Create it with ``await I2CPClient.connect(...)``."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        on_payload: Callable[[ev.PayloadReceived], None] | None = None,
        on_session_event: Callable[[SessionEvent], None] | None = None,
    ) -> None:
        self._settings = settings
        self.host = settings.host
        self.port = settings.port
        self.keys = settings.keys
        self.timeout = settings.timeout
        self.max_write_buffer = settings.max_write_buffer
        self._options = dict(settings.options)
        self._reconnect = settings.reconnect
        self._on_session_event = on_session_event
        self._loop = asyncio.get_running_loop()
        self._core = self._new_core()
        self._link: RouterLink | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] = self._loop.create_future()
        self._ended: asyncio.Future[None] = self._loop.create_future()
        self._pump = Pump(self._loop, self._step, lambda now: self._core.handle_timer(now))
        self.router_warnings = RateLimitedLog(log)  #: the router's bad messages, rate-limited
        self._waiters = Waiters(self._loop, self._error)
        self._inbox = Inbox(self.keys.destination.b32, on_payload, settings.receive_queue_size)
        #: The table from event type to handler (the part that owns the matter).
        self._handlers: dict[type[ev.Event], Callable[[Any], None]] = {
            ev.PayloadReceived: self._inbox.deliver,
            ev.SendStatus: self._waiters.on_send_status,
            ev.LookupResult: self._waiters.on_lookup_result,
            ev.Reconfigured: self._waiters.on_reconfigured,
            ev.LeaseSetCreated: self._on_lease_set,
            ev.SessionEnded: self._session_ended,
            ev.PayloadDropped: self._inbox.dropped_by_core,
            ev.ProtocolViolation: self._on_violation,
            ev.UnknownMessageReceived: self._on_violation,
        }
        self._closing = False
        self._callback_errors = 0
        self.dropped_sends = 0

    @classmethod
    async def connect(
        cls,
        host: str = "127.0.0.1",
        port: int = 7654,
        *,
        keys: PrivateKeys | None = None,
        options: Mapping[str, str] | None = None,
        ssl: ssl_module.SSLContext | None = None,
        server_hostname: str | None = None,
        timeout: float = 60.0,
        username: str | None = None,
        password: str | None = None,
        on_payload: Callable[[ev.PayloadReceived], None] | None = None,
        on_session_event: Callable[[SessionEvent], None] | None = None,
        receive_queue_size: int = 1024,
        max_write_buffer: int = 1 << 20,
        reconnect: ReconnectPolicy | None = None,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
    ) -> I2CPClient:
        """Connect, create the session, and return once SessionStatus Created arrived AND the
        first CreateLeaseSet2 was sent (so ``send`` works at once).

        ``keys`` default to fresh Ed25519 keys. Payloads go to ``on_payload`` when given, else to
        a queue of ``receive_queue_size`` read by :meth:`receive` (when full, new payloads are
        dropped and counted in ``dropped_payloads``). Raises ``ValueError`` for bad options,
        :class:`I2CPConnectionError` (cannot connect, connection lost, the port answers SAM or
        HTTP, no SetDate within ``handshake_timeout`` or no session within ``timeout``
        seconds: the message names what never came), :class:`SessionRefusedError` (the
        router refused the session) or :class:`I2CPProtocolError`. A router refusing the ML-KEM
        types chosen automatically gets ``i2cp.leaseSetEncType=4`` (a WARNING), kept after."""
        check_port(port, "router port", allow_zero=False)
        private = keys if keys is not None else PrivateKeys.generate()
        settings = ClientSettings(
            host, port, private, dict(options or {}), ssl, server_hostname, timeout, username,
            password, receive_queue_size, max_write_buffer, reconnect, handshake_timeout,
        )  # fmt: skip
        self = cls(settings, on_payload=on_payload, on_session_event=on_session_event)
        await open_with_fallback(self._open, lambda: self._core.enc_fallback)
        return self

    def _new_core(self) -> I2CPSession:
        return I2CPSession(
            self.keys,
            self._options,
            username=self._settings.username,
            password=self._settings.password,
        )

    @property
    def router(self) -> str:
        """``"host:port"`` of the router."""
        return f"{self.host}:{self.port}"

    @property
    def destination(self) -> Destination:
        """Our Destination."""
        return self.keys.destination

    @property
    def b32(self) -> str:
        """Our ``.b32.i2p`` address."""
        return self.keys.destination.b32

    @property
    def session_id(self) -> int | None:
        """The router's id for the current session (None when there is none)."""
        return self._core.session_id

    @property
    def router_version(self) -> str | None:
        """The API version the router reported in SetDate."""
        return self._core.router_version

    @property
    def dropped_payloads(self) -> int:
        """Payloads dropped because the :meth:`receive` queue was full."""
        return self._inbox.dropped

    @property
    def callback_errors(self) -> int:
        """Exceptions raised by the ``on_payload``/``on_session_event`` callbacks (logged)."""
        return self._inbox.callback_errors + self._callback_errors

    @property
    def is_connected(self) -> bool:
        """True while the session is established."""
        return self._core.state is SessionState.CREATED and self._ready.done()

    def _error(self, cls: type[I2CPError], what: str, reason: str = "") -> I2CPError:
        """``cls`` naming the router and, once the router gave it an id, our session."""
        session = f", session {self.b32}" if self._core.session_id is not None else ""
        text = f"I2CP router {self.router}{session}: {what}"
        return cls(text, router=self.router, reason=reason or what)

    async def _open(self) -> None:
        self._core = self._new_core()
        self._ready = self._loop.create_future()
        self._ended = self._loop.create_future()
        link = await RouterLink.open(self._settings, self._error)
        self._link = link
        core = self._core
        core.start()
        self._pump.run()
        link.start_reading(lambda data: self._on_input(core, data), self.router)
        first = min(self._settings.handshake_timeout, self.timeout)
        try:
            missing = await wait_ready(self._ready, lambda: core.state, first, self.timeout)
        except I2CPError as exc:
            await link.drop()
            raise await self._explain(exc) from None
        if missing is not None:
            self._abort(missing)
            raise await self._explain(self._error(I2CPConnectionError, missing))
        log.info("I2CP session %s up on %s (id %s)", self.b32, self.router, self.session_id)

    async def _explain(self, error: I2CPError) -> I2CPError:  # no SAM/HTTP probe over TLS
        probe = self._settings.ssl is None and self.session_id is None
        return await explain(error, self.host, self.port, probe)

    def _on_input(self, core: I2CPSession, data: bytes) -> bool:
        """Bytes (``b""``: EOF) from the link of ``core``; False once that session is over."""
        if data:
            core.receive_data(data, self._loop.time())
        else:
            core.receive_eof()
        self._process(core)
        return core.state is not SessionState.CLOSED

    def _step(self) -> float | None:
        """Pump step: write what the core queued (one write), dispatch its events."""
        core = self._core
        data = core.data_to_send()
        if data and self._link is not None:
            self._link.write(data)
        while (event := core.next_event()) is not None:
            handler = self._handlers.get(type(event))
            if handler is not None:
                handler(event)
            else:
                log.debug("I2CP %s: %s", self.b32, event)
        return core.get_timer()

    def _process(self, core: I2CPSession) -> None:
        if core is self._core:
            self._pump.run()

    def _on_lease_set(self, event: ev.LeaseSetCreated) -> None:
        if event.first and not self._ready.done():
            self._ready.set_result(None)

    def _on_violation(self, event: ev.ProtocolViolation | ev.UnknownMessageReceived) -> None:
        kind = event.msg_type if isinstance(event, ev.UnknownMessageReceived) else type(event)
        text = f"I2CP router {self.router}, session {self.b32}: {event}"
        self.router_warnings.warning(kind, self._loop.time(), "%s", text)

    def _session_ended(self, event: ev.SessionEnded) -> None:
        was_ready, reconnecting = self._ready.done(), self._reconnect is not None
        error = self._error(END_ERRORS[event.reason], event.message, event.reason.value)
        log.info("I2CP session %s on %s ended: %s", self.b32, self.router, event.message)
        fallback = None if self._closing else self._core.enc_fallback
        if fallback is not None and (reconnecting or not was_ready):  # another opening follows
            self._options[ENC_TYPE_OPTION] = fallback  # for the next opening: our own choice
            what = f"{event.message}; opening again with {ENC_TYPE_OPTION}={fallback}"
            log.warning("I2CP session %s on %s: %s", self.b32, self.router, what)
        if not self._ready.done():
            self._ready.set_exception(error)
            self._ready.exception()  # mark retrieved; _open re-raises it
        if not self._ended.done():
            self._ended.set_result(None)
        self._waiters.fail_all(error)
        self._pump.cancel_timer()
        if self._link is not None:
            self._link.close()
        if self._closing or not was_ready:
            if self._closing:
                self._finish(error)
            return
        self._notify(SessionLost(self.router, self.b32, event.message, reconnecting))
        if reconnecting:
            self._reconnect_task = self._loop.create_task(self._reconnect_loop())
        else:
            self._finish(error)

    def _finish(self, error: I2CPError) -> None:
        self._inbox.close(error)
        if not self._ended.done():  # e.g. gave up reconnecting: no session will end again
            self._ended.set_result(None)

    def _notify(self, event: SessionEvent) -> None:
        if self._on_session_event is not None:
            try:
                self._on_session_event(event)
            except Exception:
                self._callback_errors += 1
                log.exception("I2CP %s: session event callback failed", self.b32)

    async def _reconnect_loop(self) -> None:
        assert self._reconnect is not None
        outcome = await reconnect(self._reconnect, self._open, lambda: self._closing, self.b32)
        if outcome is None:  # closed meanwhile
            return
        if outcome.error is None:
            sid = self.session_id or 0
            self._notify(SessionRestored(self.router, self.b32, sid, outcome.attempts))
            return
        what = f"gave up reconnecting after {outcome.attempts} attempts: {outcome.error.reason}"
        self._notify(SessionLost(self.router, self.b32, what, False))
        self._finish(self._error(I2CPConnectionError, what))

    def _abort(self, reason: str) -> None:
        if self._core.state is not SessionState.CLOSED:
            self._core.destroy()
            self._core.receive_eof()
            self._process(self._core)
        if self._link is not None:
            self._link.close()

    def _live(self, what: str) -> I2CPSession:
        core = self._core
        if core.state is not SessionState.CREATED or not self._ready.done():
            if self._inbox.error is not None:
                raise self._error(
                    type(self._inbox.error), f"cannot {what}: {self._inbox.error.reason}"
                )
            raise self._error(I2CPConnectionError, f"cannot {what}: session is not established")
        return core

    # -- public API ------------------------------------------------------------------------

    async def send(
        self,
        destination: Destination,
        data: bytes | bytearray | memoryview,
        *,
        protocol: int,
        src_port: int = 0,
        dst_port: int = 0,
        compress: bool = False,
        timeout: float = 60.0,
    ) -> SendResult:
        """Send one payload with a nonce and wait for its final MessageStatus.

        Waits for the socket to drain (back-pressure). Returns a :class:`SendResult`: DELIVERED,
        or FAILED with the router's reason — also FAILED (status None) when no status came within
        ``timeout``. Raises :class:`I2CPConnectionError`/:class:`SessionRefusedError` when the
        session is down or ends meanwhile, ``ValueError`` for bad arguments.
        """
        core = self._live("send")
        now = self._loop.time()
        try:
            nonce = core.send_message(
                destination,
                data,
                protocol=protocol,
                src_port=src_port,
                dst_port=dst_port,
                compress=compress,
                want_status=True,
                now=now,
                timeout=timeout,
            )
        except InvalidStateError as exc:  # too many sends awaiting a status
            raise self._error(I2CPError, f"cannot send: {exc}") from None
        fut = self._waiters.send(nonce)
        self._process(core)
        if self._link is not None:
            await self._link.drain(timeout)
        what = f"no status for send {nonce}"
        return await self._waiters.settle(fut, timeout + 5.0, I2CPConnectionError, what)

    def send_nowait(
        self,
        destination: Destination,
        data: bytes | bytearray | memoryview,
        *,
        protocol: int,
        src_port: int = 0,
        dst_port: int = 0,
        compress: bool | None = None,
    ) -> bool:
        """Queue one payload with nonce 0 (no status): the streaming hot path.

        Returns True when queued, False when it was dropped (counted in ``dropped_sends``)
        because more than ``max_write_buffer`` bytes already wait for the socket, or because the
        client is reconnecting. Raises the session's :class:`I2CPError` once the client is closed
        for good, ``ValueError`` for bad arguments. ``compress=None`` means stored.
        """
        item = (destination, data, protocol, src_port, dst_port, compress)
        return self.send_many_nowait((item,)) == 1

    def send_many_nowait(self, payloads: Iterable[OutgoingPayload]) -> int:
        """Queue several payloads with nonce 0 and hand them to the socket in ONE write.

        Each item is ``(destination, data, protocol, src_port, dst_port, compress)``. Same
        rules as :meth:`send_nowait` (the write-buffer bound is checked once, before the batch);
        returns how many were queued — the rest are counted in ``dropped_sends``.
        """
        items = list(payloads)
        core = self._core
        link = self._link
        if core.state is not SessionState.CREATED or link is None or not self._ready.done():
            if self._inbox.error is not None or self._reconnect is None:
                self._live("send")
            self.dropped_sends += len(items)
            return 0
        if link.write_buffer_size() > self.max_write_buffer:
            self.dropped_sends += len(items)
            return 0
        for destination, data, protocol, src_port, dst_port, compress in items:
            core.send_message(
                destination,
                data,
                protocol=protocol,
                src_port=src_port,
                dst_port=dst_port,
                compress=bool(compress),
            )
        link.write(core.data_to_send())
        return len(items)

    async def receive(self, timeout: float | None = None) -> ev.PayloadReceived:
        """Wait for the next payload (protocol, ports, data).

        Raises ``TimeoutError`` after ``timeout`` seconds (None = wait forever), or the
        session's :class:`I2CPError` once it is closed for good and the queue is empty. Only
        used when no ``on_payload`` callback was given.
        """
        return await self._inbox.receive(timeout)

    async def lookup(self, name: str, *, timeout: float = 30.0) -> Destination:
        """Look up ``xxx.b32.i2p`` (by hash) or a host name (router address book).

        Raises :class:`DestinationLookupError` when the router says it is not found or no
        answer came within ``timeout``, :class:`I2CPConnectionError` if the session is down.
        """
        core = self._live("look up a destination")
        try:
            rid = core.lookup(name, now=self._loop.time(), timeout=timeout)
        except InvalidStateError as exc:  # too many lookups pending
            raise self._error(I2CPError, f"cannot look up {name}: {exc}") from None
        fut = self._waiters.lookup(rid)
        self._process(core)
        what = f"lookup of {name} timed out"
        return await self._waiters.settle(fut, timeout + 5.0, DestinationLookupError, what)

    async def reconfigure(self, options: Mapping[str, str], *, timeout: float = 30.0) -> None:
        """Send ReconfigureSession with ``options`` merged into ours; wait for the answer.

        Raises :class:`SessionRefusedError` when the router rejects them, ``TimeoutError``-like
        :class:`I2CPConnectionError` after ``timeout``, ``ValueError`` for bad options.
        """
        core = self._live("reconfigure")
        try:
            core.reconfigure(options, now=self._loop.time())
        except InvalidStateError as exc:  # an earlier reconfiguration is still unanswered
            raise self._error(I2CPError, f"cannot reconfigure: {exc}") from None
        fut = self._waiters.reconfigure()
        self._process(core)
        what = "no answer to ReconfigureSession"
        await self._waiters.settle(fut, timeout, I2CPConnectionError, what)
        self._options.update(options)  # kept for reconnects only once the router took them

    async def wait_closed(self) -> None:
        """Wait until the current session has ended (for whatever reason)."""
        await asyncio.shield(self._ended)

    async def close(self, *, timeout: float = 5.0) -> None:
        """Destroy the session (frames queued before go first), close the connection, fail
        pending operations; all within ``timeout`` seconds, confirmed or not. Idempotent."""
        if self._closing:
            return
        self._closing = True
        deadline = self._loop.time() + max(0.0, timeout)
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
        core = self._core
        if core.state is SessionState.CREATED:
            core.destroy()
            self._process(core)
            try:
                await asyncio.wait_for(asyncio.shield(self._ended), timeout)
            except TimeoutError:
                log.debug("I2CP %s: no reply to DestroySession", self.router)
        if core.state is not SessionState.CLOSED:
            core.destroy()
            core.receive_eof()
            self._process(core)
        if self._link is not None:
            await self._link.drop(max(0.0, deadline - self._loop.time()))
        self._finish(self._error(I2CPConnectionError, "client closed"))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

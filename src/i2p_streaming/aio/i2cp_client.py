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

from i2p_streaming.aio.i2cp_types import (
    END_ERRORS,
    OutgoingPayload,
    ReconnectPolicy,
    SendResult,
    SessionEvent,
    SessionLost,
    SessionRestored,
)
from i2p_streaming.aio.i2cp_waiters import Waiters
from i2p_streaming.aio.pump import Pump
from i2p_streaming.data import Destination, PrivateKeys
from i2p_streaming.errors import (
    DestinationLookupError,
    I2CPConnectionError,
    I2CPError,
    InvalidStateError,
)
from i2p_streaming.i2cp import events as ev
from i2p_streaming.i2cp.session import I2CPSession, SessionState

__all__ = [
    "I2CPClient",
    "ReconnectPolicy",
    "SendResult",
    "SessionLost",
    "SessionRestored",
]

log = logging.getLogger("i2p_streaming.i2cp")

_READ_SIZE = 65536
_END = object()


class I2CPClient:
    """An I2CP session on a router. Create it with ``await I2CPClient.connect(...)``."""

    def __init__(
        self,
        host: str,
        port: int,
        keys: PrivateKeys,
        options: Mapping[str, str] | None,
        *,
        ssl: ssl_module.SSLContext | None,
        server_hostname: str | None,
        timeout: float,
        username: str | None,
        password: str | None,
        on_payload: Callable[[ev.PayloadReceived], None] | None,
        on_session_event: Callable[[SessionEvent], None] | None,
        receive_queue_size: int,
        max_write_buffer: int,
        reconnect: ReconnectPolicy | None,
    ) -> None:
        self.host = host
        self.port = port
        self.keys = keys
        self._options = dict(options or {})
        self._ssl = ssl
        self._server_hostname = server_hostname
        self.timeout = timeout
        self._username = username
        self._password = password
        self._on_payload = on_payload
        self._on_session_event = on_session_event
        self._queue_size = receive_queue_size
        self.max_write_buffer = max_write_buffer
        self._reconnect = reconnect
        self._loop = asyncio.get_running_loop()
        self._core = self._new_core()
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] = self._loop.create_future()
        self._ended: asyncio.Future[None] = self._loop.create_future()
        self._pump = Pump(self._loop, self._step, self._fire)
        self._waiters = Waiters(self._loop, self._error)
        self._received: asyncio.Queue[Any] = asyncio.Queue()
        self._closing = False
        self._final_error: I2CPError | None = None
        self.dropped_payloads = 0
        self.dropped_sends = 0
        #: Exceptions raised by the ``on_payload``/``on_session_event`` callbacks (each logged
        #: at ERROR with its traceback).
        self.callback_errors = 0

    # -- construction ------------------------------------------------------------------------

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
    ) -> I2CPClient:
        """Connect, create the session, and return once SessionStatus Created arrived AND the
        first CreateLeaseSet2 was sent (so ``send`` works at once).

        ``keys`` default to fresh Ed25519 keys. Payloads go to ``on_payload`` when given, else to
        a queue of ``receive_queue_size`` read by :meth:`receive` (when full, new payloads are
        dropped and counted in ``dropped_payloads``). Raises ``ValueError`` for bad options,
        :class:`I2CPConnectionError` (cannot connect, connection lost, or ``timeout`` seconds
        passed), :class:`SessionRefusedError` (the router refused the session) or
        :class:`I2CPProtocolError`.
        """
        self = cls(
            host,
            port,
            keys if keys is not None else PrivateKeys.generate(),
            options,
            ssl=ssl,
            server_hostname=server_hostname,
            timeout=timeout,
            username=username,
            password=password,
            on_payload=on_payload,
            on_session_event=on_session_event,
            receive_queue_size=receive_queue_size,
            max_write_buffer=max_write_buffer,
            reconnect=reconnect,
        )
        await self._open()
        return self

    def _new_core(self) -> I2CPSession:
        return I2CPSession(
            self.keys, self._options, username=self._username, password=self._password
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
    def is_connected(self) -> bool:
        """True while the session is established."""
        return self._core.state is SessionState.CREATED and self._ready.done()

    def _error(self, cls: type[I2CPError], what: str, reason: str = "") -> I2CPError:
        """``cls`` naming the router and our session."""
        return cls(
            f"I2CP router {self.router}, session {self.b32}: {what}",
            router=self.router,
            reason=reason or what,
        )

    async def _open(self) -> None:
        self._core = self._new_core()
        self._ready = self._loop.create_future()
        self._ended = self._loop.create_future()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    self.host, self.port, ssl=self._ssl, server_hostname=self._server_hostname
                ),
                self.timeout,
            )
        except (OSError, TimeoutError, ssl_module.SSLError) as exc:
            what = f"cannot connect: {exc or type(exc).__name__}"
            raise self._error(I2CPConnectionError, what) from exc
        self._writer = writer
        self._core.start()
        self._pump.run()
        self._reader_task = self._loop.create_task(self._read_loop(reader))
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), self.timeout)
        except TimeoutError:
            self._abort("no session and lease set within the timeout")
            raise self._error(
                I2CPConnectionError, f"session not ready within {self.timeout} s"
            ) from None
        except I2CPError:
            await self._drop_transport()
            raise
        log.info("I2CP session %s up on %s (id %s)", self.b32, self.router, self.session_id)

    # -- I/O plumbing ------------------------------------------------------------------------

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        core = self._core
        try:
            while core.state is not SessionState.CLOSED:
                try:
                    data = await reader.read(_READ_SIZE)
                except (OSError, ssl_module.SSLError) as exc:
                    log.debug("I2CP %s: read failed: %s", self.router, exc)
                    data = b""
                if not data:
                    core.receive_eof()
                else:
                    core.receive_data(data, self._loop.time())
                self._process(core)
        finally:
            if self._writer is not None and core is self._core:
                self._writer.close()

    def _step(self) -> float | None:
        """Pump step: write what the core queued (one write), dispatch its events."""
        core = self._core
        data = core.data_to_send()
        if data and self._writer is not None and not self._writer.is_closing():
            self._writer.write(data)
        while (event := core.next_event()) is not None:
            handler = _HANDLERS.get(type(event))
            if handler is not None:
                handler(self, event)
            else:
                log.debug("I2CP %s: %s", self.b32, event)
        return core.get_timer()

    def _fire(self, now: float) -> None:
        self._core.handle_timer(now)

    def _process(self, core: I2CPSession) -> None:
        if core is self._core:
            self._pump.run()

    def _on_lease_set(self, event: ev.LeaseSetCreated) -> None:
        if event.first and not self._ready.done():
            self._ready.set_result(None)

    def _on_send_status(self, event: ev.SendStatus) -> None:
        self._waiters.on_send_status(event)

    def _on_lookup_result(self, event: ev.LookupResult) -> None:
        self._waiters.on_lookup_result(event)

    def _on_reconfigured(self, event: ev.Reconfigured) -> None:
        self._waiters.on_reconfigured(event)

    def _on_dropped(self, event: ev.PayloadDropped) -> None:
        log.debug("I2CP %s: dropped payload %d: %s", self.b32, event.message_id, event.reason)

    def _on_violation(self, event: ev.ProtocolViolation | ev.UnknownMessageReceived) -> None:
        log.warning("I2CP router %s, session %s: %s", self.router, self.b32, event)

    def _deliver(self, event: ev.PayloadReceived) -> None:
        if self._on_payload is not None:
            try:
                self._on_payload(event)
            except Exception:
                self.callback_errors += 1
                log.exception("I2CP %s: payload callback failed", self.b32)
        elif self._received.qsize() >= self._queue_size:
            self.dropped_payloads += 1
        else:
            self._received.put_nowait(event)

    def _session_ended(self, event: ev.SessionEnded) -> None:
        was_ready = self._ready.done()
        error = self._error(END_ERRORS[event.reason], event.message, event.reason.value)
        log.info("I2CP session %s on %s ended: %s", self.b32, self.router, event.message)
        if not self._ready.done():
            self._ready.set_exception(error)
            self._ready.exception()  # mark retrieved; _open re-raises it
        if not self._ended.done():
            self._ended.set_result(None)
        self._waiters.fail_all(error)
        self._pump.cancel_timer()
        if self._writer is not None:
            self._writer.close()
        if self._closing or not was_ready:
            if self._closing:
                self._finish(error)
            return
        reconnecting = self._reconnect is not None
        self._notify(SessionLost(self.router, self.b32, event.message, reconnecting))
        if reconnecting:
            self._reconnect_task = self._loop.create_task(self._reconnect_loop())
        else:
            self._finish(error)

    def _finish(self, error: I2CPError) -> None:
        if self._final_error is None:
            self._final_error = error
            self._received.put_nowait(_END)
        if not self._ended.done():  # e.g. gave up reconnecting: no session will end again
            self._ended.set_result(None)

    def _notify(self, event: SessionEvent) -> None:
        if self._on_session_event is not None:
            try:
                self._on_session_event(event)
            except Exception:
                self.callback_errors += 1
                log.exception("I2CP %s: session event callback failed", self.b32)

    async def _reconnect_loop(self) -> None:
        policy = self._reconnect
        assert policy is not None
        delay = policy.initial_delay
        attempts = 0
        while not self._closing:
            await asyncio.sleep(delay)
            attempts += 1
            try:
                await self._open()
            except I2CPError as exc:
                log.info("I2CP %s: reconnect attempt %d failed: %s", self.b32, attempts, exc)
                if policy.max_attempts is not None and attempts >= policy.max_attempts:
                    what = f"gave up reconnecting after {attempts} attempts: {exc.reason}"
                    self._notify(SessionLost(self.router, self.b32, what, False))
                    self._finish(self._error(I2CPConnectionError, what))
                    return
                delay = min(delay * policy.factor, policy.max_delay)
                continue
            sid = self.session_id or 0
            self._notify(SessionRestored(self.router, self.b32, sid, attempts))
            return

    def _abort(self, reason: str) -> None:
        if self._core.state is not SessionState.CLOSED:
            self._core.destroy()
            self._core.receive_eof()
            self._process(self._core)
        if self._writer is not None:
            self._writer.close()

    async def _drop_transport(self) -> None:
        task = self._reader_task
        if self._writer is not None:
            self._writer.close()
        if task is not None and task is not asyncio.current_task():
            try:
                await asyncio.wait_for(asyncio.shield(task), 1.0)
            except TimeoutError:
                task.cancel()
            except asyncio.CancelledError:
                task.cancel()
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise  # our caller is being cancelled: never swallow that

    def _live(self, what: str) -> I2CPSession:
        core = self._core
        if core.state is not SessionState.CREATED or not self._ready.done():
            if self._final_error is not None:
                raise self._error(
                    type(self._final_error), f"cannot {what}: {self._final_error.reason}"
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
        await self._drain(timeout)
        try:
            return await asyncio.wait_for(fut, timeout + 5.0)
        except TimeoutError:
            self._waiters.forget_send(nonce)
            raise self._error(I2CPConnectionError, f"no status for send {nonce}") from None

    async def _drain(self, timeout: float) -> None:
        writer = self._writer
        if writer is None:
            return
        try:
            await asyncio.wait_for(writer.drain(), timeout)
        except TimeoutError:
            raise self._error(I2CPConnectionError, "the router does not read our data") from None
        except (OSError, ssl_module.SSLError) as exc:
            raise self._error(I2CPConnectionError, f"write failed: {exc}") from exc

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
        writer = self._writer
        if core.state is not SessionState.CREATED or writer is None or not self._ready.done():
            if self._final_error is not None or self._reconnect is None:
                self._live("send")
            self.dropped_sends += len(items)
            return 0
        if writer.transport.get_write_buffer_size() > self.max_write_buffer:
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
        writer.write(core.data_to_send())
        return len(items)

    async def receive(self, timeout: float | None = None) -> ev.PayloadReceived:
        """Wait for the next payload (protocol, ports, data).

        Raises ``TimeoutError`` after ``timeout`` seconds (None = wait forever), or the
        session's :class:`I2CPError` once it is closed for good and the queue is empty. Only
        used when no ``on_payload`` callback was given.
        """
        item = await asyncio.wait_for(self._received.get(), timeout)
        if item is _END:
            self._received.put_nowait(_END)
            assert self._final_error is not None
            raise self._final_error
        assert isinstance(item, ev.PayloadReceived)
        return item

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
        try:
            return await asyncio.wait_for(fut, timeout + 5.0)
        except TimeoutError:
            self._waiters.forget_lookup(rid)
            raise self._error(DestinationLookupError, f"lookup of {name} timed out") from None

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
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            self._waiters.forget_reconfigure()
            raise self._error(I2CPConnectionError, "no answer to ReconfigureSession") from None
        self._options.update(options)  # kept for reconnects only once the router took them

    async def wait_closed(self) -> None:
        """Wait until the current session has ended (for whatever reason)."""
        await asyncio.shield(self._ended)

    async def close(self, *, timeout: float = 5.0) -> None:
        """Destroy the session, close the connection, fail pending operations. Idempotent."""
        if self._closing:
            return
        self._closing = True
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
        await self._drop_transport()
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


_HANDLERS: dict[type[ev.Event], Callable[[I2CPClient, Any], None]] = {
    ev.PayloadReceived: I2CPClient._deliver,
    ev.SendStatus: I2CPClient._on_send_status,
    ev.LookupResult: I2CPClient._on_lookup_result,
    ev.LeaseSetCreated: I2CPClient._on_lease_set,
    ev.Reconfigured: I2CPClient._on_reconfigured,
    ev.SessionEnded: I2CPClient._session_ended,
    ev.PayloadDropped: I2CPClient._on_dropped,
    ev.ProtocolViolation: I2CPClient._on_violation,
    ev.UnknownMessageReceived: I2CPClient._on_violation,
}

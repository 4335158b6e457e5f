"""i2pd's own streaming as the peer of ours: SAM-side workers run in threads, plus probes.

The SAM client (tests/support/sam.py) is blocking, so every SAM-side role here runs in a daemon
thread (:class:`PeerThread`); the asyncio test waits for it with :meth:`PeerThread.wait`,
which joins in a worker thread and re-raises whatever the SAM side raised.

:func:`record_events` taps one of our sessions' StreamManager (while in its block) so a test
can assert which streaming events (PeerClosed, ConnectionClosed, ConnectionReset, ...) a stream
went through.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from i2p_streaming.aio import Session
from i2p_streaming.streaming import Event
from tests.support.sam import SAMSession

__all__ = [
    "EchoResult",
    "PeerThread",
    "echo_once",
    "events_of",
    "exchange",
    "record_events",
    "session_report",
    "sink_once",
    "source_once",
]

T = TypeVar("T")
CHUNK = 65536


class PeerThread(Generic[T]):
    """Run ``target()`` in a daemon thread; keep its result or its exception."""

    def __init__(self, name: str, target: Callable[[], T]) -> None:
        self._target = target
        self._result: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            self._result = self._target()
        except BaseException as exc:  # handed to the waiting test
            self._error = exc

    def start(self) -> PeerThread[T]:
        """Start the thread; returns self."""
        self._thread.start()
        return self

    def join(self, timeout: float) -> T:
        """Wait up to ``timeout`` s; return the result, re-raise the thread's exception, or
        raise ``TimeoutError`` if it is still running."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"SAM peer thread {self._thread.name} still running")
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]

    async def wait(self, timeout: float) -> T:
        """:meth:`join` without blocking the event loop."""
        return await asyncio.to_thread(self.join, timeout)


@dataclass(frozen=True, slots=True)
class EchoResult:
    """What the SAM echo acceptor saw: the peer's destination (base64) and the bytes echoed."""

    peer: str
    echoed: int
    sha256: str


def echo_once(session: SAMSession, *, timeout: float = 120.0) -> EchoResult:
    """STREAM ACCEPT one stream on ``session``, echo every byte until the peer's EOF (its
    CLOSE), then close our socket (i2pd then closes the stream). Blocking; run it in a
    :class:`PeerThread` started before the peer connects."""
    sock, peer = session.accept(timeout=timeout)
    digest = hashlib.sha256()
    echoed = 0
    with sock:
        while chunk := sock.recv(CHUNK):
            sock.sendall(chunk)
            digest.update(chunk)
            echoed += len(chunk)
    return EchoResult(peer, echoed, digest.hexdigest())


def sink_once(session: SAMSession, *, timeout: float = 120.0) -> tuple[int, str]:
    """STREAM ACCEPT one stream and read it to EOF; returns (bytes read, sha256 hex)."""
    sock, _ = session.accept(timeout=timeout)
    digest = hashlib.sha256()
    n = 0
    with sock:
        while chunk := sock.recv(CHUNK):
            digest.update(chunk)
            n += len(chunk)
    return n, digest.hexdigest()


def source_once(session: SAMSession, data: bytes, *, timeout: float = 120.0) -> str:
    """STREAM ACCEPT one stream, send ``data``, then close our socket (i2pd sends CLOSE after
    the data). Returns the peer's destination (base64)."""
    sock, peer = session.accept(timeout=timeout)
    with sock:
        sock.sendall(data)
    return peer


def exchange(
    session: SAMSession, dest: str, port: int, data: bytes, *, timeout: float = 120.0
) -> bytes:
    """STREAM CONNECT to ``dest``:``port``; send ``data`` (in a second thread) while reading
    ``len(data)`` bytes back, then close the socket (i2pd then sends CLOSE). Returns the bytes
    read.

    SAM has no half-close (i2pd ends the whole stream when the client shuts down its write
    side), so the reader stops after ``len(data)`` bytes. Raises SAMError / OSError /
    TimeoutError from the SAM side, ``ConnectionError`` on an early EOF."""
    sock = session.connect(dest, port=port, timeout=timeout)
    with sock:
        sender = PeerThread("sam-sender", lambda: sock.sendall(data)).start()
        received = bytearray()
        while len(received) < len(data):
            chunk = sock.recv(min(CHUNK, len(data) - len(received)))
            if not chunk:
                raise ConnectionError(
                    f"SAM stream ended after {len(received)} of {len(data)} echoed bytes"
                )
            received += chunk
        sender.join(timeout)
    return bytes(received)


@contextlib.contextmanager
def record_events(session: Session) -> Iterator[list[Event]]:
    """While in the block, tap ``session.manager.next_event``: every event it hands out is
    appended to the list given (test instrumentation; the session still gets every event)."""
    manager = session.manager
    original = manager.next_event
    seen: list[Event] = []

    def next_event() -> Event | None:
        event = original()
        if event is not None:
            seen.append(event)
        return event

    manager.next_event = next_event  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        manager.next_event = original  # type: ignore[method-assign]


def events_of(events: list[Event], stream_id: int) -> list[str]:
    """Names of the events for ``stream_id``, in order."""
    return [type(e).__name__ for e in events if getattr(e, "stream_id", None) == stream_id]


def session_report(session: Session, log_tail: str = "") -> str:
    """Diagnostics for an assertion message: core counters, last error, i2pd log tail."""
    manager = session.manager
    return f"counters={manager.counters} internal_errors={manager.internal_errors}" + (
        f"\n--- i2pd log tail ---\n{log_tail}" if log_tail else ""
    )

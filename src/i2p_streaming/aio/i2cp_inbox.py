"""Where the asyncio I2CP client puts received payloads: a callback, or a bounded queue."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from i2p_streaming.errors import I2CPError
from i2p_streaming.i2cp import events as ev

__all__ = ["Inbox"]

log = logging.getLogger("i2p_streaming.i2cp")


class Inbox:
    """Payloads go to ``on_payload`` when given (its exceptions are logged at ERROR with the
    traceback and counted in ``callback_errors``), else to a queue of at most ``size`` read by
    :meth:`receive` (beyond it new payloads are dropped and counted in ``dropped``)."""

    def __init__(
        self, name: str, on_payload: Callable[[ev.PayloadReceived], None] | None, size: int
    ) -> None:
        self._name = name
        self._on_payload = on_payload
        self._size = size
        self._queue: asyncio.Queue[ev.PayloadReceived | None] = asyncio.Queue()
        self._error: I2CPError | None = None
        self.dropped = 0
        self.callback_errors = 0

    @property
    def error(self) -> I2CPError | None:
        """Why the inbox was closed, or None while it is open."""
        return self._error

    def deliver(self, event: ev.PayloadReceived) -> None:
        """Hand one payload to the callback or the queue."""
        if self._on_payload is not None:
            try:
                self._on_payload(event)
            except Exception:
                self.callback_errors += 1
                log.exception("I2CP %s: payload callback failed", self._name)
        elif self._queue.qsize() >= self._size:
            self.dropped += 1
        else:
            self._queue.put_nowait(event)

    def dropped_by_core(self, event: ev.PayloadDropped) -> None:
        """The core dropped a payload it could not unwrap (counted there): log it."""
        log.debug("I2CP %s: dropped payload %d: %s", self._name, event.message_id, event.reason)

    def close(self, error: I2CPError) -> None:
        """No more payloads will come: :meth:`receive` raises ``error`` once the queue is
        empty. Only the first call counts."""
        if self._error is None:
            self._error = error
            self._queue.put_nowait(None)

    async def receive(self, timeout: float | None) -> ev.PayloadReceived:
        """The next queued payload; ``TimeoutError`` after ``timeout`` seconds, or the close
        error once closed and empty."""
        item = await asyncio.wait_for(self._queue.get(), timeout)
        if item is None:
            self._queue.put_nowait(None)
            assert self._error is not None
            raise self._error
        return item

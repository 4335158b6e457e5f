"""The futures of the asyncio I2CP client's requests, resolved from the core's events.

One :class:`Waiters` per client: a future per send awaiting its status (by nonce), per lookup
(by request id) and for the one pending reconfiguration. The client registers a future when it
makes a request and hands the matching events here; :meth:`Waiters.fail_all` fails every
pending one when the session ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from i2p_streaming.aio.i2cp_types import SendResult
from i2p_streaming.data import Destination
from i2p_streaming.errors import DestinationLookupError, I2CPError, SessionRefusedError
from i2p_streaming.i2cp import events as ev

__all__ = ["ErrorFactory", "Waiters"]

_T = TypeVar("_T")

#: Builds an error naming the router and the session: ``(class, what, reason)``.
ErrorFactory = Callable[[type[I2CPError], str, str], I2CPError]


class Waiters:
    """Pending request futures of one client (bounded by the core's ``max_pending``)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, error: ErrorFactory) -> None:
        self._loop = loop
        self._error = error
        self._sends: dict[int, asyncio.Future[SendResult]] = {}
        self._lookups: dict[int, asyncio.Future[Destination]] = {}
        self._reconfigure: asyncio.Future[None] | None = None

    # -- registration --------------------------------------------------------------------------

    def send(self, nonce: int) -> asyncio.Future[SendResult]:
        """A future for the final status of the send with ``nonce``."""
        fut: asyncio.Future[SendResult] = self._loop.create_future()
        self._sends[nonce] = fut
        return fut

    def lookup(self, request_id: int) -> asyncio.Future[Destination]:
        """A future for the answer to lookup ``request_id``."""
        fut: asyncio.Future[Destination] = self._loop.create_future()
        self._lookups[request_id] = fut
        return fut

    def reconfigure(self) -> asyncio.Future[None]:
        """A future for the answer to the pending ReconfigureSession."""
        fut: asyncio.Future[None] = self._loop.create_future()
        self._reconfigure = fut
        return fut

    async def settle(
        self, fut: asyncio.Future[_T], timeout: float, error: type[I2CPError], what: str
    ) -> _T:
        """Wait for ``fut`` (one of ours); after ``timeout`` forget it and raise ``error``."""
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            self._forget(fut)
            raise self._error(error, what, "") from None

    def _forget(self, fut: asyncio.Future[Any]) -> None:
        for table in (self._sends, self._lookups):
            for key, value in list(table.items()):
                if value is fut:
                    del table[key]
        if self._reconfigure is fut:
            self._reconfigure = None

    # -- resolution from core events ---------------------------------------------------------

    def on_send_status(self, event: ev.SendStatus) -> None:
        """Resolve the send's future with its final status (intermediate ones are ignored)."""
        if not event.final:
            return
        fut = self._sends.pop(event.nonce, None)
        if fut is not None and not fut.done():
            fut.set_result(SendResult(event.nonce, event.outcome, event.status, event.reason))

    def on_lookup_result(self, event: ev.LookupResult) -> None:
        """Resolve the lookup's future: the Destination, or :class:`DestinationLookupError`."""
        fut = self._lookups.pop(event.request_id, None)
        if fut is None or fut.done():
            return
        if event.destination is not None:
            fut.set_result(event.destination)
        else:
            what = f"lookup of {event.name} failed: {event.reason}"
            fut.set_exception(self._error(DestinationLookupError, what, event.reason))

    def on_reconfigured(self, event: ev.Reconfigured) -> None:
        """Resolve the reconfiguration: done, or :class:`SessionRefusedError`."""
        waiter, self._reconfigure = self._reconfigure, None
        if waiter is None or waiter.done():
            return
        if event.ok:
            waiter.set_result(None)
        else:
            what = f"the router rejected the new options: {event.reason}"
            waiter.set_exception(self._error(SessionRefusedError, what, ""))

    def fail_all(self, error: I2CPError) -> None:
        """Fail every pending future with ``error`` (the session ended)."""
        waiters: list[asyncio.Future[Any]] = [*self._sends.values(), *self._lookups.values()]
        if self._reconfigure is not None:
            waiters.append(self._reconfigure)
        self._sends.clear()
        self._lookups.clear()
        self._reconfigure = None
        for fut in waiters:
            if not fut.done():
                fut.set_exception(error)

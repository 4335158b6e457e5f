"""The ping(8)-like loop behind :meth:`Session.ping <i2p_streaming.aio.session.Session.ping>`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from i2p_streaming.aio.streams import StreamTable
from i2p_streaming.data import Destination
from i2p_streaming.streaming import StreamManager

__all__ = ["Pings"]


class Pings:
    """Queues signed ECHOs in the session's manager and waits for the first pong.

    It holds the session's parts it calls (never writes their attributes): the manager that
    queues a ping, the table that maps ping ids to the future, and ``run_pump`` that sends
    what the manager queued."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        manager: StreamManager,
        table: StreamTable,
        run_pump: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._manager = manager
        self._table = table
        self._run_pump = run_pump

    async def run(
        self,
        destination: Destination,
        deadline: float,
        timeout: float,
        count: int | None,
        every: float,
    ) -> float:
        """Queue a ping every ``every`` seconds (at most ``count``) until one is answered or
        ``deadline`` (loop time) passes; the RTT of the first pong, or ``TimeoutError``
        naming the destination and how many pings went unanswered."""
        loop = self._loop
        fut: asyncio.Future[float] = loop.create_future()
        sent: list[int] = []
        try:
            while (remaining := deadline - loop.time()) > 0:
                if count is None or len(sent) < count:
                    ping_id = self._manager.ping(destination, loop.time(), remaining)
                    sent.append(ping_id)
                    self._table.ping(ping_id, fut)
                    self._run_pump()
                last = count is not None and len(sent) >= count
                await asyncio.wait([fut], timeout=remaining if last else min(every, remaining))
                if fut.done():
                    if isinstance(fut.exception(), TimeoutError):
                        break  # the core's timeout of a ping: the deadline is here
                    return fut.result()  # the RTT, or the session's end raised
        finally:
            for ping_id in sent:
                self._table.stop_ping(ping_id)
        n = len(sent)
        raise TimeoutError(
            f"no answer from {destination.b32} to {n} ping{'s' if n != 1 else ''} "
            f"within {timeout:g} s"
        )

"""The one asyncio pump that drives a sans-I/O core: a coalesced flush and one timer.

Both asyncio shells use it: the I2CP client (over :class:`~i2p_streaming.i2cp.I2CPSession`) and
the streaming session (over :class:`~i2p_streaming.streaming.StreamManager`). The shell gives
it two callables:

- ``step()``: take the core's output (bytes or packets, written to the socket in ONE write),
  dispatch its events, and return its next deadline (``get_timer()``);
- ``on_timer(now)``: feed the timer to the core (``handle_timer(now)``).

:meth:`Pump.schedule` asks for one :meth:`Pump.run` at the end of this loop iteration, however
often it is called (a burst of inputs gets one flush, hence one socket write);
:meth:`Pump.run` runs ``step`` at once and re-arms the single ``loop.call_at`` timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["Pump"]


class Pump:
    """Flush a core once per loop iteration and keep one timer at its next deadline."""

    __slots__ = ("_loop", "_on_timer", "_scheduled", "_step", "_stopped", "_timer", "_timer_at")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        step: Callable[[], float | None],
        on_timer: Callable[[float], None],
    ) -> None:
        self._loop = loop
        self._step = step
        self._on_timer = on_timer
        self._scheduled = False
        self._stopped = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None

    @property
    def timer_at(self) -> float | None:
        """When the armed timer fires (loop time), or None."""
        return self._timer_at

    def schedule(self) -> None:
        """Run :meth:`run` once at the end of this loop iteration (idempotent until it ran)."""
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.run)

    def run(self) -> None:
        """Run ``step`` now and re-arm the timer at the deadline it returns."""
        self._scheduled = False
        deadline = self._step()
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = None
        if deadline is not None and not self._stopped:
            self._timer_at = deadline
            self._timer = self._loop.call_at(deadline, self._fire)

    def cancel_timer(self) -> None:
        """Cancel the armed timer (the next :meth:`run` arms a new one)."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = None, None

    def stop(self) -> None:
        """Cancel the timer and never arm it again (``run`` still flushes)."""
        self._stopped = True
        self.cancel_timer()

    def _fire(self) -> None:
        self._timer, self._timer_at = None, None
        self._on_timer(self._loop.time())
        self.run()

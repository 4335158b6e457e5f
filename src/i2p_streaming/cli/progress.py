"""A dependency-free progress display for long transfers.

On a terminal: one ``\\r``-redrawn line (a bar, percent, bytes, rate), at most ten times a
second, ended by a newline at :meth:`Progress.done`. Anywhere else (a pipe, a CI log): a
plain line at every tenth of the way, or every ``interval`` seconds when the end is a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["Progress", "human_bytes", "human_rate"]

BAR_WIDTH = 24


def human_bytes(n: float) -> str:
    """``n`` bytes in kB/MB/GB (powers of 1000), two decimals above a kB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{int(n)} B"


def human_rate(bytes_per_second: float) -> str:
    """A rate in kB/s or MB/s and in Mbit/s."""
    return f"{human_bytes(bytes_per_second)}/s ({bytes_per_second * 8 / 1e6:.2f} Mbit/s)"


class Progress:
    """Progress of one transfer named ``label``, ``total`` bytes and/or ``duration`` seconds
    long (the first reached ends it; neither: only bytes and rate are shown). ``clock`` is a
    monotonic clock (tests pass their own)."""

    def __init__(
        self,
        label: str,
        out: TextIO,
        *,
        total: int | None = None,
        duration: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._label = label
        self._out = out
        self._total = total
        self._duration = duration
        self._clock = time.monotonic if clock is None else clock
        self._start = self._now()
        self._tty = out.isatty()
        self._last_draw = -1.0
        self._step = -1
        self._drawn = False

    def _now(self) -> float:
        return self._clock()

    def _fraction(self, done: int, elapsed: float) -> float | None:
        parts = []
        if self._total:
            parts.append(done / self._total)
        if self._duration:
            parts.append(elapsed / self._duration)
        return min(1.0, max(parts)) if parts else None

    def update(self, done: int) -> None:
        """``done`` bytes so far; redraws when it is time to."""
        now = self._now()
        elapsed = now - self._start
        frac = self._fraction(done, elapsed)
        if self._tty:
            if now - self._last_draw < 0.1:
                return
        else:
            step = int(frac * 10) if frac is not None else int(elapsed)
            if step == self._step:
                return
            self._step = step
        self._last_draw = now
        self._draw(done, elapsed, frac)

    def done(self, done: int) -> None:
        """The transfer ended with ``done`` bytes: the final line."""
        elapsed = self._now() - self._start
        if self._tty or self._step != 10:
            self._draw(done, elapsed, 1.0 if self._fraction(done, elapsed) is not None else None)
        if self._tty and self._drawn:
            self._out.write("\n")
            self._out.flush()

    def _draw(self, done: int, elapsed: float, frac: float | None) -> None:
        rate = done / elapsed if elapsed > 0 else 0.0
        if frac is None:
            head = f"{self._label}"
        else:
            bar = "#" * int(frac * BAR_WIDTH)
            head = f"{self._label} [{bar:<{BAR_WIDTH}}] {frac * 100:5.1f}%"
        text = f"{head}  {human_bytes(done)}  {human_bytes(rate)}/s  {elapsed:.1f} s"
        if self._tty:
            self._out.write(f"\r{text}\x1b[K")
        else:
            self._out.write(text + "\n")
        self._out.flush()
        self._drawn = True

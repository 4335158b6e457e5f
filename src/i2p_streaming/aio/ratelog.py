"""Warnings about the router's misbehaviour, rate-limited: a flood logs a handful of lines.

The first warning of a kind is logged at once; later ones of that kind within ``interval``
seconds are only counted, and the next one logged after the interval says how many were
suppressed since. The shell passes the loop's clock."""

from __future__ import annotations

import logging

__all__ = ["RateLimitedLog"]

#: At most this many kinds are remembered (the oldest is forgotten first).
MAX_KINDS = 64


class RateLimitedLog:
    """At most one WARNING per kind and ``interval`` seconds, with a count of the rest."""

    __slots__ = ("_interval", "_kinds", "_log", "total")

    def __init__(self, log: logging.Logger, interval: float = 60.0) -> None:
        self._log = log
        self._interval = interval
        self._kinds: dict[object, tuple[float, int]] = {}  # kind -> (last logged, suppressed)
        #: Every warning seen, logged or not.
        self.total = 0

    def warning(self, kind: object, now: float, fmt: str, *args: object) -> bool:
        """Log ``fmt % args`` at WARNING unless one of ``kind`` was logged within the
        interval (then only count it); returns whether it was logged."""
        self.total += 1
        entry = self._kinds.get(kind)
        if entry is not None and now - entry[0] < self._interval:
            self._kinds[kind] = (entry[0], entry[1] + 1)
            return False
        suppressed = 0 if entry is None else entry[1]
        if entry is None and len(self._kinds) >= MAX_KINDS:
            del self._kinds[next(iter(self._kinds))]
        self._kinds[kind] = (now, 0)
        if suppressed:
            fmt += " (%d more like it in the last %.0f s)"
            args = (*args, suppressed, now - entry[0] if entry is not None else 0.0)
        self._log.warning(fmt, *args)
        return True

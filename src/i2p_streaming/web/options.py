"""Stream options for HTTP: send each write at once instead of waiting to fill a packet.

The default (bulk) profile holds a partial packet behind unacknowledged data until that is
acked or ``passive_flush_delay`` (175 ms, Java's passive flush) has passed (Nagle's rule), so
the second piece of a response written in two can wait up to a round trip.
:func:`web_stream_options` is the bulk profile (full window) with that wait removed.
The clients of this package use it for the streams they open; a server's accepted streams
have its session's options, so create a web server's session with
``create_session(..., options=web_stream_options())``.
"""

from __future__ import annotations

import dataclasses
import logging

from i2p_streaming.streaming import StreamOptions

__all__ = ["holds_partial_packets", "warn_if_slow", "web_stream_options"]

log = logging.getLogger("i2p_streaming.web")


def web_stream_options(base: StreamOptions | None = None) -> StreamOptions:
    """``base`` (default: the defaults) with ``passive_flush_delay`` 0: every write is sent
    at once, whole packets as before, in the full bulk window."""
    return dataclasses.replace(base or StreamOptions(), passive_flush_delay=0.0)


def holds_partial_packets(options: StreamOptions) -> bool:
    """True if streams with ``options`` delay partial packets (bulk, flush delay > 0)."""
    return not options.interactive and options.passive_flush_delay > 0


def warn_if_slow(options: StreamOptions, what: str) -> None:
    """Log (INFO) once per server that its responses may wait for the passive flush."""
    if holds_partial_packets(options):
        log.info(
            "%s: the session delays partial packets behind data in flight up to %g ms "
            "(bulk profile); options=web_stream_options() sends every write at once",
            what,
            options.passive_flush_delay * 1000,
        )

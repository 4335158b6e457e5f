"""The two sending profiles (``i2p.streaming.profile``, Java's 1 = bulk, 2 = interactive).

========================  =======================================  ==========================
                          bulk (1, default)                        interactive (2)
========================  =======================================  ==========================
small writes              coalesced (Nagle): a write goes at once  sent at once, one packet
                          when nothing is in flight; a packet      per write (as the window
                          smaller than the MTU behind unacked      allows)
                          data waits for its ACK, at most
                          ``passive_flush_delay`` (175 ms, Java's
                          passive flush); full packets, CLOSE and
                          data queued behind the window go at once
ACK requests              DELAY=0 only when the window is nearly   DELAY=0 on every data
                          full or nothing follows (Java)           packet (ack at once)
window                    up to ``maxWindowSize`` (128)            at most
                                                                   :data:`INTERACTIVE_MAX_WINDOW`
                                                                   (8) packets: little queueing
SYN flag                  --                                       Flags.PROFILE_INTERACTIVE
                                                                   in our SYN / SYN reply
========================  =======================================  ==========================

Receivers ignore the peer's PROFILE_INTERACTIVE flag (as Java and i2pd do); only the local
setting changes how we send.
"""

from __future__ import annotations

from i2p_streaming.streaming.options import StreamOptions

__all__ = ["INTERACTIVE_MAX_WINDOW", "Coalescer", "max_window"]

#: Largest send window of the interactive profile, packets.
INTERACTIVE_MAX_WINDOW = 8


def max_window(options: StreamOptions) -> int:
    """The send-window ceiling for ``options`` (the profile caps interactive streams)."""
    if options.interactive:
        return min(options.max_window_size, INTERACTIVE_MAX_WINDOW)
    return options.max_window_size


class Coalescer:
    """Bulk profile's passive flush: when was the oldest unsent partial packet written?

    ``flush_at`` is the time a partial packet may go (None: it may go now). It is set when bytes
    arrive in an empty send buffer and cleared when it passes (:meth:`expire`).
    """

    __slots__ = ("delay", "flush_at")

    def __init__(self, options: StreamOptions) -> None:
        self.delay = 0.0 if options.interactive else options.passive_flush_delay
        self.flush_at: float | None = None

    def on_write(self, buffered_before: int, now: float) -> None:
        """Bytes were added to a send buffer that held ``buffered_before`` bytes."""
        if self.delay and not buffered_before:
            self.flush_at = now + self.delay

    def hold(self, now: float) -> bool:
        """True while a partial packet should wait for more bytes."""
        return self.flush_at is not None and now < self.flush_at

    def expire(self, now: float) -> bool:
        """Clear a passed deadline; True if it did pass (the connection should flush)."""
        if self.flush_at is not None and now >= self.flush_at:
            self.flush_at = None
            return True
        return False

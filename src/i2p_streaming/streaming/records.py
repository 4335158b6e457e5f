"""The records every part of a stream shares: its lifecycle :class:`State`, the
:class:`OutgoingPacket` handed to the shell, the :class:`StreamStats` snapshot, and
:class:`SentPacket`, one packet of ours awaiting its ack. Nothing here imports another
module of the core."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from i2p_streaming.data import Destination

__all__ = ["OutgoingPacket", "SentPacket", "State", "StreamStats"]


class State(IntEnum):
    """Lifecycle of a connection."""

    CONNECTING = 1  #: initiator, SYN sent, no verified SYN reply yet
    OPEN = 2  #: data may flow (either side may have half-closed)
    TIME_WAIT = 3  #: both CLOSEs done; still acks retransmissions for ``time_wait``
    DEAD = 4  #: ended; the manager forgets it


@dataclass(frozen=True, slots=True)
class OutgoingPacket:
    """One streaming packet for the shell to wrap (gzip header, protocol 6) and send.

    ``want_status`` is True only for the initiator's first SYN (ask the router for a delivery
    status, B.16); ``is_syn`` marks SYN / SYN-reply packets (allow LeaseSet bundling, compress).
    """

    destination: Destination
    src_port: int
    dst_port: int
    data: bytes
    want_status: bool = False
    is_syn: bool = False


@dataclass(frozen=True, slots=True)
class StreamStats:
    """A snapshot of one stream's counters (``manager.stats(stream_id)``)."""

    stream_id: int
    peer_stream_id: int
    state: State
    rtt: float | None
    rto: float
    window: int
    mtu: int
    bytes_sent: int
    bytes_received: int
    packets_sent: int
    packets_received: int
    packets_retransmitted: int
    packets_dropped: int
    unacked: int
    send_buffered: int
    #: bytes held for the application (unread + out of order) and the most ever held
    receive_buffered: int = 0
    receive_peak: int = 0
    #: we choke the peer (our receive buffer is full) / the peer chokes us
    choking: bool = False
    choked: bool = False


class SentPacket:
    """A packet we sent (or will send) that needs an ack; re-encoded at every transmission.

    Held by the send path (``sending.SendPath``); ``sends``, ``nacks`` and the times change
    only through :meth:`transmitted`, :meth:`reported_missing` and :meth:`mark_fast`."""

    __slots__ = (
        "fast",
        "first_sent",
        "flags",
        "last_sent",
        "nacks",
        "order",
        "payload",
        "sends",
        "seq",
    )

    def __init__(self, seq: int, flags: int, payload: bytes) -> None:
        self.seq = seq
        self.flags = flags
        self.payload = payload
        self.first_sent = 0.0
        self.last_sent = 0.0
        self.sends = 0
        self.nacks = 0
        self.fast = False
        self.order = 0  # the stream's transmission count at the latest copy (wire order)

    def transmitted(self, now: float, order: int = 0) -> bool:
        """One more copy went out at ``now``, as the stream's ``order``-th transmission; True
        for the first. A resend clears the NACK count: only later NACKs can show that this
        copy was lost too."""
        self.sends += 1
        self.last_sent = now
        self.order = order
        if self.sends == 1:
            self.first_sent = now
            return True
        self.nacks = 0
        return False

    def reported_missing(self) -> None:
        """The peer NACKed it (its latest copy may still be on the way: ``loss.py`` decides
        when it is lost)."""
        self.nacks += 1

    def mark_fast(self) -> bool:
        """Mark it fast-retransmitted; True if it was not already."""
        first = not self.fast
        self.fast = True
        return first

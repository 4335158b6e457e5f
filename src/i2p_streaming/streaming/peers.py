"""Congestion state shared by the streams of one manager to one peer (RFC 8699 coupling,
RFC 2140 ensemble sharing).

Parallel streams to one destination cross the same tunnels and queues. Each with its own
controller and RTT estimator, 100 of them slow-start at once (100 x 16 packets before any
of them sees the queue), and the queueing delay grows faster than each stream's RTO adapts
from its own few samples: spurious timeouts, and a stream that timed out falls behind the
others (issue 12). So the streams of one manager to one peer (with the same controller
name, window ceiling and initial RTO) share one :class:`PeerShare`:

* one RTT estimator, fed by every stream's samples, so the RTO follows the queue;
* one controller for the aggregate window: its ceiling is the per-stream ceiling times
  the number of *busy* streams (those with packets awaiting an ack; a stream whose only
  packet in flight is its lone CLOSE is not busy: it needs no share of the window, and a
  Java peer that closed first acks that CLOSE only when it comes again, ``sendtimer.py``),
  its slow start ends on
  the aggregate's queueing signal, and each busy stream may have
  ``ceil(aggregate / busy)`` packets in flight (at least 1, at most the per-stream
  ceiling), so equal streams progress equally.

A lone stream's share is exactly its own controller, as before. The manager owns one
:class:`PeerTable`; it hands a connection its share through the constructor and releases
it when the stream ends. A share never touches a connection: the send path calls down
into it (:meth:`PeerShare.sent`, :meth:`PeerShare.acked`, :meth:`PeerShare.full`, ...).
"""

from __future__ import annotations

from i2p_streaming.streaming.congestion import CongestionController, create_controller
from i2p_streaming.streaming.options import StreamOptions
from i2p_streaming.streaming.profiles import max_window
from i2p_streaming.streaming.rto import RttEstimator
from i2p_streaming.streaming.tcb import MAX_WINDOW, TcbEntry

__all__ = ["PeerShare", "PeerTable"]

_Key = tuple[bytes, str, int, float]


class PeerShare:
    """RTT estimator and aggregate congestion controller of the streams to one peer."""

    __slots__ = (
        "_busy",
        "_cut",
        "_inflight",
        "_last_ack",
        "_top",
        "_undoable",
        "_users",
        "cc",
        "rtt",
        "seeded",
    )

    def __init__(self, options: StreamOptions, seed: TcbEntry | None = None) -> None:
        self.rtt = RttEstimator(options.initial_rto)
        top = max_window(options)
        window = min(options.initial_window_size, top)
        if seed is not None:
            self.rtt.seed(seed.rtt, seed.rttvar)
            window = max(1, min(seed.window, MAX_WINDOW, top))
        self.seeded = seed is not None
        self._top = top
        self.cc: CongestionController = create_controller(options.congestion_control, window, top)
        self._busy: set[int] = set()
        self._users = 0  # streams holding this share
        self._last_ack = -1.0  # when any of the streams last had new data acked
        self._cut = -1.0  # when a stream's timeout last counted as a loss
        self._undoable = False  # the latest timeout cut the window (undone if spurious)
        self._inflight = 0  # packets of all the streams awaiting an ack

    def join(self) -> None:
        """One more stream holds this share."""
        self._users += 1

    def leave(self, stream_id: int, outstanding: int) -> bool:
        """The stream ended with ``outstanding`` packets still in flight and leaves; True
        when no stream holds the share any more."""
        self.gone(stream_id, outstanding, True)
        self._users -= 1
        return self._users <= 0

    @property
    def busy_streams(self) -> int:
        return len(self._busy)

    def window(self) -> int:
        """Packets one busy stream may have in flight: its share of the aggregate."""
        n = len(self._busy)
        w = self.cc.window
        if n > 1:
            w = -(-w // n)
            if w > self._top:
                w = self._top
        return w

    def full(self, own: int) -> bool:
        """True when a busy stream with ``own`` packets in flight must not send another: it
        has its floor share and the aggregate window is used up (so a window growing by one
        packet lets one stream send one more, not every stream)."""
        n = len(self._busy)
        if n <= 1:
            return False  # the caller's limit is the window itself
        w = self.cc.window
        return own >= w // n and self._inflight >= w

    def sent(self, stream_id: int, first: bool) -> None:
        """The stream queued a new packet (``first``: it had nothing in flight, and the
        packet is not its lone CLOSE: the stream becomes busy)."""
        self._inflight += 1
        if first:
            self._busy.add(stream_id)
            n = len(self._busy)
            self.cc.set_max_window(self._top * n, n)

    def acked(self, stream_id: int, count: int, empty: bool, now: float) -> None:
        """``count`` of the stream's packets were acked (``empty``: none left in flight)."""
        self._last_ack = now
        self.gone(stream_id, count, empty)

    def gone(self, stream_id: int, count: int, empty: bool) -> None:
        """``count`` of the stream's packets left flight (acked, abandoned, or it ended)."""
        self._inflight -= count
        if self._inflight < 0:
            self._inflight = 0
        if empty and stream_id in self._busy:
            self._busy.discard(stream_id)
            n = max(1, len(self._busy))
            self.cc.set_max_window(self._top * n, n)

    def on_timeout(self, now: float) -> None:
        """A stream's retransmission timer expired. While another stream to the peer had new
        data acked within the RTO the path delivers: one stream's timeout (a lost tail, a
        lost resend) counts as a loss, which cuts the aggregate only when the controller
        confirms congestion; otherwise the aggregate restarts from one packet."""
        if len(self._busy) > 1 and now - self._last_ack < self.rtt.rto:
            self.cc.on_loss(1, now)
            if now - self._cut >= self.rtt.srtt:
                self._cut = now  # many streams timing out together: one cut per RTT
                self.cc.on_fast_retransmit(now, 1)
        else:
            self.cc.on_timeout(now)
            self._undoable = True

    def on_spurious_timeout(self) -> None:
        """The acks after a stream's timeout were for the copies sent before it: the
        controller may undo that timeout's cut (once)."""
        if self._undoable:
            self._undoable = False
            self.cc.on_spurious_timeout()

    @property
    def shared(self) -> bool:
        """True while more than one stream holds this share."""
        return self._users > 1


class PeerTable:
    """The shares of one manager, keyed by peer (and the options that shape a controller);
    a share lives while a stream holds it."""

    __slots__ = ("_shares",)

    def __init__(self) -> None:
        self._shares: dict[_Key, PeerShare] = {}

    def __len__(self) -> int:
        return len(self._shares)

    @staticmethod
    def _key(peer_hash: bytes, options: StreamOptions) -> _Key:
        return (peer_hash, options.congestion_control, max_window(options), options.initial_rto)

    def acquire(self, peer_hash: bytes, options: StreamOptions, seed: TcbEntry | None) -> PeerShare:
        """The live share for a new stream to ``peer_hash`` (``seed`` starts a new one)."""
        key = self._key(peer_hash, options)
        share = self._shares.get(key)
        if share is None:
            share = self._shares[key] = PeerShare(options, seed)
        share.join()
        return share

    def release(
        self, peer_hash: bytes, options: StreamOptions, stream_id: int, outstanding: int
    ) -> None:
        """The stream ended (``outstanding``: its packets still unacked): it leaves its
        share, which goes with its last stream."""
        key = self._key(peer_hash, options)
        share = self._shares.get(key)
        if share is None:
            return
        if share.leave(stream_id, outstanding):
            del self._shares[key]

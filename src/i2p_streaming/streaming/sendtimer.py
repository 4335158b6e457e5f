"""The retransmission (and persist) timer of the send path: :class:`RetransmitTimer`, a base
of :class:`~i2p_streaming.streaming.sending.SendPath`.

Kept apart so that ``sending.py`` stays under the module size limit; it is one class split
over two files, not a part of its own: it reads and sets the send path's own fields, and
nothing else calls it but the connection through the send path. The rules (B.3, B.14):

* a timeout resends the first half of the outstanding packets (at most
  :data:`~.recovery.MAX_RESEND_BURST`), backs the RTO off and, on the oldest packet's
  first resend, tells the shared window (``peers.py``); once backed off twice, copies of
  the oldest packet go at :data:`~.recovery.PROBE_COPIES` even intervals in between;
* a SYN / SYN reply has its own schedule (:data:`~.recovery.MAX_SYN_RTO`): its first timer
  is the RTO without back-off (a sample of the peer's RTT when the shared estimator or the
  control-block cache has one, else ``initialRTO``), each timeout doubles it up to the cap,
  the shared estimator is not backed off (a lost SYN says nothing about the other streams'
  path) and it goes until ``connectTimeout`` after its first send, not ``maxResends`` times;
* a lone CLOSE (all data acked) backs off on its own count too, and its timeout is no
  congestion signal: the shared RTT estimate and window (``peers.py``) stay as they are.
  A Java peer that sent its CLOSE first never acks ours when it arrives (its closing
  scheduler sends no pending ack), only a copy of it (the duplicate path acks at once); a
  timeout there says nothing about the path, and cutting the window other streams to the
  peer use for it would cost them a slow start;
* a choke (``on_peer_choke``) lowers the span (``span.py``); when it is lifted the oldest
  packets the peer had to drop go again;
* while the peer chokes us the timer is the persist timer: it probes with the oldest
  packet at an interval doubling up to :data:`~.recovery.MAX_PERSIST_INTERVAL`.
"""

from __future__ import annotations

from i2p_streaming.streaming.congestion import CongestionController
from i2p_streaming.streaming.context import StreamContext
from i2p_streaming.streaming.options import StreamOptions
from i2p_streaming.streaming.packet import CLOSE, SYNCHRONIZE
from i2p_streaming.streaming.peers import PeerShare
from i2p_streaming.streaming.records import SentPacket
from i2p_streaming.streaming.recovery import (
    CLOSE_GIVE_UP_SENDS,
    MAX_PERSIST_INTERVAL,
    MAX_RESEND_BURST,
    MAX_SYN_RTO,
    PROBE_COPIES,
    RTO_CLOSE_ABANDONED,
    RTO_FLUSH,
    RTO_GIVE_UP,
    RTO_IDLE,
    RTO_PROBES_UNANSWERED,
    UNCHOKE_RESEND,
)
from i2p_streaming.streaming.rto import RttEstimator
from i2p_streaming.streaming.span import SendSpan

__all__ = ["RetransmitTimer"]


class RetransmitTimer:
    """The timer half of the send path (module docstring); the fields are the send path's."""

    # the timer's own fields (set up by SendPath.__init__)
    __slots__ = (
        "_copy_due",
        "_copy_gap",
        "_persist_interval",
        "_recover",
        "_silent_probes",
        "_streak",
        "_timed_out",
        "peer_choked",
        "rto_deadline",
    )

    _ctx: StreamContext[object]
    cc: CongestionController
    span: SendSpan
    packets_sent: int
    _options: StreamOptions
    _share: PeerShare
    _stream_id: int
    _rtt: RttEstimator
    _resend: set[int]
    _recover: int
    _streak: int
    _timed_out: float
    _copy_due: float | None
    _copy_gap: float
    _silent_probes: int
    _persist_interval: float
    unacked: dict[int, SentPacket]
    next_seq: int
    peer_choked: bool
    rto_deadline: float | None

    def on_rto(self, now: float, peer_closed: bool, last_heard: float) -> int:
        """The retransmission timer expired: choose what to resend (``RTO_*`` says what
        happened; ``last_heard``: when the peer's latest verified packet arrived)."""
        unacked = self.unacked
        if not unacked:
            self.rto_deadline = None
            return RTO_IDLE
        if self.peer_choked:
            return self._probe(now, last_heard)
        if self._copy_due is not None:
            # halfway through a backed-off timeout: the oldest packet goes once more
            self._resend.add(next(iter(unacked)))
            self.rto_deadline = now + self._copy_gap
            if self.rto_deadline >= self._copy_due - 1e-9:
                self.rto_deadline = self._copy_due
                self._copy_due = None
            return RTO_FLUSH
        oldest = next(iter(unacked.values()))
        syn = oldest.flags & SYNCHRONIZE
        if not self._streak and not syn:
            due_at = oldest.last_sent + self._rtt.rto
            if due_at > now:  # the (shared) RTT estimate grew since the timer was armed
                self.rto_deadline = due_at
                return RTO_IDLE
        opts = self._options
        if syn:  # SYN / SYN reply: tries fill the connect timeout (the initiator fails at it)
            if now - oldest.first_sent >= opts.connect_timeout:
                return RTO_GIVE_UP
        elif self._streak >= opts.max_resends:
            return RTO_GIVE_UP  # maxResends timeouts in a row and no new data acked
        count = min((len(unacked) + 1) // 2, MAX_RESEND_BURST)
        due: list[SentPacket] = []
        for e in unacked.values():
            if len(due) >= count:
                break
            due.append(e)
        for e in due:
            if (
                e.flags & CLOSE
                and not e.payload
                and peer_closed
                and e.sends >= max(CLOSE_GIVE_UP_SENDS, opts.max_resends // 2)
            ):
                unacked.pop(e.seq)  # the peer will never ack it (old routers, i2pd)
                self._share.gone(self._stream_id, 1, not unacked)
                return RTO_CLOSE_ABANDONED
        lone_close = len(unacked) == 1 and due[0].flags == CLOSE  # (module docstring)
        self._streak += 1
        if not lone_close and not syn:
            self._rtt.on_timeout()
        if due[0].sends == 1 and not lone_close:
            self._share.on_timeout(now)
        self._recover = self.next_seq - 1
        self._timed_out = now  # acks of packets sent before now may be late: no samples
        for e in due:
            self._resend.add(e.seq)
        rto = self._rtt.rto
        if syn:  # own back-off from the honest RTO, capped (never below that RTO itself)
            base = self._rtt.base
            rto = min(base * 2.0**self._streak, max(MAX_SYN_RTO, base))
        elif lone_close:
            rto = min(self._rtt.base * 2.0**self._streak, self._rtt.max_rto)
        self.rto_deadline = now + rto
        if self._streak > 1 and not syn and not lone_close:
            self._copy_due = self.rto_deadline  # backed off twice: more copies in between
            self._copy_gap = rto / PROBE_COPIES
            self.rto_deadline = now + self._copy_gap
        return RTO_FLUSH

    def on_peer_choke(self, choked: bool, ack_through: int | None) -> None:
        """The peer's DELAY option changed its choke (``ack_through``: its ack, if any)."""
        if choked and not self.peer_choked:
            if not self._share.shared:
                self.cc.on_choke()  # (a shared window is not cut for one stream's reader)
            self.span.on_choke()  # it could not hold what we sent ahead
        elif self.peer_choked and not choked:
            # the peer lifted its choke: resend the oldest packets it had to drop
            self._silent_probes = 0
            self._persist_interval = 0.0
            count = 0
            for seq in self.unacked:
                if ack_through is not None and seq <= ack_through:
                    continue
                self._resend.add(seq)
                count += 1
                if count >= UNCHOKE_RESEND:
                    break
            self.span.on_lost(count, self.packets_sent)  # (dropped by the peer: lost to us)
        self.peer_choked = choked

    def _probe(self, now: float, last_heard: float) -> int:
        """Persist timer (the peer chokes us): probe with the oldest unacked packet."""
        oldest = next(iter(self.unacked.values()))
        if last_heard >= oldest.last_sent:
            self._silent_probes = 0  # the peer answered the last probe: alive, just full
        else:
            self._silent_probes += 1
            self._rtt.on_timeout()
            if self._silent_probes > self._options.max_resends:
                return RTO_PROBES_UNANSWERED
        interval = self._persist_interval or self._rtt.rto
        self._persist_interval = min(interval * 2.0, MAX_PERSIST_INTERVAL)
        self._resend.add(oldest.seq)
        self.rto_deadline = now + interval
        self._ctx.count("persist_probe")
        return RTO_FLUSH

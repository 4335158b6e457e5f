"""Time-based, reorder-tolerant loss detection of the send path (RACK-like, RFC 8985).

The peer's ack says exactly which of our packets are missing (ackThrough plus a NACK for
every hole below it). A hole is not yet a loss: a tunnel may deliver a packet late, after
packets sent later. Counting NACKs (the earlier rule: two NACKs and the packet went again)
resends every packet held back longer than two acks, so a path that reorders 10 % of its
packets by a little under the RTT resent about that many packets with nothing lost.

Here a NACKed packet P is lost when a packet sent *after* P has been delivered and P is
still missing a reordering window after it would have been acked:
``now >= P.last_sent + rack_rtt + reo_wnd``, where ``rack_rtt`` is the RTT measured on the
most recently sent packet that was delivered and ``reo_wnd`` is 0 until the path has shown
reordering (a NACKed packet later acked though sent once, or a resend found unneeded; as
Linux), min_rtt / 4 from then on. On a FIFO tunnel a hole is therefore resent as soon as
one later packet is acked (measured: waiting for a second NACK, or min_rtt / 4, costs 3-4 %
of the ceiling at 300 ms and 1 % loss, because the hole holds the send span).

* A retransmission that turns out to have been unneeded widens the window: a resend whose
  ack arrives sooner than the minimum RTT after it left was acked for an earlier copy (the
  ack timing stands in for TCP's DSACK). Each such round adds min_rtt / 4, at most one
  step per round trip, up to SRTT; after :data:`REO_PERSIST` recoveries without a spurious
  resend the window falls back to one step.
* The same rule finds a lost retransmission (a packet sent after the resend was delivered)
  and resends it, at most once per round trip, with no timeout.
* Packets still missing but not yet due give :attr:`LossDetector.deadline`, the time the
  send path re-checks them without a new ack.

Holes above the peer's ackThrough are not seen here: the retransmission timer covers them.
:class:`LossDetector` reads the send path's :class:`~.records.SentPacket` s; it never
changes them.
"""

from __future__ import annotations

from collections.abc import Iterable

from i2p_streaming.streaming.records import SentPacket

__all__ = ["REO_PERSIST", "REO_STEP", "LossDetector"]

#: One step of the reordering window, as a fraction of the minimum RTT.
REO_STEP = 0.25
#: Loss recoveries without a spurious resend after which the window is one step again.
REO_PERSIST = 16


class LossDetector:
    """The RACK state of one stream: newest delivered send, minimum RTT, reordering window."""

    __slots__ = (
        "_calm",
        "_min_rtt",
        "_rack_rtt",
        "_rack_sent",
        "_step_at",
        "deadline",
        "reordering",
        "spurious",
        "steps",
    )

    def __init__(self) -> None:
        self._min_rtt = 0.0  # 0: no sample yet
        self._rack_sent = (-1.0, -1)  # (send time, wire order) of the newest delivered packet
        self._rack_rtt = 0.0
        self._calm = 0  # recoveries since the last spurious resend
        self._step_at = -1.0  # when the window last widened
        self.steps = 1
        self.spurious = 0  #: resends found unneeded
        self.reordering = False  #: the path delivered a packet after a later-sent one
        #: when a missing packet becomes due without a new ack (None: nothing pending)
        self.deadline: float | None = None

    @property
    def min_rtt(self) -> float:
        """The smallest RTT seen on a packet sent once (0 before any)."""
        return self._min_rtt

    def reorder_window(self, srtt: float) -> float:
        """How long after its expected ack a missing packet still counts as reordered."""
        if not self.reordering:
            return 0.0
        base = self._min_rtt or srtt
        wnd = self.steps * REO_STEP * base
        return wnd if srtt <= 0.0 or wnd < srtt else srtt

    def on_acked(self, e: SentPacket, now: float, srtt: float) -> None:
        """``e`` was newly acked at ``now`` (before the send path forgets it)."""
        age = now - e.last_sent
        if e.sends > 1:
            if age < self._min_rtt:
                self._on_spurious(now, srtt)  # acked too soon for this copy: an earlier one
                return
        else:
            if e.nacks:
                self.reordering = True  # NACKed, then its only copy arrived: it was late
            if self._min_rtt <= 0.0 or age < self._min_rtt:
                self._min_rtt = age
        key = (e.last_sent, e.order)
        if key > self._rack_sent:
            self._rack_sent = key
            self._rack_rtt = age

    def _on_spurious(self, now: float, srtt: float) -> None:
        self.spurious += 1
        self._calm = 0
        if not self.reordering:
            self.reordering = True  # the first step: from 0 to min_rtt / 4
            self._step_at = now
            return
        if now - self._step_at >= srtt:  # one step per round trip
            self._step_at = now
            self.steps += 1

    def on_recovery(self) -> None:
        """A new loss episode began (the first hole found lost past the last one)."""
        self._calm += 1
        if self._calm >= REO_PERSIST:
            self._calm = 0
            self.steps = 1

    def detect(self, missing: Iterable[SentPacket], now: float, srtt: float) -> list[SentPacket]:
        """The packets of ``missing`` (reported missing by the peer, still unacked) that
        are lost by now; sets :attr:`deadline` for the others sent before the newest
        delivered packet."""
        rack_time, rack_order = self._rack_sent
        self.deadline = None
        if rack_time < 0.0:
            return []
        wait = self._rack_rtt + self.reorder_window(srtt)
        lost: list[SentPacket] = []
        due_next: float | None = None
        for e in missing:
            sent = e.last_sent
            if sent > rack_time or (sent == rack_time and e.order >= rack_order):
                continue  # sent after the newest delivered packet: no evidence yet
            due = sent + wait
            if due <= now + 1e-9:
                lost.append(e)
            elif due_next is None or due < due_next:
                due_next = due
        self.deadline = due_next
        return lost

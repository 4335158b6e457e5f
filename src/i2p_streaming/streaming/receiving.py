"""The receive path of one stream (:class:`ReceivePath`, owned by its ``Connection``).

It holds everything about the bytes the peer sends us: the in-order point, the out-of-order
queue, the receive buffer and our choke of the peer (:class:`~i2p_streaming.streaming.flow.
ReceiveFlow`), when our next ACK is due and the NACKs it carries. :meth:`ReceivePath.accept`
takes a packet the connection has already checked (signature, stream ids, handshake) and
delivers its payload as :class:`~i2p_streaming.streaming.events.DataReceived`. The acks the
peer sends us belong to the send path (``sending.py``).
"""

from __future__ import annotations

from typing import Any

from i2p_streaming.streaming.context import StreamContext
from i2p_streaming.streaming.events import DataReceived, PeerClosed
from i2p_streaming.streaming.flow import ReceiveFlow
from i2p_streaming.streaming.options import StreamOptions
from i2p_streaming.streaming.packet import CLOSE, MAX_NACKS, Packet
from i2p_streaming.streaming.rto import RttEstimator

__all__ = [
    "ACCEPTED",
    "ACK_EVERY_PACKETS",
    "ACK_IDLE_GAPS",
    "ACK_IDLE_MIN",
    "DROPPED",
    "DUPLICATE",
    "FLIGHT_GAP",
    "HOLD_FRACTION",
    "HOLD_MAX",
    "HOLD_MIN",
    "ReceivePath",
]

#: Ack at once when this many new in-order data packets wait for an ACK: half of the largest
#: window a Java sender uses (128), so a window-limited sender hears from us twice per window.
#: More ACKs are always valid (B.3) but each costs the router as much as a data packet.
ACK_EVERY_PACKETS = 64
#: Burst-end ACK: once two or more new data packets wait for an ACK, ack them when no packet
#: has arrived for this many average inter-arrival gaps (never sooner than ACK_IDLE_MIN
#: seconds after the last one). A sender that stopped is waiting for this ACK (its window is
#: full or it has nothing more), and a receiver that sends no data knows only the RTT of its
#: SYN reply, often inflated by the router's session set-up, so RTT-based ack delays alone
#: stall the slow start. A lone packet keeps the RTT-based delay, so that the reply to a
#: one-packet request can carry its ACK.
ACK_IDLE_GAPS = 4
ACK_IDLE_MIN = 0.001
#: Flight-start ACK: once the peer has sent bulk (an ACK of ours covered two or more new
#: packets), the first in-order packet after a silence of FLIGHT_GAP x SRTT is acked at once.
#: A Java sender restarts its retransmission timer (RTO, down to about its RTT on a steady
#: path) on each ACK: acking a new flight only at its DELAY=0 point or its end, one RTT plus
#: part of a flight after our previous ACK, times it out (w -> 1), typically right after a
#: loss was repaired with one ACK per packet (which brings its RTO down to the bare RTT).
FLIGHT_GAP = 0.5
#: After a choke, until the peer sends new data, the ACK that covers every packet it had sent
#: when we refused one waits HOLD_FRACTION of the interval at which the peer resends its last
#: packet (its RTO; at least HOLD_MIN, at most HOLD_MAX seconds). i2pd 2.56 (fixed in 2.58)
#: stays choked until an ACK goes past the sequence number it was about to send when the choke
#: arrived, and sends that next packet only from an ACK that acks something and reaches it at
#: least one pacing interval (its RTT/3, checked on a 10 ms tick) after its last send, and
#: before its next resend (RTO later). An ACK of its retransmissions sent at once arrives inside
#: that interval, leaves it with nothing outstanding, and it never sends again.
HOLD_FRACTION = 0.6
HOLD_MIN = 0.015
HOLD_MAX = 2.0

#: What :meth:`ReceivePath.accept` did with a packet.
ACCEPTED = 0
DUPLICATE = 1
DROPPED = 2


class ReceivePath:
    """In-order point, out-of-order queue, receive buffer and ACK timing of one stream."""

    __slots__ = (
        "_ack_deadline",
        "_budget_choke",
        "_bulk",
        "_ctx",
        "_gap_avg",
        "_hold_period",
        "_hold_seen",
        "_hold_through",
        "_hold_until",
        "_last_arrival",
        "_ooo",
        "_ooo_bytes",
        "_options",
        "_peer_close_seq",
        "_rtt",
        "_stream_id",
        "_unacked",
        "bytes_received",
        "flow",
        "highest",
        "idle_ack_at",
        "next_seq",
        "peer_closed",
    )

    def __init__(
        self, ctx: StreamContext[Any], stream_id: int, options: StreamOptions, rtt: RttEstimator
    ) -> None:
        self._ctx = ctx
        self._stream_id = stream_id
        self._options = options
        self._rtt = rtt
        self.flow = ReceiveFlow(
            options.receive_buffer_bytes,
            options.receive_buffer_packets,
            options.max_message_size,
            ctx.auto_consume,
        )
        self.next_seq = 0  # the next in-order sequence number
        self.highest = -1  # highest sequence number received (-1: none)
        self._ooo: dict[int, tuple[int, bytes]] = {}
        self._ooo_bytes = 0
        self._peer_close_seq = -1
        self.peer_closed = False
        self._ack_deadline: float | None = None
        self._hold_through = -1  # highest seq the peer had sent at our choke (-1: no hold)
        self._hold_until: float | None = None  # the covering ACK waits until then
        self._hold_seen = -1.0  # when packet _hold_through last arrived (dropped or not)
        self._hold_period = 0.0  # the interval between its last two arrivals (peer's RTO)
        self._unacked = 0  # new data packets received since our last ACK went out
        self._bulk = False  # one of our ACKs has covered two or more new data packets
        self._last_arrival = -1.0  # when the latest in-order data packet arrived
        self._gap_avg = 0.0  # moving average of the gaps between in-order data packets
        self.idle_ack_at: float | None = None  # burst-end ACK deadline (see ACK_IDLE_GAPS)
        self.bytes_received = 0
        self._budget_choke = False  # choked because the session budget is spent

    # ================================================================== packets
    def accept(self, p: Packet, flags: int, now: float, delay: int | None) -> int:
        """Take a checked packet with a sequence number (``delay``: its DELAY option);
        returns ACCEPTED, DUPLICATE (acked again at once) or DROPPED (counted)."""
        seq = p.sequence_num
        ctx = self._ctx
        if seq < self.next_seq or seq in self._ooo:
            ctx.count("duplicate")
            self.ack_deadline = now
            if self._hold_through >= 0:
                self._held(seq, now)
            return DUPLICATE
        if seq - self.next_seq >= self._options.receive_window or (
            self._peer_close_seq >= 0 and seq > self._peer_close_seq
        ):
            ctx.count("out_of_window")
            self.ack_deadline = now
            return DROPPED
        flow = self.flow
        in_order = seq == self.next_seq
        held = self.buffered
        size = len(p.payload)
        if size and not (in_order and flow.auto_consume) and not ctx.buffer_admits(size, held):
            ctx.count("session_buffer_full")
            self._hold_on_drop(seq, now)
            self._budget_choke = True
            flow.choke()
            self.ack_deadline = now  # the choke goes out at once
            return DROPPED
        if not flow.admit(size, in_order, len(self._ooo), self._ooo_bytes):
            ctx.count("receive_buffer_full")
            self._hold_on_drop(seq, now)
            self.ack_deadline = now  # the choke goes out at once
            return DROPPED
        if self._budget_choke:
            self._budget_choke = False
            flow.unchoke(len(self._ooo), self._ooo_bytes)
        self._accept(p, seq, flags, now, delay)
        ctx.buffer_changed(held, self.buffered)
        if in_order and flow.choking and not self._budget_choke:
            # the gap filled and the packets behind it left the buffer: that ends a choke as
            # a read does (with auto_consume nothing else would: delivered bytes count as read)
            self.consumed(0, now)
        return ACCEPTED

    def _accept(self, p: Packet, seq: int, flags: int, now: float, delay: int | None) -> None:
        if seq > self.highest:
            self.highest = seq
        if flags & CLOSE:
            self._peer_close_seq = seq
        in_order = seq == self.next_seq
        if in_order:
            self._deliver(flags, p.payload)
            ooo = self._ooo
            while ooo:
                item = ooo.pop(self.next_seq, None)
                if item is None:
                    break
                self._ooo_bytes -= len(item[1])
                self._deliver(item[0], item[1])
            ack_at = now if ooo else self._ack_time(now, delay)
            self._unacked += 1
            if self._unacked >= ACK_EVERY_PACKETS or (
                self._unacked == 1 and self._bulk and self._flight_start(now)
            ):
                ack_at = now
            self._note_arrival(now)
        else:
            self._ooo[seq] = (flags, p.payload)
            self._ooo_bytes += len(p.payload)
            ack_at = now  # a gap: tell the sender at once (NACKs)
        if self._ack_deadline is None or ack_at < self._ack_deadline:
            self._ack_deadline = ack_at
        hold = self._hold_through
        if hold >= 0:
            if seq > hold and in_order:
                self._hold_through = -1  # new data after the choke: the peer sends again
                self._hold_until = None
            elif seq > hold:
                self._hold_through = seq  # it was in flight at the choke
                self._hold_seen = now
            else:
                self._held(seq, now)

    # ================================================================== choke hold
    def _hold_on_drop(self, seq: int, now: float) -> None:
        """A packet was refused (we choke): hold the ACK that will cover it (HOLD_FRACTION)."""
        top = max(self._hold_through, self.highest)
        if seq >= top:
            if seq == self._hold_through and self._hold_seen >= 0:
                self._hold_period = now - self._hold_seen
            self._hold_through = seq
            self._hold_seen = now
        else:
            self._hold_through = top
        self._hold_until = None  # the choke ACK itself goes out at once

    def _held(self, seq: int, now: float) -> None:
        """A packet at or below the hold point arrived (accepted or a duplicate)."""
        if seq == self._hold_through:
            if self._hold_seen >= 0:
                self._hold_period = now - self._hold_seen
            self._hold_seen = now
        if self._ooo or self.next_seq <= self._hold_through:
            return  # the next ACK still leaves the peer something outstanding
        until = self._hold_until
        if until is not None and until > now:
            return  # already held: an ACK due sooner must not be pushed later
        period = self._hold_period
        if not period:
            srtt = self._rtt.rtt
            period = 2 * HOLD_MIN if srtt is None else srtt
        wait = min(max(HOLD_FRACTION * period, HOLD_MIN), HOLD_MAX)
        self._hold_until = now + wait

    @property
    def ack_deadline(self) -> float | None:
        """When our next ACK is due (None: none pending); never before a choke's hold."""
        deadline, hold = self._ack_deadline, self._hold_until
        if deadline is None or hold is None or deadline >= hold:
            return deadline
        return hold

    @ack_deadline.setter
    def ack_deadline(self, value: float | None) -> None:
        self._ack_deadline = value

    def _flight_start(self, now: float) -> bool:
        """Is this in-order packet the first of a new flight (FLIGHT_GAP x SRTT of silence)?"""
        srtt = self._rtt.rtt
        last = self._last_arrival
        return srtt is not None and last >= 0 and now - last >= FLIGHT_GAP * srtt

    def _note_arrival(self, now: float) -> None:
        """Push the burst-end ACK deadline past this in-order data packet (ACK_IDLE_GAPS).

        Only gaps inside a run of unacked packets are averaged: the pause before the first
        packet after an ACK is the peer waiting for us, not its sending pace.
        """
        if self._unacked >= 2:
            gap = now - self._last_arrival
            self._gap_avg = gap if not self._gap_avg else self._gap_avg + (gap - self._gap_avg) / 8
            idle = ACK_IDLE_GAPS * self._gap_avg
            self.idle_ack_at = now + (idle if idle > ACK_IDLE_MIN else ACK_IDLE_MIN)
        self._last_arrival = now

    def _ack_time(self, now: float, delay: int | None) -> float:
        """When to acknowledge a new in-window packet that requested ``delay`` ms (B.3).

        No request: ``initialAckDelay``, shortened to SRTT/4 once the RTT is known — i2pd
        (2.56) never asks for prompt ACKs on its data packets and paces itself by the RTT it
        measures, so a flat 500 ms ack delay would slow it to a fifth.
        """
        if delay is None:
            srtt = self._rtt.rtt
            if srtt is None:
                return now + self._options.initial_ack_delay
            return now + min(self._options.initial_ack_delay, srtt / 4.0)
        if delay == 0:
            return now  # 0 means "ack at once" (Java, the spec)
        return now + min(delay / 1000.0, self._options.initial_ack_delay)

    def _deliver(self, flags: int, payload: bytes) -> None:
        self.next_seq += 1
        if payload:
            self.bytes_received += len(payload)
            self.flow.delivered(len(payload))
            self._ctx.push_event(DataReceived(self._stream_id, payload))
        if flags & CLOSE:
            self.peer_closed = True
            self._ctx.push_event(PeerClosed(self._stream_id))

    @property
    def buffered(self) -> int:
        """Bytes held for the application: delivered but unread, and out of order."""
        return self.flow.unread + self._ooo_bytes

    # ================================================================== our ACKs
    def ack_point(self) -> tuple[int, list[int]]:
        """``(ackThrough, NACKs)`` for our next ACK: the highest sequence number received
        (-1: none) and every one missing below it. The NACK field holds at most
        :data:`~.packet.MAX_NACKS`; with more holes ackThrough is pulled back below the first
        hole that does not fit (as i2pd does), so the ACK never claims a missing packet."""
        ooo = self._ooo
        if not ooo:
            return self.highest, []
        missing = [s for s in range(self.next_seq, self.highest) if s not in ooo]
        if len(missing) <= MAX_NACKS:
            return self.highest, missing
        return missing[MAX_NACKS] - 1, missing[:MAX_NACKS]

    def ack_due(self, now: float) -> bool:
        deadline = self.ack_deadline
        return deadline is not None and deadline <= now

    def after_flush(self, acked: bool, due: bool) -> None:
        """A flush sent our acks (``acked``), or found an ACK ``due`` it could not send (no
        peer id yet): either way the deadline is over."""
        if acked:
            if self._unacked >= 2:
                self._bulk = True
            self._unacked = 0
            self.idle_ack_at = None
        if acked or due:
            self.ack_deadline = None

    def ack_now(self, now: float) -> None:
        self.ack_deadline = now

    def on_timer(self, now: float) -> bool:
        """Run the ACK timers due at ``now``; True when an ACK is due (flush)."""
        flush = False
        if self.idle_ack_at is not None and now >= self.idle_ack_at:
            self.idle_ack_at = None
            self.ack_deadline = now  # the peer's burst has ended: it waits for this ACK
        if self.ack_deadline is not None and now >= self.ack_deadline:
            flush = True
        if self.flow.unchoke_retry_due(now) and self.highest >= 0:
            self.ack_deadline = now  # flow.py: the peer stayed silent after our unchoke
            flush = True
        return flush

    def consumed(self, nbytes: int, now: float) -> bool:
        """The application read ``nbytes``; True when that unchokes the peer (ACK now)."""
        held = self.buffered
        unchoked = self.flow.consumed(nbytes, len(self._ooo), self._ooo_bytes)
        self._ctx.buffer_changed(held, self.buffered)
        if unchoked:
            self._budget_choke = False
            self.ack_deadline = now
            self.flow.arm_unchoke_retry(now, self._rtt.rto)
            return True
        return False

    def release(self) -> None:
        """The stream ended: its buffered bytes leave the session budget."""
        self._ctx.buffer_changed(self.buffered, 0)

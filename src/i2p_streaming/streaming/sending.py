"""The send path of one stream (:class:`SendPath`, owned by its ``Connection``).

It holds everything about the bytes we send: the send buffer, sequence numbers, the packets
awaiting their ack, the timers and the congestion controller. It takes the acks and NACKs
the peer sends us (RTT samples, loss detection, congestion signals) and builds our packets
into ``out`` (:meth:`SendPath.flush`): retransmissions and the new packets the window and
the pacing allow, each carrying the acks the receive path hands in. Its parts: loss
detection (``loss.py``: a NACKed packet is lost once a later-sent one was acked and a
reordering window passed), pacing (``pacing.py``), and the retransmission / persist timer
(``sendtimer.py``). Choke handling of the sender (reference B.14): a choked sender sends at
most one new packet while nothing is outstanding; persist probes go with the oldest unacked
packet; when the peer unchokes, up to :data:`UNCHOKE_RESEND` of the oldest outstanding
packets go again at once.
"""

from __future__ import annotations

from typing import Any

from i2p_streaming.data import Destination
from i2p_streaming.streaming.closing import CloseGate
from i2p_streaming.streaming.context import StreamContext
from i2p_streaming.streaming.flow import ReceiveFlow
from i2p_streaming.streaming.loss import LossDetector
from i2p_streaming.streaming.options import StreamOptions
from i2p_streaming.streaming.pacing import Pacer
from i2p_streaming.streaming.packet import CLOSE, NO_ACK, SYNCHRONIZE, encode_plain
from i2p_streaming.streaming.peers import PeerShare
from i2p_streaming.streaming.profiles import Coalescer
from i2p_streaming.streaming.records import OutgoingPacket, SentPacket, State
from i2p_streaming.streaming.recovery import ACK_REQUEST_EVERY
from i2p_streaming.streaming.sendbuffer import SendBuffer
from i2p_streaming.streaming.sendtimer import RetransmitTimer
from i2p_streaming.streaming.signed import encode_signed_packet
from i2p_streaming.streaming.span import SendSpan
from i2p_streaming.streaming.tailprobe import TailProbe

__all__ = ["Acks", "SendPath"]  # the constants and RTO_* results: recovery.py

#: What every packet of a flush carries: (peer id, ack through or -1, NACKs, receive flow).
Acks = tuple[int, int, list[int], ReceiveFlow]


class SendPath(RetransmitTimer):
    """Send buffer, unacked packets, retransmission and congestion state of one stream."""

    __slots__ = (
        "_ctx",
        "_first_status",
        "_initiator",
        "_local_port",
        "_loss",
        "_missing",
        "_need_syn_reply",
        "_options",
        "_pacer",
        "_peer",
        "_remote_port",
        "_resend",
        "_rtt",
        "_share",
        "_stream_id",
        "_tail",
        "_unasked",
        "buffer",
        "bytes_sent",
        "cc",
        "close_requested",
        "close_seq",
        "closing",
        "coalesce",
        "mtu",
        "next_seq",
        "packets_retransmitted",
        "packets_sent",
        "span",
        "syn_acked",
        "unacked",
    )

    def __init__(
        self,
        ctx: StreamContext[Any],
        stream_id: int,
        peer: Destination,
        local_port: int,
        remote_port: int,
        options: StreamOptions,
        *,
        initiator: bool,
        share: PeerShare,
    ) -> None:
        self._ctx = ctx
        self._stream_id = stream_id
        self._peer = peer
        self._local_port = local_port
        self._remote_port = remote_port
        self._options = options
        self._initiator = initiator
        self._share = share  # RTT and window shared with the other streams to the peer
        self._rtt = share.rtt
        self.cc = share.cc
        self.coalesce = Coalescer(options)
        self.mtu = options.max_message_size
        self.buffer = SendBuffer(options.buffer_size)
        self.next_seq = 0
        self.unacked: dict[int, SentPacket] = {}
        self._resend: set[int] = set()
        self.rto_deadline: float | None = None
        self._recover = -1
        self._loss = LossDetector()
        self._missing: list[SentPacket] = []  # what the peer's latest ack NACKed
        self._pacer = Pacer()
        self._unasked = 0  # data packets sent since the last that asked for a prompt ACK
        self.peer_choked = False
        self._need_syn_reply = not initiator
        self.syn_acked = initiator
        self.close_requested = False
        self.close_seq = -1
        self.closing = CloseGate(self._rtt)  # CLOSE alone, once all is acked
        self._first_status = initiator
        self.bytes_sent = 0
        self.packets_sent = 0
        self.packets_retransmitted = 0
        self._silent_probes = 0  # persist probes in a row the peer did not answer
        self._persist_interval = 0.0
        self.span = SendSpan(options.span_past_resends)  # span.py: how far past a hole to run
        self._timed_out = -1.0  # the latest RTO expiry
        self._streak = 0  # RTO expiries in a row without an ack of new data
        self._copy_due: float | None = None  # the real RTO deadline behind probe copies
        self._copy_gap = 0.0
        self._tail = TailProbe()

    @property
    def window(self) -> int:
        """Packets this stream may have in flight (its share of the peer's window)."""
        return self._share.window()

    # ================================================================== the application's bytes
    def write(self, data: bytes | bytearray | memoryview, now: float) -> int:
        """Append up to the free send-buffer space; return the bytes accepted."""
        buffered = self.buffer.buffered
        n = self.buffer.write(data)
        if n:
            self.coalesce.on_write(buffered, now)
        return n

    def syn_limit(self) -> int:
        """Most bytes of initial data our SYN carries."""
        return min(self.mtu, self._options.max_message_size)

    def set_peer_mtu(self, mtu: int) -> None:
        self.mtu = min(self._options.max_message_size, mtu)

    def start_syn(self, data: bytes, close: bool) -> None:
        """Initiator: queue the SYN (seq 0) with up to one packet of ``data``."""
        first = bytes(data[: self.syn_limit()])
        rest = data[len(first) :]
        if rest:
            self.buffer.extend(rest)
        flags = SYNCHRONIZE
        if close:
            self.close_requested = True
            if not rest:
                flags |= CLOSE
                self.close_seq = 0
        self._new_entry(flags, first)

    def request_close(self) -> None:
        """Send CLOSE after the buffered bytes."""
        self.close_requested = True

    def queue_keepalive(self) -> None:
        """An empty packet with a new sequence number (inactivity keep-alive)."""
        self._new_entry(0, b"")

    def resend_syn_reply(self) -> None:
        """The peer repeated its SYN: our SYN reply (seq 0) goes again if still unacked."""
        if 0 in self.unacked:
            self._resend.add(0)

    def take_seq(self) -> int:
        """A sequence number for a packet built outside the send path (our RESET)."""
        seq = self.next_seq
        self.next_seq += 1
        return seq

    def finish(self) -> None:
        """Both CLOSEs done (TIME-WAIT): nothing is left to send or resend."""
        self.rto_deadline = None
        self._share.gone(self._stream_id, len(self.unacked), True)
        self.unacked.clear()
        self._missing = []
        self._resend.clear()
        self.buffer.clear()

    # ================================================================== what the peer sends us
    def process_ack(self, ack_through: int, nacks: tuple[int, ...], now: float) -> bool:
        """Take the peer's ack (queues the resends of packets found lost, ``loss.py``); True
        when it acked our SYN reply for the first time."""
        unacked = self.unacked
        if not unacked or ack_through >= self.next_seq:
            return False
        nackset = set(nacks) if nacks else None
        acked: list[SentPacket] = []
        missing: list[SentPacket] = []
        for seq, e in unacked.items():
            if seq > ack_through:
                break
            if nackset is not None and seq in nackset:
                e.reported_missing()
                missing.append(e)
            else:
                acked.append(e)
        cc = self.cc
        rtt = self._rtt
        syn_reply_acked = False
        if acked:
            rtt.on_new_ack()  # RFC 6298 5.7: new data acked, the back-off is over
            timed_out, self._streak = self._streak, 0
            self._copy_due = None
            self._tail.on_new_ack()
            # The RTT sample is the newest packet sent once: its arrival triggered this ack
            # (an older one may have waited for the peer's delayed ack, e.g. Java's 500 ms).
            youngest = -1.0
            loss, resend, srtt = self._loss, self._resend, rtt.srtt
            spurious, before = loss.spurious, self._timed_out
            for e in acked:
                del unacked[e.seq]
                resend.discard(e.seq)
                loss.on_acked(e, now, srtt)
                if e.sends == 1:
                    if e.first_sent < before:
                        spurious = -1  # a copy from before the timeout got through
                    elif e.first_sent > youngest:
                        youngest = e.first_sent
            # the timeout was spurious (RFC 4015/5682): the acks were for the copies sent
            # before it (too soon for the resends, or of ones never resent, none NACKed)
            if timed_out and (loss.spurious > spurious >= 0 or (spurious < 0 and not missing)):
                self._share.on_spurious_timeout()
            self._share.acked(self._stream_id, len(acked), not unacked, now)
            if youngest >= 0.0:
                rtt.update(now - youngest)
                cc.on_rtt_sample(now - youngest, now)
            cc.on_delivered(len(acked), now)
            if not self.syn_acked and acked[0].seq == 0:
                self.syn_acked = syn_reply_acked = True
        if missing:
            self.span.on_ack(ack_through, missing[0].seq, len(missing))
        fast = False
        if missing or self._missing:
            self._missing = missing
            fast = self._detect(now, len(nacks))
        if acked:
            if not self.peer_choked and not fast:
                cc.on_ack(len(acked), now)
            self.rto_deadline = now + rtt.rto if unacked else None
            self._arm_probe(now)
        return syn_reply_acked

    def _arm_probe(self, now: float) -> None:
        alone = bool(self.unacked) and not self.peer_choked and self._share.busy_streams <= 1
        self._tail.arm(now, self._rtt, self.rto_deadline, alone)

    def _detect(self, now: float, holes: int) -> bool:
        """Queue the missing packets that are lost by now; True on a new loss episode."""
        resend = self._resend
        lost = self._loss.detect(
            (e for e in self._missing if e.seq not in resend), now, self._rtt.srtt
        )
        if not lost:
            return False
        fast = False
        self.span.on_lost(len(lost), self.packets_sent)
        for e in lost:
            resend.add(e.seq)
            if e.mark_fast() and e.seq > self._recover:
                fast = True
        cc = self.cc
        cc.on_loss(len(lost), now)
        if fast:
            self._recover = self.next_seq - 1
            self._loss.on_recovery()
            cc.on_fast_retransmit(now, holes)
        return fast

    # ================================================================== timers
    def deadline(self) -> float | None:
        """The earliest of the retransmission timer, the loss re-check, the tail probe, the
        pacing release, a partial packet's passive flush and our CLOSE's linger."""
        best = self.rto_deadline
        timers = (
            self._loss.deadline,
            self._pacer.release_at,
            self._tail.at,
            self.coalesce.flush_at,
            self.closing.at,
            self.span.hold_until,
        )
        for t in timers:
            if t is not None and (best is None or t < best):
                best = t
        return best

    def on_timer(self, now: float) -> bool:
        """Re-check the missing packets at their deadline (may queue resends); True when
        something is due to be sent (resends, new packets the pacing held back, a partial
        packet whose passive flush delay passed, our CLOSE after its linger)."""
        due = False
        loss = self._loss
        if loss.deadline is not None and now >= loss.deadline - 1e-9:
            unacked = self.unacked
            self._missing = [e for e in self._missing if unacked.get(e.seq) is e and e.nacks]
            due = bool(self._missing) and self._detect(now, len(self._missing))
            due = due or bool(self._resend)
        if self._tail.due(now) and self.unacked and not self.peer_choked:
            self._resend.add(next(reversed(self.unacked)))  # tailprobe.py
            due = True
        release = self._pacer.release_at
        due = due or (release is not None and now >= release - 1e-9)
        flushed = self.coalesce.expire(now)  # always: it clears a passed deadline
        held = self.span.hold_until is not None and now >= self.span.hold_until - 1e-9
        return due or flushed or held or self.closing.due(now)

    # ================================================================== sending
    def _new_entry(self, flags: int, payload: bytes) -> SentPacket:
        e = SentPacket(self.next_seq, flags, payload)
        self._share.sent(self._stream_id, not self.unacked and flags != CLOSE)  # peers.py: busy
        self.next_seq += 1
        self.unacked[e.seq] = e
        self._resend.add(e.seq)
        return e

    def flush(self, now: float, out: list[OutgoingPacket], state: State, acks: Acks) -> bool:
        """Append due retransmissions and the new packets the window allows to ``out``.

        Every packet carries ``acks``: ``(peer_id, ack_through, nacks, flow)`` (``ack_through``
        -1: no acks yet; ``flow`` decides the DELAY); returns True if any packet carried acks."""
        acked_something = False
        sent = len(out)
        due = self._resend
        span, srtt = self.span, self._rtt.srtt  # span.py: a probe may hold fast resends
        if due and (self._streak or not span.hold_resends(min(due), self.next_seq, now, srtt)):
            resend = sorted(due)
            due.clear()
            unacked = self.unacked
            for seq in resend:
                e = unacked.get(seq)
                if e is not None:
                    acked_something |= self._transmit(e, now, out, acks)
                    if e.payload and span.twice(self.window):
                        acked_something |= self._transmit(e, now, out, acks)  # span.py
        if state is not State.TIME_WAIT:
            acked_something |= self._send_new(now, out, state, acks)
        if len(out) > sent:
            self._arm_probe(now)
        return acked_something

    def _send_new(self, now: float, out: list[OutgoingPacket], state: State, acks: Acks) -> bool:
        sent = False
        if self._need_syn_reply:
            self._need_syn_reply = False
            payload = self.buffer.take(self.mtu)
            flags = SYNCHRONIZE
            if self.close_requested and not self.buffer.buffered:
                flags |= CLOSE
                self.close_seq = self.next_seq
            e = self._new_entry(flags, payload)
            self._resend.discard(e.seq)
            sent |= self._transmit(e, now, out, acks)
        if not self.syn_acked:
            return sent  # responder: hold more packets until the SYN reply is acked (E.11)
        window = self._share.window()
        limit = window
        if state is State.CONNECTING and limit > 3:
            limit = 3
        if self.peer_choked:
            limit = 0 if self.unacked else 1
        unacked = self.unacked
        share = self._share
        pacer = self._pacer
        pacer.cancel()
        srtt = self._rtt.srtt
        span, resend, overdue = self.span, self._resend, now - self._rtt.rto
        while len(unacked) < limit:
            if unacked and (
                share.full(len(unacked))
                or not span.allows(self.next_seq, unacked, window, resend, overdue)
            ):
                break  # span.py: not past what the peer holds when it arrives
            buffered = self.buffer.buffered
            if buffered:
                if (
                    buffered < self.mtu
                    and unacked
                    and not self.close_requested
                    and self.coalesce.hold(now)
                ):
                    break  # bulk profile: a partial packet behind data in flight waits (Nagle)
            elif self.close_seq >= 0 or not self.closing.ready(now, self.close_requested, unacked):
                break  # no data, and no CLOSE due (closing.py: it goes alone, all data acked)
            if not pacer.admit(now, window, srtt):
                break  # pacing.py: the next one at pacer.release_at
            if buffered:
                flags = 0
                payload = self.buffer.take(self.mtu)
            else:
                payload = b""
                flags = CLOSE
                self.close_seq = self.next_seq
            e = self._new_entry(flags, payload)
            self._resend.discard(e.seq)
            # the last packet before the window or the span stops us asks for a prompt ACK
            stop = len(unacked) >= limit or not span.allows(
                self.next_seq, unacked, window, resend, overdue
            )
            sent |= self._transmit(e, now, out, acks, stop)
        return sent

    def _transmit(
        self, e: SentPacket, now: float, out: list[OutgoingPacket], acks: Acks, last: bool = True
    ) -> bool:
        """Encode ``e`` with the acks and append it to ``out``; True if it carried acks.
        ``last``: nothing else can follow it now (it asks for a prompt ACK)."""
        peer_id, ack_through, nacks, flow = acks
        flags = e.flags
        carries_acks = ack_through >= 0
        if not carries_acks:
            flags |= NO_ACK
            ack_through = 0
            nacks = []
        want_status = False
        if flags & (SYNCHRONIZE | CLOSE):
            first_syn = self._initiator and bool(flags & SYNCHRONIZE)
            if first_syn:
                want_status = self._first_status
                self._first_status = False
            head = (peer_id, self._stream_id, e.seq, ack_through, nacks, flags)
            data, flags = encode_signed_packet(
                self._ctx.keys,
                self._options,
                (*head, flow.delay_option() or 0),
                e.payload,
                self._peer.hash if first_syn else None,
            )
        else:
            window = self._share.window()
            free = window - len(self.unacked)
            # ask for a prompt ACK when the window is nearly full (Java), when nothing follows
            # this packet (a tail packet, or the last before the window or the sequence span
            # stops us, must not wait 500 ms and trip the RTO), and on every
            # window/ACK_REQUEST_EVERY-th packet (recovery.py)
            ask = (
                last
                or free < 3
                or free < (window + 2) // 3
                or not self.buffer.buffered
                or self._unasked >= window // ACK_REQUEST_EVERY
                or self._options.interactive  # interactive profile: every data packet asks
            )
            self._unasked = 0 if ask else self._unasked + 1
            delay = 0 if ask else None
            choke = flow.delay_option()
            if choke is not None:
                delay = choke
            data = encode_plain(
                peer_id, self._stream_id, e.seq, ack_through, nacks, flags, delay, e.payload
            )
        out.append(
            OutgoingPacket(
                self._peer,
                self._local_port,
                self._remote_port,
                data,
                want_status,
                bool(flags & SYNCHRONIZE),
            )
        )
        self.packets_sent += 1
        if e.transmitted(now, self.packets_sent):
            self.bytes_sent += len(e.payload)
        else:
            self.packets_retransmitted += 1
        if self.rto_deadline is None:
            self.rto_deadline = now + (self._rtt.base if flags & SYNCHRONIZE else self._rtt.rto)
        return carries_acks

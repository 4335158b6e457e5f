"""The send path of one stream (:class:`SendPath`, owned by its ``Connection``).

It holds everything about the bytes we send: the send buffer, sequence numbers, the packets
awaiting their ack, the retransmission (and, while the peer chokes us, persist) timer and the
congestion controller. It takes the acks and NACKs the peer sends us (RTT samples, fast
retransmit, congestion signals) and builds our packets into ``out`` (:meth:`SendPath.flush`):
retransmissions and the new packets the window allows, each carrying the acks the receive
path hands in. Choke handling of the sender (reference B.14): a choked sender sends at most one
new packet while nothing is outstanding; each persist-timer expiry probes with the oldest
unacked packet at an interval doubling up to :data:`MAX_PERSIST_INTERVAL`; when the peer
unchokes, up to :data:`UNCHOKE_RESEND` of the oldest outstanding packets go again at once.
"""

from __future__ import annotations

from typing import Any

from i2p_streaming.data import Destination
from i2p_streaming.streaming.closing import CloseGate
from i2p_streaming.streaming.context import StreamContext
from i2p_streaming.streaming.flow import ReceiveFlow
from i2p_streaming.streaming.options import StreamOptions
from i2p_streaming.streaming.packet import CLOSE, NO_ACK, SYNCHRONIZE, encode_plain
from i2p_streaming.streaming.peers import PeerShare
from i2p_streaming.streaming.profiles import Coalescer
from i2p_streaming.streaming.records import OutgoingPacket, SentPacket, State
from i2p_streaming.streaming.recovery import (
    CLOSE_GIVE_UP_SENDS,
    FAST_RETRANSMIT_NACKS,
    MAX_PERSIST_INTERVAL,
    MAX_RESEND_BURST,
    MAX_SEQ_SPAN,
    MAX_SYN_RTO,
    PROBE_COPIES,
    RTO_CLOSE_ABANDONED,
    RTO_FLUSH,
    RTO_GIVE_UP,
    RTO_IDLE,
    RTO_PROBES_UNANSWERED,
    SAFE_SEQ_SPAN,
    UNCHOKE_RESEND,
)
from i2p_streaming.streaming.sendbuffer import SendBuffer
from i2p_streaming.streaming.signed import encode_signed_packet

__all__ = ["Acks", "SendPath"]  # the constants and RTO_* results: recovery.py

#: What every packet of a flush carries: (peer id, ack through or -1, NACKs, receive flow).
Acks = tuple[int, int, list[int], ReceiveFlow]


class SendPath:
    """Send buffer, unacked packets, retransmission and congestion state of one stream."""

    __slots__ = (
        "_acked_sent",
        "_copy_due",
        "_copy_gap",
        "_ctx",
        "_first_status",
        "_initiator",
        "_local_port",
        "_need_syn_reply",
        "_options",
        "_peer",
        "_persist_interval",
        "_recover",
        "_remote_port",
        "_resend",
        "_rtt",
        "_share",
        "_silent_probes",
        "_span",
        "_streak",
        "_stream_id",
        "_timed_out",
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
        "peer_choked",
        "rto_deadline",
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
        self._acked_sent = -1.0  # newest send time of a packet acked after one send
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
        self._span = MAX_SEQ_SPAN
        self._timed_out = -1.0  # the latest RTO expiry
        self._streak = 0  # RTO expiries in a row without an ack of new data
        self._copy_due: float | None = None  # the real RTO deadline behind probe copies
        self._copy_gap = 0.0

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
        self._resend.clear()
        self.buffer.clear()

    # ================================================================== what the peer sends us
    def process_ack(self, ack_through: int, nacks: tuple[int, ...], now: float) -> bool:
        """Take the peer's ack; True when it acked our SYN reply for the first time."""
        unacked = self.unacked
        if not unacked or ack_through >= self.next_seq:
            return False
        resend = self._resend
        nackset = set(nacks) if nacks else None
        newest = self._acked_sent
        if nackset is not None and self._rtt.samples:
            # a copy resent over 1.25 SRTT ago would be acked by now: a NACK means it was lost
            stale = now - 1.25 * self._rtt.srtt
            if stale > newest:
                newest = stale
        acked: list[int] = []
        fast = False
        lost = 0
        for seq, e in unacked.items():
            if seq > ack_through:
                break
            if nackset is not None and seq in nackset:
                if e.nacked(newest) >= FAST_RETRANSMIT_NACKS and seq not in resend:
                    resend.add(seq)
                    lost += 1
                    if e.mark_fast() and seq > self._recover:
                        fast = True
                continue
            acked.append(seq)
        cc = self.cc
        if lost:
            cc.on_loss(lost, now)
        if fast:
            self._recover = self.next_seq - 1
            cc.on_fast_retransmit(now, len(nacks))
        if not acked:
            return False
        self._rtt.on_new_ack()  # RFC 6298 5.7: new data acked, the back-off is over
        self._streak = 0
        self._copy_due = None
        sample = -1.0  # the oldest packet's age feeds the RTO (it includes the ack delay)
        youngest = 0.0  # the newest packet's age feeds the controller (queueing signals)
        for seq in acked:
            e = unacked.pop(seq)
            if e.sends == 1 and e.first_sent > self._timed_out:
                sent = e.first_sent
                if now - sent > sample:
                    sample = now - sent
                if sent > youngest:
                    youngest = sent
                if sent > self._acked_sent:
                    self._acked_sent = sent
            resend.discard(seq)
        self._share.acked(self._stream_id, len(acked), not unacked, now)
        if sample >= 0.0:
            self._rtt.update(sample)
            cc.on_rtt_sample(now - youngest, now)
        cc.on_delivered(len(acked), now)
        syn_reply_acked = False
        if not self.syn_acked and 0 in acked:
            self.syn_acked = syn_reply_acked = True
        if not self.peer_choked and not fast:
            cc.on_ack(len(acked), now)
        self.rto_deadline = now + self._rtt.rto if unacked else None
        return syn_reply_acked

    def on_peer_choke(self, choked: bool, ack_through: int | None) -> None:
        """The peer's DELAY option changed its choke (``ack_through``: its ack, if any)."""
        if choked and not self.peer_choked:
            if not self._share.shared:
                self.cc.on_choke()  # (a shared window is not cut for one stream's reader)
            self._span = SAFE_SEQ_SPAN  # it could not hold what we sent ahead
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
        self.peer_choked = choked

    # ================================================================== timers
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
        if not self._streak and not oldest.flags & SYNCHRONIZE:
            due_at = oldest.last_sent + self._rtt.rto
            if due_at > now:  # the (shared) RTT estimate grew since the timer was armed
                self.rto_deadline = due_at
                return RTO_IDLE
        opts = self._options
        if self._streak >= opts.max_resends:
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
        self._streak += 1
        self._rtt.on_timeout()
        if due[0].sends == 1:
            self._share.on_timeout(now)
        self._recover = self.next_seq - 1
        self._timed_out = now  # acks of packets sent before now may be late: no samples
        for e in due:
            self._resend.add(e.seq)
        rto = self._rtt.rto
        syn = due[0].flags & SYNCHRONIZE
        if syn:  # SYN / SYN reply: own back-off (not the peer's), tries fit the connect timeout
            rto = min(self._rtt.base * 2.0**self._streak, MAX_SYN_RTO)
        self.rto_deadline = now + rto
        if self._streak > 1 and not syn:
            self._copy_due = self.rto_deadline  # backed off twice: more copies in between
            self._copy_gap = rto / PROBE_COPIES
            self.rto_deadline = now + self._copy_gap
        return RTO_FLUSH

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

    # ================================================================== sending
    def _new_entry(self, flags: int, payload: bytes) -> SentPacket:
        e = SentPacket(self.next_seq, flags, payload)
        self._share.sent(self._stream_id, not self.unacked)
        self.next_seq += 1
        self.unacked[e.seq] = e
        self._resend.add(e.seq)
        return e

    def flush(self, now: float, out: list[OutgoingPacket], state: State, acks: Acks) -> bool:
        """Append due retransmissions and the new packets the window allows to ``out``.

        Every packet carries ``acks``: ``(peer_id, ack_through, nacks, flow)`` (``ack_through``
        -1: no acks yet; ``flow`` decides the DELAY); returns True if any packet carried acks."""
        acked_something = False
        if self._resend:
            resend = sorted(self._resend)
            self._resend.clear()
            unacked = self.unacked
            for seq in resend:
                e = unacked.get(seq)
                if e is not None:
                    acked_something |= self._transmit(e, now, out, acks)
        if state is not State.TIME_WAIT:
            acked_something |= self._send_new(now, out, state, acks)
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
        # Java's packetSendChoke: at most min(span, 2 x window) sequence numbers past the
        # oldest unacked packet (beyond the peer's receive window: dropped, never NACKed).
        span = min(self._span, 2 * window)
        unacked = self.unacked
        share = self._share
        while len(unacked) < limit:
            if unacked and (
                self.next_seq - next(iter(unacked)) >= span or share.full(len(unacked))
            ):
                break
            buffered = self.buffer.buffered
            if buffered:
                if buffered < self.mtu and not self.close_requested and self.coalesce.hold(now):
                    break  # bulk profile: a partial packet waits for more bytes (profiles.py)
                payload = self.buffer.take(self.mtu)
                flags = 0
            elif self.close_seq < 0 and self.closing.ready(now, self.close_requested, unacked):
                payload = b""
                flags = CLOSE
                self.close_seq = self.next_seq
            else:
                break
            e = self._new_entry(flags, payload)
            self._resend.discard(e.seq)
            sent |= self._transmit(e, now, out, acks)
        return sent

    def _transmit(self, e: SentPacket, now: float, out: list[OutgoingPacket], acks: Acks) -> bool:
        """Encode ``e`` with the acks and append it to ``out``; True if it carried acks."""
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
            # ask for a prompt ACK when the window is nearly full (Java) or nothing follows
            # this packet (a lone tail packet must not wait 500 ms and trip the RTO)
            delay = (
                0 if (free < 3 or free < (window + 2) // 3 or not self.buffer.buffered) else None
            )
            if self._options.interactive:
                delay = 0  # interactive profile: every data packet asks for an ACK at once
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
        if e.transmitted(now):
            self.bytes_sent += len(e.payload)
        else:
            self.packets_retransmitted += 1
        if self.rto_deadline is None:
            self.rto_deadline = now + self._rtt.rto
        return carries_acks

"""One stream's sans-I/O state: sequence numbers, acks, retransmission, close and reset.

A :class:`Connection` is owned by its :class:`~i2p_streaming.streaming.manager.StreamManager`,
which routes packets to :meth:`Connection.receive`, calls :meth:`Connection.flush` from
``payloads_to_send`` and :meth:`Connection.on_timer` from ``handle_timer``. Applications talk
to the manager, never to a connection directly.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from i2p_streaming.data import Destination
from i2p_streaming.streaming.congestion import CongestionController, WestwoodController
from i2p_streaming.streaming.events import (
    ConnectionClosed,
    ConnectionEstablished,
    ConnectionFailed,
    ConnectionReset,
    DataReceived,
    PeerClosed,
    SendBufferAvailable,
)
from i2p_streaming.streaming.flow import ReceiveFlow, on_peer_unchoke, persist_timeout
from i2p_streaming.streaming.options import StreamOptions
from i2p_streaming.streaming.packet import (
    CLOSE,
    DELAY,
    NO_ACK,
    RESET,
    SIG,
    SYN,
    Packet,
    PeerKey,
    encode_plain,
    peer_key_of,
    verify_packet,
)
from i2p_streaming.streaming.profiles import PROFILE_INTERACTIVE_FLAG, Coalescer, max_window
from i2p_streaming.streaming.rto import RttEstimator

if TYPE_CHECKING:
    from i2p_streaming.streaming.manager import StreamManager

__all__ = ["Connection", "OutgoingPacket", "State", "StreamStats"]

#: Assumed peer MTU when its SYN / SYN reply carries none (Java); smallest accepted value.
DEFAULT_PEER_MTU = 1730
MIN_MTU = 512
#: DELAY values at or above this are a choke (i2pd sends 60000, Java 61000).
CHOKE_THRESHOLD = 60000
FAST_RETRANSMIT_NACKS = 3
#: Most sequence numbers a sender may run past its oldest unacked packet (Java, B.5).
MAX_SEQ_SPAN = 128
MAX_RESEND_BURST = 16
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
#: Java's rule: stop resending an empty CLOSE after this many sends once the peer closed
#: (its stream may be gone, e.g. i2pd deletes it at once); here max(3, maxResends // 2).
CLOSE_GIVE_UP_SENDS = 3
_HASH_WORDS = struct.Struct(">8I")


class State(IntEnum):
    """Lifecycle of a connection."""

    CONNECTING = 1  #: initiator, SYN sent, no verified SYN reply yet
    OPEN = 2  #: data may flow (either side may have half-closed)
    TIME_WAIT = 3  #: both CLOSEs done; still acks retransmissions for ``time_wait``
    DEAD = 4  #: removed from the manager


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


class _Sent:
    """A packet we sent (or will send) that needs an ack; rebuilt at every transmission."""

    __slots__ = ("fast", "first_sent", "flags", "last_sent", "nacks", "payload", "sends", "seq")

    def __init__(self, seq: int, flags: int, payload: bytes) -> None:
        self.seq = seq
        self.flags = flags
        self.payload = payload
        self.first_sent = 0.0
        self.last_sent = 0.0
        self.sends = 0
        self.nacks = 0
        self.fast = False


class Connection:
    """State of one stream (see module docstring)."""

    def __init__(
        self,
        manager: StreamManager,
        stream_id: int,
        peer: Destination,
        *,
        initiator: bool,
        local_port: int,
        remote_port: int,
        options: StreamOptions,
        now: float,
        peer_id: int = 0,
        peer_key: PeerKey | None = None,
        peer_mtu: int | None = None,
    ) -> None:
        self.manager = manager
        self.stream_id = stream_id
        self.peer_id = peer_id
        self.peer = peer
        self.peer_key = peer_key
        self.initiator = initiator
        self.local_port = local_port
        self.remote_port = remote_port
        self.options = options
        self.state = State.CONNECTING if initiator else State.OPEN
        self.mtu = options.max_message_size
        if peer_mtu is not None:
            self._set_peer_mtu(peer_mtu)
        self.rtt = RttEstimator(options.initial_rto)
        self.cc: CongestionController = WestwoodController(
            min(options.initial_window_size, max_window(options)), max_window(options)
        )
        self.flow = ReceiveFlow(
            options.receive_buffer_bytes,
            options.receive_buffer_packets,
            options.max_message_size,
            manager.auto_consume,
        )
        self.coalesce = Coalescer(options)
        self.tcb_seeded = False
        # send side
        self._sbuf = bytearray()
        self._soff = 0
        self._write_blocked = False
        self._next_seq = 0
        self.unacked: dict[int, _Sent] = {}
        self._resend: set[int] = set()
        self._rto_deadline: float | None = None
        self._recover = -1
        self._acked_sent = -1.0  # newest send time of a packet acked after one send
        self.peer_choked = False
        self._need_syn_reply = not initiator
        self._syn_acked = initiator
        self.close_requested = False
        self._close_seq = -1
        # receive side
        self._rcv_next = 0
        self._rcv_highest = -1
        self._ooo: dict[int, tuple[int, bytes]] = {}
        self._peer_close_seq = -1
        self.peer_closed = False
        self._ack_deadline: float | None = None
        self._rcv_unacked = 0  # new data packets received since our last ACK went out
        self._last_arrival = -1.0  # when the latest in-order data packet arrived
        self._gap_avg = 0.0  # moving average of the gaps between in-order data packets
        self._idle_ack_at: float | None = None  # burst-end ACK deadline (see ACK_IDLE_GAPS)
        # timers
        self._connect_deadline = now + options.connect_timeout if initiator else None
        self._tw_deadline: float | None = None
        self._last_activity = now
        self._timer_at: float | None = None
        # stats
        self.bytes_sent = 0
        self.bytes_received = 0
        self.packets_sent = 0
        self.packets_received = 0
        self.packets_retransmitted = 0
        self.packets_dropped = 0
        self._first_status = initiator

    # ================================================================== application side
    @property
    def send_buffered(self) -> int:
        return len(self._sbuf) - self._soff

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Append up to the free send-buffer space; return the bytes accepted."""
        free = self.options.buffer_size - self.send_buffered
        n = len(data)
        if n > free:
            n = max(free, 0)
            self._write_blocked = True
        if n:
            self._sbuf += data[:n] if n < len(data) else data
        return n

    def syn_limit(self) -> int:
        return min(self.mtu, self.options.max_message_size)

    def start_syn(self, data: bytes, close: bool) -> None:
        """Initiator: queue the SYN (seq 0) with up to one packet of ``data``."""
        first = bytes(data[: self.syn_limit()])
        rest = data[len(first) :]
        if rest:
            self._sbuf += rest
        flags = SYN
        if close:
            self.close_requested = True
            if not rest:
                flags |= CLOSE
                self._close_seq = 0
        self._new_entry(flags, first)

    def request_close(self) -> None:
        self.close_requested = True

    # ================================================================== receive
    def receive(self, p: Packet, raw: bytes, now: float, verified: bool = False) -> None:
        """Process one packet addressed to this stream (may queue events and mark dirty)."""
        flags = p.flags
        mgr = self.manager
        self.packets_received += 1
        self._last_activity = now
        if self.state is State.DEAD:
            return
        if (
            not verified
            and flags & (SIG | SYN | CLOSE | RESET)
            and not verify_packet(
                raw, p, key=self.peer_key, expected=self.peer, epoch_now=mgr.epoch_now(now)
            )
        ):
            self.packets_dropped += 1
            mgr.count("bad_signature")
            return
        if self.peer_id and p.receive_stream_id != self.peer_id and not (flags & RESET):
            self.packets_dropped += 1
            mgr.count("wrong_stream_id")
            return
        if flags & RESET:
            self._on_reset(now)
            return
        if flags & SYN and self.state is State.CONNECTING:
            if p.from_destination is None or not p.receive_stream_id:
                self.packets_dropped += 1
                return
            self.peer_id = p.receive_stream_id
            self.peer_key = peer_key_of(p.from_destination, p.offline_signature)
            self._set_peer_mtu(p.max_packet_size)
            self.state = State.OPEN
            self._connect_deadline = None
            mgr.push_event(ConnectionEstablished(self.stream_id))
        self.flow.last_heard = now
        if flags & DELAY:
            delay = p.delay
            assert delay is not None
            choked = delay >= CHOKE_THRESHOLD
            if choked and not self.peer_choked:
                self.cc.on_choke()
            elif self.peer_choked and not choked:
                on_peer_unchoke(self, None if flags & NO_ACK else p.ack_through)
            self.peer_choked = choked
        else:
            delay = None
        if self.state is not State.CONNECTING and not flags & NO_ACK and p.send_stream_id:
            self._process_ack(p.ack_through, p.nacks, now)
        seq = p.sequence_num
        if seq == 0 and not flags & SYN:
            mgr.mark_dirty(self)
            return  # plain ACK: never acked, never data
        if seq < self._rcv_next or seq in self._ooo:
            # duplicate: ack at once; a repeated SYN gets our unacked SYN reply again
            mgr.count("duplicate")
            if flags & SYN and not self.initiator and 0 in self.unacked:
                self._resend.add(0)
            self._ack_deadline = now
            mgr.mark_dirty(self)
            return
        if seq - self._rcv_next >= self.options.receive_window or (
            self._peer_close_seq >= 0 and seq > self._peer_close_seq
        ):
            self.packets_dropped += 1
            mgr.count("out_of_window")
            self._ack_deadline = now
            mgr.mark_dirty(self)
            return
        if not self.flow.admit(len(p.payload), seq == self._rcv_next, len(self._ooo)):
            self.packets_dropped += 1
            mgr.count("receive_buffer_full")
            self._ack_deadline = now  # the choke goes out at once
            mgr.mark_dirty(self)
            return
        if seq > self._rcv_highest:
            self._rcv_highest = seq
        if flags & CLOSE:
            self._peer_close_seq = seq
        if seq == self._rcv_next:
            self.flow.unchoke_retry_at = None  # data flows again
            self._deliver(flags, p.payload)
            ooo = self._ooo
            while ooo:
                item = ooo.pop(self._rcv_next, None)
                if item is None:
                    break
                self.flow.ooo_bytes -= len(item[1])
                self._deliver(item[0], item[1])
            ack_at = now if ooo else self._ack_time(now, delay)
            self._rcv_unacked += 1
            if self._rcv_unacked >= ACK_EVERY_PACKETS:
                ack_at = now
            self._note_arrival(now)
        else:
            self._ooo[seq] = (flags, p.payload)
            self.flow.ooo_bytes += len(p.payload)
            self.flow.unchoke_retry_at = None
            ack_at = now  # a gap: tell the sender at once (NACKs)
        if self._ack_deadline is None or ack_at < self._ack_deadline:
            self._ack_deadline = ack_at
        if self.peer_closed:
            self._check_done(now)
        mgr.mark_dirty(self)

    def _note_arrival(self, now: float) -> None:
        """Push the burst-end ACK deadline past this in-order data packet (ACK_IDLE_GAPS).

        Only gaps inside a run of unacked packets are averaged: the pause before the first
        packet after an ACK is the peer waiting for us, not its sending pace.
        """
        if self._rcv_unacked >= 2:
            gap = now - self._last_arrival
            self._gap_avg = gap if not self._gap_avg else self._gap_avg + (gap - self._gap_avg) / 8
            idle = ACK_IDLE_GAPS * self._gap_avg
            self._idle_ack_at = now + (idle if idle > ACK_IDLE_MIN else ACK_IDLE_MIN)
        self._last_arrival = now

    def _ack_time(self, now: float, delay: int | None) -> float:
        """When to acknowledge a new in-window packet that requested ``delay`` ms (B.3).

        No request: ``initialAckDelay``, shortened to SRTT/4 once the RTT is known — i2pd
        (2.56) never asks for prompt ACKs on its data packets and paces itself by the RTT it
        measures, so a flat 500 ms ack delay would slow it to a fifth.
        """
        if delay is None:
            srtt = self.rtt.rtt
            if srtt is None:
                return now + self.options.initial_ack_delay
            return now + min(self.options.initial_ack_delay, srtt / 4.0)
        if delay == 0:
            srtt = self.rtt.rtt
            return now if srtt is None else now + min(0.12, srtt / 8.0)
        return now + min(delay / 1000.0, self.options.initial_ack_delay)

    def _deliver(self, flags: int, payload: bytes) -> None:
        self._rcv_next += 1
        if payload:
            self.bytes_received += len(payload)
            self.flow.delivered(len(payload))
            self.manager.push_event(DataReceived(self.stream_id, payload))
        if flags & CLOSE:
            self.peer_closed = True
            self.manager.push_event(PeerClosed(self.stream_id))

    def _set_peer_mtu(self, value: int | None) -> None:
        peer = DEFAULT_PEER_MTU if value is None else max(value, MIN_MTU)
        self.mtu = min(self.options.max_message_size, peer)

    # ================================================================== acks we receive
    def _process_ack(self, ack_through: int, nacks: tuple[int, ...], now: float) -> None:
        unacked = self.unacked
        if not unacked or ack_through >= self._next_seq:
            return
        nackset = set(nacks) if nacks else None
        newest = self._acked_sent
        acked: list[int] = []
        fast = False
        for seq, e in unacked.items():
            if seq > ack_through:
                break
            if nackset is not None and seq in nackset:
                # A NACK of a resent packet counts only once the peer has acked a packet we
                # sent after that resend: then (FIFO tunnels) the resend itself was lost.
                if e.sends == 1 or e.last_sent < newest:
                    e.nacks += 1
                if e.nacks >= FAST_RETRANSMIT_NACKS and seq not in self._resend:
                    self._resend.add(seq)
                    if not e.fast and seq > self._recover:
                        fast = True
                    e.fast = True
                continue
            acked.append(seq)
        if fast:
            self._recover = self._next_seq - 1
            self.cc.on_fast_retransmit(now, len(nacks))
        if not acked:
            return
        sample = -1.0
        for seq in acked:
            e = unacked.pop(seq)
            if e.sends == 1:
                age = now - e.first_sent
                if age > sample:
                    sample = age
                if e.first_sent > self._acked_sent:
                    self._acked_sent = e.first_sent
            self._resend.discard(seq)
        if sample >= 0.0:
            self.rtt.update(sample)
            self.cc.on_rtt_sample(sample, now)
        self.cc.on_delivered(len(acked), now)
        if not self._syn_acked and 0 in acked:
            self._syn_acked = True
            self.manager.syn_reply_acked(self)
        if not self.peer_choked and not fast:
            self.cc.on_ack(len(acked), now)
        self._rto_deadline = now + self.rtt.rto if unacked else None
        if not unacked and self._close_seq >= 0:
            self._check_done(now)

    # ================================================================== sending
    def _new_entry(self, flags: int, payload: bytes) -> _Sent:
        e = _Sent(self._next_seq, flags, payload)
        self._next_seq += 1
        self.unacked[e.seq] = e
        self._resend.add(e.seq)
        return e

    def _nacks(self) -> list[int]:
        ooo = self._ooo
        if not ooo:
            return []
        return [s for s in range(self._rcv_next, self._rcv_highest) if s not in ooo]

    def flush(self, now: float, out: list[OutgoingPacket]) -> None:
        """Emit due retransmissions, new packets the window allows and a due ACK into ``out``."""
        if self.state is State.DEAD:
            return
        acked_something = False
        if self._resend:
            resend = sorted(self._resend)
            self._resend.clear()
            for seq in resend:
                e = self.unacked.get(seq)
                if e is not None:
                    acked_something |= self._transmit(e, now, out)
        if self.state is not State.TIME_WAIT:
            acked_something |= self._send_new(now, out)
        if (
            self._ack_deadline is not None
            and self._ack_deadline <= now
            and not acked_something
            and self.peer_id
            and self._rcv_highest >= 0
        ):
            nacks = self._nacks()
            out.append(
                OutgoingPacket(
                    self.peer,
                    self.local_port,
                    self.remote_port,
                    encode_plain(
                        self.peer_id,
                        self.stream_id,
                        0,
                        self._rcv_highest,
                        nacks,
                        0,
                        self.flow.delay_option(),
                        b"",
                    ),
                )
            )
            acked_something = True
        if acked_something:
            self._rcv_unacked = 0
            self._idle_ack_at = None
        if acked_something or (self._ack_deadline is not None and self._ack_deadline <= now):
            self._ack_deadline = None  # sent, or impossible before the peer's id is known
        if self._write_blocked and self.send_buffered <= self.options.buffer_size // 2:
            self._write_blocked = False
            self.manager.push_event(SendBufferAvailable(self.stream_id))
        self.reschedule()

    def _send_new(self, now: float, out: list[OutgoingPacket]) -> bool:
        sent = False
        if self._need_syn_reply:
            self._need_syn_reply = False
            payload = self._take(self.mtu)
            flags = SYN
            if self.close_requested and not self.send_buffered:
                flags |= CLOSE
                self._close_seq = self._next_seq
            e = self._new_entry(flags, payload)
            self._resend.discard(e.seq)
            sent |= self._transmit(e, now, out)
        if not self._syn_acked:
            return sent  # responder: hold more packets until the SYN reply is acked (E.11)
        limit = self.cc.window
        if self.state is State.CONNECTING and limit > 3:
            limit = 3
        if self.peer_choked:
            limit = 0 if self.unacked else 1
        # Java's packetSendChoke: never run more than min(128, 2 x window) sequence numbers
        # past the oldest unacked packet, so a hole cannot push new packets beyond the
        # peer's receive window (they would be dropped, never NACKed, and cost RTOs).
        span = min(MAX_SEQ_SPAN, 2 * self.cc.window)
        while len(self.unacked) < limit:
            if self.unacked and self._next_seq - next(iter(self.unacked)) >= span:
                break
            buffered = self.send_buffered
            if buffered:
                if buffered < self.mtu and not self.close_requested and self.coalesce.hold(now):
                    break  # bulk profile: a partial packet waits for more bytes (profiles.py)
                payload = self._take(self.mtu)
                flags = 0
                if self.close_requested and not self.send_buffered:
                    flags = CLOSE
                    self._close_seq = self._next_seq
            elif self.close_requested and self._close_seq < 0:
                payload = b""
                flags = CLOSE
                self._close_seq = self._next_seq
            else:
                break
            e = self._new_entry(flags, payload)
            self._resend.discard(e.seq)
            sent |= self._transmit(e, now, out)
        return sent

    def _take(self, n: int) -> bytes:
        off = self._soff
        buf = self._sbuf
        chunk = bytes(buf[off : off + n])
        off += len(chunk)
        if off >= len(buf):
            buf.clear()
            off = 0
        elif off > 65536 and off * 2 > len(buf):
            del buf[:off]
            off = 0
        self._soff = off
        return chunk

    def _transmit(self, e: _Sent, now: float, out: list[OutgoingPacket]) -> bool:
        """Encode ``e`` with fresh acks and append it to ``out``; True if it carried acks."""
        flags = e.flags
        mgr = self.manager
        peer_id = self.peer_id
        carries_acks = bool(peer_id) and self._rcv_highest >= 0
        if carries_acks:
            ack_through = self._rcv_highest
            nacks = self._nacks()
        else:
            flags |= NO_ACK
            ack_through = 0
            nacks = []
        want_status = False
        if flags & (SYN | CLOSE):
            keys = mgr.keys
            pkt = Packet(peer_id, self.stream_id, e.seq, ack_through, tuple(nacks), 1, flags)
            choke = self.flow.delay_option()
            pkt.delay = 0 if choke is None else choke
            if flags & SYN:
                if self.options.interactive:
                    pkt.flags |= PROFILE_INTERACTIVE_FLAG
                pkt.from_destination = keys.destination
                pkt.offline_signature = keys.offline
                pkt.max_packet_size = self.options.max_message_size
                if self.initiator:
                    pkt.send_stream_id = 0
                    pkt.flags |= NO_ACK
                    pkt.ack_through = 0
                    pkt.nacks = _HASH_WORDS.unpack(self.peer.hash)
                    want_status = self._first_status
                    self._first_status = False
            pkt.payload = e.payload
            data = pkt.encode_signed(keys)
        else:
            unacked = len(self.unacked)
            window = self.cc.window
            free = window - unacked
            # ask for a prompt ACK when the window is nearly full (Java) or nothing follows
            # this packet (a lone tail packet must not wait 500 ms and trip the RTO)
            delay = 0 if (free < 3 or free < (window + 2) // 3 or not self.send_buffered) else None
            if self.options.interactive:
                delay = 0  # interactive profile: every data packet asks for an ACK at once
            choke = self.flow.delay_option()
            if choke is not None:
                delay = choke
            data = encode_plain(
                peer_id, self.stream_id, e.seq, ack_through, nacks, flags, delay, e.payload
            )
        out.append(
            OutgoingPacket(
                self.peer,
                self.local_port,
                self.remote_port,
                data,
                want_status,
                bool(flags & SYN),
            )
        )
        e.sends += 1
        e.last_sent = now
        self.packets_sent += 1
        if e.sends == 1:
            e.first_sent = now
            self.bytes_sent += len(e.payload)
        else:
            self.packets_retransmitted += 1
            e.nacks = 0  # later NACKs must show that this copy was lost too
        if self._rto_deadline is None:
            self._rto_deadline = now + self.rtt.rto
        return carries_acks

    # ================================================================== timers
    def deadline(self) -> float | None:
        """The earliest time this connection needs :meth:`on_timer`."""
        best: float | None = None
        timers = (
            self._rto_deadline,
            self._ack_deadline,
            self._idle_ack_at,
            self._connect_deadline,
            self._tw_deadline,
            self.coalesce.flush_at,
            self.flow.unchoke_retry_at,
        )
        for t in timers:
            if t is not None and (best is None or t < best):
                best = t
        opts = self.options
        if (
            self.state is State.OPEN
            and opts.inactivity_action
            and opts.inactivity_timeout > 0
            and not self.unacked
        ):
            t = self._last_activity + opts.inactivity_timeout
            if best is None or t < best:
                best = t
        return best

    def reschedule(self) -> None:
        deadline = self.deadline()
        if deadline is not None:
            self.manager.schedule(self, deadline)

    def on_timer(self, now: float) -> None:
        """Handle every deadline that has passed (may queue packets and events)."""
        mgr = self.manager
        if self.state is State.DEAD:
            return
        if self._tw_deadline is not None and now >= self._tw_deadline:
            mgr.remove(self, now)
            return
        if self._connect_deadline is not None and now >= self._connect_deadline:
            self._fail(
                f"connect to {self.peer.b32} port {self.remote_port} timed out after "
                f"{self.options.connect_timeout:g} s without a SYN reply",
                now,
            )
            return
        if self._rto_deadline is not None and now >= self._rto_deadline and not self._on_rto(now):
            return
        if self._idle_ack_at is not None and now >= self._idle_ack_at:
            self._idle_ack_at = None
            self._ack_deadline = now  # the peer's burst has ended: it waits for this ACK
        if self._ack_deadline is not None and now >= self._ack_deadline:
            mgr.mark_dirty(self)
        if self.coalesce.expire(now):
            mgr.mark_dirty(self)  # bulk profile: the passive flush delay of a partial packet
        if self.flow.unchoke_retry_due(now) and self._rcv_highest >= 0:
            self._ack_deadline = now  # flow.py: the peer stayed silent after our unchoke
            mgr.mark_dirty(self)
        opts = self.options
        if (
            self.state is State.OPEN
            and opts.inactivity_action
            and opts.inactivity_timeout > 0
            and not self.unacked
            and now >= self._last_activity + opts.inactivity_timeout
        ):
            self._last_activity = now
            if opts.inactivity_action == 1 or self.close_requested or self.peer_closed:
                self.reset(now, f"no activity for {opts.inactivity_timeout:g} s")
                return
            self._new_entry(0, b"")  # keep-alive: empty packet with a new sequence number
            mgr.mark_dirty(self)
        if not mgr.is_dirty(self):
            self.reschedule()  # otherwise flush() reschedules after sending

    def _on_rto(self, now: float) -> bool:
        """Retransmission timeout; returns False when the connection was torn down."""
        unacked = self.unacked
        if not unacked:
            self._rto_deadline = None
            return True
        if self.peer_choked:
            return persist_timeout(self, now)  # flow.py: probe the choked peer
        count = min((len(unacked) + 1) // 2, MAX_RESEND_BURST)
        due: list[_Sent] = []
        for e in unacked.values():
            if len(due) >= count:
                break
            due.append(e)
        for e in due:
            if (
                e.flags & CLOSE
                and not e.payload
                and self.peer_closed
                and e.sends >= max(CLOSE_GIVE_UP_SENDS, self.options.max_resends // 2)
            ):
                # the peer will never ack it (old routers, i2pd): count it as acked
                unacked.pop(e.seq)
                self._check_done(now)
                return self.state is not State.DEAD
            if e.sends > self.options.max_resends:
                reason = (
                    f"no acknowledgement from {self.peer.b32} after "
                    f"{self.options.max_resends} retransmissions; the peer is unreachable or gone"
                )
                if self.state is State.CONNECTING:
                    self._fail(reason, now)
                else:
                    self.reset(now, reason)
                return False
        self.rtt.on_timeout()
        if due[0].sends == 1:
            self.cc.on_timeout(now)
        self._recover = self._next_seq - 1
        for e in due:
            self._resend.add(e.seq)
        self._rto_deadline = now + self.rtt.rto
        self.manager.mark_dirty(self)
        return True

    # ================================================================== endings
    def _check_done(self, now: float) -> None:
        if (
            self.peer_closed
            and self._close_seq >= 0
            and not self.unacked
            and self.state is State.OPEN
        ):
            self.state = State.TIME_WAIT
            self._tw_deadline = now + self.options.time_wait
            self._rto_deadline = None
            self._connect_deadline = None
            self.unacked.clear()
            self._resend.clear()
            self._sbuf = bytearray()
            self._soff = 0
            self.manager.push_event(ConnectionClosed(self.stream_id))
            self.manager.mark_dirty(self)  # still owes the ack of the peer's CLOSE

    def _on_reset(self, now: float) -> None:
        mgr = self.manager
        if self.state is State.CONNECTING:
            mgr.push_event(
                ConnectionFailed(
                    self.stream_id,
                    f"connection to {self.peer.b32} port {self.remote_port} refused "
                    "(no listener, or the peer's limits)",
                    True,
                )
            )
        elif self.state is State.OPEN:
            mgr.push_event(ConnectionReset(self.stream_id, f"reset by peer {self.peer.b32}", True))
        mgr.remove(self, now)

    def _fail(self, reason: str, now: float) -> None:
        self.manager.push_event(ConnectionFailed(self.stream_id, reason, False))
        self.manager.remove(self, now)

    def reset(self, now: float, reason: str | None) -> None:
        """Send a signed RESET (next sequence number) if the peer's id is known, then remove.

        ``reason`` not None also queues :class:`ConnectionReset` (give-up paths)."""
        mgr = self.manager
        if self.peer_id and self.state in (State.OPEN, State.CONNECTING):
            ack = self._rcv_highest
            flags = RESET if ack >= 0 else RESET | NO_ACK
            pkt = Packet(
                self.peer_id,
                self.stream_id,
                self._next_seq,
                max(ack, 0),
                tuple(self._nacks()) if ack >= 0 else (),
                1,
                flags,
            )
            self._next_seq += 1
            mgr.queue_out(
                OutgoingPacket(
                    self.peer, self.local_port, self.remote_port, pkt.encode_signed(mgr.keys)
                )
            )
        if reason is not None:
            mgr.push_event(ConnectionReset(self.stream_id, reason, False))
        mgr.remove(self, now)

    def stats(self) -> StreamStats:
        return StreamStats(
            self.stream_id,
            self.peer_id,
            self.state,
            self.rtt.rtt,
            self.rtt.rto,
            self.cc.window,
            self.mtu,
            self.bytes_sent,
            self.bytes_received,
            self.packets_sent,
            self.packets_received,
            self.packets_retransmitted,
            self.packets_dropped,
            len(self.unacked),
            self.send_buffered,
            self.flow.unread + self.flow.ooo_bytes,
            self.flow.peak_bytes,
            self.flow.choking,
            self.peer_choked,
        )

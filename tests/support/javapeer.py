"""A receiver that follows Java I2P's ack rules (``/work/notes/java-acks.md`` part A), for the
fake link: it stands where a :class:`~i2p_streaming.streaming.StreamManager` would
(``destination``, ``receive_payload``, ``payloads_to_send``, ``get_timer``,
``handle_timer``, ``next_event``) and accepts every stream our sender opens to it.

What it models, per stream (the minimum faithful set of part C):

* **Ack timing.** A new packet (first copy, in order or not) schedules the ack at
  ``now + d``: d = min(120 ms, SRTT/8) if it asked DELAY 0 (SRTT 0 until Java's first
  sample: at once), the requested delay if it asked one, else 500 ms; a pending time only
  moves earlier and never beyond now + 500 ms. There is no immediate ack on a gap. A
  duplicate is acked at ``last send + min(500 ms, SRTT/2)`` (at once if that passed, else
  only if nothing was sent meanwhile). Plain ACKs are never acked.
* **Ack content.** ackThrough = the highest sequence number received; a NACK for every
  missing one below it (at most 255).
* **SRTT.** One sample: our first ack of its SYN reply (Java sends no data here).
* **Choke.** Once 130 packets wait out of order (buffer MTU x 130), a data packet more
  than 130 past the highest in order (never below seq 16) is dropped and answered at once
  with DELAY 61000, every time.
  Only an accepted new packet of more than 1500 bytes unchokes; then 7 packets carry DELAY
  0 (the ack sent at once and the next six).

* **Its own CLOSE** (``closes_first=True``, as ``tests/java/JavaPeer.java``'s ``sink``,
  which closes its output as soon as it is connected): sent (signed, DELAY 0, carrying the
  acks) when our first ack of the SYN reply arrives, resent every max(1 s, 3 x SRTT),
  doubling, until one of our packets acks it. Once it went, Java's closing scheduler
  (``SchedulerClosing``) never sends a scheduled ack: our CLOSE, arriving after it, is
  acked only if its ack delay is 0 (Java's RTT below 8 ms); a copy of it is a duplicate and
  acked by the duplicate rule above (``ConnectionPacketHandler``: the duplicate path acks
  outside the scheduler).

The application reads everything at once and never sends data; a test waits for
:attr:`JavaStream.complete` (every byte and our CLOSE in order). For a driver
written for a manager (``benchmarks/pathsim.py``) it queues ``IncomingConnection``,
``DataReceived`` (zero bytes of the delivered length) and ``PeerClosed`` events and answers
``stats(id).peer_stream_id``; ``close`` does nothing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from i2p_streaming.data import Destination, PrivateKeys
from i2p_streaming.streaming import (
    DataReceived,
    Event,
    IncomingConnection,
    OutgoingPacket,
    PeerClosed,
    StreamOptions,
)
from i2p_streaming.streaming.packet import (
    CLOSE,
    DELAY_REQUESTED,
    NO_ACK,
    RESET,
    SYNCHRONIZE,
    Packet,
    encode_plain,
)
from i2p_streaming.streaming.signed import encode_signed_packet

__all__ = ["JavaReceiver", "JavaStream"]

IMMEDIATE_ACK_DELAY = 0.120
SEND_ACK_DELAY = 0.500
CHOKE_DELAY = 61000
UNCHOKES_TO_SEND = 8
MIN_READY_BUFFERS = 16
MTU = 1812
MAX_BUFFER = MTU * 130
MAX_NACKS = 255


@dataclass
class JavaStream:
    """One stream as Java's receiver holds it."""

    peer: Destination
    peer_id: int  # our sender's stream id
    own_id: int
    src_port: int
    dst_port: int
    syn_reply_at: float = 0.0
    srtt: float = 0.0  # 0 until the first sample, as in Java
    in_order: int = 0  # highest sequence number received in order (our SYN is 0)
    highest: int = 0
    pending: dict[int, int] = field(default_factory=dict)  # out of order: seq -> bytes
    next_ack: float | None = None
    dup_at: float | None = None
    dup_since: float = -1.0  # last_send when the duplicate timer was armed
    last_send: float = -1.0
    unacked: int = 0  # packets received since our last ack
    choking: bool = False
    unchokes: int = 0
    close_seq: int = -1
    received: int = 0  # bytes delivered in order
    complete_at: float | None = None
    chokes_sent: int = 0
    acks_sent: int = 0
    syn_reply: bytes = b""
    own_close: bytes = b""  # Java's CLOSE as sent (closes_first), b"" before
    own_close_acked: bool = False
    close_resend_at: float | None = None
    close_interval: float = 0.0
    close_sends: int = 0

    @property
    def peer_stream_id(self) -> int:
        return self.peer_id

    @property
    def complete(self) -> bool:
        return self.complete_at is not None

    @property
    def closing(self) -> bool:
        """Java sent its CLOSE and has ours: its closing scheduler sends no scheduled ack."""
        return bool(self.own_close) and self.complete_at is not None


class JavaReceiver:
    """Java's receiver side for every stream opened to ``keys`` (module docstring)."""

    def __init__(
        self, keys: PrivateKeys, options: StreamOptions | None = None, *, closes_first: bool = False
    ) -> None:
        self.keys = keys
        self.closes_first = closes_first
        self.destination: Destination = keys.destination
        self.options = options or StreamOptions()
        self.streams: dict[int, JavaStream] = {}  # by our own id
        self._by_peer: dict[tuple[bytes, int], JavaStream] = {}
        self._next_id = 1000
        self._out: list[OutgoingPacket] = []
        self._events: deque[Event] = deque()
        self.counters: dict[str, int] = {}

    # ------------------------------------------------------------------ manager interface
    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def stats(self, stream_id: int) -> JavaStream:
        """The stream (its ``peer_stream_id`` is our sender's id)."""
        return self.streams[stream_id]

    def close(self, stream_id: int, now: float) -> None:
        """The application closes: nothing more (``closes_first`` closes at once instead)."""

    def get_timer(self) -> float | None:
        times = [
            t
            for s in self.streams.values()
            for t in (s.next_ack, s.dup_at, s.close_resend_at)
            if t is not None
        ]
        return min(times) if times else None

    def handle_timer(self, now: float) -> None:
        for s in self.streams.values():
            if s.next_ack is not None and now >= s.next_ack - 1e-9:
                if s.unacked > 0:
                    self._ack(s, now)
                s.next_ack = None
            if s.dup_at is not None and now >= s.dup_at - 1e-9:
                if s.last_send <= s.dup_since:  # nothing sent since it was armed
                    self._ack(s, now)
                s.dup_at = None
            if s.close_resend_at is not None and now >= s.close_resend_at - 1e-9:
                self._send_close(s, now)

    def payloads_to_send(self, now: float) -> list[OutgoingPacket]:
        out, self._out = self._out, []
        return out

    def receive_payload(self, payload: bytes, src_port: int, dst_port: int, now: float) -> None:
        p = Packet.decode(payload)
        if p.flags & SYNCHRONIZE and p.send_stream_id == 0:
            self._on_syn(p, src_port, dst_port, now)
            return
        s = self.streams.get(p.send_stream_id)
        early = s is None and p.send_stream_id == 0  # sent before our SYN reply arrived
        if early:
            s = next((x for x in self.streams.values() if x.peer_id == p.receive_stream_id), None)
        if s is None or p.flags & RESET:
            return
        if early:
            self._on_data(s, p, now, ack=False)  # stored, but acked as a duplicate
            return
        if s.srtt == 0.0 and not p.flags & NO_ACK:
            s.srtt = max(now - s.syn_reply_at, 1e-3)  # our ack of its SYN reply: one sample
            if self.closes_first:
                self._send_close(s, now)
        if s.own_close and not p.flags & NO_ACK and p.ack_through >= 1 and 1 not in p.nacks:
            s.own_close_acked = True  # our ack of its CLOSE
            s.close_resend_at = None
        seq = p.sequence_num
        if seq == 0:
            return  # a plain ACK: never acked
        self._on_data(s, p, now)

    # ------------------------------------------------------------------ the rules
    def _on_syn(self, p: Packet, src_port: int, dst_port: int, now: float) -> None:
        assert p.from_destination is not None
        key = (p.from_destination.hash, p.receive_stream_id)
        s = self._by_peer.get(key)
        if s is not None:  # a repeated SYN: the SYN reply again
            self._emit(s, s.syn_reply, now)
            return
        s = JavaStream(p.from_destination, p.receive_stream_id, self._next_id, dst_port, src_port)
        self._next_id += 1
        self.streams[s.own_id] = s
        self._by_peer[key] = s
        head: tuple[int, int, int, int, list[int], int, int]
        head = (s.peer_id, s.own_id, 0, 0, [], SYNCHRONIZE, 0)
        s.syn_reply, _ = encode_signed_packet(self.keys, self.options, head, b"", None)
        s.syn_reply_at = now
        self._events.append(IncomingConnection(s.own_id, s.peer, s.src_port, s.dst_port))
        self._emit(s, s.syn_reply, now)

    def _can_accept(self, s: JavaStream, seq: int, size: int) -> bool:
        """Java's ``canAccept``: the application has read everything in order, so only the
        out-of-order blocks fill the buffer (each counted as a full packet)."""
        if size == 0 or seq <= s.in_order or seq < MIN_READY_BUFFERS:
            return True
        if len(s.pending) * MTU < MAX_BUFFER or seq in s.pending:
            return True
        return seq <= s.in_order + MAX_BUFFER // MTU

    def _on_data(self, s: JavaStream, p: Packet, now: float, ack: bool = True) -> None:
        seq, size = p.sequence_num, len(p.payload)
        new = seq > s.in_order and seq not in s.pending
        if new and not ack:
            self._store(s, seq, size, p.flags, now)
        if not new or not ack:
            s.unacked += 1
            at = s.last_send + min(SEND_ACK_DELAY, s.srtt / 2)
            if at <= now:
                self._ack(s, now)
            elif s.dup_at is None:
                s.dup_at, s.dup_since = at, s.last_send
            return
        if not self._can_accept(s, seq, size):
            s.choking = True
            s.chokes_sent += 1
            self._ack(s, now)  # dropped; DELAY 61000 at once
            return
        self._store(s, seq, size, p.flags, now)
        s.unacked += 1
        if s.choking and size > 1500:
            s.choking = False
            s.unchokes = UNCHOKES_TO_SEND
            self._ack(s, now)
            return
        if p.flags & DELAY_REQUESTED and p.delay is not None:
            delay = min(IMMEDIATE_ACK_DELAY, s.srtt / 8) if p.delay == 0 else p.delay / 1000
        else:
            delay = SEND_ACK_DELAY
        at = now + min(delay, SEND_ACK_DELAY)
        if s.next_ack is None or at < s.next_ack:
            s.next_ack = at
        if at <= now:
            self._ack(s, now)
            s.next_ack = None
        elif s.closing:
            s.next_ack = None  # SchedulerClosing: the scheduled ack never goes

    def _store(self, s: JavaStream, seq: int, size: int, flags: int, now: float) -> None:
        s.pending[seq] = size
        if flags & CLOSE:
            s.close_seq = seq
        s.highest = max(s.highest, seq)
        delivered = 0
        while s.in_order + 1 in s.pending:
            s.in_order += 1
            delivered += s.pending.pop(s.in_order)
        if delivered:
            s.received += delivered
            self._events.append(DataReceived(s.own_id, bytes(delivered)))
        if s.close_seq >= 0 and s.in_order >= s.close_seq and s.complete_at is None:
            s.complete_at = now
            self._events.append(PeerClosed(s.own_id))

    def _ack(self, s: JavaStream, now: float) -> None:
        holes = [q for q in range(s.in_order + 1, s.highest) if q not in s.pending]
        delay: int | None = None
        if s.choking:
            delay = CHOKE_DELAY
        elif s.unchokes > 0:
            s.unchokes -= 1
            if s.unchokes > 0:
                delay = 0
        data = encode_plain(s.peer_id, s.own_id, 0, s.highest, holes[:MAX_NACKS], 0, delay, b"")
        s.acks_sent += 1
        s.unacked = 0
        self._emit(s, data, now)

    def _send_close(self, s: JavaStream, now: float) -> None:
        """Java's CLOSE (seq 1), first or again; it carries the acks, as every packet does."""
        if s.own_close_acked:
            s.close_resend_at = None
            return
        holes = [q for q in range(s.in_order + 1, s.highest) if q not in s.pending]
        head = (s.peer_id, s.own_id, 1, s.highest, holes[:MAX_NACKS], CLOSE, 0)
        s.own_close, _ = encode_signed_packet(self.keys, self.options, head, b"", None)
        s.close_interval = max(1.0, 3 * s.srtt) if not s.close_sends else 2 * s.close_interval
        s.close_sends += 1
        s.close_resend_at = now + s.close_interval
        s.unacked = 0
        self._emit(s, s.own_close, now)

    def _emit(self, s: JavaStream, data: bytes, now: float) -> None:
        s.last_send = now
        self._out.append(OutgoingPacket(s.peer, s.src_port, s.dst_port, data))

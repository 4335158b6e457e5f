"""The sans-I/O streaming endpoint of one local destination (aioquic-style).

Inputs are method calls (:meth:`StreamManager.receive_payload`, :meth:`~StreamManager.connect`,
:meth:`~StreamManager.send`, ...); after each one the shell pulls
:meth:`~StreamManager.payloads_to_send`, :meth:`~StreamManager.next_event` until None, and
:meth:`~StreamManager.get_timer` (one deadline from one timer heap), and calls
:meth:`~StreamManager.handle_timer` when it passes. Time is always passed in as ``now``
(monotonic seconds); nothing here reads a clock, sleeps or does I/O.
"""

from __future__ import annotations

import logging
import random
import secrets
import struct
from collections import OrderedDict

from i2p_streaming.data import Destination, PrivateKeys
from i2p_streaming.errors import DataFormatError, InvalidStateError
from i2p_streaming.streaming.connection import Connection
from i2p_streaming.streaming.context import StreamContext
from i2p_streaming.streaming.early import PENDING_TIMEOUT, EarlyPackets
from i2p_streaming.streaming.events import Event, IncomingConnection
from i2p_streaming.streaming.limits import Admission, Backlog, Refusal, reject_packet
from i2p_streaming.streaming.options import StreamOptions
from i2p_streaming.streaming.packet import (
    ECHO,
    RESET,
    SYNCHRONIZE,
    Packet,
    peer_key_of,
    verify_packet,
)
from i2p_streaming.streaming.peers import PeerShare, PeerTable
from i2p_streaming.streaming.pings import Pings
from i2p_streaming.streaming.recent import RecentKeys
from i2p_streaming.streaming.records import OutgoingPacket, State, StreamStats
from i2p_streaming.streaming.tcb import TcbCache
from i2p_streaming.streaming.timers import Timer

__all__ = ["StreamManager"]

log = logging.getLogger(__name__)

_HASH_WORDS = struct.Struct(">8I")
#: Default bound of announced, not yet :meth:`StreamManager.accepted` streams per listener.
DEFAULT_BACKLOG = 1024
#: Streams kept in TIME-WAIT at most; the oldest ends early beyond it.
MAX_TIME_WAIT = 256
#: How many ended streams keep their final stats for :meth:`StreamManager.stats`.
FINAL_STATS_KEPT = 1024


class StreamManager:
    """All streams of one local destination.

    ``keys`` sign our SYN/SYN-reply/CLOSE/RESET/ping packets; ``options`` are the defaults for
    every stream (``connect`` may override per stream); ``rng`` replaces :mod:`secrets` for
    stream ids (tests). ``epoch_offset`` (seconds to add to ``now`` to get Unix time, settable
    later) enables the expiry check of peers' offline signatures; while it is None only their
    signatures are checked. ``tcb``: the per-peer RTT/window cache to use (default: a new one).

    Read credit (flow control, :mod:`~i2p_streaming.streaming.flow`): with
    ``auto_consume=False`` the bytes of every :class:`DataReceived` count against the stream's
    receive buffer until the shell reports that the application read them with
    :meth:`consumed`; a full buffer chokes the peer. With ``auto_consume=True`` (the default,
    for shells that hand data straight to the application) delivered bytes count as read at
    once and only out-of-order packets fill the buffer.

    Caller mistakes raise at once (:class:`~i2p_streaming.errors.InvalidStateError` for an
    unknown stream id, ``ValueError`` for bad arguments); peer input never raises. An internal
    error while handling a packet is logged at ERROR with its traceback, counted
    (:attr:`internal_errors`) and the packet dropped.
    """

    def __init__(
        self,
        keys: PrivateKeys,
        options: StreamOptions | None = None,
        *,
        rng: random.Random | None = None,
        epoch_offset: float | None = None,
        auto_consume: bool = True,
        tcb: TcbCache | None = None,
    ) -> None:
        self.keys = keys
        self.destination: Destination = keys.destination
        self.options = options or StreamOptions()
        #: Access lists and connection throttles (limits.py); RTT/window cache (tcb.py).
        self.admission = Admission()
        self.tcb = TcbCache() if tcb is None else tcb
        self._peers = PeerTable()  # RTT and window shared by the streams to one peer
        self._ctx: StreamContext[Connection] = StreamContext(
            keys, epoch_offset, auto_consume, self.options.max_session_buffer
        )
        self._rng = rng
        self._conns: dict[int, Connection] = {}
        self._by_peer: dict[int, Connection] = {}  # inbound streams by the peer's id
        self._listeners: dict[int, int] = {}  # port -> backlog
        self._backlog = Backlog()  # announced inbound streams not yet accepted
        self._pings = Pings(self._ctx)
        self._pending = EarlyPackets()
        #: final stats of the most recently ended streams (bounded), for stats() after the end
        self._final_stats: OrderedDict[int, StreamStats] = OrderedDict()
        self._closed: RecentKeys[int] = RecentKeys()  # our ended ids, not reused for a while
        self._recent_syn: RecentKeys[tuple[int, bytes]] = RecentKeys()  # SYNs accepted
        self._housekeeping = Timer(self._expire_pending)

    # ================================================================== settings, counters
    @property
    def auto_consume(self) -> bool:
        return self._ctx.auto_consume

    @property
    def epoch_offset(self) -> float | None:
        """Seconds to add to ``now`` to get Unix time (None: offline expiry not checked)."""
        return self._ctx.epoch_offset

    @epoch_offset.setter
    def epoch_offset(self, value: float | None) -> None:
        self._ctx.set_epoch_offset(value)

    @property
    def counters(self) -> dict[str, int]:
        """Things peers did that were dropped, and internal errors (name -> count)."""
        return self._ctx.counters

    @property
    def internal_errors(self) -> int:
        """Packets dropped because handling them raised (a bug; each one is logged)."""
        return self._ctx.counters.get("internal_error", 0)

    # ================================================================== inputs
    def receive_payload(self, payload: bytes, src_port: int, dst_port: int, now: float) -> None:
        """Process one received streaming packet (raw bytes, after the I2CP gzip wrapper).

        Never raises: malformed, unverifiable or unexpected packets are dropped and counted in
        :attr:`counters`; so are packets whose handling hit an internal error (logged at
        ERROR). May queue events, packets (SYN reply, RESET, pong, ACKs) and timers.
        """
        ctx = self._ctx
        try:
            packet = Packet.decode(payload)
        except DataFormatError:
            ctx.count("malformed")
            return
        try:
            self._dispatch(packet, bytes(payload), src_port, dst_port, now)
        except Exception:  # a bug must not kill the session, nor hide
            ctx.count("internal_error")
            log.exception(
                "internal error handling a streaming packet (ports %d->%d, stream %d); "
                "packet dropped",
                src_port,
                dst_port,
                packet.send_stream_id or packet.receive_stream_id,
            )
        if ctx.has_ended:
            self._reap()

    def _dispatch(self, p: Packet, raw: bytes, src_port: int, dst_port: int, now: float) -> None:
        flags = p.flags
        if flags & ECHO:
            self._on_echo(p, raw, src_port, dst_port, now)
            return
        sid = p.send_stream_id
        if sid:
            conn = self._conns.get(sid)
            if conn is not None:
                conn.receive(p, raw, now)
            else:
                self._ctx.count("unknown_stream")
            return
        rid = p.receive_stream_id
        conn = self._by_peer.get(rid)
        if conn is not None and (not flags & SYNCHRONIZE or conn.peer == p.from_destination):
            conn.receive(p, raw, now)
            return
        if flags & SYNCHRONIZE:
            self._on_syn(p, raw, src_port, dst_port, now)
        elif flags & RESET or not rid:
            self._ctx.count("unknown_stream")
        else:
            self._hold(rid, raw, src_port, dst_port, now)

    def _on_syn(self, p: Packet, raw: bytes, src_port: int, dst_port: int, now: float) -> None:
        ctx = self._ctx
        peer = p.from_destination
        if peer is None or not p.receive_stream_id:
            ctx.count("bad_syn")
            return
        if not verify_packet(raw, p, epoch_now=ctx.epoch_now(now)):
            ctx.count("bad_signature")
            return
        if len(p.nacks) == 8 and _HASH_WORDS.pack(*p.nacks) != self.destination.hash:
            ctx.count("replay_hash_mismatch")
            return
        key = (p.receive_stream_id, peer.hash)
        if self._recent_syn.holds(key, now):
            ctx.count("replayed_syn")
            return
        port = dst_port if dst_port in self._listeners else 0
        backlog = self._listeners.get(port)
        if backlog is None:
            self._refuse(p, peer, src_port, dst_port, "no_listener")
            return
        refusal = self.admission.check(self.options, peer.hash, now, self.active_streams())
        if refusal is not None:
            self._reject(p, peer, src_port, dst_port, refusal)
            return
        if self._backlog.queued(port) >= backlog:  # silently: the client's retry gets in later
            return ctx.count("backlog_full")
        self._make_room(peer.hash, now)
        conn = Connection(
            ctx,
            self._new_id(),
            peer,
            initiator=False,
            local_port=dst_port,
            remote_port=src_port,
            options=self.options,
            now=now,
            peer_id=p.receive_stream_id,
            peer_key=peer_key_of(peer, p.offline_signature),
            peer_mtu=p.max_packet_size,
            shared=self._share(peer.hash, self.options, now),
        )
        self._conns[conn.stream_id] = conn
        self._by_peer[p.receive_stream_id] = conn
        ctx.half_open_added(conn.stream_id, peer.hash)
        self._backlog.add(conn.stream_id, port)
        ctx.push_event(IncomingConnection(conn.stream_id, peer, dst_port, src_port))
        conn.receive(p, raw, now, verified=True)
        for held, src, dst, _t in self._pending.take(p.receive_stream_id):
            self.receive_payload(held, src, dst, now)
        conn.reschedule()

    def _make_room(self, peer: bytes, now: float) -> None:
        """Evict a half-open stream if a new one from ``peer`` would pass a cap."""
        opts = self.options
        sid = self._ctx.half_open_victim(peer, opts.max_half_open_per_peer, opts.max_half_open)
        if sid is not None and (conn := self._conns.get(sid)) is not None:
            conn.evict_half_open(now, "half_open_evicted")

    def accepted(self, stream_id: int) -> None:
        """The application took the inbound stream: off its listener's backlog (idempotent)."""
        self._backlog.accepted(stream_id)

    def _refuse(self, p: Packet, peer: Destination, src: int, dst: int, why: str) -> None:
        """Answer a verified SYN nobody takes with a signed RESET carrying FROM (Java)."""
        self._reject(p, peer, src, dst, Refusal("refused_" + why, why), "reset")

    def _reject(
        self, p: Packet, peer: Destination, src: int, dst: int, why: Refusal, action: str = ""
    ) -> None:
        """Answer a refused SYN with ``action`` (default: ``i2p.streaming.limitAction``)."""
        self._ctx.count(why.counter)
        action = action or self.options.limit_action
        data = reject_packet(self.keys, p, why, action, dst, self._new_id())
        if data is None:
            self._ctx.count("refused_silently")
        else:
            self._ctx.queue_out(OutgoingPacket(peer, dst, src, data))

    def active_streams(self) -> int:
        """Streams that count against ``maxConcurrentStreams`` (all but TIME-WAIT)."""
        limit = self.options.max_concurrent_streams
        conns = self._conns
        if limit <= 0 or len(conns) < limit:
            return len(conns)  # exact count not needed below the limit
        return sum(1 for c in conns.values() if c.state is not State.TIME_WAIT)

    def consumed(self, stream_id: int, nbytes: int, now: float) -> bool:
        """Read credit: the application read ``nbytes`` of the stream's delivered data.

        Frees that much of the receive buffer (amounts above what is unread are ignored);
        when this ends a choke, queues a plain ACK with DELAY=0 (unchoke) and returns True
        (the shell should flush). Unknown or finished streams are ignored (False). Raises
        ``ValueError`` for a negative ``nbytes``. Not needed with ``auto_consume=True``.
        """
        if nbytes < 0:
            raise ValueError(f"consumed: nbytes must be >= 0, not {nbytes}")
        conn = self._conns.get(stream_id)
        if conn is None or not nbytes:
            return False
        return conn.consumed(nbytes, now)

    def _hold(self, rid: int, raw: bytes, src: int, dst: int, now: float) -> None:
        if not self._pending.hold(rid, raw, src, dst, now):
            self._ctx.count("pending_full")
            return
        self._ctx.count("held_early")
        self._ctx.timers.schedule(self._housekeeping, now + PENDING_TIMEOUT)

    def _expire_pending(self, now: float) -> None:
        expired, next_at = self._pending.expire(now)
        if expired:
            self._ctx.count("pending_expired", expired)
        if next_at is not None:
            self._ctx.timers.schedule(self._housekeeping, next_at)

    def _on_echo(self, p: Packet, raw: bytes, src: int, dst: int, now: float) -> None:
        if p.send_stream_id:
            self._pings.on_ping(p, raw, src, dst, now, self.options, self.admission)
        else:
            self._pings.on_pong(p, now)

    def handle_timer(self, now: float) -> None:
        """Run every timer due at ``now`` (retransmissions, delayed ACKs, connect and ping
        timeouts, TIME-WAIT ends, early-packet expiry). May queue packets and events."""
        ctx = self._ctx
        for timer in ctx.timers.pop_due(now):
            timer.callback(now)
        if ctx.has_ended:
            self._reap()

    def listen(self, port: int = 0, *, backlog: int = DEFAULT_BACKLOG) -> None:
        """Accept new streams for destination ``port`` (0 = every port without its own
        listener). ``backlog`` bounds streams announced but not yet :meth:`accepted`: SYNs
        beyond it are dropped silently (the client retries); with no listener, a RESET."""
        if not 0 <= port <= 65535:
            raise ValueError(f"port {port} out of range 0..65535")
        if backlog < 1:
            raise ValueError("backlog must be >= 1")
        self._listeners[port] = backlog

    def unlisten(self, port: int = 0) -> None:
        """Stop accepting new streams on ``port``; existing streams are not affected."""
        self._listeners.pop(port, None)

    def connect(
        self,
        destination: Destination,
        *,
        port: int = 0,
        local_port: int = 0,
        now: float,
        data: bytes = b"",
        close: bool = False,
        options: StreamOptions | None = None,
    ) -> int:
        """Open a stream to ``destination``:``port`` and return our stream id.

        Queues a signed SYN carrying up to one packet of ``data`` (0-RTT); the rest of ``data``
        follows as the window allows. ``close=True`` half-closes at once (SYN+CLOSE when the
        data fits). Later: :class:`ConnectionEstablished` or :class:`ConnectionFailed`.
        Raises ``ValueError`` for bad ports or ``data`` larger than the send buffer, and
        ``ConnectionError`` when ``maxConcurrentStreams`` is reached.
        """
        for value in (port, local_port):
            if not 0 <= value <= 65535:
                raise ValueError(f"port {value} out of range 0..65535")
        opts = options or self.options
        limit = self.options.max_concurrent_streams
        if 0 < limit <= self.active_streams():
            raise ConnectionError(
                f"too many concurrent streams (i2p.streaming.maxConcurrentStreams={limit})"
            )
        sid = self._new_id()
        syn_limit = opts.max_message_size  # our SYN carries at most one packet of ours
        if len(data) > syn_limit + opts.buffer_size:
            raise ValueError(
                f"{len(data)} bytes of initial data exceed the send buffer "
                f"({opts.buffer_size} + {syn_limit})"
            )
        conn = Connection(
            self._ctx,
            sid,
            destination,
            initiator=True,
            local_port=local_port,
            remote_port=port,
            options=opts,
            now=now,
            shared=self._share(destination.hash, opts, now),
        )
        self._conns[sid] = conn
        conn.start(bytes(data), close)
        return sid

    def _get(self, stream_id: int) -> Connection:
        conn = self._conns.get(stream_id)
        if conn is None:
            raise InvalidStateError(f"unknown stream id {stream_id}")
        return conn

    def send(self, stream_id: int, data: bytes | bytearray | memoryview, now: float) -> int:
        """Queue ``data`` on the stream; return how many bytes the send buffer took.

        Fewer than ``len(data)`` means the buffer is full: wait for
        :class:`SendBufferAvailable`. Raises :class:`~i2p_streaming.errors.InvalidStateError`
        for an unknown stream and ``BrokenPipeError`` after ``close`` or once the stream has
        ended.
        """
        return self._get(stream_id).write(data, now)

    def close(self, stream_id: int, now: float) -> None:
        """Half-close: queue a signed CLOSE after the buffered data; we keep receiving until
        the peer's CLOSE (:class:`PeerClosed`), then :class:`ConnectionClosed`. Idempotent;
        raises :class:`~i2p_streaming.errors.InvalidStateError` for an unknown stream."""
        self._get(stream_id).close()

    def notify_send_buffer(self, stream_id: int, at_most: int) -> None:
        """Queue one :class:`SendBufferAvailable` once the stream's send buffer holds at most
        ``at_most`` bytes; :class:`~i2p_streaming.errors.InvalidStateError` if unknown."""
        self._get(stream_id).notify_send_buffer(at_most)

    def reset(self, stream_id: int, now: float) -> None:
        """Abort the stream: queue a signed RESET (when the peer's id is known) and forget the
        stream at once. No event is queued. Unknown ids are ignored."""
        conn = self._conns.get(stream_id)
        if conn is not None:
            conn.reset(now, None)
            self._reap()

    def ping(
        self, destination: Destination, now: float, timeout: float = 30.0, payload: bytes = b""
    ) -> int:
        """Queue a signed ping (ECHO with FROM) and return its id; later
        :class:`PingAnswered` or :class:`PingTimeout`. ``payload`` is at most 32 bytes."""
        self._pings.check(payload)
        ping_id = self._new_id()
        self._pings.send(ping_id, destination, now, timeout, payload)
        return ping_id

    # ================================================================== outputs
    def payloads_to_send(self, now: float) -> list[OutgoingPacket]:
        """Return every packet due now: manager packets (RESETs, pongs, pings) and, per stream,
        retransmissions, new data the window allows and coalesced ACKs."""
        ctx = self._ctx
        out = ctx.take_out()
        if ctx.dirty:
            for conn in ctx.take_dirty():
                conn.flush(now, out)
        while len(ctx.time_wait) > MAX_TIME_WAIT:  # after the flush: their last ACKs are out
            next(iter(ctx.time_wait.values())).end_time_wait(now)
        self._reap()
        return out

    def get_timer(self) -> float | None:
        """The earliest deadline at which :meth:`handle_timer` must run, or None."""
        return self._ctx.timers.next_deadline()

    def next_event(self) -> Event | None:
        """Pop the oldest queued event, or None."""
        events = self._ctx.events
        return events.popleft() if events else None

    def stats(self, stream_id: int) -> StreamStats:
        """A snapshot of the stream's counters. For one of the last ``FINAL_STATS_KEPT``
        streams that ended, its final counters; :class:`~i2p_streaming.errors.InvalidStateError`
        for an unknown stream."""
        final = self._final_stats.get(stream_id) if stream_id not in self._conns else None
        return final if final is not None else self._get(stream_id).stats()

    @property
    def stream_ids(self) -> list[int]:
        """Ids of streams still known (including TIME-WAIT)."""
        return list(self._conns)

    def state(self, stream_id: int) -> State | None:
        """The stream's state, or None when it is unknown or gone."""
        conn = self._conns.get(stream_id)
        return None if conn is None else conn.state

    # ================================================================== bookkeeping
    def _new_id(self) -> int:
        while True:
            sid = self._rng.getrandbits(32) if self._rng is not None else secrets.randbits(32)
            # (expired closed ids are pruned on insert; a rare extra retry is fine)
            taken = sid in self._conns or sid in self._pings or sid in self._closed
            if sid and not taken:
                return sid

    def _share(self, peer_hash: bytes, opts: StreamOptions, now: float) -> PeerShare:
        seed = self.tcb.get(peer_hash, now) if opts.tcb_share else None
        return self._peers.acquire(peer_hash, opts, seed)

    def _reap(self) -> None:
        """Forget the streams that ended; their ids stay reserved for ``time_wait``."""
        for conn in self._ctx.take_ended():
            now = conn.ended_at
            until = now + max(self.options.time_wait, 120.0)
            if conn.options.tcb_share:
                self.tcb.store(conn.peer.hash, conn.rtt, conn.window, conn.tcb_seeded, now)
            self._final_stats[conn.stream_id] = conn.stats()
            self._peers.release(
                conn.peer.hash, conn.options, conn.stream_id, len(conn.send.unacked)
            )
            if len(self._final_stats) > FINAL_STATS_KEPT:
                self._final_stats.popitem(last=False)
            self._conns.pop(conn.stream_id, None)
            self.accepted(conn.stream_id)
            if self._by_peer.get(conn.peer_id) is conn:
                del self._by_peer[conn.peer_id]
                if not conn.half_open:  # an evicted half-open's SYN may come again
                    self._recent_syn.add((conn.peer_id, conn.peer.hash), until, now)
            self._closed.add(conn.stream_id, until, now)

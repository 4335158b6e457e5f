"""One stream's sans-I/O state: sequence numbers, acks, retransmission, close and reset.

A :class:`Connection` is owned by its :class:`~i2p_streaming.streaming.manager.StreamManager`,
which routes packets to :meth:`Connection.receive`, calls :meth:`Connection.flush` from
``payloads_to_send`` and :meth:`Connection.on_timer` from ``handle_timer``. Applications talk
to the manager, never to a connection directly.

The receive path (:class:`~i2p_streaming.streaming.receiving.ReceiveSide`, ``receiving.py``)
and the send path with the acks we receive (:class:`~i2p_streaming.streaming.sending.SendSide`,
``sending.py``) are mixins of :class:`Connection`; this module holds its state, the application
side, timers and endings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from i2p_streaming.data import Destination
from i2p_streaming.streaming.congestion import CongestionController, WestwoodController
from i2p_streaming.streaming.events import ConnectionClosed, ConnectionFailed, ConnectionReset
from i2p_streaming.streaming.flow import ReceiveFlow, persist_timeout
from i2p_streaming.streaming.options import StreamOptions
from i2p_streaming.streaming.packet import CLOSE, NO_ACK, RESET, SYN, Packet, PeerKey
from i2p_streaming.streaming.profiles import Coalescer, max_window
from i2p_streaming.streaming.receiving import (
    ACK_EVERY_PACKETS,
    ACK_IDLE_GAPS,
    ACK_IDLE_MIN,
    CHOKE_THRESHOLD,
    DEFAULT_PEER_MTU,
    MIN_MTU,
    ReceiveSide,
)
from i2p_streaming.streaming.rto import RttEstimator
from i2p_streaming.streaming.sending import (
    FAST_RETRANSMIT_NACKS,
    MAX_SEQ_SPAN,
    OutgoingPacket,
    SendSide,
    State,
    _Sent,
)

if TYPE_CHECKING:
    from i2p_streaming.streaming.manager import StreamManager

__all__ = [
    "Connection",
    "OutgoingPacket",
    "State",
    "StreamStats",
    # defined in receiving.py / sending.py, still importable from here
    "ACK_EVERY_PACKETS",
    "ACK_IDLE_GAPS",
    "ACK_IDLE_MIN",
    "CHOKE_THRESHOLD",
    "DEFAULT_PEER_MTU",
    "FAST_RETRANSMIT_NACKS",
    "MAX_SEQ_SPAN",
    "MIN_MTU",
]

MAX_RESEND_BURST = 16
#: Java's rule: stop resending an empty CLOSE after this many sends once the peer closed
#: (its stream may be gone, e.g. i2pd deletes it at once); here max(3, maxResends // 2).
CLOSE_GIVE_UP_SENDS = 3


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


class Connection(ReceiveSide, SendSide):
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
            self._inactivity_deadline(),
        )
        for t in timers:
            if t is not None and (best is None or t < best):
                best = t
        return best

    def _inactivity_deadline(self) -> float | None:
        """When ``inactivityTimeout`` expires: only for an open stream with nothing unacked."""
        opts = self.options
        if (
            self.state is State.OPEN
            and opts.inactivity_action
            and opts.inactivity_timeout > 0
            and not self.unacked
        ):
            return self._last_activity + opts.inactivity_timeout
        return None

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
        inactive_at = self._inactivity_deadline()
        if inactive_at is not None and now >= inactive_at:
            opts = self.options
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

"""One stream's lifecycle: handshake, close, reset and timers (:class:`Connection`).

Built by the manager and handed its :class:`~i2p_streaming.streaming.context.StreamContext`
(events, packets, timers, counters, ended streams), it never sees the manager. It checks each
packet (signature, stream ids, SYN reply, RESET) and delegates the rest to its send path
(:class:`~i2p_streaming.streaming.sending.SendPath`) and receive path
(:class:`~i2p_streaming.streaming.receiving.ReceivePath`).
"""

from __future__ import annotations

import i2p_streaming.streaming.recovery as recovery
from i2p_streaming.data import Destination
from i2p_streaming.streaming.context import StreamContext
from i2p_streaming.streaming.events import (
    ConnectionClosed,
    ConnectionEstablished,
    ConnectionFailed,
    ConnectionReset,
    SendBufferAvailable,
    SendComplete,
)
from i2p_streaming.streaming.options import StreamOptions
from i2p_streaming.streaming.packet import (
    CLOSE,
    DELAY_REQUESTED,
    NO_ACK,
    RESET,
    SIGNATURE_INCLUDED,
    SYNCHRONIZE,
    Packet,
    PeerKey,
    encode_plain,
    peer_key_of,
    verify_packet,
)
from i2p_streaming.streaming.peers import PeerShare
from i2p_streaming.streaming.receiving import DROPPED, DUPLICATE, ReceivePath
from i2p_streaming.streaming.records import OutgoingPacket, State, StreamStats
from i2p_streaming.streaming.sending import SendPath
from i2p_streaming.streaming.tcb import TcbEntry
from i2p_streaming.streaming.timers import Timer

__all__ = ["CHOKE_THRESHOLD", "DEFAULT_PEER_MTU", "HALF_OPEN_LIFE", "MIN_MTU", "Connection"]

#: Assumed peer MTU when its SYN / SYN reply carries none (Java).
DEFAULT_PEER_MTU = 1730
#: Smallest peer MTU we accept; smaller advertised values are raised to it (Java).
MIN_MTU = 512
#: DELAY values at or above this are a choke (i2pd sends 60000, Java 61000).
CHOKE_THRESHOLD = 60000
#: The default of ``StreamOptions.half_open_timeout`` (docs/options.md argues it).
HALF_OPEN_LIFE = 30.0
#: Flags that make a packet carry a signature we must check.
_SIGNED = SIGNATURE_INCLUDED | SYNCHRONIZE | CLOSE | RESET


def _peer_mtu(value: int | None) -> int:
    return DEFAULT_PEER_MTU if value is None else max(value, MIN_MTU)


class Connection:
    """One stream (see the module docstring). ``seed``: remembered RTT and window of the
    peer (:mod:`~i2p_streaming.streaming.tcb`) to start from; ``shared``: the RTT and window
    shared with the manager's other streams to the peer (:mod:`~.peers`; default: its own)."""

    __slots__ = (
        "_connect_deadline",
        "_ctx",
        "_half_open_deadline",
        "_keepalive_deadline",
        "_last_activity",
        "_last_heard",
        "_sent_all",
        "_timer",
        "_tw_deadline",
        "ended_at",
        "initiator",
        "local_port",
        "options",
        "packets_dropped",
        "packets_received",
        "peer",
        "peer_id",
        "peer_key",
        "recv",
        "remote_port",
        "rtt",
        "send",
        "state",
        "stream_id",
        "tcb_seeded",
    )

    def __init__(
        self,
        ctx: StreamContext[Connection],
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
        seed: TcbEntry | None = None,
        shared: PeerShare | None = None,
    ) -> None:
        self._ctx = ctx
        self.stream_id = stream_id
        self._sent_all = False  # SendComplete queued
        self.peer_id = peer_id
        self.peer = peer
        self.peer_key = peer_key
        self.initiator = initiator
        self.local_port = local_port
        self.remote_port = remote_port
        self.options = options
        self.state = State.CONNECTING if initiator else State.OPEN
        share = shared if shared is not None else PeerShare(options, seed)
        self.rtt = share.rtt
        self.tcb_seeded = share.seeded
        self.send = SendPath(
            ctx,
            stream_id,
            peer,
            local_port,
            remote_port,
            options,
            initiator=initiator,
            share=share,
        )
        if peer_mtu is not None:
            self.send.set_peer_mtu(_peer_mtu(peer_mtu))
        self.recv = ReceivePath(ctx, stream_id, options, self.rtt)
        self._connect_deadline = now + options.connect_timeout if initiator else None
        self._tw_deadline: float | None = None
        self._half_open_deadline = None if initiator else now + options.half_open_timeout
        self._keepalive_deadline: float | None = None  # a keep-alive waits for an answer
        self._last_activity = now
        self._last_heard = 0.0  # when the peer's latest verified packet arrived
        self._timer = Timer(self.on_timer)
        self.packets_received = 0
        self.packets_dropped = 0
        self.ended_at = 0.0

    # ================================================================== application side
    def start(self, data: bytes, close: bool) -> None:
        """Initiator: queue the SYN with up to one packet of ``data`` (the rest follows)."""
        self.send.start_syn(data, close)
        self._ctx.mark_dirty(self)
        self.reschedule()

    def write(self, data: bytes | bytearray | memoryview, now: float) -> int:
        """Queue ``data``; return the bytes the send buffer took. ``BrokenPipeError`` once
        closed for writing."""
        send = self.send
        if send.close_requested or self.state not in (State.OPEN, State.CONNECTING):
            raise BrokenPipeError(f"stream {self.stream_id} is closed for writing")
        n = send.write(data, now)
        if n:
            self._ctx.mark_dirty(self)
        return n

    def close(self) -> None:
        """Half-close: CLOSE after the buffered bytes (idempotent)."""
        if not self.send.close_requested:
            self.send.request_close()
            self._ctx.mark_dirty(self)

    def notify_send_buffer(self, at_most: int) -> None:
        """Queue one SendBufferAvailable once at most ``at_most`` bytes are buffered."""
        self.send.buffer.notify_at(at_most)
        self._ctx.mark_dirty(self)

    def consumed(self, nbytes: int, now: float) -> bool:
        """Read credit; True when it unchokes the peer (an ACK is queued)."""
        if self.state is not State.DEAD and self.recv.consumed(nbytes, now):
            self._ctx.mark_dirty(self)
            return True
        return False

    # ================================================================== packets
    def receive(self, p: Packet, raw: bytes, now: float, verified: bool = False) -> None:
        """Process one packet addressed to this stream (may queue events and mark dirty)."""
        if self.state is State.DEAD:
            return
        flags = p.flags
        ctx = self._ctx
        self.packets_received += 1
        if (
            not verified
            and flags & _SIGNED
            and not verify_packet(
                raw, p, key=self.peer_key, expected=self.peer, epoch_now=ctx.epoch_now(now)
            )
        ):
            self.packets_dropped += 1
            ctx.count("bad_signature")
            return
        if self.peer_id and p.receive_stream_id != self.peer_id and not (flags & RESET):
            self.packets_dropped += 1
            ctx.count("wrong_stream_id")
            return
        if flags & RESET:
            self._on_reset(now)
            return
        send = self.send
        if flags & SYNCHRONIZE and self.state is State.CONNECTING:
            if p.from_destination is None or not p.receive_stream_id:
                self.packets_dropped += 1
                return
            self.peer_id = p.receive_stream_id
            self.peer_key = peer_key_of(p.from_destination, p.offline_signature)
            send.set_peer_mtu(_peer_mtu(p.max_packet_size))
            self.state = State.OPEN
            self._connect_deadline = None
            ctx.push_event(ConnectionEstablished(self.stream_id))
        self._last_heard = self._last_activity = now  # only packets that passed every check
        self._keepalive_deadline = None
        if self._half_open_deadline is not None:  # the peer is still there (its SYN again)
            self._half_open_deadline = now + self.options.half_open_timeout
        if flags & DELAY_REQUESTED:
            delay = p.delay
            assert delay is not None
            choked = delay >= CHOKE_THRESHOLD
            if choked != send.peer_choked:
                send.on_peer_choke(choked, None if flags & NO_ACK else p.ack_through)
        else:
            delay = None
        recv = self.recv
        if self.state is not State.CONNECTING and not flags & NO_ACK and p.send_stream_id:
            if send.process_ack(p.ack_through, p.nacks, now):  # our SYN reply was acked
                ctx.half_open_done(self.stream_id)
                self._half_open_deadline = None
            if send.close_seq >= 0 and not send.unacked and not self._sent_all:
                self._sent_all = True  # our CLOSE and all before it are acknowledged
                ctx.push_event(SendComplete(self.stream_id))
            if recv.peer_closed:
                self._check_done(now)
        if p.sequence_num == 0 and not flags & SYNCHRONIZE:
            ctx.mark_dirty(self)
            return  # plain ACK: never acked, never data
        result = recv.accept(p, flags, now, delay)
        if result == DUPLICATE:
            if flags & SYNCHRONIZE and not self.initiator:
                send.resend_syn_reply()  # a repeated SYN gets our unacked SYN reply again
        elif result == DROPPED:
            self.packets_dropped += 1
        elif recv.peer_closed:
            self._check_done(now)
        ctx.mark_dirty(self)

    def flush(self, now: float, out: list[OutgoingPacket]) -> None:
        """Emit due retransmissions, new packets the window allows and a due ACK into ``out``."""
        state = self.state
        if state is State.DEAD:
            return
        send, recv = self.send, self.recv
        peer_id = self.peer_id
        ack_through, nacks = recv.ack_point() if peer_id else (-1, [])
        acked = send.flush(now, out, state, (peer_id, ack_through, nacks, recv.flow))
        due = recv.ack_due(now)
        if due and not acked and ack_through >= 0:
            data = encode_plain(
                peer_id, self.stream_id, 0, ack_through, nacks, 0, recv.flow.delay_option(), b""
            )
            out.append(OutgoingPacket(self.peer, self.local_port, self.remote_port, data))
            acked = True
        recv.after_flush(acked, due)
        if send.buffer.drained():
            self._ctx.push_event(SendBufferAvailable(self.stream_id))
        self.reschedule()

    # ================================================================== timers
    def deadline(self) -> float | None:
        """The earliest time this connection needs :meth:`on_timer`."""
        send, recv = self.send, self.recv
        best: float | None = None
        timers = (
            send.deadline(),
            recv.ack_deadline,
            recv.idle_ack_at,
            self._connect_deadline,
            self._tw_deadline,
            self._half_open_deadline,
            self._keepalive_deadline,
            recv.flow.unchoke_retry_at,
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
            and not self.send.unacked
        ):
            return self._last_activity + opts.inactivity_timeout
        return None

    def reschedule(self) -> None:
        deadline = self.deadline()
        if deadline is not None:
            self._ctx.timers.schedule(self._timer, deadline)

    def on_timer(self, now: float) -> None:
        """Handle every deadline that has passed (may queue packets and events)."""
        if self.state is State.DEAD:
            return
        ctx = self._ctx
        if self._tw_deadline is not None and now >= self._tw_deadline:
            self._end(now)
            return
        if self._connect_deadline is not None and now >= self._connect_deadline:
            self._fail(
                f"connect to {self.peer.b32} port {self.remote_port} timed out after "
                f"{self.options.connect_timeout:g} s without a SYN reply",
                now,
            )
            return
        if self._half_open_deadline is not None and now >= self._half_open_deadline:
            self.evict_half_open(now, "half_open_expired")
            return
        if self._keepalive_deadline is not None and now >= self._keepalive_deadline:
            wait = self.options.inactivity_timeout
            self.reset(now, f"no answer from {self.peer.b32} to a keep-alive within {wait:g} s")
            return
        send = self.send
        if send.on_timer(now):  # loss re-check, pacing, passive flush, CLOSE linger
            ctx.mark_dirty(self)
        if send.rto_deadline is not None and now >= send.rto_deadline:
            result = send.on_rto(now, self.recv.peer_closed, self._last_heard)
            if result == recovery.RTO_FLUSH:
                ctx.mark_dirty(self)
            elif result == recovery.RTO_CLOSE_ABANDONED:
                self._check_done(now)
            elif result == recovery.RTO_GIVE_UP:
                reason = (
                    f"no acknowledgement from {self.peer.b32} after "
                    f"{self.options.max_resends} retransmissions; the peer is unreachable or gone"
                )
                if self.state is State.CONNECTING:
                    self._fail(reason, now)
                else:
                    self.reset(now, reason)
                return
            elif result == recovery.RTO_PROBES_UNANSWERED:
                self.reset(
                    now,
                    f"no answer from {self.peer.b32} to {self.options.max_resends} probes while "
                    "it choked the stream; the peer is unreachable or gone",
                )
                return
        if self.recv.on_timer(now):
            ctx.mark_dirty(self)
        inactive_at = self._inactivity_deadline()
        if inactive_at is not None and now >= inactive_at:
            opts = self.options
            self._last_activity = now
            if opts.inactivity_action == 1 or send.close_requested or self.recv.peer_closed:
                self.reset(now, f"no activity for {opts.inactivity_timeout:g} s")
                return
            send.queue_keepalive()  # an empty packet with a new sequence number
            self._keepalive_deadline = now + opts.inactivity_timeout
            ctx.mark_dirty(self)
        if self not in ctx.dirty:
            self.reschedule()  # otherwise flush() reschedules after sending

    # ================================================================== endings
    @property
    def half_open(self) -> bool:  # inbound, our SYN reply not acked yet
        return not self.initiator and not self.send.syn_acked

    def evict_half_open(self, now: float, counter: str) -> None:
        """Forget a half-open stream without a RESET (a flood's SYNs may be replays)."""
        self._ctx.count(counter)
        why = f"half-open stream from {self.peer.b32} dropped ({counter}): SYN reply not acked"
        self._ctx.push_event(ConnectionReset(self.stream_id, why, False))
        self._end(now)

    def end_time_wait(self, now: float) -> None:
        self._end(now)  # TIME-WAIT ends early: the manager bounds how many streams linger

    def _check_done(self, now: float) -> None:
        send = self.send
        if (
            self.recv.peer_closed
            and send.close_seq >= 0
            and not send.unacked
            and self.state is State.OPEN
        ):
            self.state = State.TIME_WAIT
            self._tw_deadline = now + self.options.time_wait
            self._connect_deadline = None
            self._keepalive_deadline = None
            self._ctx.time_wait[self.stream_id] = self
            send.finish()
            self._ctx.push_event(ConnectionClosed(self.stream_id))
            self._ctx.mark_dirty(self)  # still owes the ack of the peer's CLOSE

    def _on_reset(self, now: float) -> None:
        ctx = self._ctx
        if self.state is State.CONNECTING:
            ctx.push_event(
                ConnectionFailed(
                    self.stream_id,
                    f"connection to {self.peer.b32} port {self.remote_port} refused "
                    "(no listener, or the peer's limits)",
                    True,
                )
            )
        elif self.state is State.OPEN:
            ctx.push_event(ConnectionReset(self.stream_id, f"reset by peer {self.peer.b32}", True))
        self._end(now)

    def _fail(self, reason: str, now: float) -> None:
        self._ctx.push_event(ConnectionFailed(self.stream_id, reason, False))
        self._end(now)

    def reset(self, now: float, reason: str | None) -> None:
        """Send a signed RESET (next sequence number) if the peer's id is known, then end.

        ``reason`` not None also queues :class:`ConnectionReset` (give-up paths)."""
        ctx = self._ctx
        if self.peer_id and self.state in (State.OPEN, State.CONNECTING):
            recv = self.recv
            ack, nacks = recv.ack_point()
            pkt = Packet(
                self.peer_id,
                self.stream_id,
                self.send.take_seq(),
                max(ack, 0),
                tuple(nacks),
                1,
                RESET if ack >= 0 else RESET | NO_ACK,
            )
            data = pkt.encode_signed(ctx.keys)
            ctx.queue_out(OutgoingPacket(self.peer, self.local_port, self.remote_port, data))
        if reason is not None:
            ctx.push_event(ConnectionReset(self.stream_id, reason, False))
        self._end(now)

    def _end(self, now: float) -> None:
        """The stream is over: DEAD, timer disarmed, reported to the context (the manager
        forgets it; its id stays reserved for ``time_wait``)."""
        if self.state is State.DEAD:
            return
        ctx = self._ctx
        if not self.initiator:
            ctx.half_open_done(self.stream_id)
        ctx.time_wait.pop(self.stream_id, None)
        self.recv.release()
        self.state = State.DEAD
        self.ended_at = now
        ctx.timers.cancel(self._timer)
        ctx.ended(self)

    # ================================================================== observation
    @property
    def window(self) -> int:
        return self.send.window

    def stats(self) -> StreamStats:
        send, recv = self.send, self.recv
        return StreamStats(
            self.stream_id,
            self.peer_id,
            self.state,
            self.rtt.rtt,
            self.rtt.rto,
            send.window,
            send.mtu,
            send.bytes_sent,
            recv.bytes_received,
            send.packets_sent,
            self.packets_received,
            send.packets_retransmitted,
            self.packets_dropped,
            len(send.unacked),
            send.buffer.buffered,
            recv.buffered,
            recv.flow.peak_bytes,
            recv.flow.choking,
            send.peer_choked,
        )

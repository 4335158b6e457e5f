"""The receive path of a :class:`~i2p_streaming.streaming.connection.Connection`.

:class:`ReceiveSide`, a mixin of ``Connection``, takes the packets addressed to the stream
(:meth:`ReceiveSide.receive`: checks, SYN reply, choke, in-order delivery, out-of-order queue),
decides when our ACK is due and lists the NACKs it carries. The acks the peer sends us are
processed in :mod:`~i2p_streaming.streaming.sending`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from i2p_streaming.streaming.events import ConnectionEstablished, DataReceived, PeerClosed
from i2p_streaming.streaming.flow import on_peer_unchoke
from i2p_streaming.streaming.packet import (
    CLOSE,
    DELAY,
    NO_ACK,
    RESET,
    SIG,
    SYN,
    Packet,
    peer_key_of,
    verify_packet,
)
from i2p_streaming.streaming.sending import ConnectionFields, State

if TYPE_CHECKING:
    from i2p_streaming.streaming.connection import Connection

__all__ = [
    "ACK_EVERY_PACKETS",
    "ACK_IDLE_GAPS",
    "ACK_IDLE_MIN",
    "CHOKE_THRESHOLD",
    "DEFAULT_PEER_MTU",
    "MIN_MTU",
    "ReceiveSide",
]

#: Assumed peer MTU when its SYN / SYN reply carries none (Java).
DEFAULT_PEER_MTU = 1730
#: Smallest peer MTU we accept; smaller advertised values are raised to it (Java).
MIN_MTU = 512
#: DELAY values at or above this are a choke (i2pd sends 60000, Java 61000).
CHOKE_THRESHOLD = 60000
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


class ReceiveSide(ConnectionFields):
    """Mixin of ``Connection``: the receive path and our ACK timing (see the module docstring)."""

    if TYPE_CHECKING:  # defined by SendSide (sending.py) and Connection (connection.py)

        def _process_ack(self, ack_through: int, nacks: tuple[int, ...], now: float) -> None: ...
        def _check_done(self, now: float) -> None: ...
        def _on_reset(self, now: float) -> None: ...

    # ================================================================== receive
    def receive(self, p: Packet, raw: bytes, now: float, verified: bool = False) -> None:
        """Process one packet addressed to this stream (may queue events and mark dirty)."""
        if TYPE_CHECKING:  # passes self on to functions that take the whole Connection
            assert isinstance(self, Connection)
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

    def _nacks(self) -> list[int]:
        ooo = self._ooo
        if not ooo:
            return []
        return [s for s in range(self._rcv_next, self._rcv_highest) if s not in ooo]

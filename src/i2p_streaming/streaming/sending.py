"""The send path of a :class:`~i2p_streaming.streaming.connection.Connection`.

:class:`SendSide`, a mixin of ``Connection``, processes the acks and NACKs the peer sends us
(RTT samples, fast retransmit, congestion signals) and builds our packets into ``out``:
retransmissions, the new packets the window allows and plain ACKs (:meth:`SendSide.flush`).
It also holds the records both mixins use at run time, :class:`State` and
:class:`OutgoingPacket` (``connection`` re-exports them: defined there they would be an
import cycle), and ``_Sent``, a packet awaiting its ack.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from i2p_streaming.data import Destination
from i2p_streaming.streaming.congestion import CongestionController
from i2p_streaming.streaming.events import SendBufferAvailable
from i2p_streaming.streaming.flow import ReceiveFlow
from i2p_streaming.streaming.options import StreamOptions
from i2p_streaming.streaming.packet import CLOSE, NO_ACK, SYN, Packet, PeerKey, encode_plain
from i2p_streaming.streaming.profiles import PROFILE_INTERACTIVE_FLAG, Coalescer
from i2p_streaming.streaming.rto import RttEstimator

if TYPE_CHECKING:
    from i2p_streaming.streaming.connection import Connection
    from i2p_streaming.streaming.manager import StreamManager

__all__ = [
    "FAST_RETRANSMIT_NACKS",
    "MAX_SEQ_SPAN",
    "ConnectionFields",
    "OutgoingPacket",
    "SendSide",
    "State",
]

FAST_RETRANSMIT_NACKS = 3
#: Most sequence numbers a sender may run past its oldest unacked packet (Java, B.5).
MAX_SEQ_SPAN = 128
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


class ConnectionFields:
    """The attributes ``Connection.__init__`` sets that :class:`SendSide` and
    ``receiving.ReceiveSide`` use, declared (not assigned) so that ``mypy --strict`` checks
    both mixins."""

    manager: StreamManager
    stream_id: int
    peer_id: int
    peer: Destination
    initiator: bool
    local_port: int
    remote_port: int
    options: StreamOptions
    state: State
    mtu: int
    rtt: RttEstimator
    cc: CongestionController
    flow: ReceiveFlow
    coalesce: Coalescer
    _sbuf: bytearray
    _soff: int
    _write_blocked: bool
    _next_seq: int
    unacked: dict[int, _Sent]
    _resend: set[int]
    _rto_deadline: float | None
    _recover: int
    _acked_sent: float
    peer_choked: bool
    _need_syn_reply: bool
    _syn_acked: bool
    close_requested: bool
    _close_seq: int
    _rcv_highest: int
    _ack_deadline: float | None
    _rcv_unacked: int
    _idle_ack_at: float | None
    bytes_sent: int
    packets_sent: int
    packets_retransmitted: int
    _first_status: bool
    peer_key: PeerKey | None
    _rcv_next: int
    _ooo: dict[int, tuple[int, bytes]]
    _peer_close_seq: int
    peer_closed: bool
    _last_arrival: float
    _gap_avg: float
    _connect_deadline: float | None
    _last_activity: float
    bytes_received: int
    packets_received: int
    packets_dropped: int


class SendSide(ConnectionFields):
    """Mixin of ``Connection``: the acks we receive and the send path (see the module docstring)."""

    if TYPE_CHECKING:  # defined by Connection (connection.py) and ReceiveSide (receiving.py)

        @property
        def send_buffered(self) -> int: ...
        def reschedule(self) -> None: ...
        def _check_done(self, now: float) -> None: ...
        def _nacks(self) -> list[int]: ...

    # ================================================================== acks we receive
    def _process_ack(self, ack_through: int, nacks: tuple[int, ...], now: float) -> None:
        if TYPE_CHECKING:  # passes self on to functions that take the whole Connection
            assert isinstance(self, Connection)
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

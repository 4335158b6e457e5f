"""Pings (:class:`Pings`): ours, signed ECHO packets with FROM, each awaiting its pong until a
timeout (:class:`~i2p_streaming.streaming.events.PingAnswered` or
:class:`~i2p_streaming.streaming.events.PingTimeout`; at most :data:`MAX_PINGS`), and the
pongs we send to the peers' pings."""

from __future__ import annotations

from functools import partial
from typing import Any

from i2p_streaming.data import Destination
from i2p_streaming.streaming.context import StreamContext
from i2p_streaming.streaming.events import PingAnswered, PingTimeout
from i2p_streaming.streaming.limits import Admission
from i2p_streaming.streaming.options import StreamOptions
from i2p_streaming.streaming.packet import ECHO, FROM_INCLUDED, NO_ACK, Packet, verify_packet
from i2p_streaming.streaming.records import OutgoingPacket
from i2p_streaming.streaming.timers import Timer

__all__ = ["MAX_PINGS", "MAX_PING_PAYLOAD", "Pings"]

MAX_PINGS = 1024
MAX_PING_PAYLOAD = 32


class _Ping:
    """One ping of ours awaiting its pong."""

    __slots__ = ("sent_at", "timer")

    def __init__(self, sent_at: float, timer: Timer) -> None:
        self.sent_at = sent_at
        self.timer = timer


class Pings:
    """The outstanding pings of one manager, keyed by ping id (drawn from the stream ids)."""

    __slots__ = ("_ctx", "_pings")

    def __init__(self, ctx: StreamContext[Any]) -> None:
        self._ctx = ctx
        self._pings: dict[int, _Ping] = {}

    def __len__(self) -> int:
        return len(self._pings)

    def __contains__(self, ping_id: int) -> bool:
        return ping_id in self._pings

    def check(self, payload: bytes) -> None:
        """Raise ``ValueError`` for a payload over 32 bytes, ``ConnectionError`` when
        :data:`MAX_PINGS` are outstanding."""
        if len(payload) > MAX_PING_PAYLOAD:
            raise ValueError(f"ping payload is limited to {MAX_PING_PAYLOAD} bytes")
        if len(self._pings) >= MAX_PINGS:
            raise ConnectionError(f"too many pings outstanding ({MAX_PINGS})")

    def send(
        self, ping_id: int, destination: Destination, now: float, timeout: float, payload: bytes
    ) -> None:
        """Queue the signed ping and arm its timeout (call :meth:`check` first)."""
        keys = self._ctx.keys
        packet = Packet(
            ping_id,
            0,
            0,
            0,
            (),
            1,
            ECHO | NO_ACK | FROM_INCLUDED,
            from_destination=keys.destination,
            offline_signature=keys.offline,
            payload=bytes(payload),
        )
        ping = _Ping(now, Timer(partial(self._timed_out, ping_id)))
        self._pings[ping_id] = ping
        self._ctx.timers.schedule(ping.timer, now + timeout)
        self._ctx.queue_out(OutgoingPacket(destination, 0, 0, packet.encode_signed(keys)))

    def on_ping(
        self,
        p: Packet,
        raw: bytes,
        src: int,
        dst: int,
        now: float,
        options: StreamOptions,
        admission: Admission,
    ) -> None:
        """A peer's ping: verified and admitted, it gets a pong (else counted, dropped)."""
        ctx = self._ctx
        peer = p.from_destination
        if not options.answer_pings or peer is None:
            ctx.count("ping_ignored")
            return
        if not verify_packet(raw, p, epoch_now=ctx.epoch_now(now)):
            ctx.count("bad_signature")
            return
        refusal = admission.check(options, peer.hash, now, None)
        if refusal is not None:
            ctx.count("ping_" + refusal.counter)
            return
        self.answer(p, peer, src, dst)

    def answer(self, ping: Packet, peer: Destination, src: int, dst: int) -> None:
        """Queue the signed pong to a verified, admitted ping from ``peer``."""
        keys = self._ctx.keys
        payload = ping.payload[:MAX_PING_PAYLOAD]
        pong = Packet(0, ping.send_stream_id, 0, 0, (), 1, ECHO | NO_ACK, payload=payload)
        self._ctx.queue_out(OutgoingPacket(peer, dst, src, pong.encode_signed(keys)))

    def on_pong(self, p: Packet, now: float) -> None:
        """A pong (ECHO without sendStreamId) arrived: queue :class:`PingAnswered`."""
        ping = self._pings.pop(p.receive_stream_id, None)
        if ping is None:
            self._ctx.count("unknown_pong")
            return
        self._ctx.timers.cancel(ping.timer)
        self._ctx.push_event(PingAnswered(p.receive_stream_id, now - ping.sent_at, p.payload))

    def _timed_out(self, ping_id: int, now: float) -> None:
        if self._pings.pop(ping_id, None) is not None:
            self._ctx.push_event(PingTimeout(ping_id))

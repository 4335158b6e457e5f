"""A sender that follows Java I2P's streaming rules, for receiver tests over the fake link.

:class:`JavaRulesSender` connects to a listening destination and sends ``data`` the way Java's
``Connection``/``ConnectionPacketHandler`` do (``/work/notes/java-acks.md``, sections B.1-B.5):

- window ``w`` starts at 3, ssthresh at 64, at most 128; it grows only on a received packet that
  newly acks something and is not "congested" (carries a choke, or we are choked): slow start
  ``w += acked``, congestion avoidance ``w += acked / w`` (Java adds 1 with that probability;
  the model takes the expectation);
- each data packet asks for an immediate ACK (DELAY=0) once ``w - outstanding`` (this packet
  included) is below 3 or below ``(w + 2) // 3``, otherwise carries no DELAY;
- RTT sample = ack arrival - first send, largest among the newly acked packets sent once;
  first sample R: SRTT=R, RTTVAR=R/2, RTO=1.5R; then SRTT+4*RTTVAR; RTO in [0.1, 45] s;
- the retransmission timer restarts on every ACK that acks something while packets remain;
  on expiry: RTO doubles, ``w = 1`` (ssthresh = w/2) if the oldest packet was sent once, and
  the first min(16, ceil(n/2)) outstanding packets go again;
- fast retransmit of a packet NACKed by 3 received packets (once per packet): a congestion
  event at most once per ack epoch (ssthresh = w/2, ``w = min(ssthresh, w)``, RTO doubles);
- the writer blocks while choked, while ``outstanding >= w``, while retransmitted-unacked
  ``>= (w + 1) // 2``, or while ``last sent - highestAckedThrough >= min(128, 2w)``;
- DELAY >= 60001 chokes it (``w = 1``); a DELAY flag <= 60000 unchokes it.

Simplification: ssthresh on a congestion event is ``w / 2`` (Java estimates it from bandwidth x
min RTT). The model speaks the wire format and duck-types what :class:`FakeLink` needs from a
manager (``destination``, ``receive_payload``, ``payloads_to_send``, ``get_timer``,
``handle_timer``, ``next_event``). It never sends CLOSE: a run ends when every byte is acked.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from i2p_streaming.data import Destination, PrivateKeys
from i2p_streaming.streaming import OutgoingPacket, Packet
from i2p_streaming.streaming.packet import NO_ACK, SYNCHRONIZE

__all__ = ["JavaRulesSender"]

INITIAL_WINDOW = 3
MAX_WINDOW = 128
INITIAL_SSTHRESH = 64
INITIAL_RTO = 9.0
MIN_RTO = 0.1
MAX_RTO = 45.0
FAST_RETRANSMIT_NACKS = 3
MAX_RTX = 16
MIN_DELAY_CHOKE = 60001
MTU = 1730


@dataclass
class _Sent:
    payload: bytes
    first_sent: float
    last_sent: float
    sends: int = 1
    nacks: int = 0
    fast_done: bool = False


class JavaRulesSender:
    """One stream from ``keys`` to ``peer`` carrying ``data`` under Java's sender rules."""

    def __init__(self, keys: PrivateKeys, peer: Destination, data: bytes, stream_id: int = 7):
        self.keys = keys
        self.peer = peer
        self.data = data
        self.stream_id = stream_id
        self.peer_id = 0
        self._offset = 0
        self._out: list[OutgoingPacket] = []
        self._next_seq = 0
        self.outstanding: dict[int, _Sent] = {}
        self._resent: set[int] = set()  # retransmitted, not yet acked (activeResends)
        self.highest_acked_through = -1
        self._cwnd_end = 0.0
        self.window = float(INITIAL_WINDOW)
        self.ssthresh = float(INITIAL_SSTHRESH)
        self.srtt: float | None = None
        self.rttvar = 0.0
        self.rto = INITIAL_RTO
        self.rto_deadline: float | None = None
        self.choked = False
        self._ack_since_congestion = True
        self._last_congestion_high = -1
        self._peer_high = 0  # the peer's SYN reply is its seq 0: our data acks it
        self.established = False
        # what the tests look at
        self.rto_expiries = 0
        self.fast_retransmits = 0
        self.chokes = 0
        self.congestion_events = 0
        self.max_window = self.window
        self.acked_bytes = 0
        self.done_at: float | None = None
        self.started_at = 0.0
        self._syn = b""

    # ------------------------------------------------------------------ link interface
    @property
    def destination(self) -> Destination:
        return self.keys.destination

    def next_event(self) -> None:
        return None

    def get_timer(self) -> float | None:
        return self.rto_deadline if self.outstanding else None

    def payloads_to_send(self, now: float) -> list[OutgoingPacket]:
        out, self._out = self._out, []
        return out

    def connect(self, now: float) -> None:
        """Queue the SYN (seq 0, no data) to ``peer``."""
        self.started_at = now
        words = struct.unpack(">8I", self.peer.hash)
        flags = SYNCHRONIZE | NO_ACK
        syn = Packet(0, self.stream_id, 0, 0, words, 1, flags, 0, self.keys.destination, MTU)
        self._syn = syn.encode_signed(self.keys)
        self._send_new(self._syn, b"", now)

    def handle_timer(self, now: float) -> None:
        if self.rto_deadline is None or now < self.rto_deadline or not self.outstanding:
            return
        self.rto_expiries += 1
        self.congestion_events += 1
        self._ack_since_congestion = False
        self.rto = min(self.rto * 2, MAX_RTO)
        seqs = sorted(self.outstanding)
        if self.outstanding[seqs[0]].sends == 1:
            self.ssthresh = max(2.0, min(float(INITIAL_SSTHRESH), self.window / 2))
            self.window = 1.0
        for seq in seqs[: min(MAX_RTX, math.ceil(len(seqs) / 2))]:
            self._resend(seq, now)
        self.rto_deadline = now + self.rto

    def receive_payload(self, payload: bytes, src_port: int, dst_port: int, now: float) -> None:
        p = Packet.decode(payload)
        if p.flags & SYNCHRONIZE and not self.established:
            self.established = True
            self.peer_id = p.receive_stream_id
        if p.delay is not None:
            if p.delay >= MIN_DELAY_CHOKE:
                if not self.choked:
                    self.chokes += 1
                    self.congestion_events += 1
                    self.window = 1.0
                self.choked = True
            else:
                self.choked = False
        if p.sequence_num > self._peer_high:
            self._peer_high = p.sequence_num
        if not p.flags & NO_ACK:
            congested = self.choked or (p.delay is not None and p.delay >= MIN_DELAY_CHOKE)
            self._on_ack(p.ack_through, set(p.nacks), congested, now)
        self._fill(now)

    # ------------------------------------------------------------------ sender rules
    def _on_ack(self, ack_through: int, nacks: set[int], congested: bool, now: float) -> None:
        acked = [s for s in self.outstanding if s <= ack_through and s not in nacks]
        sample = -1.0
        for seq in acked:
            e = self.outstanding.pop(seq)
            self._resent.discard(seq)
            self.acked_bytes += len(e.payload)
            if e.sends == 1:
                sample = max(sample, now - e.first_sent)
        through = min(nacks) - 1 if nacks else ack_through
        if through > self.highest_acked_through:
            self.highest_acked_through = through
        if sample >= 0:
            self._rtt_sample(sample)
        for seq in sorted(nacks & self.outstanding.keys()):
            e = self.outstanding[seq]
            e.nacks += 1
            ready = e.sends == 1 or now - e.last_sent > 4.0
            if e.nacks >= FAST_RETRANSMIT_NACKS and not e.fast_done and ready:
                self._fast_retransmit(seq, now)
        if acked:
            self._ack_since_congestion = True
            if not congested and (
                self.highest_acked_through >= self._cwnd_end or len(acked) > 1 or self.outstanding
            ):
                if self.window < self.ssthresh:
                    self.window = min(self.ssthresh, self.window + len(acked))
                else:
                    self.window += len(acked) / self.window
                self.window = min(self.window, float(MAX_WINDOW))
                self.max_window = max(self.max_window, self.window)
                self._cwnd_end = self.window + self.highest_acked_through
            self.rto_deadline = now + self.rto if self.outstanding else None
        if not self.outstanding:
            self._resent.clear()
            if self._offset >= len(self.data) and self.established and self.done_at is None:
                self.done_at = now

    def _rtt_sample(self, r: float) -> None:
        if self.srtt is None:
            self.srtt, self.rttvar = r, r / 2
            rto = 1.5 * r
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - r)
            self.srtt = 0.875 * self.srtt + 0.125 * r
            rto = self.srtt + 4 * self.rttvar
        self.rto = min(max(rto, MIN_RTO), MAX_RTO)

    def _fast_retransmit(self, seq: int, now: float) -> None:
        e = self.outstanding[seq]
        e.fast_done = True
        self.fast_retransmits += 1
        if self.choked:
            self.window = 1.0
        elif self._ack_since_congestion and seq > self._last_congestion_high:
            self.congestion_events += 1
            self._ack_since_congestion = False
            self._last_congestion_high = self._next_seq - 1
            self.rto = min(self.rto * 2, MAX_RTO)
            if e.sends == 1:
                self.ssthresh = max(2.0, min(float(INITIAL_SSTHRESH), self.window / 2))
                self.window = min(self.ssthresh, self.window)
        self._resend(seq, now)

    def _gate_open(self) -> bool:
        w = int(self.window)
        if self.choked or len(self.outstanding) >= w:
            return False
        if len(self._resent) >= (w + 1) // 2:
            return False
        return self._next_seq - 1 - self.highest_acked_through < min(MAX_WINDOW, 2 * w)

    def _fill(self, now: float) -> None:
        while self.established and self._offset < len(self.data) and self._gate_open():
            chunk = self.data[self._offset : self._offset + MTU]
            self._offset += len(chunk)
            w = int(self.window)
            remaining = w - (len(self.outstanding) + 1)
            delay = 0 if remaining < 3 or remaining < (w + 2) // 3 else None
            p = Packet(
                self.peer_id,
                self.stream_id,
                self._next_seq,
                self._peer_high,
                (),
                1,
                0,
                delay,
                payload=chunk,
            )
            self._send_new(p.encode(), chunk, now)

    def _send_new(self, data: bytes, payload: bytes, now: float) -> None:
        if not self.outstanding:
            self.rto_deadline = now + self.rto
        self.outstanding[self._next_seq] = _Sent(payload, now, now)
        self._next_seq += 1
        self._out.append(OutgoingPacket(self.peer, 0, 0, data, is_syn=not payload))

    def _resend(self, seq: int, now: float) -> None:
        e = self.outstanding[seq]
        e.sends += 1
        e.last_sent = now
        self._resent.add(seq)
        if seq == 0:
            self._out.append(OutgoingPacket(self.peer, 0, 0, self._syn, is_syn=True))
            return
        p = Packet(
            self.peer_id, self.stream_id, seq, self._peer_high, (), 1, 0, None, payload=e.payload
        )
        self._out.append(OutgoingPacket(self.peer, 0, 0, p.encode()))

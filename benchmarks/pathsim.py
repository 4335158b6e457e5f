"""Simulated-time path model for ``benchmarks/paths.py``: StreamManagers over the router's
impairment engine.

Two :class:`~i2p_streaming.streaming.StreamManager` s (a client opening ``Flow`` s to a
listening server) exchange their raw streaming packets through
:class:`~i2p_streaming.router.impairment.ImpairmentEngine`, the same pure, seeded engine the
embedded router uses (loss, FIFO jitter, rate cap with tail drop, ...), in both directions, so
ACKs see the same path as data. A payload's size on the path is the streaming packet plus the
23-byte stored-gzip wrapper the shell adds (what the router's engine sees). One extra
impairment is applied before the engine: ``syn_loss`` drops SYN and SYN-reply packets only
(handshake-only loss). The clock is simulated: a discrete-event loop jumps to the next
delivery, core timer or sample tick; the sans-I/O core reads no clock, so time is exact.

Besides what the core's own stats say, the path sees every packet, so it counts, per sender,
first transmissions, retransmissions and *unneeded* retransmissions (a copy of that sequence
number already got through the path), and whether a retransmission left after an incoming
packet (ack/NACK driven) or after a core timer fired (RTO driven). With one flow it also
measures the sender's *silence* (:class:`Silence`): how long the client sent no data packet
although nothing came in either, against its RTO.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
import struct
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from i2p_streaming.data import PrivateKeys
from i2p_streaming.router.impairment import ImpairmentEngine, Impairments
from i2p_streaming.streaming import (
    ConnectionClosed,
    ConnectionEstablished,
    ConnectionFailed,
    ConnectionReset,
    DataReceived,
    IncomingConnection,
    OutgoingPacket,
    PeerClosed,
    SendBufferAvailable,
    StreamManager,
    StreamOptions,
)

__all__ = [
    "WIRE_OVERHEAD",
    "Flow",
    "PathSpec",
    "Sampler",
    "SideCounts",
    "Silence",
    "Simulation",
    "quantile",
    "rounded",
    "timeline_metrics",
    "window_bytes",
]

Metrics = dict[str, Any]
#: Bytes the shell's stored-gzip I2CP wrapper adds (10 header + 5 block header + 8 trailer).
WIRE_OVERHEAD = 23
_HEAD = struct.Struct(">IIIIB")  # send id, receive id, seq, ack through, NACK count
_SYN = 0x0001
_CHUNK = memoryview(bytes(range(256)) * 256)  # 64 KiB of data written over and over

_KEYS: list[PrivateKeys] = []


def _keys() -> tuple[PrivateKeys, PrivateKeys]:
    """Two key pairs generated once per process (key material does not change behaviour)."""
    if not _KEYS:
        _KEYS.extend((PrivateKeys.generate(), PrivateKeys.generate()))
    return _KEYS[0], _KEYS[1]


@dataclass(frozen=True, slots=True)
class PathSpec:
    """One path, the same in both directions (as the router's default impairments).

    ``rtt`` is twice the one-way delay (s); ``jitter`` uniform +/- seconds on top, FIFO (the
    engine never lets jitter reorder); ``loss`` Bernoulli per payload; ``rate`` bytes/s with a
    tail-drop FIFO of ``queue_bytes``; ``syn_loss`` handshake-only loss (SYN, SYN reply).
    """

    rtt: float
    loss: float = 0.0
    jitter: float = 0.0
    rate: float | None = None
    queue_bytes: int = 256 * 1024
    syn_loss: float = 0.0

    def impairments(self) -> Impairments:
        return Impairments(
            delay=self.rtt / 2,
            jitter=self.jitter,
            loss=self.loss,
            rate=self.rate,
            queue_bytes=self.queue_bytes,
        )


@dataclass(slots=True)
class Flow:
    """One stream from the client to the server carrying ``size`` bytes (0: connect only)."""

    size: int
    start: float = 0.0
    sid: int = 0
    written: int = 0
    received: int = 0
    established_at: float | None = None
    first_byte_at: float | None = None
    done_at: float | None = None  # the last byte (and the CLOSE) reached the server app
    failed: str | None = None
    last_arrival: float = -1.0
    max_gap: float = 0.0
    gaps: list[float] = field(default_factory=list)  # gaps above the stall threshold

    @property
    def finished(self) -> bool:
        if self.failed is not None or self.done_at is not None:
            return True
        return self.size == 0 and self.established_at is not None


@dataclass(slots=True)
class SideCounts:
    """What the path saw one manager send."""

    first: int = 0  # sequence-bearing packets sent for the first time
    resent: int = 0  # retransmissions
    unneeded: int = 0  # retransmissions of a sequence number whose earlier copy got through
    resent_after_timer: int = 0  # retransmissions emitted right after a core timer fired
    acks: int = 0  # plain ACKs (sequence number 0, no SYN)
    syn_dropped: int = 0  # by the handshake-only loss


@dataclass(slots=True)
class Silence:
    """The client's longest silence: the time from its last data packet (more than 1000
    bytes) or the last packet it received, whichever is later, to its next data packet (a
    timeout counts from the last ack, not the last send; the test's ``_gap`` in
    ``tests/streaming/test_java_rules.py``). ``ratio``: the largest silence / the stream's RTO
    as of the last packet it received (so a second timeout in a row reads about 2)."""

    longest: float = 0.0
    ratio: float = 0.0
    sent_at: float = -1.0
    heard_at: float = -1.0
    rto: float = 0.0  # the client's RTO after the last packet it received

    def sent(self, now: float) -> None:
        if self.sent_at >= 0.0:
            gap = now - max(self.sent_at, self.heard_at)
            self.longest = max(self.longest, gap)
            if self.rto > 0.0:
                self.ratio = max(self.ratio, gap / self.rto)
        self.sent_at = now


class Simulation:
    """A client and a server manager joined by ``path``; run :meth:`run` once.

    ``on_sample(sim, now)`` is called every ``sample_every`` simulated seconds while the run
    lasts (diagnostics that poll the public stats). ``server(keys)`` builds the receiving
    side instead of a listening manager (anything with a manager's interface, e.g. the
    Java-rules receiver of ``tests/support/javapeer.py``).
    """

    def __init__(
        self,
        path: PathSpec,
        flows: list[Flow],
        seed: str,
        *,
        options: StreamOptions | None = None,
        stall_gap: float = 2.0,
        sample_every: float | None = None,
        on_sample: Callable[[Simulation, float], None] | None = None,
        server: Callable[[PrivateKeys], Any] | None = None,
    ) -> None:
        ka, kb = _keys()
        self.path = path
        self.flows = flows
        self.rng = random.Random(f"path:{seed}")
        self.engine = ImpairmentEngine(path.impairments(), random.Random(f"engine:{seed}"))
        opts = options or StreamOptions()
        self.client = StreamManager(ka, opts, rng=random.Random(f"client:{seed}"))
        if server is None:
            self.server = StreamManager(kb, opts, rng=random.Random(f"server:{seed}"))
            self.server.listen(0, backlog=1024)
        else:  # another receiver with a manager's interface (--peer java-rules)
            self.server = server(kb)
        self.managers = (self.client, self.server)
        self._hash = (ka.destination.hash, kb.destination.hash)
        self._index = {ka.destination: 0, kb.destination: 1}
        self.counts = (SideCounts(), SideCounts())
        self._through: list[set[tuple[int, int]]] = [set(), set()]  # (own id, seq) got through
        self._seen: list[set[tuple[int, int]]] = [set(), set()]
        self._queue: list[tuple[float, int, int, bytes, int, int]] = []
        self._tie = itertools.count()
        self.now = 0.0
        self.stall_gap = stall_gap
        self.sample_every = sample_every
        self.on_sample = on_sample
        self._by_client: dict[int, Flow] = {}
        self._by_server: dict[int, Flow] = {}
        self.arrival_t = array("d")  # server-side DataReceived times (all flows)
        self.arrival_n = array("q")  # and their sizes
        self.silence = Silence() if len(flows) == 1 else None
        self.steps = 0
        self.timed_out = False
        self.stop_reason = "done"  # or "time limit", "step limit", "idle" (nothing left to do)
        self.unfinished = 0

    # ------------------------------------------------------------------ path
    def _transmit(self, src: int, pkt: OutgoingPacket, after_timer: bool) -> None:
        data = pkt.data
        counts = self.counts[src]
        _sid, own, seq, _ack, nacks = _HEAD.unpack_from(data)
        flags = int.from_bytes(data[18 + 4 * nacks : 20 + 4 * nacks], "big")
        key: tuple[int, int] | None = None
        if seq or flags & _SYN:
            key = (own, seq)
            if key in self._seen[src]:
                counts.resent += 1
                if key in self._through[src]:
                    counts.unneeded += 1
                if after_timer:
                    counts.resent_after_timer += 1
            else:
                self._seen[src].add(key)
                counts.first += 1
        else:
            counts.acks += 1
        if src == 0 and self.silence is not None and len(data) > 1000:
            self.silence.sent(self.now)
        if pkt.is_syn and self.path.syn_loss and self.rng.random() < self.path.syn_loss:
            counts.syn_dropped += 1
            return
        dst = self._index.get(pkt.destination)
        if dst is None:
            return
        copies = self.engine.decide(
            self._hash[src], self._hash[dst], len(data) + WIRE_OVERHEAD, self.now
        )
        if copies and key is not None:
            self._through[src].add(key)
        for copy in copies:
            item = (copy.at, next(self._tie), dst, data, pkt.src_port, pkt.dst_port)
            heapq.heappush(self._queue, item)

    # ------------------------------------------------------------------ application
    def _fill(self, flow: Flow) -> None:
        client, now = self.client, self.now
        while flow.written < flow.size:
            n = client.send(flow.sid, _CHUNK[: min(len(_CHUNK), flow.size - flow.written)], now)
            if not n:
                return
            flow.written += n
        if flow.size:
            client.close(flow.sid, now)

    def _client_event(self, ev: object) -> None:
        if isinstance(ev, SendBufferAvailable):
            flow = self._by_client.get(ev.stream_id)
            if flow is not None and flow.written < flow.size:
                self._fill(flow)
        elif isinstance(ev, ConnectionEstablished):
            flow = self._by_client.get(ev.stream_id)
            if flow is not None and flow.established_at is None:
                flow.established_at = self.now
                if flow.size == 0 and flow.failed is None:
                    self.unfinished -= 1
        elif isinstance(ev, ConnectionFailed | ConnectionReset):
            flow = self._by_client.get(ev.stream_id)
            if flow is not None and not flow.finished:
                flow.failed = f"{type(ev).__name__}: {ev.reason}"
                self.unfinished -= 1

    def _server_event(self, ev: object) -> None:
        server, now = self.server, self.now
        if isinstance(ev, DataReceived):
            flow = self._by_server.get(ev.stream_id)
            if flow is None:
                return
            n = len(ev.data)
            flow.received += n
            self.arrival_t.append(now)
            self.arrival_n.append(n)
            if flow.first_byte_at is None:
                flow.first_byte_at = now
            elif flow.last_arrival >= 0.0:
                gap = now - flow.last_arrival
                if gap > flow.max_gap:
                    flow.max_gap = gap
                if gap > self.stall_gap:
                    flow.gaps.append(gap)
            flow.last_arrival = now
        elif isinstance(ev, IncomingConnection):
            peer_sid = server.stats(ev.stream_id).peer_stream_id
            flow = self._by_client.get(peer_sid)
            if flow is not None:
                self._by_server[ev.stream_id] = flow
        elif isinstance(ev, PeerClosed):
            flow = self._by_server.get(ev.stream_id)
            if flow is not None and flow.received >= flow.size and not flow.finished:
                flow.done_at = now
                self.unfinished -= 1
            server.close(ev.stream_id, now)
        elif isinstance(ev, ConnectionClosed | ConnectionReset):
            pass

    def _pump(self, after_timer: bool) -> None:
        busy = True
        client, server = self.client, self.server
        while busy:
            busy = False
            while (ev := client.next_event()) is not None:
                busy = True
                self._client_event(ev)
            while (ev := server.next_event()) is not None:
                busy = True
                self._server_event(ev)
            for i, m in enumerate(self.managers):
                for pkt in m.payloads_to_send(self.now):
                    busy = True
                    self._transmit(i, pkt, after_timer)

    # ------------------------------------------------------------------ loop
    def run(self, limit: float, max_steps: int = 20_000_000) -> None:
        """Start every flow (at its ``start``) and step until all are finished, ``limit``
        simulated seconds have passed or ``max_steps`` steps were taken (``timed_out``)."""
        pending = sorted(self.flows, key=lambda f: f.start)
        client, server, queue = self.client, self.server, self._queue
        next_sample = self.sample_every if self.sample_every else None
        self.unfinished = len(pending)
        while True:
            while pending and pending[0].start <= self.now:
                flow = pending.pop(0)
                flow.sid = client.connect(server.destination, now=self.now)
                self._by_client[flow.sid] = flow
                self._fill(flow)
            self._pump(False)
            if not self.unfinished and not pending:
                return
            times = [t for t in (client.get_timer(), server.get_timer()) if t is not None]
            if queue:
                times.append(queue[0][0])
            if pending:
                times.append(pending[0].start)
            if next_sample is not None:
                times.append(next_sample)
            if not times:
                self.stop_reason = "idle"
                return
            t = min(times)
            self.steps += 1
            if t > limit or self.steps > max_steps:
                self.timed_out = True
                self.stop_reason = "time limit" if t > limit else "step limit"
                return
            if t > self.now:
                self.now = t
            now = self.now
            while queue and queue[0][0] <= now:
                _, _, dst, data, src_port, dst_port = heapq.heappop(queue)
                self.managers[dst].receive_payload(data, src_port, dst_port, now)
                if dst == 0 and self.silence is not None:
                    self._heard(self.silence, now)
            self._pump(False)
            fired = False
            for m in self.managers:
                timer = m.get_timer()
                if timer is not None and timer <= now:
                    m.handle_timer(now)
                    fired = True
            if fired:
                self._pump(True)
            if next_sample is not None and next_sample <= now:
                assert self.sample_every is not None
                if self.on_sample is not None:
                    self.on_sample(self, now)
                next_sample = now + self.sample_every

    def _heard(self, silence: Silence, now: float) -> None:
        silence.heard_at = now
        sid = self.flows[0].sid
        if sid and self.client.state(sid) is not None:
            silence.rto = self.client.stats(sid).rto

    def server_flow_ids(self) -> dict[int, Flow]:
        """Server stream id -> flow (for diagnostics)."""
        return dict(self._by_server)


# ------------------------------------------------------------------ metrics helpers
def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile."""
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def rounded(x: float | None, nd: int = 3) -> float | None:
    return None if x is None else round(x, nd)


def timeline_metrics(
    t: array[float], n: array[int], total: int, ceiling: float, rtt: float, end: float
) -> Metrics:
    """Steady share, ramp and byte-quantile times from arrivals (time, bytes)."""
    cum = list(itertools.accumulate(n))
    got = cum[-1] if cum else 0
    out: Metrics = {"steady_share": None, "ramp_s": None}
    if got and total:
        i25 = bisect.bisect_left(cum, 0.25 * total)
        i90 = bisect.bisect_left(cum, 0.90 * total)
        if i90 < len(cum) and t[i90] > t[i25]:
            rate = (cum[i90] - cum[i25]) / (t[i90] - t[i25])
            out["steady_share"] = rounded(rate / ceiling)
            out["t25_s"], out["t90_s"] = rounded(t[i25], 2), rounded(t[i90], 2)
    bins = [0] * (int(end / rtt) + 2)
    for ti, ni in zip(t, n, strict=True):
        bins[int(ti / rtt)] += ni
    want = 0.9 * ceiling * 4 * rtt
    run = sum(bins[:4])
    for i in range(4, len(bins) + 1):
        if run >= want:
            out["ramp_s"] = rounded(i * rtt, 2)
            break
        if i < len(bins):
            run += bins[i] - bins[i - 4]
    return out


def window_bytes(t: array[float], n: array[int], a: float, b: float) -> int:
    """Bytes that arrived in [a, b)."""
    return sum(ni for ti, ni in zip(t, n, strict=True) if a <= ti < b)


class Sampler:
    """Polls the first stream's public stats every RTT (window, RTO)."""

    def __init__(self, max_window: int) -> None:
        self.max_window = max_window
        self.t: list[float] = []
        self.window: list[int] = []
        self.rto: list[float] = []

    def __call__(self, sim: Simulation, now: float) -> None:
        sid = sim.flows[0].sid
        if not sid:
            return
        try:
            st = sim.client.stats(sid)
        except ValueError:
            return
        self.t.append(now)
        self.window.append(st.window)
        self.rto.append(st.rto)

    def summary(self, a: float | None, b: float | None) -> Metrics:
        idx = [
            i for i, ti in enumerate(self.t) if (a is None or ti >= a) and (b is None or ti <= b)
        ]
        if not idx:
            return {}
        w = [self.window[i] for i in idx]
        rto = [self.rto[i] for i in idx]
        return {
            "window_p10": quantile(w, 0.1),
            "window_p50": quantile(w, 0.5),
            "window_p90": quantile(w, 0.9),
            "window_at_max_frac": rounded(sum(1 for x in w if x >= self.max_window) / len(w)),
            "window_le4_frac": rounded(sum(1 for x in w if x <= 4) / len(w)),
            "rto_p50_s": rounded(quantile(rto, 0.5)),
            "rto_max_s": rounded(max(rto)),
        }

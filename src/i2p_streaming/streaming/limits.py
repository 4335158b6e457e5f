"""Admission control for inbound streams and pings: access lists, concurrent-stream limit,
per-peer and total connection throttles, and the reply to a refused SYN (reference B.13).

Everything here runs on a *verified* SYN before the manager allocates any per-connection
state, and its own memory is bounded: each throttle window keeps at most
:data:`MAX_TRACKED_PEERS` per-peer counters (least recently seen dropped first), so a SYN flood
from any number of destinations costs a fixed amount of memory.

Checks, in order (the first that fails decides):

1. ``i2cp.enableAccessList`` (allow-list) / ``i2cp.enableBlackList`` (deny-list) with
   ``i2cp.accessList``: a refused peer is always dropped silently, and is not counted.
2. ``i2p.streaming.maxConcurrentStreams`` (streams not yet in TIME-WAIT): Retry-After 120 s.
3. Throttles, day then hour then minute, each counting per peer (``maxConnsPer*``) and in total
   (``maxTotalConnsPer*``), 0 = no limit. Every checked SYN counts (Java), in fixed windows of
   one day / hour / minute. Retry-After is the window length.

A refused SYN gets ``i2p.streaming.limitAction``: ``reset`` (default; a signed RESET with
FROM), ``drop`` (nothing), ``http`` (a signed SYN|CLOSE with FROM whose payload is an HTTP 429
reply with Retry-After), or any other text, sent the same way as ``http`` with the two-character
sequences ``\\r`` and ``\\n`` turned into CR and LF. Like Java, a peer already more than
:data:`DROP_OVER_LIMIT` over a per-peer throttle gets nothing, and SYNs to local port 443
always get a RESET instead of a text reply.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming.options import StreamOptions
from i2p_streaming.streaming.packet import CLOSE, RESET, SYNCHRONIZE, Packet

__all__ = [
    "DROP_OVER_LIMIT",
    "MAX_TRACKED_PEERS",
    "Admission",
    "Backlog",
    "Refusal",
    "http_429",
    "reject_packet",
]

MAX_TRACKED_PEERS = 4096
DROP_OVER_LIMIT = 3
_PERIODS = ((86400.0, "day"), (3600.0, "hour"), (60.0, "minute"))


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a SYN or ping was refused: ``counter`` names the manager counter, ``retry_after``
    is seconds for the HTTP reply (0 = unknown), ``drop`` means never answer."""

    counter: str
    reason: str
    retry_after: int = 0
    drop: bool = False


class _Throttle:
    """Connection counts of one fixed window (Java ``ConnThrottler``), bounded per peer."""

    __slots__ = ("counts", "period", "start", "total")

    def __init__(self, period: float) -> None:
        self.period = period
        self.start: float | None = None
        self.counts: OrderedDict[bytes, int] = OrderedDict()
        self.total = 0

    def _roll(self, now: float) -> None:
        if self.start is None or now >= self.start + self.period:
            self.start = now
            self.counts.clear()
            self.total = 0

    def should_throttle(self, peer: bytes, per_peer: int, total: int, now: float) -> bool:
        """Count one connection from ``peer``; True if a limit is exceeded."""
        self._roll(now)
        if per_peer > 0:
            counts = self.counts
            n = counts.pop(peer, 0) + 1
            counts[peer] = n
            if len(counts) > MAX_TRACKED_PEERS:
                counts.popitem(last=False)
            if n > per_peer:
                return True
        if total > 0:
            self.total += 1
            if self.total > total:
                return True
        return False

    def over_by(self, peer: bytes, per_peer: int, extra: int) -> bool:
        return per_peer > 0 and self.counts.get(peer, 0) > per_peer + extra


class Admission:
    """The admission state of one manager (one local destination)."""

    __slots__ = ("_throttles",)

    def __init__(self) -> None:
        self._throttles = {period: _Throttle(period) for period, _ in _PERIODS}

    def tracked_peers(self) -> int:
        """Per-peer counters currently held (all windows together)."""
        return sum(len(t.counts) for t in self._throttles.values())

    @staticmethod
    def access_refusal(opts: StreamOptions, peer: bytes) -> Refusal | None:
        if opts.enable_access_list and peer not in opts.access_list:
            return Refusal("refused_access_list", "not in the access list", drop=True)
        if opts.enable_black_list and peer in opts.access_list:
            return Refusal("refused_black_list", "in the black list", drop=True)
        return None

    def check(
        self, opts: StreamOptions, peer: bytes, now: float, active_streams: int | None
    ) -> Refusal | None:
        """Run every check for a verified SYN (``active_streams`` None: skip the concurrent
        limit, as for pings). Counts the connection in the throttles."""
        refusal = self.access_refusal(opts, peer)
        if refusal is not None:
            return refusal
        limit = opts.max_concurrent_streams
        if active_streams is not None and 0 < limit <= active_streams:
            return Refusal("refused_limit", f"over {limit} concurrent streams", 120)
        limits = {
            86400.0: (opts.max_conns_per_day, opts.max_total_conns_per_day),
            3600.0: (opts.max_conns_per_hour, opts.max_total_conns_per_hour),
            60.0: (opts.max_conns_per_minute, opts.max_total_conns_per_minute),
        }
        for period, name in _PERIODS:
            per_peer, total = limits[period]
            if not (per_peer or total):
                continue
            throttle = self._throttles[period]
            if throttle.should_throttle(peer, per_peer, total, now):
                over = throttle.over_by(peer, per_peer, DROP_OVER_LIMIT)
                return Refusal(
                    "refused_throttle",
                    f"over {per_peer or '-'} per peer / {total or '-'} in total per {name}",
                    int(period),
                    drop=over,
                )
        return None


class Backlog:
    """Inbound streams announced to the application but not yet accepted, per listener port
    (the listener's ``backlog`` bounds them; half-open streams are bounded elsewhere)."""

    __slots__ = ("_ports", "_queued")

    def __init__(self) -> None:
        self._ports: dict[int, int] = {}  # stream id -> listener port
        self._queued: dict[int, int] = {}  # listener port -> streams not yet accepted

    def queued(self, port: int) -> int:
        return self._queued.get(port, 0)

    def add(self, stream_id: int, port: int) -> None:
        self._ports[stream_id] = port
        self._queued[port] = self._queued.get(port, 0) + 1

    def accepted(self, stream_id: int) -> None:
        """``stream_id`` was taken by the application, or ended (idempotent)."""
        port = self._ports.pop(stream_id, None)
        if port is not None:
            n = self._queued.get(port, 0) - 1
            if n > 0:
                self._queued[port] = n
            else:
                self._queued.pop(port, None)


def http_429(retry_after: int) -> bytes:
    """The HTTP reply of ``limitAction=http`` (Retry-After omitted when 0)."""
    lines = [
        "HTTP/1.1 429 Too Many Requests",
        "Content-Type: text/plain; charset=utf-8",
        "Cache-Control: no-cache",
        "Connection: close",
    ]
    if retry_after > 0:
        lines.append(f"Retry-After: {retry_after}")
    body = "429 Too Many Requests: this destination limits new connections; try again later.\n"
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def reject_packet(
    keys: PrivateKeys, syn: Packet, refusal: Refusal, action: str, local_port: int, reject_id: int
) -> bytes | None:
    """The signed reply to a refused ``syn`` under ``action``, or None to send nothing."""
    if refusal.drop or action == "drop":
        return None
    if action == "reset" or local_port == 443:
        flags, payload = RESET, b""
    elif action == "http":
        flags, payload = SYNCHRONIZE | CLOSE, http_429(refusal.retry_after)
    else:
        text = action.replace("\\r", "\r").replace("\\n", "\n")
        flags, payload = SYNCHRONIZE | CLOSE, text.encode()
    reply = Packet(
        syn.receive_stream_id,
        reject_id,
        0,
        syn.sequence_num,
        (),
        1,
        flags,
        from_destination=keys.destination,
        offline_signature=keys.offline,
        payload=payload,
    )
    return reply.encode_signed(keys)

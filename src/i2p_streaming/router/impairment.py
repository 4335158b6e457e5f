"""Network-impairment engine of the embedded router (pure logic, no clock, no I/O).

:class:`ImpairmentEngine` decides, for every payload handed to
:meth:`~ImpairmentEngine.decide`, whether it is dropped and otherwise when each copy is
delivered and whether a copy is corrupted.
Time comes in as ``now`` (seconds on any monotonic clock) and randomness from an injected
:class:`random.Random`, so a seed makes every run reproducible and tests need no real time.

Order of the decisions for one payload on the directed pair ``src -> dst``:

1. blackhole: drop;
2. random loss (``loss``), then bursty loss (Gilbert-Elliott, per pair state);
3. bandwidth cap: the pair is a link of ``rate`` bytes/s with a FIFO of ``queue_bytes``;
   a payload that does not fit behind the backlog is tail-dropped, otherwise it leaves the
   link when the bytes before it and itself have been sent;
4. one-way delay plus jitter (uniform in ``[-jitter, +jitter]``, never below zero); like a
   tunnel, a pair's link is FIFO: jitter alone never lets a payload overtake an earlier one
   (it is delivered no earlier than its predecessor), so reordering is only what ``reorder``
   asks for;
5. reordering: with probability ``reorder`` the payload is held back ``reorder_delay`` more;
6. duplication: with probability ``duplicate`` a second copy follows with its own jitter;
7. corruption, per copy: one byte after the 10-byte gzip header (so ports and protocol stay
   intact) is XOR-ed with a non-zero value; the receiver's CRC32/ISIZE check catches it.
   The first and the last deflate byte are spared (unused bits there, the padding after a
   stored block's header or after the final block, could hide the damage). Stored payloads
   (the normal case) always fail the check; a deflated one may, rarely, decode to the very
   same bytes (e.g. a back-reference into periodic data changed to an equivalent one), which
   is then harmless.

Counters are kept per directed pair; the I/O shell reports late failures (receiver gone,
receiver queue full) back with :meth:`~ImpairmentEngine.undeliverable`.
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass

__all__ = [
    "GZIP_HEADER_LEN",
    "Burst",
    "Counters",
    "Delivery",
    "ImpairmentEngine",
    "Impairments",
    "corrupt_payload",
]

#: Bytes of the gzip wrapper header (magic, flags, ports, XFL, protocol) never corrupted.
GZIP_HEADER_LEN = 10
_TRAILER_LEN = 8  # CRC32 + ISIZE
_MIN_SPLIT = GZIP_HEADER_LEN + 2 + _TRAILER_LEN


def _check_probability(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")


def _check_non_negative(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class Burst:
    """Gilbert-Elliott bursty loss: a two-state (good/bad) Markov chain per directed pair.

    After each payload the chain moves good->bad with ``p_enter`` and bad->good with
    ``p_exit``; a payload is lost with ``loss_good`` or ``loss_bad`` according to the state it
    met. With the defaults (0 and 1) the mean loss burst is ``1 / p_exit`` payloads and the
    long-run loss rate ``p_enter / (p_enter + p_exit)``. Raises ``ValueError`` for values
    outside [0, 1].
    """

    p_enter: float
    p_exit: float
    loss_good: float = 0.0
    loss_bad: float = 1.0

    def __post_init__(self) -> None:
        for name in ("p_enter", "p_exit", "loss_good", "loss_bad"):
            _check_probability(f"Burst.{name}", getattr(self, name))

    @property
    def mean_loss(self) -> float:
        """Long-run fraction of payloads lost."""
        total = self.p_enter + self.p_exit
        if total == 0:
            return self.loss_good
        bad = self.p_enter / total
        return bad * self.loss_bad + (1 - bad) * self.loss_good


@dataclass(frozen=True, slots=True)
class Impairments:
    """What the network does to payloads on a directed pair (or router-wide by default).

    Times are seconds, ``rate`` bytes per second (``None`` = unlimited), ``queue_bytes`` the
    bound of the rate-cap queue, probabilities in [0, 1]. The default is a perfect network.
    Raises ``ValueError`` for out-of-range values.
    """

    delay: float = 0.0
    jitter: float = 0.0
    loss: float = 0.0
    burst: Burst | None = None
    duplicate: float = 0.0
    reorder: float = 0.0
    reorder_delay: float = 0.05
    rate: float | None = None
    queue_bytes: int = 256 * 1024
    corrupt: float = 0.0
    blackhole: bool = False

    def __post_init__(self) -> None:
        for name in ("delay", "jitter", "reorder_delay"):
            _check_non_negative(name, getattr(self, name))
        for name in ("loss", "duplicate", "reorder", "corrupt"):
            _check_probability(name, getattr(self, name))
        if self.rate is not None and not (
            isinstance(self.rate, int | float) and math.isfinite(self.rate) and self.rate > 0
        ):
            raise ValueError(f"rate must be a positive bytes/s value or None, got {self.rate!r}")
        if not isinstance(self.queue_bytes, int) or self.queue_bytes <= 0:
            raise ValueError(f"queue_bytes must be a positive int, got {self.queue_bytes!r}")

    def replace(self, **changes: object) -> Impairments:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One copy of a payload to deliver at ``at`` (same clock as ``now``).

    ``corrupt`` is ``(offset, xor)`` when this copy must be damaged with
    :func:`corrupt_payload`; ``duplicate`` marks the extra copy; ``reordered`` a held-back one.
    """

    at: float
    corrupt: tuple[int, int] | None = None
    duplicate: bool = False
    reordered: bool = False


@dataclass(slots=True)
class Counters:
    """Per directed pair (or summed). ``delivered``/``bytes`` count copies handed to the
    receiver (payload bytes); ``dropped`` every payload lost for any reason, of which
    ``overflow`` were tail drops of the rate-cap queue or of a full receiver queue."""

    delivered: int = 0
    dropped: int = 0
    duplicated: int = 0
    corrupted: int = 0
    reordered: int = 0
    bytes: int = 0
    overflow: int = 0

    def add(self, other: Counters) -> None:
        """Add ``other`` into this one."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def copy(self) -> Counters:
        """An independent snapshot."""
        return dataclasses.replace(self)


def corrupt_payload(blob: bytes, offset: int, xor: int) -> bytes:
    """Return ``blob`` with the byte at ``offset`` XOR-ed with ``xor`` (no-op if out of range)."""
    if not 0 <= offset < len(blob):
        return blob
    damaged = bytearray(blob)
    damaged[offset] ^= xor
    return bytes(damaged)


@dataclass(slots=True)
class _PairState:
    counters: Counters = dataclasses.field(default_factory=Counters)
    bad: bool = False  # Gilbert-Elliott state
    busy_until: float = 0.0  # when the rate-capped link has sent everything queued
    last_at: float = 0.0  # delivery time of the latest in-order payload (FIFO under jitter)


Pair = tuple[bytes, bytes]


class ImpairmentEngine:
    """Decides the fate of payloads; holds per-pair state and counters.

    ``default`` applies to every pair without an override from :meth:`set_pair`. Both can be
    changed at any time; per-pair state (burst state, queue backlog) and counters persist.
    """

    def __init__(self, default: Impairments | None = None, rng: random.Random | None = None):
        self.default = default if default is not None else Impairments()
        self.rng = rng if rng is not None else random.Random()
        self._overrides: dict[Pair, Impairments] = {}
        self._pairs: dict[Pair, _PairState] = {}

    # -- configuration ---------------------------------------------------------------------

    def set_pair(self, src: bytes, dst: bytes, impairments: Impairments | None) -> None:
        """Override the impairments of ``src -> dst`` (hashes); ``None`` removes the override."""
        if impairments is None:
            self._overrides.pop((src, dst), None)
        else:
            self._overrides[(src, dst)] = impairments

    def for_pair(self, src: bytes, dst: bytes) -> Impairments:
        """The impairments in force for ``src -> dst``."""
        return self._overrides.get((src, dst), self.default)

    # -- counters --------------------------------------------------------------------------

    def counters(self, src: bytes | None = None, dst: bytes | None = None) -> Counters:
        """Sum of the counters of every pair matching ``src``/``dst`` (None = any)."""
        total = Counters()
        for (s, d), state in self._pairs.items():
            if (src is None or s == src) and (dst is None or d == dst):
                total.add(state.counters)
        return total

    def pairs(self) -> list[Pair]:
        """Every directed pair seen so far."""
        return list(self._pairs)

    def _state(self, src: bytes, dst: bytes) -> _PairState:
        state = self._pairs.get((src, dst))
        if state is None:
            state = self._pairs[(src, dst)] = _PairState()
        return state

    def undeliverable(self, src: bytes, dst: bytes, size: int, *, overflow: bool = False) -> None:
        """A copy counted as delivered could not be handed over after all (receiver gone or
        its queue full): move it from ``delivered`` to ``dropped``."""
        c = self._state(src, dst).counters
        c.delivered -= 1
        c.bytes -= size
        c.dropped += 1
        if overflow:
            c.overflow += 1

    # -- the decision ----------------------------------------------------------------------

    def decide(self, src: bytes, dst: bytes, size: int, now: float) -> list[Delivery]:
        """Decide the fate of one ``size``-byte payload sent at ``now`` on ``src -> dst``.

        Returns the copies to deliver (empty = dropped), each with its delivery time and
        corruption, and updates the pair's counters and state.
        """
        imp = self.for_pair(src, dst)
        state = self._state(src, dst)
        c = state.counters
        rng = self.rng
        if imp.blackhole or (imp.loss and rng.random() < imp.loss) or self._burst_lost(imp, state):
            c.dropped += 1
            return []
        depart = now
        if imp.rate is not None:
            start = max(now, state.busy_until)
            backlog = (start - now) * imp.rate
            if backlog + size > imp.queue_bytes:
                c.dropped += 1
                c.overflow += 1
                return []
            state.busy_until = depart = start + size / imp.rate
        at = depart + self._delay(imp)
        reordered = bool(imp.reorder) and rng.random() < imp.reorder
        if reordered:
            at += imp.reorder_delay
            c.reordered += 1
        else:
            at = state.last_at = max(at, state.last_at)
        copies = [Delivery(at, self._corruption(imp, size, c), False, reordered)]
        if imp.duplicate and rng.random() < imp.duplicate:
            c.duplicated += 1
            copies.append(
                Delivery(depart + self._delay(imp), self._corruption(imp, size, c), True, False)
            )
        c.delivered += len(copies)
        c.bytes += size * len(copies)
        return copies

    def _burst_lost(self, imp: Impairments, state: _PairState) -> bool:
        burst = imp.burst
        if burst is None:
            return False
        rng = self.rng
        loss = burst.loss_bad if state.bad else burst.loss_good
        lost = bool(loss) and rng.random() < loss
        if state.bad:
            state.bad = rng.random() >= burst.p_exit
        else:
            state.bad = rng.random() < burst.p_enter
        return lost

    def _delay(self, imp: Impairments) -> float:
        if not imp.jitter:
            return imp.delay
        return max(0.0, imp.delay + self.rng.uniform(-imp.jitter, imp.jitter))

    def _corruption(self, imp: Impairments, size: int, c: Counters) -> tuple[int, int] | None:
        if not imp.corrupt or size == 0 or self.rng.random() >= imp.corrupt:
            return None
        c.corrupted += 1
        rng = self.rng
        if size >= _MIN_SPLIT:
            # spare the first and the last deflate byte: unused bits there (a stored block's
            # header padding, the final padding) could hide the damage
            offset = rng.randrange(GZIP_HEADER_LEN + 1, size - 1)
            if offset >= size - _TRAILER_LEN - 1:
                offset += 1
        elif size > GZIP_HEADER_LEN + _TRAILER_LEN:
            offset = rng.randrange(size - _TRAILER_LEN, size)
        else:
            offset = rng.randrange(GZIP_HEADER_LEN if size > GZIP_HEADER_LEN else 0, size)
        return offset, rng.randrange(1, 256)

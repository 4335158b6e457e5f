"""Shared control blocks: RTT, RTT variance and window remembered per remote destination
(RFC 2140 temporal sharing, Java ``TCBShare``, reference B.15).

One :class:`TcbCache` per :class:`~i2p_streaming.streaming.StreamManager` (that is, per local
destination: nothing is shared between destinations, so peers cannot link them). When a
connection that got at least one RTT sample of its own ends, its values are stored, blended
into an existing entry as ``0.75 * old + 0.25 * new``. A new connection to (or from) the same
peer starts from the entry as if it had taken one RTT sample already: its RTO is
``srtt + 4 * rttvar`` instead of the initial RTO, and its window starts at the stored
window (at most 64). Entries expire :data:`EXPIRE_AFTER` seconds after their last update; the
cache keeps at most :data:`MAX_ENTRIES` peers (least recently used dropped first).
Disable with ``StreamOptions(tcb_share=False)`` (the manager then neither looks up nor stores).
The cache never touches a connection: the manager passes the entry to the new connection's
constructor and hands the ending connection's values to :meth:`TcbCache.store`.
"""

from __future__ import annotations

from collections import OrderedDict

from i2p_streaming.streaming.rto import RttEstimator

__all__ = ["EXPIRE_AFTER", "MAX_ENTRIES", "MAX_WINDOW", "TcbCache", "TcbEntry"]

#: Seconds an entry stays usable after its last update (Java 2.x uses 15 min; B.15 says 10).
EXPIRE_AFTER = 600.0
MAX_ENTRIES = 1024
#: Largest window stored or seeded (Java: the slow-start threshold, 64).
MAX_WINDOW = 64
#: RFC 2140 dampening: weight of the old value.
DAMPING = 0.75
_MAX_RTT = 22.5  # half the maximum RTO, as Java
_MAX_RTTVAR = 1.5 * _MAX_RTT


class TcbEntry:
    """Remembered values for one peer (seconds, packets)."""

    __slots__ = ("rtt", "rttvar", "updated", "window")

    def __init__(self, rtt: float, rttvar: float, window: int, updated: float) -> None:
        self.rtt = rtt
        self.rttvar = rttvar
        self.window = window
        self.updated = updated


class TcbCache:
    """Per-manager cache keyed by the peer's destination hash."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: OrderedDict[bytes, TcbEntry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, peer_hash: bytes, now: float) -> TcbEntry | None:
        """The live entry for ``peer_hash`` (expired ones are dropped), or None: what a new
        connection to that peer starts from (its ``seed`` argument)."""
        entry = self._entries.get(peer_hash)
        if entry is not None and now - entry.updated > EXPIRE_AFTER:
            del self._entries[peer_hash]
            return None
        return entry

    def store(
        self, peer_hash: bytes, rtt: RttEstimator, window: int, seeded: bool, now: float
    ) -> None:
        """Remember the values of an ending connection that measured an RTT of its own
        (``seeded``: it started from an entry, which counts as one sample)."""
        own_samples = rtt.samples - (1 if seeded else 0)
        if own_samples <= 0:
            return
        srtt = min(rtt.srtt, _MAX_RTT)
        rttvar = min(rtt.rttvar, _MAX_RTTVAR)
        window = min(window, MAX_WINDOW)
        key = peer_hash
        entry = self.get(key, now)
        if entry is None:
            self._entries[key] = TcbEntry(srtt, rttvar, window, now)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
            return
        entry.rtt = DAMPING * entry.rtt + (1.0 - DAMPING) * srtt
        entry.rttvar = DAMPING * entry.rttvar + (1.0 - DAMPING) * rttvar
        entry.window = min(MAX_WINDOW, int(0.5 + DAMPING * entry.window + (1 - DAMPING) * window))
        entry.updated = now
        self._entries.move_to_end(key)

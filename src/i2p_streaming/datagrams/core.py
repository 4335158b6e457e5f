"""The sans-I/O datagram core of one session: bindings, receive checks, outgoing queue.

Inputs: :meth:`DatagramCore.receive_payload` (an unwrapped I2CP payload of protocol 17-20,
``now=`` monotonic seconds) and :meth:`DatagramCore.send`. Outputs, pulled by the shell:
:meth:`DatagramCore.datagrams_to_send` and :meth:`DatagramCore.next_event`. No clock, no
I/O; the epoch time the offline-signature expiry needs is ``now + epoch_offset``.

Receive checks, in order: a binding for the kind and port (else ``no_endpoint``), the format
(``malformed``), the signature (``bad_signature``; repliable and Datagram2), the Datagram2
replay cache (``replayed``). Every drop is counted in :attr:`DatagramCore.counters` by that
reason; nothing a peer sends raises.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from i2p_streaming.data import Destination, PrivateKeys, b32_address
from i2p_streaming.datagrams.codec import (
    MAX_DATAGRAM_SIZE,
    DatagramKind,
    encode_datagram2,
    encode_datagram3,
    encode_repliable,
    parse_datagram2,
    parse_datagram3,
    parse_repliable,
    verify_datagram2,
    verify_repliable,
)
from i2p_streaming.datagrams.replay import ReplayCache
from i2p_streaming.errors import DataFormatError, DatagramTooLarge

__all__ = [
    "DEFAULT_MAX_EVENTS",
    "DROP_REASONS",
    "DatagramCore",
    "DatagramReceived",
    "DatagramTooLarge",
    "OutgoingDatagram",
]

log = logging.getLogger("i2p_streaming.datagrams")

#: Received datagrams queued for the shell at most (more are dropped: ``queue_full``).
DEFAULT_MAX_EVENTS = 1024
#: Outgoing datagrams queued at most (more are dropped: ``send_queue_full``).
DEFAULT_MAX_OUTGOING = 1024
#: The counters of dropped datagrams, by reason.
DROP_REASONS = (
    "no_endpoint",
    "malformed",
    "bad_signature",
    "replayed",
    "queue_full",
    "send_queue_full",
    "internal_error",
)


@dataclass(frozen=True, slots=True)
class DatagramReceived:
    """A datagram that passed every check.

    ``sender``: the sender's ``.b32.i2p`` address (None for raw datagrams); ``destination``:
    its full Destination (repliable and Datagram2 only); ``src_port``/``dst_port``: the I2CP
    ports; ``local_port``: the bound port it was delivered to (``dst_port`` or 0 for "any");
    ``options``: the Datagram2/3 options; ``sender_prelude``: a Datagram2 that verified only
    over its sender's hash instead of ours (i2pd 2.59's signing, see ``DatagramCore``).
    """

    kind: DatagramKind
    data: bytes
    sender: str | None
    destination: Destination | None
    src_port: int
    dst_port: int
    local_port: int
    options: Mapping[str, str] = field(default_factory=dict)
    sender_prelude: bool = False

    @property
    def address(self) -> tuple[str | None, int]:
        """``(sender, src_port)``: what ``datagram_received`` gets and ``sendto`` takes."""
        return (self.sender, self.src_port)


@dataclass(frozen=True, slots=True)
class OutgoingDatagram:
    """A datagram for the I2CP shell: send ``data`` to ``destination`` under ``protocol``
    and ports; ``compress`` when it starts with a (compressible) Destination."""

    destination: Destination
    data: bytes
    protocol: int
    src_port: int
    dst_port: int
    compress: bool


class DatagramCore:
    """Datagrams for the local destination ``keys`` (see the module doc).

    ``accept_sender_prelude``: also accept a Datagram2 whose signature covers the *sender's*
    hash where the spec puts the receiver's (what i2pd 2.59 sends); such datagrams are
    counted in ``counters["sender_prelude"]`` and flagged on their event. The replay cache
    still drops an exact repeat; what is lost is only the spec's protection against a
    datagram signed for another destination being replayed to us. False drops them as
    ``bad_signature``.
    """

    def __init__(
        self,
        keys: PrivateKeys,
        *,
        epoch_offset: float = 0.0,
        replay: ReplayCache | None = None,
        max_events: int = DEFAULT_MAX_EVENTS,
        max_outgoing: int = DEFAULT_MAX_OUTGOING,
        accept_sender_prelude: bool = True,
    ) -> None:
        self.keys = keys
        self.epoch_offset = epoch_offset
        self.accept_sender_prelude = accept_sender_prelude
        self._hash = keys.destination.hash
        self._replay = replay if replay is not None else ReplayCache()
        self._bound: set[tuple[DatagramKind, int]] = set()
        self._events: deque[DatagramReceived] = deque()
        self._max_events = max_events
        self._outgoing: deque[OutgoingDatagram] = deque()
        self._max_outgoing = max_outgoing
        #: ``received``, ``sent``, ``sender_prelude`` and one counter per :data:`DROP_REASONS`.
        self.counters: dict[str, int] = dict.fromkeys(
            ("received", "sent", "sender_prelude", *DROP_REASONS), 0
        )

    # ------------------------------------------------------------------ bindings
    def bind(self, kind: DatagramKind, port: int) -> None:
        """Accept datagrams of ``kind`` to ``port`` (0: every port without its own binding).
        Raises OSError when that kind and port are bound already, ValueError for a bad port."""
        if not 0 <= port <= 0xFFFF:
            raise ValueError(f"port {port} is not in 0..65535")
        if (kind, port) in self._bound:
            raise OSError(f"{kind} datagram port {port} is already bound")
        self._bound.add((kind, port))

    def unbind(self, kind: DatagramKind, port: int) -> None:
        """Stop accepting ``kind`` on ``port`` (queued events for it stay queued)."""
        self._bound.discard((kind, port))

    def _local_port(self, kind: DatagramKind, port: int) -> int | None:
        if (kind, port) in self._bound:
            return port
        if (kind, 0) in self._bound:
            return 0
        return None

    # ------------------------------------------------------------------ receive
    def receive_payload(
        self, protocol: int, data: bytes, src_port: int, dst_port: int, now: float
    ) -> None:
        """Check one payload of a datagram protocol; queue a :class:`DatagramReceived` or
        count the drop. Never raises for peer input."""
        kind = DatagramKind.from_protocol(protocol)
        if kind is None:
            self._drop("no_endpoint")
            return
        local = self._local_port(kind, dst_port)
        if local is None:
            self._drop("no_endpoint")
            return
        try:
            event = self._check(kind, data, src_port, dst_port, local, now)
        except DataFormatError as exc:
            log.debug("dropped a malformed %s datagram: %s", kind, exc)
            self._drop("malformed")
            return
        except Exception:
            log.exception("internal error checking a %s datagram", kind)
            self._drop("internal_error")
            return
        if event is None:
            return
        if len(self._events) >= self._max_events:
            self._drop("queue_full")
            return
        self.counters["received"] += 1
        self._events.append(event)

    def _check(
        self, kind: DatagramKind, data: bytes, src_port: int, dst_port: int, local: int, now: float
    ) -> DatagramReceived | None:
        if kind is DatagramKind.RAW:
            return DatagramReceived(kind, bytes(data), None, None, src_port, dst_port, local)
        if kind is DatagramKind.DATAGRAM3:
            sender_hash, options, payload = parse_datagram3(data)
            sender = b32_address(sender_hash)
            return DatagramReceived(kind, payload, sender, None, src_port, dst_port, local, options)
        if kind is DatagramKind.REPLIABLE:
            dest, signature, payload = parse_repliable(data)
            if not verify_repliable(dest, signature, payload):
                self._drop("bad_signature")
                return None
            return DatagramReceived(kind, payload, dest.b32, dest, src_port, dst_port, local)
        parts = parse_datagram2(data)
        epoch = now + self.epoch_offset
        prelude = False
        if not verify_datagram2(parts, self._hash, epoch):
            prelude = self.accept_sender_prelude and verify_datagram2(
                parts, parts.sender.hash, epoch
            )
            if not prelude:
                self._drop("bad_signature")
                return None
        if not self._replay.check_and_add(parts.signature, now):
            self._drop("replayed")
            return None
        if prelude:
            self.counters["sender_prelude"] += 1
        return DatagramReceived(
            kind,
            parts.payload,
            parts.sender.b32,
            parts.sender,
            src_port,
            dst_port,
            local,
            parts.options,
            prelude,
        )

    def _drop(self, reason: str) -> None:
        self.counters[reason] += 1

    def next_event(self) -> DatagramReceived | None:
        """The oldest queued datagram, or None."""
        return self._events.popleft() if self._events else None

    # ------------------------------------------------------------------ send
    def send(
        self,
        kind: DatagramKind,
        data: bytes | bytearray | memoryview,
        destination: Destination,
        port: int = 0,
        *,
        src_port: int = 0,
        options: Mapping[str, str] | None = None,
    ) -> None:
        """Encode ``data`` as ``kind`` to ``destination``:``port`` and queue it for
        :meth:`datagrams_to_send` (when the queue is full the oldest queued datagram is
        dropped and counted as ``send_queue_full``).

        Raises :class:`DatagramTooLarge` for a datagram over
        :data:`~i2p_streaming.datagrams.codec.MAX_DATAGRAM_SIZE`, ValueError for bad ports,
        options on a kind without them, or repliable datagrams from offline keys."""
        for name, value in (("port", port), ("source port", src_port)):
            if not 0 <= value <= 0xFFFF:
                raise ValueError(f"{name} {value} is not in 0..65535")
        if options and kind not in (DatagramKind.DATAGRAM2, DatagramKind.DATAGRAM3):
            raise ValueError(f"{kind} datagrams have no options (datagram2 and datagram3 do)")
        payload = bytes(data)
        if kind is DatagramKind.RAW:
            wire = payload
        elif kind is DatagramKind.REPLIABLE:
            wire = encode_repliable(self.keys, payload)
        elif kind is DatagramKind.DATAGRAM2:
            wire = encode_datagram2(self.keys, payload, destination.hash, options)
        else:
            wire = encode_datagram3(self._hash, payload, options)
        if len(wire) > MAX_DATAGRAM_SIZE:
            limit = MAX_DATAGRAM_SIZE - (len(wire) - len(payload))
            raise DatagramTooLarge(
                f"a {len(payload)}-byte {kind} payload is over the {limit}-byte limit from "
                f"{self.keys.destination.b32} (I2CP carries at most {MAX_DATAGRAM_SIZE} bytes "
                f"per datagram; keep payloads under 11 KB for reliable delivery)"
            )
        if len(self._outgoing) >= self._max_outgoing:
            self._outgoing.popleft()
            self._drop("send_queue_full")
        compress = kind in (DatagramKind.REPLIABLE, DatagramKind.DATAGRAM2)
        self._outgoing.append(
            OutgoingDatagram(destination, wire, kind.protocol, src_port, port, compress)
        )
        self.counters["sent"] += 1

    def datagrams_to_send(self) -> list[OutgoingDatagram]:
        """Every queued outgoing datagram, oldest first (the queue is emptied)."""
        out = list(self._outgoing)
        self._outgoing.clear()
        return out

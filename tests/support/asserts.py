"""Assertions on what a manager sent and which events it queued.

``assert_sent(link.sent, Flags.SYNCHRONIZE, Flags.RESET)`` checks the packets recorded by a
:class:`~tests.support.link.FakeLink` (with ``record=True``) kind by kind: each expected entry
is the combination of SYNCHRONIZE / CLOSE / RESET / ECHO the packet carries (``0``: a plain
data packet or ACK). ``assert_events(events, IncomingConnection, DataReceived(sid, b"x"))``
checks events in order: a class matches any event of that class, an instance must be equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from i2p_streaming.streaming import Event, Flags, OutgoingPacket, Packet
from tests.support.link import Delivery

__all__ = ["KIND_FLAGS", "assert_events", "assert_sent", "decode_sent"]

#: The flags that tell what kind of packet it is.
KIND_FLAGS = Flags.SYNCHRONIZE | Flags.CLOSE | Flags.RESET | Flags.ECHO


def decode_sent(sent: Iterable[Delivery | OutgoingPacket]) -> list[Packet]:
    """Decode recorded deliveries (or outgoing packets) into packets."""
    packets: list[Packet] = []
    for item in sent:
        packet = item.packet if isinstance(item, Delivery) else item
        packets.append(Packet.decode(packet.data))
    return packets


def _kind(flags: int) -> Flags:
    return Flags(flags & KIND_FLAGS)


def assert_sent(sent: Iterable[Delivery | OutgoingPacket], *kinds: Flags | int) -> list[Packet]:
    """Assert that exactly ``len(kinds)`` packets were sent, of these kinds in this order;
    return them decoded."""
    packets = decode_sent(sent)
    got = [_kind(p.flags) for p in packets]
    want = [_kind(k) for k in kinds]
    assert got == want, f"sent {got}, expected {want}"
    return packets


def assert_events(events: Sequence[Event], *expected: type[Event] | Event) -> None:
    """Assert that ``events`` are exactly ``expected``, in order (a class matches any event of
    that class, an instance must compare equal)."""
    assert len(events) == len(expected), f"events {list(events)}, expected {list(expected)}"
    for i, (event, want) in enumerate(zip(events, expected, strict=True)):
        if isinstance(want, type):
            assert isinstance(event, want), f"event {i}: {event!r} is not a {want.__name__}"
        else:
            assert event == want, f"event {i}: {event!r} != {want!r}"

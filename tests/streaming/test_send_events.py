"""The core tells the shell when it may write again and when it has finished sending, so no
shell polls the core after each flush (issue 11): :meth:`StreamManager.notify_send_buffer`
and :class:`SendComplete`."""

from __future__ import annotations

import pytest

from i2p_streaming.data import PrivateKeys
from i2p_streaming.errors import InvalidStateError
from i2p_streaming.streaming import Event, SendBufferAvailable, SendComplete
from tests.support.link import Impairment
from tests.support.pair import make_pair


@pytest.fixture(scope="module")
def keys() -> tuple[PrivateKeys, PrivateKeys]:
    return PrivateKeys.generate(), PrivateKeys.generate()


def _count(events: list[Event], kind: type[Event], sid: int) -> int:
    return sum(1 for e in events if isinstance(e, kind) and getattr(e, "stream_id", None) == sid)


def test_notify_send_buffer_reports_once_at_the_asked_level(
    keys: tuple[PrivateKeys, PrivateKeys],
) -> None:
    pair = make_pair(*keys, impairment=Impairment(delay=0.05))
    a, link = pair.a.manager, pair.link
    sid = a.connect(pair.b.manager.destination, now=0.0)
    link.run(lambda: sid in pair.a.established, max_time=10)
    # the core takes all of it (no refusal), so only the watch can bring the event
    taken = a.send(sid, b"x" * 40_000, link.now)
    assert taken == 40_000
    assert a.stats(sid).send_buffered > 8_000
    a.notify_send_buffer(sid, 8_000)
    events = link.events_of(a)
    before = _count(events, SendBufferAvailable, sid)
    link.run(lambda: _count(events, SendBufferAvailable, sid) > before, max_time=30)
    assert _count(events, SendBufferAvailable, sid) == before + 1
    assert a.stats(sid).send_buffered <= 8_000
    link.run_for(5.0)  # once only: nothing more was asked for
    assert _count(events, SendBufferAvailable, sid) == before + 1


def test_notify_send_buffer_at_once_when_already_low(
    keys: tuple[PrivateKeys, PrivateKeys],
) -> None:
    pair = make_pair(*keys, impairment=Impairment(delay=0.05))
    a, link = pair.a.manager, pair.link
    sid = a.connect(pair.b.manager.destination, now=0.0)
    link.run(lambda: sid in pair.a.established, max_time=10)
    a.notify_send_buffer(sid, 0)
    a.payloads_to_send(link.now)
    events: list[Event] = []
    while (ev := a.next_event()) is not None:
        events.append(ev)
    assert SendBufferAvailable(sid) in events
    with pytest.raises(InvalidStateError):
        a.notify_send_buffer(12345, 0)


def test_send_complete_once_our_close_is_acked_while_the_peer_still_sends(
    keys: tuple[PrivateKeys, PrivateKeys],
) -> None:
    pair = make_pair(*keys, impairment=Impairment(delay=0.05))
    a, b, link = pair.a.manager, pair.b.manager, pair.link
    sid = a.connect(b.destination, now=0.0)
    link.run(lambda: sid in pair.a.established and bool(pair.b.incoming), max_time=10)
    pair.a.write(sid, b"y" * 100_000, link.now, close=True)
    events = link.events_of(a)
    link.run(lambda: _count(events, SendComplete, sid) == 1, max_time=60)
    assert bytes(pair.b.received[pair.b.incoming[0].stream_id]) == b"y" * 100_000
    assert a.stats(sid).unacked == 0 and a.stats(sid).send_buffered == 0
    assert sid not in pair.a.closed  # the peer has not closed: the stream is still open
    link.run_for(5.0)
    assert _count(events, SendComplete, sid) == 1

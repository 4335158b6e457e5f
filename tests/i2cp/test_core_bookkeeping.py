"""The sans-I/O I2CP core's bookkeeping: router versions, stale timers, id wrap-around."""

from __future__ import annotations

import pytest

from i2p_streaming.data import PrivateKeys
from i2p_streaming.i2cp import (
    PROTO_RAW,
)
from i2p_streaming.i2cp import events as ev
from i2p_streaming.i2cp import messages as m
from i2p_streaming.i2cp.pending import Pending
from i2p_streaming.i2cp.session import I2CPSession
from tests.support.fakerouter import ROUTER_TIME_MS

LOGGER = "i2p_streaming.i2cp"


KEYS = PrivateKeys.generate()


PEER = PrivateKeys.generate().destination


SID = 7


def _established(version: str | None) -> I2CPSession:
    core = I2CPSession(KEYS, None)
    core.start()
    core.data_to_send()
    for msg in (
        m.SetDate(ROUTER_TIME_MS, version),
        m.SessionStatus(SID, 1),
        m.RequestVariableLeaseSet(SID, ()),
    ):
        core.receive_data(m.encode_message(msg), 0.0)
    core.data_to_send()
    while core.next_event() is not None:
        pass
    return core


def _sent(core: I2CPSession) -> list[m.Message]:
    assert core.pending_output > 0
    data = core.data_to_send()
    assert core.pending_output == 0
    out = []
    while data:
        size = int.from_bytes(data[:4], "big")
        out.append(m.decode_message(data[4], data[5 : 5 + size]))
        data = data[5 + size :]
    return out


@pytest.mark.parametrize("version", [None, "", "0.9.x-rc1"])
def test_unknown_router_version_is_treated_as_modern(version: str | None) -> None:
    """No or unparsable version in SetDate: HostLookup is used, also for host names."""
    core = _established(version)
    assert core.destination == KEYS.destination
    rid = core.lookup("name.i2p", now=0.0)
    [msg] = _sent(core)
    assert isinstance(msg, m.HostLookup)
    assert (msg.request_id, msg.lookup_type, msg.key) == (rid, m.HostLookup.BY_NAME, "name.i2p")
    assert core.next_event() is None


def test_timer_after_answers_expires_nothing() -> None:
    core = _established("0.9.66")
    nonce = core.send_message(PEER, b"x", protocol=PROTO_RAW, want_status=True, now=0, timeout=5)
    rid = core.lookup(PEER.b32, now=0.0, timeout=5)
    core.data_to_send()
    core.receive_data(m.encode_message(m.MessageStatus(SID, 1, 4, 0, nonce)), 1.0)
    core.receive_data(m.encode_message(m.HostReply(SID, rid, 0, PEER)), 1.0)
    assert [type(e) for e in iter(core.next_event, None)] == [ev.SendStatus, ev.LookupResult]
    core.handle_timer(10.0)  # both deadlines passed, but nothing is pending any more
    assert core.next_event() is None
    assert core.get_timer() is None


def test_ids_wrap_around_skipping_zero_and_ids_in_use() -> None:
    pending = Pending(first_id=0xFFFFFFFF)  # next ids: 0xFFFFFFFF, 0 (skipped), 1, ...
    first = pending.new_nonce()
    pending.add_send(first, 1.0)
    second = pending.new_nonce()
    pending.add_send(second, 1.0)
    assert (first, second) == (0xFFFFFFFF, 1)
    pending = Pending(first_id=0x1_0000_0001)  # wraps to 1, still awaiting its status
    pending.add_send(1, 1.0)
    assert pending.new_nonce() == 2
    pending = Pending(first_id=0x1_0000_0000)  # wraps to 0 (skipped), then 1
    assert pending.add_lookup("a.i2p", None, 1.0) == 1
    pending = Pending(first_id=0x1_0000_0001)
    pending.add_lookup("x.i2p", None, 1.0)  # takes id 1
    assert pending.add_lookup("b.i2p", None, 1.0) == 2


def test_lookup_messages_carry_the_returned_request_ids() -> None:
    core = _established("0.9.66")
    ids = [core.lookup("a.i2p", now=0.0), core.lookup("b.i2p", now=0.0)]
    lookups = [x for x in _sent(core) if isinstance(x, m.HostLookup)]
    assert [x.request_id for x in lookups] == ids == [1, 2]

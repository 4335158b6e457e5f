"""Lease-set encryption types: ``i2cp.leaseSetEncType`` (Java's syntax), the automatic choice
from the router's API version, and the ML-KEM hybrid keys in CreateLeaseSet2."""

from __future__ import annotations

import pytest

from i2p_streaming.data import Lease, LeaseSet2, x25519_public_from_private
from i2p_streaming.i2cp import events as ev
from i2p_streaming.i2cp import messages as m
from i2p_streaming.i2cp.options import parse_enc_types, router_options
from i2p_streaming.i2cp.payload import wrap
from i2p_streaming.i2cp.session import I2CPSession
from tests.i2cp.test_session import KEYS, RT, SID, Driver


@pytest.mark.parametrize(
    ("value", "types"),
    [("4", (4,)), ("6,4", (6, 4)), ("4,6", (6, 4)), (" 5 , 4 ", (5, 4)), ("7,4,4", (7, 4))],
)
def test_parse_enc_types_orders_like_java(value: str, types: tuple[int, ...]) -> None:
    assert parse_enc_types(value) == types
    assert router_options({"i2cp.leaseSetEncType": value})["i2cp.leaseSetEncType"] == ",".join(
        map(str, types)
    )


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("0", "not supported"),
        ("6", "must include 4"),
        ("6,5,4", "at most one ML-KEM"),
        ("MLKEM768_X25519,4", "not supported"),
        ("8,4", "not supported"),
        ("", "not supported"),
    ],
)
def test_unsupported_enc_types_name_the_option(value: str, why: str) -> None:
    with pytest.raises(ValueError, match=rf"i2cp\.leaseSetEncType.*{why}"):
        I2CPSession(KEYS, {"i2cp.leaseSetEncType": value})


def establish(
    router_version: str | None, options: dict[str, str] | None = None
) -> tuple[Driver, dict[str, str]]:
    """A session through CreateSession and its first RequestVariableLeaseSet; the options
    it sent in the SessionConfig."""
    d = Driver(options=options)
    d.s.start()
    d.s.data_to_send()
    d.feed(m.SetDate(RT, router_version), m.SessionStatus(SID, 1))
    [create] = d.out()
    assert isinstance(create, m.CreateSession)
    d.feed(m.RequestVariableLeaseSet(SID, (Lease(b"\x01" * 32, 5, RT + 600_000),)))
    return d, dict(create.config.options)


def lease_set_keys(d: Driver) -> tuple[LeaseSet2, list[tuple[int, bytes]]]:
    [cls2] = d.out()
    assert isinstance(cls2, m.CreateLeaseSet2)
    return cls2.lease_set, list(cls2.private_keys)


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.9.66", (4,)), ("0.9.64", (4,)), ("0.9.67", (6, 4)), ("0.9.68", (6, 4)), (None, (4,))],
)
def test_unset_option_follows_the_router_api(
    version: str | None, expected: tuple[int, ...]
) -> None:
    """i2pd <= 2.57 echoes our 0.9.66 (and mis-loads type 6 keys): it gets 4; i2pd 2.58+ and
    Java 2.10+ report 0.9.67+ and get the newest routers' own choice, 6,4."""
    d, sent = establish(version)
    assert d.s.enc_types == expected
    assert sent["i2cp.leaseSetEncType"] == ",".join(map(str, expected))
    ls, _ = lease_set_keys(d)
    assert [k.enc_type for k in ls.keys] == list(expected)


def test_hybrid_lease_set_carries_one_x25519_pair_per_type() -> None:
    d, sent = establish("0.9.66", {"i2cp.leaseSetEncType": "4,6"})  # explicit: no auto choice
    assert sent["i2cp.leaseSetEncType"] == "6,4"
    ls, privates = lease_set_keys(d)
    assert LeaseSet2.from_bytes(ls.to_bytes())[0].verify()
    assert [(k.enc_type, len(k.public_key)) for k in ls.keys] == [(6, 32), (4, 32)]
    assert [(t, len(p)) for t, p in privates] == [(6, 32), (4, 32)]
    for (_, private), key in zip(privates, ls.keys, strict=True):
        assert x25519_public_from_private(private) == key.public_key
    assert ls.keys[0].public_key != ls.keys[1].public_key  # separate pairs, as Java
    # the next lease set reuses the same keys
    d.feed(m.RequestVariableLeaseSet(SID, (Lease(b"\x02" * 32, 6, RT + 600_000),)), now=60.0)
    again, privates_again = lease_set_keys(d)
    assert again.keys == ls.keys and privates_again == privates


def test_refusal_of_a_hybrid_session_names_the_option() -> None:
    d = Driver(options={"i2cp.leaseSetEncType": "6,4"})
    d.s.start()
    d.s.data_to_send()
    d.feed(m.SetDate(RT, "0.9.64"), m.Disconnect("Unsupported crypto type: 6"))
    [end] = [e for e in d.events() if isinstance(e, ev.SessionEnded)]
    assert "Unsupported crypto type: 6" in end.message
    assert "i2cp.leaseSetEncType=6,4" in end.message and "=4)" in end.message
    plain = Driver()
    plain.s.start()
    plain.feed(m.SetDate(RT, "0.9.64"), m.Disconnect("bye"))
    [end] = [e for e in plain.events() if isinstance(e, ev.SessionEnded)]
    assert "leaseSetEncType" not in end.message


def opened(router_version: str, options: dict[str, str] | None = None) -> Driver:
    """A session whose CreateSession was sent (the router's answer not fed yet)."""
    d = Driver(options=options)
    d.s.start()
    d.s.data_to_send()
    d.feed(m.SetDate(RT, router_version))
    [create] = d.out()
    assert isinstance(create, m.CreateSession)
    return d


JAVA_UNAVAILABLE = "Unsupported crypto type: MLKEM768_X25519"  # Java, ML-KEM unavailable


@pytest.mark.parametrize(
    "answer",
    [
        m.Disconnect(JAVA_UNAVAILABLE),
        m.Disconnect("Unsupported crypto type: 6"),  # Java before the ML-KEM types
        m.SessionStatus(m.NO_SESSION, m.SessionStatus.INVALID),  # i2pd's way: no reason
    ],
)
def test_refused_automatic_types_fall_back_to_x25519(answer: m.Message) -> None:
    d = opened("0.9.67")
    assert d.s.enc_types == (6, 4) and d.s.enc_fallback is None
    d.feed(answer)
    [end] = [e for e in d.events() if isinstance(e, ev.SessionEnded)]
    assert d.s.enc_fallback == "4"
    assert "i2cp.leaseSetEncType=6,4" in end.message  # the log line names the option


def test_a_user_set_option_never_falls_back() -> None:
    d = opened("0.9.67", {"i2cp.leaseSetEncType": "6,4"})
    d.feed(m.Disconnect(JAVA_UNAVAILABLE))
    [end] = [e for e in d.events() if isinstance(e, ev.SessionEnded)]
    assert d.s.enc_fallback is None
    assert "i2cp.leaseSetEncType=6,4" in end.message  # the error still names it


@pytest.mark.parametrize(
    "answer",
    [
        m.Disconnect("Authorization failed"),
        m.Disconnect("Non-ElGamal encryption type in key certificate unsupported"),
        m.Disconnect("Already have session 3"),
        m.SessionStatus(m.NO_SESSION, m.SessionStatus.REFUSED),  # i2pd: destination in use
    ],
)
def test_refusals_not_about_the_lease_set_do_not_fall_back(answer: m.Message) -> None:
    d = opened("0.9.67")
    d.feed(answer)
    assert any(isinstance(e, ev.SessionEnded) for e in d.events())
    assert d.s.enc_fallback is None


def test_an_x25519_session_has_nothing_to_fall_back_to() -> None:
    d = opened("0.9.66")  # the automatic choice is 4 already
    d.feed(m.Disconnect(JAVA_UNAVAILABLE))
    assert d.s.enc_fallback is None


def test_a_rejected_first_lease_set_falls_back_a_proven_one_does_not() -> None:
    d, _ = establish("0.9.67")
    d.out()
    d.feed(m.Disconnect("Invalid leaseset: java.lang.IllegalArgumentException"))
    assert d.s.enc_fallback == "4"
    proven, _ = establish("0.9.67")
    proven.feed(m.MessagePayload(SID, 1, wrap(b"x", protocol=18)))
    proven.feed(m.Disconnect("Invalid leaseset: expired"))
    assert proven.s.enc_fallback is None  # a payload reached us: the router took our LeaseSet
    later, _ = establish("0.9.67")
    later.feed(m.RequestVariableLeaseSet(SID, (Lease(b"\x02" * 32, 6, RT + 600_000),)), now=60.0)
    later.feed(m.Disconnect("Invalid leaseset: expired"), now=61.0)
    assert later.s.enc_fallback is None  # the second lease set: the first one was taken

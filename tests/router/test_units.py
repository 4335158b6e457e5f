"""Parsing of durations, sizes, rates and probabilities."""

from __future__ import annotations

import pytest

from i2p_streaming.router import parse_duration, parse_probability, parse_rate, parse_size


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("300ms", 0.3),
        ("1.5s", 1.5),
        ("2", 2.0),
        (" 250us ", 0.00025),
        ("2min", 120.0),
        ("1m", 60.0),
        (".5S", 0.5),
        ("0", 0.0),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "ms", "-1s", "3x", "1.2.3s", "abc"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("256KiB/s", 262144.0),
        ("1MB/s", 1e6),
        ("1500B/s", 1500.0),
        ("2000", 2000.0),
        ("1.5MiB/s", 1.5 * 1024 * 1024),
        ("10kb/s", 10_000.0),
        ("1G", 1e9),
    ],
)
def test_rates(text: str, rate: float) -> None:
    assert parse_rate(text) == pytest.approx(rate)


@pytest.mark.parametrize("text", ["0", "0KiB/s", "/s", "fast", "1Tb/s", "-5KB/s", "10kbps"])
def test_bad_rates(text: str) -> None:
    with pytest.raises(ValueError, match="invalid rate"):
        parse_rate(text)


def test_sizes() -> None:
    assert parse_size("64KiB") == 65536
    assert parse_size("1 MB") == 1_000_000
    assert parse_size("100 bytes") == 100
    with pytest.raises(ValueError, match="invalid size"):
        parse_size("lots")


def test_probabilities() -> None:
    assert parse_probability("0.25") == 0.25
    assert parse_probability("1%") == pytest.approx(0.01)
    assert parse_probability("1") == 1.0
    for bad in ("1.5", "-0.1", "x", "200%", "nan"):
        with pytest.raises(ValueError, match="invalid probability"):
            parse_probability(bad)

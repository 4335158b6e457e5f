"""Parsing of human-written durations (``300ms``, ``1.5s``) and rates (``256KiB/s``, ``1MB/s``)."""

from __future__ import annotations

import math
import re

__all__ = ["parse_duration", "parse_probability", "parse_rate", "parse_size"]

_NUMBER = r"(?P<num>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_DURATION = re.compile(_NUMBER + r"\s*(?P<unit>us|µs|ms|s|sec|m|min)?", re.IGNORECASE)
_SIZE = re.compile(_NUMBER + r"\s*(?P<unit>[kmg]i?)?(?P<b>b|bytes?)?", re.IGNORECASE)

_DURATION_UNITS = {
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "sec": 1.0,
    "m": 60.0,
    "min": 60.0,
}
_SIZE_UNITS = {
    "": 1,
    "k": 1000,
    "m": 1000**2,
    "g": 1000**3,
    "ki": 1024,
    "mi": 1024**2,
    "gi": 1024**3,
}


def parse_duration(text: str) -> float:
    """Parse ``"300ms"``, ``"1.5s"``, ``"2min"``, ``"250us"`` or a bare number of seconds.

    Returns seconds (float >= 0). Raises ``ValueError`` naming the text and the accepted forms.
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"invalid duration {text!r}: use a number with an optional unit us, ms, s or min "
            "(e.g. 300ms, 1.5s)"
        )
    unit = (match["unit"] or "s").lower()
    return float(match["num"]) * _DURATION_UNITS[unit]


def parse_size(text: str) -> int:
    """Parse a byte count: ``"64KiB"``, ``"1MB"``, ``"1500"`` (k/M/G = 1000^n, Ki/Mi/Gi = 1024^n).

    Raises ``ValueError`` for anything else.
    """
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"invalid size {text!r}: use a number with an optional unit B, KB, KiB, MB, MiB, GB, "
            "GiB (e.g. 64KiB)"
        )
    return int(float(match["num"]) * _SIZE_UNITS[(match["unit"] or "").lower()])


def parse_rate(text: str) -> float:
    """Parse a rate in bytes per second: ``"256KiB/s"``, ``"1MB/s"``, ``"1500B/s"``, ``"2000"``.

    Returns bytes/s (> 0). Raises ``ValueError`` for zero, a bad number or an unknown unit.
    """
    body = text.strip()
    for suffix in ("/s",):
        if body.lower().endswith(suffix):
            body = body[: -len(suffix)]
            break
    try:
        rate = float(parse_size(body)) if body else math.nan
    except ValueError:
        rate = math.nan
    if not rate > 0:
        raise ValueError(
            f"invalid rate {text!r}: use a positive number of bytes per second with an optional "
            "unit, e.g. 256KiB/s or 1MB/s"
        )
    return rate


def parse_probability(text: str) -> float:
    """Parse ``"0.01"`` or ``"1%"`` into a probability in [0, 1]; ``ValueError`` otherwise."""
    body = text.strip()
    scale = 1.0
    if body.endswith("%"):
        body, scale = body[:-1], 0.01
    try:
        value = float(body) * scale
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"invalid probability {text!r}: use a number in [0, 1] or a percentage")
    return value

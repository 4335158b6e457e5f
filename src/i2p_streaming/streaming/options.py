"""Per-manager (and per-connection) streaming settings, named after Java's ``i2p.streaming.*``.

Times are stored in seconds; the property strings use Java's units (milliseconds).

=============================  ====================================  =========  ==============
field                          property                              default    range
=============================  ====================================  =========  ==============
initial_window_size            i2p.streaming.initialWindowSize       3          1..128
max_window_size                i2p.streaming.maxWindowSize           128        1..128
initial_rto                    i2p.streaming.initialRTO (ms)         9 s        0.1..45 s
initial_ack_delay              i2p.streaming.initialAckDelay (ms)    0.5 s      0..60 s
max_resends                    i2p.streaming.maxResends              8          1..50
connect_timeout                i2p.streaming.connectTimeout (ms)     60 s       >0 (<=0: 60 s)
max_message_size               i2p.streaming.maxMessageSize          1730       512..32768
max_concurrent_streams         i2p.streaming.maxConcurrentStreams    -1         -1/0 = no limit
answer_pings                   i2p.streaming.answerPings             true       bool
inactivity_timeout             i2p.streaming.inactivityTimeout (ms)  90 s       >=0
inactivity_action              i2p.streaming.inactivityAction        2          0 none, 1 reset,
                                                                                2 keep-alive
buffer_size                    i2p.streaming.bufferSize              262144     >=1 (send buffer)
=============================  ====================================  =========  ==============

Fields without a Java property: ``receive_window`` (out-of-order packets kept, 128..255),
``time_wait`` (seconds a cleanly closed stream keeps acking retransmissions, 300 like Java's
TIME-WAIT; its id stays reserved at least as long, and never less than 2 minutes).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = ["StreamOptions"]

_PREFIX = "i2p.streaming."

# Java/i2pd keys that are valid but have no effect in this core (accepted, ignored).
_IGNORED_KEYS = frozenset(
    {
        "accessList",
        "alwaysUseTagsPerPacket",
        "blacklist",
        "congestionAvoidanceGrowthRateFactor",
        "connectDelay",
        "disableRejectLogging",
        "dontSign",
        "dsalist",
        "enforceProtocol",
        "limitAction",
        "maxConnsPerDay",
        "maxConnsPerHour",
        "maxConnsPerMinute",
        "maxInboundSpeed",
        "maxOutboundSpeed",
        "maxTotalConnsPerDay",
        "maxTotalConnsPerHour",
        "maxTotalConnsPerMinute",
        "profile",
        "readTimeout",
        "slowStartGrowthRateFactor",
        "tagThreshold",
        "tagsToSend",
        "writeTimeout",
    }
)


def _int(lo: int, hi: int) -> Callable[[str, str], int]:
    def parse(key: str, text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError(f"{key}={text!r}: expected an integer") from None
        if not lo <= value <= hi:
            raise ValueError(f"{key}={value}: must be between {lo} and {hi}")
        return value

    return parse


def _ms(lo: float, hi: float) -> Callable[[str, str], float]:
    parse_int = _int(-(2**31), 2**31)

    def parse(key: str, text: str) -> float:
        seconds = parse_int(key, text) / 1000.0
        if not lo <= seconds <= hi:
            raise ValueError(f"{key}={text}: must be between {lo * 1000:g} and {hi * 1000:g} ms")
        return seconds

    return parse


def _bool(key: str, text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise ValueError(f"{key}={text!r}: expected true or false")


def _connect_timeout(key: str, text: str) -> float:
    seconds = _ms(-1e9, 86400.0)(key, text)
    return seconds if seconds > 0 else 60.0


_PROPERTIES: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "initialWindowSize": ("initial_window_size", _int(1, 128)),
    "maxWindowSize": ("max_window_size", _int(1, 128)),
    "initialRTO": ("initial_rto", _ms(0.1, 45.0)),
    "initialAckDelay": ("initial_ack_delay", _ms(0.0, 60.0)),
    "maxResends": ("max_resends", _int(1, 50)),
    "connectTimeout": ("connect_timeout", _connect_timeout),
    "maxMessageSize": ("max_message_size", _int(512, 32768)),
    "maxConcurrentStreams": ("max_concurrent_streams", _int(-1, 2**31 - 1)),
    "answerPings": ("answer_pings", _bool),
    "inactivityTimeout": ("inactivity_timeout", _ms(0.0, 86400.0)),
    "inactivityAction": ("inactivity_action", _int(0, 2)),
    "bufferSize": ("buffer_size", _int(1, 2**30)),
}


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """Streaming settings (see the module table). Construct directly or with
    :meth:`from_properties`; values are validated in both cases (``ValueError``)."""

    initial_window_size: int = 3
    max_window_size: int = 128
    initial_rto: float = 9.0
    initial_ack_delay: float = 0.5
    max_resends: int = 8
    connect_timeout: float = 60.0
    max_message_size: int = 1730
    max_concurrent_streams: int = -1
    answer_pings: bool = True
    inactivity_timeout: float = 90.0
    inactivity_action: int = 2
    buffer_size: int = 262144
    receive_window: int = 255
    time_wait: float = 300.0

    def __post_init__(self) -> None:
        checks = (
            (1 <= self.initial_window_size <= 128, "initial_window_size must be 1..128"),
            (1 <= self.max_window_size <= 128, "max_window_size must be 1..128"),
            (0.1 <= self.initial_rto <= 45.0, "initial_rto must be 0.1..45 s"),
            (0.0 <= self.initial_ack_delay <= 60.0, "initial_ack_delay must be 0..60 s"),
            (1 <= self.max_resends <= 50, "max_resends must be 1..50"),
            (self.connect_timeout > 0, "connect_timeout must be > 0"),
            (512 <= self.max_message_size <= 32768, "max_message_size must be 512..32768"),
            (self.max_concurrent_streams >= -1, "max_concurrent_streams must be >= -1"),
            (self.inactivity_timeout >= 0, "inactivity_timeout must be >= 0"),
            (self.inactivity_action in (0, 1, 2), "inactivity_action must be 0, 1 or 2"),
            (self.buffer_size >= 1, "buffer_size must be >= 1"),
            (128 <= self.receive_window <= 255, "receive_window must be 128..255"),
            (self.time_wait >= 0, "time_wait must be >= 0"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(f"StreamOptions: {message}")

    @classmethod
    def from_properties(
        cls, properties: Mapping[str, str], base: StreamOptions | None = None
    ) -> StreamOptions:
        """Build options from Java-style properties (values are strings).

        Keys outside ``i2p.streaming.*`` are ignored (they belong to other layers); known Java
        keys this core does not implement are accepted and ignored; unknown
        ``i2p.streaming.*`` keys and bad values raise ``ValueError`` (with a suggestion).
        """
        changes: dict[str, Any] = {}
        for key, value in properties.items():
            if not key.startswith(_PREFIX):
                continue
            name = key[len(_PREFIX) :]
            if name in _IGNORED_KEYS:
                continue
            entry = _PROPERTIES.get(name)
            if entry is None:
                known = [_PREFIX + k for k in (*_PROPERTIES, *_IGNORED_KEYS)]
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"unknown streaming option {key!r}{hint}")
            field_name, parse = entry
            changes[field_name] = parse(key, str(value))
        return replace(base or cls(), **changes)

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain dict (field name -> value)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

"""Per-manager (and per-connection) streaming settings, named after Java's ``i2p.streaming.*``.

Times are stored in seconds; the property strings use Java's units (milliseconds). The full
table (key, default, unit, meaning) is ``docs/options.md``; keep the two in step.

Besides ``i2p.streaming.*``, :meth:`StreamOptions.from_properties` reads the three access-list
keys Java's streaming reads from the I2CP options: ``i2cp.accessList`` (comma/space separated
destination hashes, 44-character I2P base64 or ``.b32.i2p``), ``i2cp.enableAccessList``
(allow-list) and ``i2cp.enableBlackList`` (deny-list).

Fields without a Java property: ``receive_window`` (how far ahead of the in-order point a
packet may be, 128..1024), ``receive_buffer_packets`` / ``receive_buffer_size`` (the receive
buffer bound, see :mod:`~i2p_streaming.streaming.flow`), ``passive_flush_delay`` (bulk
profile), ``tcb_share`` (:mod:`~i2p_streaming.streaming.tcb`), ``span_past_resends``
(:mod:`~i2p_streaming.streaming.span`) and ``time_wait``.
``i2p.streaming.congestionControl`` (``congestion_control``: ``i2p``, the default, ``westwood`` or
``reno``) is ours too: Java has no such key.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from i2p_streaming.data import b32_address_to_hash, b64decode
from i2p_streaming.errors import DataFormatError
from i2p_streaming.streaming.congestion import CONTROLLERS, DEFAULT_CONTROLLER

__all__ = [
    "PROFILE_BULK",
    "PROFILE_INTERACTIVE",
    "STREAMING_I2CP_KEYS",
    "STREAMING_OPTION_KEYS",
    "StreamOptions",
    "parse_access_list",
]

_PREFIX = "i2p.streaming."
PROFILE_BULK = 1
PROFILE_INTERACTIVE = 2
_LIMIT_ACTIONS_BUILTIN = ("reset", "drop", "http")

# Java/i2pd keys that are valid but have no effect in this core (accepted, ignored).
_IGNORED_KEYS = frozenset(
    {
        "alwaysUseTagsPerPacket",
        "blacklist",
        "congestionAvoidanceGrowthRateFactor",
        "connectDelay",
        "disableRejectLogging",
        "dontSign",
        "dsalist",
        "enforceProtocol",
        "maxInboundSpeed",
        "maxOutboundSpeed",
        "readTimeout",
        "slowStartGrowthRateFactor",
        "tagThreshold",
        "tagsToSend",
        "tcbcache.rttDampening",
        "tcbcache.rttdevDampening",
        "tcbcache.wdwDampening",
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


def _profile(key: str, text: str) -> int:
    value = text.strip().lower()
    named = {"bulk": PROFILE_BULK, "interactive": PROFILE_INTERACTIVE}
    if value in named:
        return named[value]
    return _int(PROFILE_BULK, PROFILE_INTERACTIVE)(key, text)


def _limit(key: str, text: str) -> int:
    value = _int(-1, 2**31 - 1)(key, text)
    return max(value, 0)


def _action(key: str, text: str) -> str:
    value = text.strip()
    return value or "reset"


def _known_controllers() -> str:
    return ", ".join(sorted(CONTROLLERS))


def _congestion(key: str, text: str) -> str:
    value = text.strip().lower()
    if value not in CONTROLLERS:
        raise ValueError(
            f"{key}={text!r}: unknown congestion control; known: {_known_controllers()}"
        )
    return value


def parse_access_list(text: str) -> frozenset[bytes]:
    """Parse ``i2cp.accessList``: destination hashes separated by commas, semicolons or
    spaces, each 44-character I2P base64 or a ``.b32.i2p`` address. Returns the 32-byte hashes;
    raises ``ValueError`` naming the first bad entry."""
    hashes: set[bytes] = set()
    for token in text.replace(",", " ").replace(";", " ").split():
        try:
            if token.lower().endswith(".b32.i2p"):
                h = b32_address_to_hash(token)
            else:
                h = b64decode(token)
                if len(h) != 32:
                    raise DataFormatError(f"{len(h)} bytes, not 32")
        except DataFormatError as exc:
            raise ValueError(
                f"i2cp.accessList: {token!r} is not a destination hash (44 base64 characters "
                f"or a .b32.i2p address): {exc}"
            ) from None
        hashes.add(h)
    return frozenset(hashes)


def _access_list(key: str, text: str) -> frozenset[bytes]:
    return parse_access_list(text)


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
    "profile": ("profile", _profile),
    "maxConnsPerMinute": ("max_conns_per_minute", _limit),
    "maxConnsPerHour": ("max_conns_per_hour", _limit),
    "maxConnsPerDay": ("max_conns_per_day", _limit),
    "maxTotalConnsPerMinute": ("max_total_conns_per_minute", _limit),
    "maxTotalConnsPerHour": ("max_total_conns_per_hour", _limit),
    "maxTotalConnsPerDay": ("max_total_conns_per_day", _limit),
    "limitAction": ("limit_action", _action),
    "congestionControl": ("congestion_control", _congestion),
    "maxSessionBuffer": ("max_session_buffer", _int(0, 2**40)),
    "maxHalfOpen": ("max_half_open", _int(1, 2**20)),
    "halfOpenTimeout": ("half_open_timeout", _ms(1.0, 86400.0)),
    "maxHalfOpenPerPeer": ("max_half_open_per_peer", _int(1, 2**20)),
}

#: The I2CP-named keys Java's streaming reads (``ConnectionOptions``), with their fields.
_I2CP_PROPERTIES: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "i2cp.accessList": ("access_list", _access_list),
    "i2cp.enableAccessList": ("enable_access_list", _bool),
    "i2cp.enableBlackList": ("enable_black_list", _bool),
}
#: Keys outside ``i2p.streaming.*`` that :meth:`StreamOptions.from_properties` reads.
STREAMING_I2CP_KEYS = frozenset(_I2CP_PROPERTIES)
#: Every ``i2p.streaming.*`` key :meth:`StreamOptions.from_properties` accepts.
STREAMING_OPTION_KEYS = frozenset(_PREFIX + k for k in (*_PROPERTIES, *_IGNORED_KEYS))


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """Streaming settings (see ``docs/options.md``). Construct directly or with
    :meth:`from_properties`; values are validated in both cases (``ValueError``)."""

    initial_window_size: int = 3
    max_window_size: int = 128
    initial_rto: float = 2.0
    initial_ack_delay: float = 0.5
    max_resends: int = 8
    connect_timeout: float = 60.0
    max_message_size: int = 1812
    max_concurrent_streams: int = -1
    answer_pings: bool = True
    inactivity_timeout: float = 90.0
    inactivity_action: int = 2
    buffer_size: int = 65536
    profile: int = PROFILE_BULK
    passive_flush_delay: float = 0.175
    receive_buffer_packets: int = 512
    receive_buffer_size: int = 0
    max_conns_per_minute: int = 0
    max_conns_per_hour: int = 0
    max_conns_per_day: int = 0
    max_total_conns_per_minute: int = 0
    max_total_conns_per_hour: int = 0
    max_total_conns_per_day: int = 0
    limit_action: str = "reset"
    access_list: frozenset[bytes] = frozenset()
    enable_access_list: bool = False
    enable_black_list: bool = False
    tcb_share: bool = True
    #: into a peer that choked us (Java), run past a hole whose resend is on its way and send
    #: such resends twice (span.py); off: wait for the hole's ack
    span_past_resends: bool = False
    receive_window: int = 512
    time_wait: float = 300.0
    #: the congestion controller's name in :data:`~i2p_streaming.streaming.congestion.CONTROLLERS`
    congestion_control: str = DEFAULT_CONTROLLER
    #: session-wide bound of buffered inbound bytes, all streams together (0 = none)
    max_session_buffer: int = 32 * 1024 * 1024
    #: inbound streams whose SYN reply is not acked yet, in total and per peer
    max_half_open: int = 2048
    max_half_open_per_peer: int = 1024
    #: seconds a half-open inbound stream lives after the peer's latest packet
    half_open_timeout: float = 30.0

    def __post_init__(self) -> None:
        limits = (
            self.max_conns_per_minute,
            self.max_conns_per_hour,
            self.max_conns_per_day,
            self.max_total_conns_per_minute,
            self.max_total_conns_per_hour,
            self.max_total_conns_per_day,
        )
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
            (self.profile in (1, 2), "profile must be 1 (bulk) or 2 (interactive)"),
            (0.0 <= self.passive_flush_delay <= 10.0, "passive_flush_delay must be 0..10 s"),
            (8 <= self.receive_buffer_packets <= 1024, "receive_buffer_packets must be 8..1024"),
            (
                self.receive_buffer_size == 0 or self.receive_buffer_size >= 2 * 32768,
                "receive_buffer_size must be 0 (auto) or >= 65536",
            ),
            (all(n >= 0 for n in limits), "connection limits must be >= 0 (0 = no limit)"),
            (bool(self.limit_action.strip()), "limit_action must not be empty"),
            (all(len(h) == 32 for h in self.access_list), "access_list holds 32-byte hashes"),
            (128 <= self.receive_window <= 1024, "receive_window must be 128..1024"),
            (self.time_wait >= 0, "time_wait must be >= 0"),
            (self.max_session_buffer >= 0, "max_session_buffer must be >= 0"),
            (self.max_half_open >= 1, "max_half_open must be >= 1"),
            (self.half_open_timeout > 0, "half_open_timeout must be > 0"),
            (self.max_half_open_per_peer >= 1, "max_half_open_per_peer must be >= 1"),
            (
                self.congestion_control in CONTROLLERS,
                f"congestion_control {self.congestion_control!r} is not one of "
                f"{_known_controllers()}",
            ),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(f"StreamOptions: {message}")

    @property
    def interactive(self) -> bool:
        """True for the interactive profile (``i2p.streaming.profile=2``)."""
        return self.profile == PROFILE_INTERACTIVE

    @property
    def receive_buffer_bytes(self) -> int:
        """The receive buffer bound in bytes: ``receive_buffer_size``, or when 0
        ``maxMessageSize * (receive_buffer_packets + 4)`` (Java: ``maxMessageSize * 130``)."""
        return self.receive_buffer_size or self.max_message_size * (self.receive_buffer_packets + 4)

    @classmethod
    def from_properties(
        cls, properties: Mapping[str, str], base: StreamOptions | None = None
    ) -> StreamOptions:
        """Build options from Java-style properties (values are strings).

        ``i2p.streaming.*`` keys and the access-list keys (``i2cp.accessList``,
        ``i2cp.enableAccessList``, ``i2cp.enableBlackList``) are read; other keys are ignored
        (they belong to other layers); known Java keys this core does not implement are
        accepted and ignored; unknown ``i2p.streaming.*`` keys and bad values raise
        ``ValueError`` (with a suggestion).
        """
        changes: dict[str, Any] = {}
        for key, value in properties.items():
            entry = _I2CP_PROPERTIES.get(key)
            if entry is None:
                if not key.startswith(_PREFIX):
                    continue
                name = key[len(_PREFIX) :]
                if name in _IGNORED_KEYS:
                    continue
                entry = _PROPERTIES.get(name)
                if entry is None:
                    close = difflib.get_close_matches(key, sorted(STREAMING_OPTION_KEYS), n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    raise ValueError(f"unknown streaming option {key!r}{hint}")
            field_name, parse = entry
            changes[field_name] = parse(key, str(value))
        return replace(base or cls(), **changes)

    def as_dict(self) -> dict[str, Any]:
        """The settings as a plain dict (field name -> value)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

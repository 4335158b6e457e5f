"""Events produced by the sans-I/O :class:`~i2p_streaming.i2cp.session.I2CPSession`.

All are frozen, slotted dataclasses; the session hands them out through ``next_event()``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from i2p_streaming.data import Destination

__all__ = [
    "STATUS_TEXT",
    "BandwidthLimitsReceived",
    "EndReason",
    "Event",
    "LeaseSetCreated",
    "LookupResult",
    "PayloadDropped",
    "PayloadReceived",
    "ProtocolViolation",
    "Reconfigured",
    "RouterDate",
    "SendOutcome",
    "SendStatus",
    "SessionCreated",
    "SessionEnded",
    "UnknownMessageReceived",
    "classify_status",
]


class SendOutcome(enum.Enum):
    """How a MessageStatus classifies a send."""

    ACCEPTED = "accepted"  # intermediate (status 1): the router took it; a final status follows
    DELIVERED = "delivered"  # final success (2, 4, 6)
    FAILED = "failed"  # final failure (anything else, or no status before the timeout)


#: MessageStatus code -> text (I2CP spec table).
STATUS_TEXT: dict[int, str] = {
    0: "available (legacy receive)",
    1: "accepted",
    2: "best-effort success",
    3: "best-effort failure",
    4: "guaranteed success",
    5: "guaranteed failure",
    6: "local success",
    7: "local failure",
    8: "router failure",
    9: "network failure",
    10: "bad session",
    11: "bad message",
    12: "bad options or expiry",
    13: "overflow (router queue full)",
    14: "expired",
    15: "bad local lease set",
    16: "no local tunnels (session not ready)",
    17: "unsupported encryption",
    18: "bad destination",
    19: "bad lease set",
    20: "expired lease set",
    21: "no lease set for the destination",
    22: "meta lease set",
    23: "loopback denied",
}


def classify_status(code: int) -> SendOutcome:
    """Map a MessageStatus code to accepted (1), delivered (2, 4, 6) or failed (the rest)."""
    if code == 1:
        return SendOutcome.ACCEPTED
    if code in (2, 4, 6):
        return SendOutcome.DELIVERED
    return SendOutcome.FAILED


class EndReason(enum.Enum):
    """Why a session ended."""

    DESTROYED = "destroyed"  # SessionStatus 0 (router, or the answer to our DestroySession)
    INVALID = "invalid"  # SessionStatus 3
    REFUSED = "refused"  # SessionStatus 4
    DISCONNECT = "disconnect"  # Disconnect message
    EOF = "eof"  # the router closed the connection
    PROTOCOL_ERROR = "protocol-error"  # the byte stream broke framing
    CLOSED = "closed"  # we closed it (destroy() then EOF, or close without a session)


@dataclass(frozen=True, slots=True)
class RouterDate:
    """SetDate received: router time, its API version (or None), and router - local ms."""

    router_ms: int
    version: str | None
    offset_ms: float


@dataclass(frozen=True, slots=True)
class SessionCreated:
    """SessionStatus Created: the router's id for our session."""

    session_id: int


@dataclass(frozen=True, slots=True)
class LeaseSetCreated:
    """We answered a RequestVariableLeaseSet with a CreateLeaseSet2 (queued for sending)."""

    published: int
    lease_count: int
    first: bool


@dataclass(frozen=True, slots=True)
class PayloadReceived:
    """A MessagePayload, unwrapped: protocol byte, ports, and the original data."""

    protocol: int
    src_port: int
    dst_port: int
    data: bytes
    message_id: int


@dataclass(frozen=True, slots=True)
class PayloadDropped:
    """A MessagePayload we could not unwrap (bad gzip, CRC, size cap)."""

    message_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class SendStatus:
    """The router's MessageStatus for a send with nonce ``nonce`` (or a local timeout/teardown,
    then ``status`` is None)."""

    nonce: int
    outcome: SendOutcome
    status: int | None
    reason: str
    message_id: int = 0

    @property
    def final(self) -> bool:
        """True unless this is the intermediate "accepted" status."""
        return self.outcome is not SendOutcome.ACCEPTED


@dataclass(frozen=True, slots=True)
class LookupResult:
    """Answer to ``lookup()``: ``destination`` on success, else ``reason`` says why."""

    request_id: int
    name: str
    destination: Destination | None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Reconfigured:
    """Answer to ``reconfigure()``: SessionStatus Updated (ok) or Invalid."""

    ok: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BandwidthLimitsReceived:
    """BandwidthLimits: the 16 integers as sent (client in/out first)."""

    limits: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class UnknownMessageReceived:
    """A frame of a type we do not know was skipped."""

    msg_type: int
    length: int


@dataclass(frozen=True, slots=True)
class ProtocolViolation:
    """The router sent a malformed or unexpected message; it was skipped."""

    reason: str


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """The session is over (always the last event, emitted once)."""

    reason: EndReason
    message: str


Event = (
    RouterDate
    | SessionCreated
    | LeaseSetCreated
    | PayloadReceived
    | PayloadDropped
    | SendStatus
    | LookupResult
    | Reconfigured
    | BandwidthLimitsReceived
    | UnknownMessageReceived
    | ProtocolViolation
    | SessionEnded
)

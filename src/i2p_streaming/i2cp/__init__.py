"""I2CP: the client protocol between an application and an I2P router.

- :mod:`~i2p_streaming.i2cp.payload`: the gzip wrapper carrying ports and protocol.
- :mod:`~i2p_streaming.i2cp.frames` / :mod:`~i2p_streaming.i2cp.messages`: framing and codec.
- :mod:`~i2p_streaming.i2cp.session`: the sans-I/O client session (:class:`I2CPSession`).
- :mod:`~i2p_streaming.i2cp.client`: the asyncio shell (:class:`I2CPClient`).
"""

from i2p_streaming.i2cp.client import (
    I2CPClient,
    ReconnectPolicy,
    SendResult,
    SessionLost,
    SessionRestored,
)
from i2p_streaming.i2cp.events import EndReason, SendOutcome
from i2p_streaming.i2cp.payload import PROTO_RAW, PROTO_STREAMING, Unwrapped, unwrap, wrap
from i2p_streaming.i2cp.session import I2CPSession, SessionState

__all__ = [
    "PROTO_RAW",
    "PROTO_STREAMING",
    "EndReason",
    "I2CPClient",
    "I2CPSession",
    "ReconnectPolicy",
    "SendOutcome",
    "SendResult",
    "SessionLost",
    "SessionRestored",
    "SessionState",
    "Unwrapped",
    "unwrap",
    "wrap",
]

"""I2CP: the client protocol between an application and an I2P router (sans-I/O).

- :mod:`~i2p_streaming.i2cp.payload`: the gzip wrapper carrying ports and protocol.
- :mod:`~i2p_streaming.i2cp.frames` / :mod:`~i2p_streaming.i2cp.messages`: framing and codec.
- :mod:`~i2p_streaming.i2cp.session`: the sans-I/O client session (:class:`I2CPSession`).

Importing this package loads no asyncio code, and nothing here imports a shell: the asyncio
client, ``I2CPClient``, lives in :mod:`i2p_streaming.aio.i2cp_client` (exported as
``i2p_streaming.I2CPClient`` and ``i2p_streaming.aio.I2CPClient``).
"""

from __future__ import annotations

from i2p_streaming.i2cp.events import EndReason, SendOutcome
from i2p_streaming.i2cp.payload import PROTO_RAW, PROTO_STREAMING, Unwrapped, unwrap, wrap
from i2p_streaming.i2cp.session import I2CPSession, SessionState

__all__ = [
    "PROTO_RAW",
    "PROTO_STREAMING",
    "EndReason",
    "I2CPSession",
    "SendOutcome",
    "SessionState",
    "Unwrapped",
    "unwrap",
    "wrap",
]

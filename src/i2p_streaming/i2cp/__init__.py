"""I2CP: the client protocol between an application and an I2P router (sans-I/O).

- :mod:`~i2p_streaming.i2cp.payload`: the gzip wrapper carrying ports and protocol.
- :mod:`~i2p_streaming.i2cp.frames` / :mod:`~i2p_streaming.i2cp.messages`: framing and codec.
- :mod:`~i2p_streaming.i2cp.session`: the sans-I/O client session (:class:`I2CPSession`).

Importing this package loads no asyncio code. The asyncio shell, :class:`I2CPClient`, lives in
:mod:`i2p_streaming.aio.i2cp_client`; ``from i2p_streaming.i2cp import I2CPClient`` (and the
client's result types) still works and loads it on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from i2p_streaming.i2cp.events import EndReason, SendOutcome
from i2p_streaming.i2cp.payload import PROTO_RAW, PROTO_STREAMING, Unwrapped, unwrap, wrap
from i2p_streaming.i2cp.session import I2CPSession, SessionState

if TYPE_CHECKING:
    from i2p_streaming.aio.i2cp_client import I2CPClient
    from i2p_streaming.aio.i2cp_types import (
        ReconnectPolicy,
        SendResult,
        SessionLost,
        SessionRestored,
    )

#: Names of the asyncio shell, loaded on first access (PEP 562) from ``i2p_streaming.aio``.
_SHELL = {
    "I2CPClient": "i2p_streaming.aio.i2cp_client",
    "ReconnectPolicy": "i2p_streaming.aio.i2cp_types",
    "SendResult": "i2p_streaming.aio.i2cp_types",
    "SessionLost": "i2p_streaming.aio.i2cp_types",
    "SessionRestored": "i2p_streaming.aio.i2cp_types",
}


def __getattr__(name: str) -> Any:
    module = _SHELL.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


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

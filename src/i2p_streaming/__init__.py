"""i2p-streaming: the I2P streaming protocol and an I2CP client in Python.

The asyncio API is the primary one::

    async with await i2p_streaming.create_session("127.0.0.1:7654") as session:
        reader, writer = await session.open_connection("example.b32.i2p", 80)

``i2p_streaming.sync`` offers the same as blocking, socket-like calls. Every error a user can
meet is exported here. The asyncio names (and ``sync``) load on first use, so importing a
sans-I/O part (``i2p_streaming.data``, ``.i2cp``, ``.streaming``) loads no asyncio shell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from i2p_streaming.data import Destination, EncType, PrivateKeys, SigType
from i2p_streaming.errors import (
    DataFormatError,
    DatagramTooLarge,
    DestinationLookupError,
    I2CPConnectionError,
    I2CPError,
    I2CPProtocolError,
    InvalidStateError,
    NonI2PHostError,
    SessionRefusedError,
    UnknownOptionWarning,
)
from i2p_streaming.streaming import StreamOptions

if TYPE_CHECKING:
    from i2p_streaming import sync
    from i2p_streaming.aio import (
        ZERO_HOP,
        I2CPClient,
        Session,
        StreamServer,
        StreamTransport,
        create_session,
    )

__version__ = "0.1.0"

#: Names loaded on first access (PEP 562): attribute -> module.
_LAZY = {
    "ZERO_HOP": "i2p_streaming.aio",
    "I2CPClient": "i2p_streaming.aio",
    "Session": "i2p_streaming.aio",
    "StreamServer": "i2p_streaming.aio",
    "StreamTransport": "i2p_streaming.aio",
    "create_session": "i2p_streaming.aio",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name == "sync":
        return importlib.import_module("i2p_streaming.sync")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ZERO_HOP",
    "DataFormatError",
    "DatagramTooLarge",
    "Destination",
    "DestinationLookupError",
    "EncType",
    "I2CPClient",
    "I2CPConnectionError",
    "I2CPError",
    "I2CPProtocolError",
    "InvalidStateError",
    "NonI2PHostError",
    "PrivateKeys",
    "Session",
    "SessionRefusedError",
    "SigType",
    "StreamOptions",
    "StreamServer",
    "StreamTransport",
    "UnknownOptionWarning",
    "__version__",
    "create_session",
    "sync",
]

"""i2p-streaming: the I2P streaming protocol and an I2CP client in Python.

The asyncio API is the primary one::

    async with await i2p_streaming.create_session("127.0.0.1:7654") as session:
        reader, writer = await session.open_connection("example.b32.i2p", 80)

``i2p_streaming.sync`` offers the same as blocking, socket-like calls.
"""

from i2p_streaming import sync
from i2p_streaming.aio import ZERO_HOP, Session, StreamServer, StreamTransport, create_session
from i2p_streaming.data import Destination, EncType, PrivateKeys, SigType
from i2p_streaming.errors import DataFormatError, DestinationLookupError, I2CPError

__version__ = "0.1.0"

__all__ = [
    "ZERO_HOP",
    "DataFormatError",
    "Destination",
    "DestinationLookupError",
    "EncType",
    "I2CPError",
    "PrivateKeys",
    "Session",
    "SigType",
    "StreamServer",
    "StreamTransport",
    "__version__",
    "create_session",
    "sync",
]

"""asyncio front end: sessions, streams as asyncio transports, servers, the I2CP client.

``session = await create_session("127.0.0.1:7654")`` then ``open_connection`` /
``start_server`` (streams API) or ``create_connection`` / ``create_server`` (protocols);
datagrams with ``create_datagram_endpoint`` / ``open_datagram_endpoint``.
:class:`I2CPClient` is the asyncio I2CP shell under it (usable on its own for raw payloads).
"""

from i2p_streaming.aio.config import ZERO_HOP
from i2p_streaming.aio.datagrams import DatagramEndpoint, DatagramQueue, DatagramTransport
from i2p_streaming.aio.i2cp_client import I2CPClient
from i2p_streaming.aio.i2cp_types import ReconnectPolicy, SendResult, SessionLost, SessionRestored
from i2p_streaming.aio.opener import SessionOpener, create_session
from i2p_streaming.aio.server import StreamServer
from i2p_streaming.aio.session import Session
from i2p_streaming.aio.transport import StreamTransport

__all__ = [
    "ZERO_HOP",
    "DatagramEndpoint",
    "DatagramQueue",
    "DatagramTransport",
    "I2CPClient",
    "ReconnectPolicy",
    "SendResult",
    "Session",
    "SessionOpener",
    "SessionLost",
    "SessionRestored",
    "StreamServer",
    "StreamTransport",
    "create_session",
]

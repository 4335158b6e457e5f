"""asyncio front end: sessions, streams as asyncio transports, servers.

``session = await create_session("127.0.0.1:7654")`` then ``open_connection`` /
``start_server`` (streams API) or ``create_connection`` / ``create_server`` (protocols).
"""

from i2p_streaming.aio.config import ZERO_HOP
from i2p_streaming.aio.server import StreamServer
from i2p_streaming.aio.session import Session, create_session
from i2p_streaming.aio.transport import StreamTransport

__all__ = ["ZERO_HOP", "Session", "StreamServer", "StreamTransport", "create_session"]

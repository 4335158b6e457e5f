"""The sans-I/O I2P streaming protocol: packet codec, per-stream state machine, manager.

See :class:`StreamManager` for the inputs/outputs contract.
"""

from i2p_streaming.streaming.events import (
    ConnectionClosed,
    ConnectionEstablished,
    ConnectionFailed,
    ConnectionReset,
    DataReceived,
    Event,
    IncomingConnection,
    PeerClosed,
    PingAnswered,
    PingTimeout,
    SendBufferAvailable,
    SendComplete,
)
from i2p_streaming.streaming.manager import StreamManager
from i2p_streaming.streaming.options import StreamOptions
from i2p_streaming.streaming.packet import Flags, Packet
from i2p_streaming.streaming.records import OutgoingPacket, State, StreamStats

__all__ = [
    "ConnectionClosed",
    "ConnectionEstablished",
    "ConnectionFailed",
    "ConnectionReset",
    "DataReceived",
    "Event",
    "Flags",
    "IncomingConnection",
    "OutgoingPacket",
    "Packet",
    "PeerClosed",
    "PingAnswered",
    "PingTimeout",
    "SendBufferAvailable",
    "SendComplete",
    "State",
    "StreamManager",
    "StreamOptions",
    "StreamStats",
]

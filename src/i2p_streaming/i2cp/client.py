"""Compatibility path: the asyncio I2CP client lives in :mod:`i2p_streaming.aio.i2cp_client`.

``i2p_streaming.i2cp`` itself never imports this module (the package stays sans-I/O); it is
kept so that ``from i2p_streaming.i2cp.client import I2CPClient`` goes on working.
"""

from i2p_streaming.aio.i2cp_client import I2CPClient
from i2p_streaming.aio.i2cp_types import (
    ReconnectPolicy,
    SendResult,
    SessionEvent,
    SessionLost,
    SessionRestored,
)

__all__ = [
    "I2CPClient",
    "ReconnectPolicy",
    "SendResult",
    "SessionEvent",
    "SessionLost",
    "SessionRestored",
]

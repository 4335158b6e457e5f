"""i2p-streaming: the I2P streaming protocol and an I2CP client in Python."""

from i2p_streaming.data import Destination, EncType, PrivateKeys, SigType
from i2p_streaming.errors import DataFormatError

__version__ = "0.1.0"

__all__ = [
    "DataFormatError",
    "Destination",
    "EncType",
    "PrivateKeys",
    "SigType",
    "__version__",
]

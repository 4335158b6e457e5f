"""i2p-streaming: the I2P streaming protocol and an I2CP client in Python."""

__version__ = "0.1.0"

"""Moved to :mod:`tests.support.i2pd`; kept so older imports (tests/streaming, tests/data) work."""

from tests.support.i2pd import (
    I2pdBinary,
    I2pdInstance,
    I2pdManager,
    I2pdStartError,
    find_i2pd,
    require_i2pd,
    start_i2pd,
    stop_i2pd,
)

__all__ = [
    "I2pdBinary",
    "I2pdInstance",
    "I2pdManager",
    "I2pdStartError",
    "find_i2pd",
    "require_i2pd",
    "start_i2pd",
    "stop_i2pd",
]

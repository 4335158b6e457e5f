"""Which hosts the web clients send over I2P: ``NAME.i2p`` and ``….b32.i2p`` only."""

from __future__ import annotations

from i2p_streaming.errors import NonI2PHostError

__all__ = ["NonI2PHostError", "check_i2p_host", "is_i2p_host", "missing_extra"]


def is_i2p_host(host: str) -> bool:
    """True for ``NAME.i2p`` and ``….b32.i2p`` host names (any case, a trailing dot allowed)."""
    low = host.strip().rstrip(".").lower()
    return low.endswith(".i2p") and len(low) > len(".i2p")


def check_i2p_host(host: str) -> str:
    """``host`` lower-cased without a trailing dot if it is an I2P host, else
    :class:`NonI2PHostError`."""
    if not is_i2p_host(host):
        raise NonI2PHostError(host)
    return host.strip().rstrip(".").lower()


def missing_extra(what: str, package: str, extra: str) -> str:
    """The ImportError text for an optional library that is not installed."""
    return (
        f"{what} needs {package}, which is not installed: "
        f"pip install 'i2p-streaming[{extra}]' (or 'i2p-streaming[web]' for every framework)"
    )

"""Checks of what a user passes in: router addresses, ports, destinations, host names.

Pure functions shared by the library (``create_session``, ``open_connection``, ...) and the
command line, so that a mistake gets the same clear message at the call, before any network
I/O. Each raises ``ValueError`` (``TypeError`` for a wrong type) naming the argument and, where
there is a fixed set, the accepted forms.
"""

from __future__ import annotations

import ipaddress
import re

from i2p_streaming.data import Destination, is_b32_address
from i2p_streaming.errors import DataFormatError

__all__ = [
    "DEFAULT_I2CP_PORT",
    "DESTINATION_FORMS",
    "ROUTER_FORMS",
    "check_destination",
    "check_host_name",
    "check_port",
    "looks_like_base64_destination",
    "parse_router",
]

#: The I2CP port of i2pd and Java I2P (and of the embedded router by default).
DEFAULT_I2CP_PORT = 7654
#: How a router address may be written (for error messages).
ROUTER_FORMS = "HOST:PORT, HOST (port 7654), [IPv6]:PORT or a (host, port) tuple"
#: What a destination looks like (for error messages).
DESTINATION_FORMS = (
    "NAME.b32.i2p (52 base32 characters), a host name NAME.i2p, or a base64 destination "
    "(516 or more characters)"
)

_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
#: Host names and IPv4 literals (IPv6 literals are checked by :mod:`ipaddress`).
_HOST = re.compile(r"^[A-Za-z0-9._-]+$")


def check_port(value: object, what: str = "port", *, allow_zero: bool = True) -> int:
    """``value`` if it is an ``int`` port (0-65535, or 1-65535 without ``allow_zero``).

    Raises ``TypeError`` for anything but an int (``80.0``, ``"80"``, True) and ``ValueError``
    for an int out of range; both name ``what``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__} ({value!r})")
    low = 0 if allow_zero else 1
    if not low <= value <= 65535:
        raise ValueError(f"{what} {value} is out of range ({low}-65535)")
    return value


def parse_router(router: str | tuple[str, int]) -> tuple[str, int]:
    """``"host:port"``, ``"host"`` (port 7654), ``"[v6]:port"`` or ``(host, port)``.

    Raises ``ValueError`` naming :data:`ROUTER_FORMS` for anything else (``i2cp://h:p``,
    ``h;7654``, a port out of range or not a number)."""
    if isinstance(router, tuple):
        if len(router) != 2:
            raise ValueError(f"router address {router!r}: expected {ROUTER_FORMS}")
        host, port_value = router
        try:
            port = int(port_value)
        except (TypeError, ValueError):
            raise ValueError(
                f"router address {router!r}: port {port_value!r} is not a number"
            ) from None
        return _checked(router, str(host), port)
    if not isinstance(router, str):
        raise TypeError(f"router must be a str or (host, port), not {type(router).__name__}")
    text = router.strip()
    if "://" in text:
        raise ValueError(f"router address {router!r}: no scheme (drop it); expected {ROUTER_FORMS}")
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else rest
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    try:
        port = int(port_text, 10) if port_text else DEFAULT_I2CP_PORT
    except ValueError:
        raise ValueError(
            f"router address {router!r}: port {port_text!r} is not a number; "
            f"expected {ROUTER_FORMS}"
        ) from None
    return _checked(router, host, port)


def _checked(router: object, host: str, port: int) -> tuple[str, int]:
    if not (_HOST.match(host) if ":" not in host else _is_ipv6(host)):
        raise ValueError(f"router address {router!r}: bad host {host!r}; expected {ROUTER_FORMS}")
    if not 0 < port < 65536:
        raise ValueError(
            f"router address {router!r}: port {port} must be 1-65535; expected {ROUTER_FORMS}"
        )
    return host, port


def _is_ipv6(host: str) -> bool:
    try:
        ipaddress.IPv6Address(host.partition("%")[0])
    except ValueError:
        return False
    return True


def check_host_name(name: str) -> str:
    """``name`` lower-cased if it is a valid ``.i2p`` host name (not a ``.b32.i2p`` address,
    at most 67 characters, labels of letters, digits and inner hyphens); else ValueError."""
    low = name.strip().lower()
    if not low.endswith(".i2p") or len(low) > 67 or low == ".i2p":
        raise ValueError(f"invalid host name {name!r}: expected NAME.i2p, at most 67 characters")
    if low.endswith(".b32.i2p") or is_b32_address(low):
        raise ValueError(f"invalid host name {name!r}: .b32.i2p addresses need no entry")
    if not all(_LABEL.match(label) for label in low[:-4].split(".")):
        raise ValueError(f"invalid host name {name!r}: use letters, digits, '-' and '.'")
    return low


def looks_like_base64_destination(text: str) -> Destination | None:
    """The Destination if ``text`` is a full base64 destination, else None."""
    if len(text) < 516 or "." in text or is_b32_address(text):
        return None
    try:
        return Destination.from_base64(text)
    except DataFormatError:
        return None


_BASE32 = frozenset("abcdefghijklmnopqrstuvwxyz234567")


def check_destination(text: str) -> str:
    """``text`` stripped if it looks like a destination: a ``.b32.i2p`` address, a ``.i2p``
    host name or a base64 destination. Else :class:`~i2p_streaming.errors.DataFormatError`
    (a ``ValueError``) saying what a destination looks like, before any lookup."""
    if not isinstance(text, str):
        raise TypeError(f"destination must be a str or Destination, not {type(text).__name__}")
    name = text.strip()
    shown = repr(text[:60])
    if is_b32_address(name) or looks_like_base64_destination(name) is not None:
        return name
    low = name.lower()
    if "://" in name or "/" in name:
        raise DataFormatError(
            f"invalid destination {shown}: a URL or path, not a destination; give only the "
            f"host (e.g. site.i2p), as {DESTINATION_FORMS}"
        )
    if low.endswith(".b32.i2p"):
        label = low[:-8]
        if len(label) >= 56 and set(label) <= _BASE32:
            return name  # a "b33" name of an encrypted LeaseSet: the router resolves it
        raise DataFormatError(
            f"invalid destination {shown}: not a valid .b32.i2p address (it needs 52 base32 "
            f"characters a-z, 2-7 before .b32.i2p, or 56 or more for an encrypted LeaseSet's "
            f"name; it has {len(name) - 8})"
        )
    if low.endswith(".i2p"):
        try:
            check_host_name(name)
        except ValueError as exc:
            raise DataFormatError(f"invalid destination: {exc}") from None
        return name
    raise DataFormatError(f"invalid destination {shown}: expected {DESTINATION_FORMS}")

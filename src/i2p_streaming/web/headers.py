"""The headers I2P's HTTP server tunnels add to each request: who the client is.

Java I2P's and i2pd's HTTP server tunnels put three headers on every request they pass to the
web server, after removing any copies the client sent (so a client cannot claim to be someone
else):

- ``X-I2P-DestHash``: the SHA-256 of the client's Destination, in I2P base64 (44 characters);
- ``X-I2P-DestB64``: the client's whole Destination, in I2P base64;
- ``X-I2P-DestB32``: the client's ``….b32.i2p`` address.

Names are compared without case, and with ``_`` read as ``-`` (WSGI servers and some
frameworks fold both to the same key, so an ``X_I2P_DestB32`` header must go too).
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping

from i2p_streaming.data import Destination
from i2p_streaming.data.base import b64encode

__all__ = [
    "DEST_B32",
    "DEST_B64",
    "DEST_HASH",
    "I2P_HEADERS",
    "asgi_headers",
    "header_values",
    "is_i2p_header",
    "set_wsgi_environ",
]

DEST_HASH = "X-I2P-DestHash"
DEST_B64 = "X-I2P-DestB64"
DEST_B32 = "X-I2P-DestB32"
#: The three header names, in the order they are added.
I2P_HEADERS = (DEST_HASH, DEST_B64, DEST_B32)

_FOLDED = frozenset(name.lower() for name in I2P_HEADERS)
_WSGI_KEYS = tuple("HTTP_" + name.upper().replace("-", "_") for name in I2P_HEADERS)


def is_i2p_header(name: str | bytes) -> bool:
    """True if ``name`` is one of :data:`I2P_HEADERS` (any case, ``_`` for ``-``)."""
    text = name.decode("latin-1") if isinstance(name, bytes) else name
    return text.strip().lower().replace("_", "-") in _FOLDED


def header_values(peer: Destination) -> list[tuple[str, str]]:
    """``[(X-I2P-DestHash, …), (X-I2P-DestB64, …), (X-I2P-DestB32, …)]`` for ``peer``."""
    return [
        (DEST_HASH, b64encode(peer.hash)),
        (DEST_B64, peer.to_base64()),
        (DEST_B32, peer.b32),
    ]


def asgi_headers(
    headers: Iterable[tuple[bytes, bytes]], peer: Destination | None
) -> list[tuple[bytes, bytes]]:
    """ASGI ``headers`` without any client-sent I2P headers, then the true ones for ``peer``
    (lower-case names, as ASGI wants; none added when ``peer`` is None)."""
    kept = [(name, value) for name, value in headers if not is_i2p_header(name)]
    if peer is not None:
        kept.extend(
            (name.lower().encode("ascii"), value.encode("ascii"))
            for name, value in header_values(peer)
        )
    return kept


def set_wsgi_environ(environ: MutableMapping[str, object], peer: Destination | None) -> None:
    """Replace the ``HTTP_X_I2P_DEST*`` keys of a WSGI ``environ`` with the true values for
    ``peer`` (removed, and none set, when ``peer`` is None)."""
    for key in _WSGI_KEYS:
        environ.pop(key, None)
    if peer is not None:
        for key, (_, value) in zip(_WSGI_KEYS, header_values(peer), strict=True):
            environ[key] = value

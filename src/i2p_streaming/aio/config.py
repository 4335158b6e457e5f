"""Arguments of ``create_session``: router address, keys, options split by layer, TLS."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from pathlib import Path

from i2p_streaming.data import Destination, PrivateKeys, is_b32_address
from i2p_streaming.errors import DataFormatError
from i2p_streaming.streaming import StreamOptions
from i2p_streaming.streaming.options import STREAMING_I2CP_KEYS

__all__ = [
    "ZERO_HOP",
    "load_keys",
    "parse_router",
    "looks_like_base64_destination",
    "split_options",
    "tls_context",
]

#: I2CP options for zero-hop tunnels (fast, not anonymous: tests, demos, local services).
ZERO_HOP: Mapping[str, str] = {
    "inbound.length": "0",
    "outbound.length": "0",
    "inbound.quantity": "1",
    "outbound.quantity": "1",
}

KeysArg = PrivateKeys | str | os.PathLike[str] | None
OptionsArg = Mapping[str, str] | StreamOptions | None


def parse_router(router: str | tuple[str, int]) -> tuple[str, int]:
    """``"host:port"``, ``"host"`` (port 7654), ``"[v6]:port"`` or ``(host, port)``."""
    if isinstance(router, tuple):
        host, port = router
        return str(host), int(port)
    text = router.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    else:
        host, port_text = text, ""
    try:
        port = int(port_text) if port_text else 7654
    except ValueError:
        raise ValueError(f"router address {router!r}: port {port_text!r} is not a number") from None
    if not host or not 0 < port < 65536:
        raise ValueError(f"router address {router!r} must look like host:port")
    return host, port


def load_keys(keys: KeysArg, *, create: bool = False) -> PrivateKeys:
    """``None`` -> fresh Ed25519 keys (a transient destination); a :class:`PrivateKeys` as is;
    a path -> the key file (I2P private-key format). A missing file is created with fresh keys
    only when ``create`` is true, else ``FileNotFoundError``."""
    if keys is None:
        return PrivateKeys.generate()
    if isinstance(keys, PrivateKeys):
        return keys
    path = Path(keys)
    if path.exists():
        return PrivateKeys.load(path)
    if not create:
        raise FileNotFoundError(
            f"key file {str(path)!r} does not exist (pass create_keys=True to create it)"
        )
    fresh = PrivateKeys.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh.save(path)
    return fresh


def split_options(options: OptionsArg) -> tuple[dict[str, str], StreamOptions]:
    """Split user options: ``i2p.streaming.*`` -> :class:`StreamOptions` (validated,
    unknown keys rejected), everything else (``i2cp.*``, ``inbound.*``, ``outbound.*``) -> the
    I2CP session options."""
    if options is None:
        return {}, StreamOptions()
    if isinstance(options, StreamOptions):
        return {}, options
    i2cp: dict[str, str] = {}
    streaming: dict[str, str] = {}
    for key, value in options.items():
        (streaming if key.startswith("i2p.streaming.") else i2cp)[key] = str(value)
        if key in STREAMING_I2CP_KEYS:  # i2cp.accessList & co. are read by streaming too
            streaming[key] = str(value)
    return i2cp, StreamOptions.from_properties(streaming)


def stream_options(base: StreamOptions, options: OptionsArg) -> StreamOptions:
    """Per-stream options: ``base`` updated by a mapping of ``i2p.streaming.*`` keys, or a
    whole :class:`StreamOptions`."""
    if options is None:
        return base
    if isinstance(options, StreamOptions):
        return options
    other = [k for k in options if not k.startswith("i2p.streaming.")]
    if other:
        raise ValueError(f"per-stream options must be i2p.streaming.* keys, not {other}")
    return StreamOptions.from_properties(options, base)


def tls_context(tls: bool | ssl.SSLContext) -> ssl.SSLContext | None:
    """``True`` -> TLS without certificate checks (routers use self-signed certificates);
    an :class:`ssl.SSLContext` as given (verify what you want); ``False`` -> None."""
    if isinstance(tls, ssl.SSLContext):
        return tls
    if not tls:
        return None
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def looks_like_base64_destination(text: str) -> Destination | None:
    """The Destination if ``text`` is a full base64 destination, else None."""
    if len(text) < 516 or "." in text or is_b32_address(text):
        return None
    try:
        return Destination.from_base64(text)
    except DataFormatError:
        return None

"""Arguments of ``create_session``: router address, keys, options split by layer, TLS."""

from __future__ import annotations

import hashlib
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


def tls_context(
    tls: bool | ssl.SSLContext,
    *,
    verify: bool = True,
    cafile: str | os.PathLike[str] | None = None,
    fingerprint: str | None = None,
) -> ssl.SSLContext | None:
    """The client TLS context for ``create_session(tls=..., tls_verify=..., tls_cafile=...,
    tls_fingerprint=...)``.

    ``tls=False`` -> None; an :class:`ssl.SSLContext` as given; ``True`` -> the router's
    certificate is verified: by default against the system's CAs and the router's host name;
    with ``cafile`` against exactly those certificates (a router's self-signed certificate,
    pinned; its name is not checked, as routers' certificates rarely name their address); with
    ``fingerprint`` (the SHA-256 of the certificate, hex, colons allowed) the certificate must
    be that one; ``verify=False`` skips every check (encryption without authentication).
    Raises ``ValueError`` for contradicting choices, ``OSError``/``ssl.SSLError`` for an
    unreadable ``cafile``."""
    pinned = cafile is not None or fingerprint is not None
    if not isinstance(tls, bool) or not tls:
        if pinned or not verify:
            raise ValueError("tls_verify, tls_cafile and tls_fingerprint need tls=True")
        return tls if isinstance(tls, ssl.SSLContext) else None
    if not verify:
        if pinned:
            raise ValueError("tls_verify=False contradicts tls_cafile/tls_fingerprint")
        return _unverified(ssl.create_default_context())
    if fingerprint is not None:
        if cafile is not None:
            raise ValueError("give tls_cafile or tls_fingerprint, not both")
        digest = _fingerprint(fingerprint)
        context = _unverified(ssl.create_default_context())
        context.sslobject_class = _pinned_object(digest)
        return context
    if cafile is not None:
        context = ssl.create_default_context(cafile=cafile)
        context.check_hostname = False  # the chain must end at the pinned certificate
        return context
    return ssl.create_default_context()


def _unverified(context: ssl.SSLContext) -> ssl.SSLContext:
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _fingerprint(text: str) -> bytes:
    hexdigits = text.replace(":", "").strip().lower()
    try:
        digest = bytes.fromhex(hexdigits)
    except ValueError:
        digest = b""
    if len(digest) != 32:
        raise ValueError(f"tls_fingerprint must be a SHA-256 in hex (64 digits), not {text!r}")
    return digest


def _pinned_object(digest: bytes) -> type[ssl.SSLObject]:
    class PinnedSSLObject(ssl.SSLObject):
        """Ends the handshake with a check that the peer's certificate has ``digest``."""

        def do_handshake(self) -> None:
            super().do_handshake()
            der = self.getpeercert(binary_form=True)
            if der is None or hashlib.sha256(der).digest() != digest:
                raise ssl.SSLCertVerificationError(
                    "the router's certificate does not match tls_fingerprint "
                    f"(it has SHA-256 {hashlib.sha256(der or b'').hexdigest()})"
                )

    return PinnedSSLObject


def looks_like_base64_destination(text: str) -> Destination | None:
    """The Destination if ``text`` is a full base64 destination, else None."""
    if len(text) < 516 or "." in text or is_b32_address(text):
        return None
    try:
        return Destination.from_base64(text)
    except DataFormatError:
        return None

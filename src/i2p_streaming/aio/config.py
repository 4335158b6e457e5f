"""Arguments of ``create_session``: router address, keys, options split by layer, TLS."""

from __future__ import annotations

import difflib
import hashlib
import os
import ssl
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

from i2p_streaming.data import PrivateKeys
from i2p_streaming.errors import UnknownOptionWarning
from i2p_streaming.i2cp.options import (
    CLIENT_SIDE_OPTIONS,
    KNOWN_OPTION_PREFIXES,
    KNOWN_ROUTER_OPTIONS,
)
from i2p_streaming.streaming import StreamOptions
from i2p_streaming.streaming.options import STREAMING_I2CP_KEYS, STREAMING_OPTION_KEYS

__all__ = [
    "ZERO_HOP",
    "check_option_names",
    "load_keys",
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


#: Every option key some layer reads (for the spelling check of user options).
_KNOWN_KEYS = frozenset(
    {*KNOWN_ROUTER_OPTIONS, *CLIENT_SIDE_OPTIONS, *STREAMING_OPTION_KEYS, *STREAMING_I2CP_KEYS}
)
_STREAMING_PREFIX = "i2p.streaming."


def check_option_names(keys: Iterable[str], *, strict: bool = False) -> list[str]:
    """Check option keys against every layer's known keys (``i2cp.*``, ``inbound.*``,
    ``outbound.*``, ``i2p.streaming.*`` and the bare names routers read).

    Returns the problems found (one message per unknown key, with the closest known key, e.g.
    ``inbound.lenght`` -> ``inbound.length``, ``maxWindowSize`` ->
    ``i2p.streaming.maxWindowSize``), each also issued as an :class:`UnknownOptionWarning`;
    with ``strict`` the first one raises ``ValueError`` instead. Unknown ``i2p.streaming.*``
    keys are left to :meth:`StreamOptions.from_properties`, which always rejects them."""
    problems = []
    for key in keys:
        if (
            not isinstance(key, str)  # router_options() rejects it with its own message
            or key in _KNOWN_KEYS
            or key.startswith(_STREAMING_PREFIX)
            or key.startswith(KNOWN_OPTION_PREFIXES)
        ):
            continue
        if _STREAMING_PREFIX + key in STREAMING_OPTION_KEYS:
            close = [_STREAMING_PREFIX + key]
        else:
            close = difflib.get_close_matches(key, sorted(_KNOWN_KEYS), n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]!r}?" if close else " (passed to the router as is)"
        message = f"unknown session option {key!r}{hint}"
        if strict:
            raise ValueError(f"{message} (strict=True)")
        warnings.warn(message, UnknownOptionWarning, stacklevel=2)
        problems.append(message)
    return problems


def split_options(
    options: OptionsArg, *, strict: bool = False, base: StreamOptions | None = None
) -> tuple[dict[str, str], StreamOptions]:
    """Split user options: ``i2p.streaming.*`` -> :class:`StreamOptions` (validated,
    unknown keys rejected; unset fields from ``base``, default the defaults), everything else
    (``i2cp.*``, ``inbound.*``, ``outbound.*``) -> the I2CP session options. Keys no layer
    knows are warned about (:func:`check_option_names`; ``strict``: ``ValueError``)."""
    if options is None:
        return {}, base or StreamOptions()
    if isinstance(options, StreamOptions):
        if base is not None:
            raise TypeError("options is a StreamOptions already: give no stream_options too")
        return {}, options
    check_option_names(options, strict=strict)
    i2cp: dict[str, str] = {}
    streaming: dict[str, str] = {}
    for key, value in options.items():
        (streaming if key.startswith(_STREAMING_PREFIX) else i2cp)[key] = str(value)
        if key in STREAMING_I2CP_KEYS:  # i2cp.accessList & co. are read by streaming too
            streaming[key] = str(value)
    return i2cp, StreamOptions.from_properties(streaming, base)


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

"""Opening an asyncio session: :func:`create_session` (await it or use ``async with``)."""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Coroutine, Generator, Mapping
from types import TracebackType
from typing import Any

from i2p_streaming.aio.config import KeysArg, load_keys, split_options, tls_context
from i2p_streaming.aio.i2cp_client import I2CPClient
from i2p_streaming.aio.i2cp_types import HANDSHAKE_TIMEOUT
from i2p_streaming.aio.pcap import PcapWriter, split_pcap_options
from i2p_streaming.aio.session import Session
from i2p_streaming.checks import parse_router
from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming import StreamOptions

__all__ = ["SessionOpener", "create_session"]


async def _open_session(
    router: tuple[str, int],
    keys: KeysArg,
    options: tuple[dict[str, str], StreamOptions],
    tls: ssl.SSLContext | None,
    username: str | None,
    password: str | None,
    create_keys: bool,
    timeouts: tuple[float, float],
    capture: tuple[str, int] | None,
) -> Session:
    host, port = router
    private = load_keys(keys, create=create_keys)
    i2cp_options, stream_opts = options
    pcap = (
        None
        if capture is None
        else PcapWriter.open(capture[0], private.destination.hash, capture[1])
    )
    session = Session(private, stream_opts, pcap=pcap)
    try:
        client = await I2CPClient.connect(
            host,
            port,
            keys=private,
            options=i2cp_options,
            ssl=tls,
            timeout=timeouts[0],
            handshake_timeout=timeouts[1],
            username=username,
            password=password,
            on_payload=session.on_payload,
            on_session_event=session.on_session_event,
        )
    except BaseException:
        if pcap is not None:
            pcap.close()
        raise
    session.attach(client)
    return session


class SessionOpener(Coroutine[Any, Any, Session]):
    """What :func:`create_session` returns: ``await`` it, use it with ``async with``, or give
    it to ``asyncio.run`` (it is a coroutine, whose result is the :class:`Session`).

    The coroutine that opens the session is made on first use, so an opener never awaited
    opens nothing and leaves no "never awaited" warning."""

    def __init__(self, factory: Callable[[], Coroutine[Any, Any, Session]]) -> None:
        self._factory = factory
        self._coro: Coroutine[Any, Any, Session] | None = None
        self._session: Session | None = None

    def _opening(self) -> Coroutine[Any, Any, Session]:
        if self._coro is None:
            self._coro = self._factory()
        return self._coro

    def send(self, value: Any) -> Any:
        """Coroutine protocol: step the opening coroutine."""
        return self._opening().send(value)

    def throw(self, typ: Any, val: Any = None, tb: TracebackType | None = None) -> Any:
        """Coroutine protocol: raise into the opening coroutine."""
        if val is None:
            return self._opening().throw(typ)
        return self._opening().throw(val)

    def close(self) -> None:
        """Coroutine protocol: close the opening coroutine (if it was made)."""
        if self._coro is not None:
            self._coro.close()

    def __await__(self) -> Generator[Any, None, Session]:
        return self._opening().__await__()

    async def __aenter__(self) -> Session:
        self._session = await self._opening()
        return self._session

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()


def create_session(
    router: str | tuple[str, int] = "127.0.0.1:7654",
    *,
    keys: PrivateKeys | str | os.PathLike[str] | None = None,
    options: Mapping[str, str] | StreamOptions | None = None,
    stream_options: StreamOptions | None = None,
    tls: bool | ssl.SSLContext = False,
    tls_verify: bool = True,
    tls_cafile: str | os.PathLike[str] | None = None,
    tls_fingerprint: str | None = None,
    username: str | None = None,
    password: str | None = None,
    create_keys: bool = False,
    timeout: float = 60.0,
    handshake_timeout: float = HANDSHAKE_TIMEOUT,
    strict: bool = False,
) -> SessionOpener:
    """Open an I2CP session on ``router`` and return a :class:`Session` ready for streams.

    Use ``session = await create_session(...)`` (then ``await session.close()``), or
    ``async with create_session(...) as session:``. ``keys``: None (fresh transient
    destination), :class:`PrivateKeys`, or a key-file path (created when missing only if
    ``create_keys``). ``options``: ``i2cp.*``/``inbound.*``/``outbound.*`` go to the router,
    ``i2p.streaming.*`` become the session's :class:`StreamOptions` (or pass one);
    ``stream_options``: the :class:`StreamOptions` those keys start from (default: the
    defaults; e.g. ``web_stream_options()`` with ``options`` for the router), a
    ``TypeError`` when ``options`` is a :class:`StreamOptions` itself;
    ``pcap=FILE`` (and ``pcap.maxSize=SIZE``, 100 MiB by default) writes every streaming
    packet sent and received to FILE as a pcap (:mod:`i2p_streaming.aio.pcap`). ``tls``:
    True (I2CP over TLS; the router's certificate is verified against the system's CAs and
    its host name, or pinned with ``tls_cafile`` (a PEM file, e.g. the router's self-signed
    certificate) or ``tls_fingerprint`` (its SHA-256 in hex); ``tls_verify=False`` skips
    the checks) or an ``ssl.SSLContext`` used as given. Raises :class:`I2CPError`
    subclasses (router unreachable, session refused), ``ValueError`` for bad options,
    ``FileNotFoundError`` for a missing key file.

    The router must answer our GetDate within ``handshake_timeout`` seconds (10: a port that
    accepts and stays silent is no I2P router; a port answering SAM or HTTP is named as
    such); the whole opening, tunnels and lease set included, takes at most ``timeout``.
    Without ``i2cp.leaseSetEncType``, a router that refuses the ML-KEM types the session chose
    (``6,4`` from router API 0.9.67) gets one more opening with ``4``, logged as a WARNING
    naming the option (see docs/options.md).
    Option keys no layer knows (``inbound.lenght``, a bare ``maxWindowSize``) give an
    :class:`~i2p_streaming.errors.UnknownOptionWarning` naming the closest known key, or with
    ``strict=True`` a ``ValueError``. The router address, keys and options are checked at
    the call (``ValueError``/``TypeError``), before anything is awaited."""
    host, port = parse_router(router)
    context = tls_context(tls, verify=tls_verify, cafile=tls_cafile, fingerprint=tls_fingerprint)
    capture = None
    if options is not None and not isinstance(options, StreamOptions):
        options, capture = split_pcap_options(options)
    i2cp_options, stream_opts = split_options(options, strict=strict, base=stream_options)
    timeouts = (timeout, min(handshake_timeout, timeout))
    return SessionOpener(
        lambda: _open_session(
            (host, port),
            keys,
            (i2cp_options, stream_opts),
            context,
            username,
            password,
            create_keys,
            timeouts,
            capture,
        )
    )

"""Opening an asyncio session: :func:`create_session` (await it or use ``async with``)."""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Generator, Mapping
from types import TracebackType
from typing import Any

from i2p_streaming.aio.config import (
    KeysArg,
    OptionsArg,
    load_keys,
    parse_router,
    split_options,
    tls_context,
)
from i2p_streaming.aio.i2cp_client import I2CPClient
from i2p_streaming.aio.pcap import PcapWriter, split_pcap_options
from i2p_streaming.aio.session import Session
from i2p_streaming.data import PrivateKeys
from i2p_streaming.streaming import StreamOptions

__all__ = ["create_session"]


async def _open_session(
    router: str | tuple[str, int],
    keys: KeysArg,
    options: OptionsArg,
    tls: ssl.SSLContext | None,
    username: str | None,
    password: str | None,
    create_keys: bool,
    timeout: float,
) -> Session:
    host, port = parse_router(router)
    private = load_keys(keys, create=create_keys)
    capture = None
    if options is not None and not isinstance(options, StreamOptions):
        options, capture = split_pcap_options(options)
    i2cp_options, stream_opts = split_options(options)
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
            timeout=timeout,
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


class _SessionOpener:
    """What :func:`create_session` returns: await it, or use it with ``async with``."""

    def __init__(self, coro_factory: Callable[[], Any]) -> None:
        self._factory = coro_factory
        self._session: Session | None = None

    def __await__(self) -> Generator[Any, None, Session]:
        session: Session = yield from self._factory().__await__()
        return session

    async def __aenter__(self) -> Session:
        self._session = await self._factory()
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
    tls: bool | ssl.SSLContext = False,
    tls_verify: bool = True,
    tls_cafile: str | os.PathLike[str] | None = None,
    tls_fingerprint: str | None = None,
    username: str | None = None,
    password: str | None = None,
    create_keys: bool = False,
    timeout: float = 60.0,
) -> _SessionOpener:
    """Open an I2CP session on ``router`` and return a :class:`Session` ready for streams.

    Use ``session = await create_session(...)`` (then ``await session.close()``), or
    ``async with create_session(...) as session:``. ``keys``: None (fresh transient
    destination), :class:`PrivateKeys`, or a key-file path (created when missing only if
    ``create_keys``). ``options``: ``i2cp.*``/``inbound.*``/``outbound.*`` go to the router,
    ``i2p.streaming.*`` become the session's :class:`StreamOptions` (or pass one);
    ``pcap=FILE`` (and ``pcap.maxSize=SIZE``, 100 MiB by default) writes every streaming
    packet sent and received to FILE as a pcap (:mod:`i2p_streaming.aio.pcap`). ``tls``:
    True (I2CP over TLS; the router's certificate is verified against the system's CAs and
    its host name, or pinned with ``tls_cafile`` (a PEM file, e.g. the router's self-signed
    certificate) or ``tls_fingerprint`` (its SHA-256 in hex); ``tls_verify=False`` skips
    the checks) or an ``ssl.SSLContext`` used as given. Raises :class:`I2CPError`
    subclasses (router unreachable, session refused), ``ValueError`` for bad options,
    ``FileNotFoundError`` for a missing key file."""
    context = tls_context(tls, verify=tls_verify, cafile=tls_cafile, fingerprint=tls_fingerprint)
    return _SessionOpener(
        lambda: _open_session(
            router, keys, options, context, username, password, create_keys, timeout
        )
    )

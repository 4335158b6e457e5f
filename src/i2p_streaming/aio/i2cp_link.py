"""One TCP (or TLS) connection to an I2P router, for the asyncio I2CP client.

:meth:`RouterLink.open` connects and starts a read task that hands every chunk (``b""`` at
EOF or on a read error) to ``on_input``, until it returns False. Output goes out with
:meth:`RouterLink.write`, one call per flush.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl as ssl_module
from collections.abc import Callable

from i2p_streaming.aio.i2cp_types import ClientSettings
from i2p_streaming.aio.i2cp_waiters import ErrorFactory
from i2p_streaming.errors import I2CPConnectionError, I2CPError

__all__ = ["RouterLink"]

log = logging.getLogger("i2p_streaming.i2cp")

_READ_SIZE = 65536
#: Linux's TCP_QUICKACK (12): acknowledge at once instead of up to 40 ms later. Routers (i2pd)
#: write small I2CP messages without TCP_NODELAY, so their next message waits (Nagle) for our
#: kernel's delayed ACK of the previous one; the flag is one-shot, so it is set after each read.
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


class RouterLink:
    """A connected socket to the router (made by :meth:`open`)."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, error: ErrorFactory
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._error = error
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, settings: ClientSettings, error: ErrorFactory) -> RouterLink:
        """Connect to ``settings.host``:``port`` within ``settings.timeout``; raises
        ``error(I2CPConnectionError, ...)`` when that fails."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    settings.host,
                    settings.port,
                    ssl=settings.ssl,
                    server_hostname=settings.server_hostname,
                ),
                settings.timeout,
            )
        except (OSError, TimeoutError, ssl_module.SSLError) as exc:
            what = f"cannot connect: {exc or type(exc).__name__}"
            if isinstance(exc, ConnectionRefusedError):
                what += " (no router listens there; `i2p-streaming router` runs a local one)"
            raise error(I2CPConnectionError, what, "") from exc
        return cls(reader, writer, error)

    def start_reading(self, on_input: Callable[[bytes], bool], name: str) -> None:
        """Feed every chunk read to ``on_input`` until it returns False, then close."""
        self._task = asyncio.get_running_loop().create_task(self._read(on_input, name))

    async def _read(self, on_input: Callable[[bytes], bool], name: str) -> None:
        sock = self._writer.get_extra_info("socket")
        quickack = _QUICKACK is not None and sock is not None and sock.family != socket.AF_UNIX
        try:
            while True:
                try:
                    data = await self._reader.read(_READ_SIZE)
                except (OSError, ssl_module.SSLError) as exc:
                    log.debug("I2CP %s: read failed: %s", name, exc)
                    data = b""
                if quickack and data:
                    try:
                        sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
                    except OSError:
                        quickack = False  # not a TCP socket after all: nothing to speed up
                if not on_input(data):
                    return
        finally:
            self._writer.close()

    @property
    def is_closing(self) -> bool:
        """True once the socket is closing or closed."""
        return self._writer.is_closing()

    def write_buffer_size(self) -> int:
        """Bytes written and not yet taken by the kernel."""
        return self._writer.transport.get_write_buffer_size()

    def write(self, data: bytes) -> None:
        """Queue ``data`` on the socket (dropped once it is closing)."""
        if not self._writer.is_closing():
            self._writer.write(data)

    async def drain(self, timeout: float) -> None:
        """Wait until the socket's write buffer is below its limit; raises
        :class:`I2CPConnectionError` when the router does not read within ``timeout`` or the
        write failed."""
        try:
            await asyncio.wait_for(self._writer.drain(), timeout)
        except TimeoutError:
            raise self._fail("the router does not read our data") from None
        except (OSError, ssl_module.SSLError) as exc:
            raise self._fail(f"write failed: {exc}") from exc

    def _fail(self, what: str) -> I2CPError:
        return self._error(I2CPConnectionError, what, "")

    def close(self) -> None:
        """Close the socket (the read task then ends)."""
        self._writer.close()

    async def drop(self, timeout: float = 1.0) -> None:
        """Close and wait (up to ``timeout``, at most 1 s) for the read task to end; a
        cancellation of the caller is passed on, never swallowed."""
        self._writer.close()
        task = self._task
        if task is None or task is asyncio.current_task():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), min(1.0, max(0.0, timeout)))
        except TimeoutError:
            task.cancel()
        except asyncio.CancelledError:
            task.cancel()
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

"""One TCP (or TLS) connection to an I2P router, for the asyncio I2CP client.

:meth:`RouterLink.open` connects and starts a read task that hands every chunk (``b""`` at
EOF or on a read error) to ``on_input``, until it returns False. Output goes out with
:meth:`RouterLink.write`, one call per flush.
"""

from __future__ import annotations

import asyncio
import logging
import ssl as ssl_module
from collections.abc import Callable

__all__ = ["RouterLink"]

log = logging.getLogger("i2p_streaming.i2cp")

_READ_SIZE = 65536


class RouterLink:
    """A connected socket to the router (made by :meth:`open`)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        ssl: ssl_module.SSLContext | None,
        server_hostname: str | None,
        timeout: float,
    ) -> RouterLink:
        """Connect within ``timeout``; raises ``OSError``, ``TimeoutError`` or ``SSLError``."""
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=ssl, server_hostname=server_hostname),
            timeout,
        )
        return cls(reader, writer)

    def start_reading(self, on_input: Callable[[bytes], bool], name: str) -> None:
        """Feed every chunk read to ``on_input`` until it returns False, then close."""
        self._task = asyncio.get_running_loop().create_task(self._read(on_input, name))

    async def _read(self, on_input: Callable[[bytes], bool], name: str) -> None:
        try:
            while True:
                try:
                    data = await self._reader.read(_READ_SIZE)
                except (OSError, ssl_module.SSLError) as exc:
                    log.debug("I2CP %s: read failed: %s", name, exc)
                    data = b""
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
        """Wait until the socket's write buffer is below its limit; raises ``TimeoutError``,
        ``OSError`` or ``SSLError``."""
        await asyncio.wait_for(self._writer.drain(), timeout)

    def close(self) -> None:
        """Close the socket (the read task then ends)."""
        self._writer.close()

    async def drop(self) -> None:
        """Close and wait (up to 1 s) for the read task to end; a cancellation of the caller
        is passed on, never swallowed."""
        self._writer.close()
        task = self._task
        if task is None or task is asyncio.current_task():
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), 1.0)
        except TimeoutError:
            task.cancel()
        except asyncio.CancelledError:
            task.cancel()
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

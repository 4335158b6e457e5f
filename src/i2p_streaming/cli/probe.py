"""What answers on a port that does not speak I2CP: SAM or HTTP (for a helpful error)."""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["identify_service"]

#: (name, what we send, how its answer starts).
_PROBES = (
    ("SAM", b"HELLO VERSION MIN=3.0 MAX=3.3\n", b"HELLO REPLY"),
    ("HTTP", b"HEAD / HTTP/1.0\r\n\r\n", b"HTTP/"),
)


async def _answers(host: str, port: int, hello: bytes, expect: bytes) -> bool:
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    try:
        writer.write(hello)
        await writer.drain()
        return (await reader.read(len(expect))).startswith(expect)
    except OSError:
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def identify_service(host: str, port: int, *, timeout: float = 2.0) -> str | None:
    """``"SAM"`` or ``"HTTP"`` when ``host:port`` answers like one (each probe is its own
    TCP connection, bounded by ``timeout`` seconds), else None."""

    async def probe(name: str, hello: bytes, expect: bytes) -> str | None:
        try:
            answered = await asyncio.wait_for(_answers(host, port, hello, expect), timeout)
        except TimeoutError:
            return None
        return name if answered else None

    tasks = [asyncio.ensure_future(probe(*p)) for p in _PROBES]
    try:
        for next_done in asyncio.as_completed(tasks):
            name = await next_done
            if name is not None:
                return name
        return None
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

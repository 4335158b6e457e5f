"""Why opening an I2CP session failed, in words: what answers on a port that does not speak
I2CP (SAM or HTTP), and which answer of the router never came.

Used by :meth:`I2CPClient.connect <i2p_streaming.aio.I2CPClient.connect>` (and so by
``create_session``) and by the command line.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from i2p_streaming.errors import I2CPConnectionError, I2CPError, SessionRefusedError
from i2p_streaming.i2cp.session import SessionState

__all__ = ["NEVER_CAME", "explain", "identify_service", "wait_ready", "wrong_service"]

#: What the router has not sent yet, by the state the session waited in.
NEVER_CAME = {
    SessionState.HANDSHAKE: "no SetDate (the answer to our GetDate)",
    SessionState.CREATING: "no SessionStatus (the answer to our CreateSession)",
    SessionState.CREATED: "no RequestVariableLeaseSet (the router had not built our tunnels)",
}

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


def wrong_service(address: str, service: str) -> str:
    """The message for ``address`` (``host:port``) answering ``service`` instead of I2CP."""
    if service == "SAM":
        return f"{address} answers like a SAM bridge, not I2CP (the I2CP port is usually 7654)"
    return f"{address} is not an I2CP router (it answered {service})"


async def explain(error: I2CPError, host: str, port: int, probe: bool = True) -> I2CPError:
    """``error``, or (with ``probe``, when ``host:port`` answers SAM or HTTP) an
    :class:`I2CPConnectionError` saying what the port speaks instead of I2CP."""
    refused = isinstance(error, SessionRefusedError)  # an I2CP router answered
    service = await identify_service(host, port) if probe and not refused else None
    if service is None:
        return error
    address = f"{host}:{port}"
    return I2CPConnectionError(wrong_service(address, service), router=address, reason=error.reason)


async def wait_ready(
    ready: asyncio.Future[None], state: Callable[[], SessionState], first: float, limit: float
) -> str | None:
    """Wait for ``ready``: the router's first answer (leaving the HANDSHAKE ``state``) within
    ``first`` seconds, the whole opening within ``limit``. Returns None once ready (raising
    its exception, if any), else what never came (``"no SetDate ... within 10 s"``)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(ready), first)
    if not ready.done() and state() is not SessionState.HANDSHAKE:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(ready), max(0.0, limit - first))
    if ready.done():
        ready.result()
        return None
    waited = first if state() is SessionState.HANDSHAKE else limit
    return f"{NEVER_CAME.get(state(), 'no session')} within {waited:g} s"

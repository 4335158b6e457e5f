"""Reconnecting the asyncio I2CP client: attempts spaced by a :class:`ReconnectPolicy`, and
the one retry of an opening whose ML-KEM lease-set types the router refused."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from i2p_streaming.aio.i2cp_types import ReconnectPolicy
from i2p_streaming.errors import I2CPError
from i2p_streaming.i2cp.options import ENC_TYPE_OPTION

__all__ = ["ReconnectOutcome", "open_with_fallback", "reconnect"]

log = logging.getLogger("i2p_streaming.i2cp")


@dataclass(frozen=True, slots=True)
class ReconnectOutcome:
    """How reconnecting ended: after ``attempts`` tries, with ``error`` None (reconnected)
    or the last attempt's error (gave up)."""

    attempts: int
    error: I2CPError | None


async def reconnect(
    policy: ReconnectPolicy,
    attempt: Callable[[], Awaitable[None]],
    stopped: Callable[[], bool],
    name: str,
) -> ReconnectOutcome | None:
    """Await ``attempt()`` after each of the policy's delays until it returns (reconnected),
    ``max_attempts`` attempts failed with :class:`I2CPError` (gave up), or ``stopped()`` is
    true before an attempt (returns None)."""
    delay = policy.initial_delay
    attempts = 0
    while not stopped():
        await asyncio.sleep(delay)
        attempts += 1
        try:
            await attempt()
        except I2CPError as exc:
            log.info("I2CP %s: reconnect attempt %d failed: %s", name, attempts, exc)
            if policy.max_attempts is not None and attempts >= policy.max_attempts:
                return ReconnectOutcome(attempts, exc)
            delay = min(delay * policy.factor, policy.max_delay)
            continue
        return ReconnectOutcome(attempts, None)
    return None


async def open_with_fallback(
    attempt: Callable[[], Awaitable[None]], fallback: Callable[[], str | None]
) -> None:
    """Await ``attempt()``; when it fails with :class:`I2CPError` and ``fallback()`` then names
    the ``i2cp.leaseSetEncType`` the client switched to (the router refused the ML-KEM types
    the session chose itself), await it once more. A second failure raises its error with
    the option named in the text."""
    try:
        await attempt()
        return
    except I2CPError:
        value = fallback()
        if value is None:
            raise
    try:
        await attempt()
    except I2CPError as exc:
        text = f"{exc} (opened again with {ENC_TYPE_OPTION}={value} after the router refused"
        text += " the ML-KEM lease-set types chosen automatically)"
        raise type(exc)(text, router=exc.router, reason=exc.reason) from None

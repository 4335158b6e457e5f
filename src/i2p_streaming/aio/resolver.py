"""Names to Destinations for the asyncio session: base64, ``.b32.i2p`` or router lookups, cached."""

from __future__ import annotations

import asyncio

from i2p_streaming.aio.i2cp_client import I2CPClient
from i2p_streaming.checks import check_destination, looks_like_base64_destination
from i2p_streaming.data import Destination
from i2p_streaming.errors import DestinationLookupError

__all__ = ["LOOKUP_CACHE_SIZE", "Resolver"]

#: Names remembered per session (oldest forgotten first).
LOOKUP_CACHE_SIZE = 256


class Resolver:
    """Resolves destinations for one session, caching up to :data:`LOOKUP_CACHE_SIZE` names."""

    def __init__(self) -> None:
        self._cache: dict[str, Destination] = {}

    def cached(self, dest: Destination | str) -> Destination | None:
        """The Destination without a lookup (a Destination, base64, or a cached name).

        Raises :class:`~i2p_streaming.errors.DataFormatError` (a ``ValueError``) for text that
        is no destination (a URL, a truncated b32, ...), ``TypeError`` for other types."""
        if isinstance(dest, Destination):
            return dest
        name = check_destination(dest)
        parsed = looks_like_base64_destination(name)
        if parsed is not None:
            return parsed
        return self._cache.get(name.lower())

    async def lookup(self, client: I2CPClient, name: str, timeout: float) -> Destination:
        """Ask the router for ``name`` (then cache it).

        Raises :class:`DestinationLookupError` for unknown or malformed names,
        ``TimeoutError`` when the router does not answer within ``timeout``."""
        name = name.strip()
        try:
            found = await asyncio.wait_for(client.lookup(name, timeout=timeout + 1.0), timeout)
        except TimeoutError:
            raise TimeoutError(f"lookup of {name} timed out after {timeout:g} s") from None
        except DestinationLookupError as exc:
            raise DestinationLookupError(
                f"cannot find {name}: {exc.reason}", router=exc.router, reason=exc.reason
            ) from None
        except ValueError as exc:
            raise DestinationLookupError(f"cannot look up {name!r}: {exc}") from None
        if len(self._cache) >= LOOKUP_CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[name.lower()] = found
        return found

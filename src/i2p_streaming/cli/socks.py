"""A SOCKS5 and SOCKS4a proxy into I2P (``i2p-streaming proxy socks``).

Only CONNECT to a ``.i2p`` or ``.b32.i2p`` host name is served: the name is resolved by the
router (never by DNS) and a stream is opened to it, the SOCKS port becoming the stream's
port. Anything else is refused with the protocol's reply code and nothing is connected: this
module opens no TCP connection at all. SOCKS5 replies (RFC 1928):

=========================================  ==========================================
request                                    reply
=========================================  ==========================================
IPv4/IPv6 address, or a name not ``.i2p``  0x02 connection not allowed by ruleset
an unknown name / lease set not found      0x04 host unreachable
nobody listens on the port                 0x05 connection refused
no answer within the connect timeout       0x06 TTL expired
BIND or UDP ASSOCIATE                      0x07 command not supported
unknown address type                       0x08 address type not supported
other stream errors                        0x01 general failure
=========================================  ==========================================

Authentication: "no authentication" (0x00), or username/password (RFC 1929, any
credentials accepted: they identify nothing here). SOCKS4a replies 0x5A (granted) or 0x5B
(rejected, for every failure); plain SOCKS4 (an IPv4 address) is always rejected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from dataclasses import dataclass

from i2p_streaming.cli.common import check_destination
from i2p_streaming.cli.service import (
    LocalProxy,
    log_end,
)
from i2p_streaming.cli.splice import CHUNK, abort, splice
from i2p_streaming.errors import DestinationLookupError

__all__ = ["HANDSHAKE_TIMEOUT", "Refused", "SocksProxy", "SocksRequest", "read_request"]

log = logging.getLogger("i2p_streaming.cli.socks")

#: Seconds a client has for its greeting and request.
HANDSHAKE_TIMEOUT = 30.0
#: Longest user id or host name read from a SOCKS4a request.
MAX_FIELD = 255

GENERAL_FAILURE = 0x01
NOT_ALLOWED = 0x02
HOST_UNREACHABLE = 0x04
CONNECTION_REFUSED = 0x05
TTL_EXPIRED = 0x06
COMMAND_NOT_SUPPORTED = 0x07
ADDRESS_TYPE_NOT_SUPPORTED = 0x08


@dataclass(frozen=True, slots=True)
class SocksRequest:
    """A CONNECT request: protocol ``version`` (4 or 5), the host name and the port."""

    version: int
    host: str
    port: int


class Refused(Exception):
    """A request that gets a refusal: ``code`` is the SOCKS5 reply code (SOCKS4a says 0x5B
    for all), ``reason`` what the log says."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


def reply(version: int, code: int) -> bytes:
    """The reply to send: SOCKS5 with ``code`` and bound address 0.0.0.0:0, or SOCKS4a
    granted (``code`` 0) or rejected."""
    if version == 4:
        return struct.pack("!BBH4s", 0, 0x5A if code == 0 else 0x5B, 0, bytes(4))
    return struct.pack("!BBBBIH", 5, code, 0, 1, 0, 0)


def check_host(host: str) -> str:
    """``host`` lower-cased if it is a ``.i2p`` or ``.b32.i2p`` name; else :class:`Refused`
    with 0x02 (nothing outside I2P is reached)."""
    name = host.strip().lower()
    if not name.endswith(".i2p"):
        raise Refused(NOT_ALLOWED, f"{host[:60]!r} is not an I2P host (.i2p, .b32.i2p)")
    try:
        return check_destination(name)
    except ValueError as exc:
        raise Refused(HOST_UNREACHABLE, str(exc)) from None


async def _read_cstring(reader: asyncio.StreamReader, what: str) -> bytes:
    data = bytearray()
    while (byte := await reader.readexactly(1)) != b"\0":
        data += byte
        if len(data) > MAX_FIELD:
            raise Refused(GENERAL_FAILURE, f"SOCKS4 {what} longer than {MAX_FIELD} bytes")
    return bytes(data)


async def _socks4(reader: asyncio.StreamReader) -> SocksRequest:
    command, port, ip = struct.unpack("!BH4s", await reader.readexactly(7))
    await _read_cstring(reader, "user id")
    if command != 1:
        raise Refused(COMMAND_NOT_SUPPORTED, f"SOCKS4 command {command} (only CONNECT)")
    if ip[:3] != b"\0\0\0" or ip[3] == 0:
        raise Refused(NOT_ALLOWED, "SOCKS4 with an IP address (only SOCKS4a host names)")
    host = (await _read_cstring(reader, "host name")).decode("ascii", "replace")
    return SocksRequest(4, check_host(host), port)


async def _socks5(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> SocksRequest:
    (count,) = await reader.readexactly(1)
    methods = await reader.readexactly(count)
    if 0 in methods:
        writer.write(b"\x05\x00")
    elif 2 in methods:
        writer.write(b"\x05\x02")
        await writer.drain()
        _, ulen = await reader.readexactly(2)
        await reader.readexactly(ulen)
        (plen,) = await reader.readexactly(1)
        await reader.readexactly(plen)
        writer.write(b"\x01\x00")
    else:
        writer.write(b"\x05\xff")
        await writer.drain()
        raise ConnectionAbortedError("no acceptable SOCKS5 authentication method")
    await writer.drain()
    version, command, _, atyp = await reader.readexactly(4)
    if version != 5:
        raise ConnectionAbortedError(f"SOCKS5 request with version {version}")
    if atyp == 1:
        address = await reader.readexactly(4)
    elif atyp == 4:
        address = await reader.readexactly(16)
    elif atyp == 3:
        (length,) = await reader.readexactly(1)
        address = await reader.readexactly(length)
    else:
        raise Refused(ADDRESS_TYPE_NOT_SUPPORTED, f"SOCKS5 address type {atyp}")
    (port,) = struct.unpack("!H", await reader.readexactly(2))
    if command != 1:
        raise Refused(COMMAND_NOT_SUPPORTED, f"SOCKS5 command {command} (only CONNECT)")
    if atyp != 3:
        raise Refused(NOT_ALLOWED, "an IP address (only .i2p host names)")
    return SocksRequest(5, check_host(address.decode("ascii", "replace")), port)


async def read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> tuple[int, SocksRequest | Refused]:
    """Read the greeting (answering SOCKS5's method choice) and the request: the version and
    the request, or the :class:`Refused` to answer. Raises ``IncompleteReadError`` or
    ``ConnectionAbortedError`` when the client breaks the protocol (no reply is due)."""
    (version,) = await reader.readexactly(1)
    try:
        if version == 5:
            return 5, await _socks5(reader, writer)
        if version == 4:
            return 4, await _socks4(reader)
    except Refused as refused:
        return version, refused
    raise ConnectionAbortedError(f"not SOCKS (first byte {version:#04x})")


def _refusal(exc: BaseException) -> Refused:
    if isinstance(exc, DestinationLookupError):
        return Refused(HOST_UNREACHABLE, f"not found ({exc})")
    if isinstance(exc, ConnectionRefusedError):
        return Refused(CONNECTION_REFUSED, str(exc) or "connection refused")
    if isinstance(exc, TimeoutError):
        return Refused(TTL_EXPIRED, str(exc) or "timed out")
    return Refused(GENERAL_FAILURE, str(exc) or type(exc).__name__)


class SocksProxy(LocalProxy):
    """A SOCKS5/4a server on ``bind`` whose connections become streams of ``session``."""

    kind = "socks"

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> None:
        """One client connection: the SOCKS handshake, then the stream."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            version, request = await asyncio.wait_for(
                read_request(reader, writer), HANDSHAKE_TIMEOUT
            )
        except (OSError, EOFError, TimeoutError) as exc:
            log.info("socks %s: %s", peer, str(exc) or type(exc).__name__)
            abort(writer)
            return
        if isinstance(request, SocksRequest):
            what = f"socks{version} {peer} -> {request.host}:{request.port}"
            try:
                remote = await self._session.open_connection(
                    request.host, request.port, timeout=self._timeout, limit=CHUNK
                )
            except (OSError, TimeoutError, DestinationLookupError) as exc:
                request = _refusal(exc)
            else:
                writer.write(reply(version, 0))
                result = await splice((reader, writer), remote)
                log_end(log, what, result, loop.time() - started)
                return
        else:
            what = f"socks{version} {peer}"
        log.warning("%s: refused (%#04x): %s", what, request.code, request)
        writer.write(reply(version, request.code))
        with contextlib.suppress(OSError):
            await writer.drain()
        writer.close()

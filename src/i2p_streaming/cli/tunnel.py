"""``i2p-streaming tunnel client|server|config``: i2ptunnel's client and server tunnels.

A client tunnel listens on a local TCP address and opens a stream to ``DEST:PORT`` for each
TCP connection; a server tunnel accepts streams on an I2P port and opens a TCP connection to
``TARGET_HOST:TARGET_PORT`` for each. Bytes are copied both ways by
:func:`~i2p_streaming.cli.splice.splice` (half-close passed on in both directions, a reset or
TCP error aborts the other side). At most ``max_conns`` connections per tunnel are served at
once (more are closed or reset at once). At ``-v`` each connection logs one line when it
ends. ``tunnel config FILE`` runs the tunnels of an i2pd ``tunnels.conf``-style file (see
:mod:`i2p_streaming.cli.tunnelconf`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from typing import TYPE_CHECKING, Any

from i2p_streaming.aio import Session
from i2p_streaming.cli.common import (
    CommandError,
    add_keys_option,
    arg_type,
    check_destination,
    keys_arg,
    load_key_file,
    open_session,
    port_arg,
    run_command,
    start_or_close,
)
from i2p_streaming.cli.service import (
    CLOSE_TIMEOUT,
    CONNECT_TIMEOUT,
    MAX_CONNS,
    ConnectionSet,
    Service,
    announce,
    format_address,
    hostport_arg,
    log_end,
    max_conns_arg,
    parse_hostport,
    run_connection,
    serve_forever,
)
from i2p_streaming.cli.socks import SocksProxy
from i2p_streaming.cli.splice import CHUNK, abort, splice
from i2p_streaming.cli.tunnelconf import ConfigError, TunnelSpec, load_tunnels
from i2p_streaming.data import PrivateKeys
from i2p_streaming.errors import DestinationLookupError

if TYPE_CHECKING:
    from i2p_streaming.cli.httpproxy import HttpProxy

__all__ = ["ClientTunnel", "ServerTunnel", "register", "run_specs"]

log = logging.getLogger("i2p_streaming.cli.tunnel")

target_arg = arg_type(lambda t: parse_hostport(t, allow_zero=False), "address")


def _dest_port(text: str) -> tuple[str, int]:
    """``DEST[:PORT]`` -> ``(dest, port)`` (port 0 when absent); a base64 destination has no
    ``:``, so the last ``:`` separates the port."""
    dest, sep, port_text = text.strip().rpartition(":")
    if not sep:
        dest, port_text = text.strip(), "0"
    port = int(port_text, 10) if port_text.isdigit() else -1
    if not 0 <= port < 65536:
        raise ValueError(f"invalid port in {text[:70]!r}: must be 0-65535")
    return check_destination(dest), port


dest_port_arg = arg_type(_dest_port, "destination")


class ClientTunnel:
    """Local TCP ``bind`` -> a stream to ``dest``:``dest_port`` of ``session`` per connection."""

    def __init__(
        self,
        session: Session,
        bind: tuple[str, int],
        dest: str,
        dest_port: int,
        *,
        max_conns: int = MAX_CONNS,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self._session = session
        self._bind = bind
        self._dest = dest
        self._dest_port = dest_port
        self._timeout = connect_timeout
        self._conns = ConnectionSet(max_conns)
        self._server: asyncio.Server | None = None

    async def start(self) -> tuple[str, int]:
        """Listen on the local address; the address bound (port 0 becomes a free port).
        Raises ``OSError`` when it cannot be bound."""
        host, port = self._bind
        self._server = await asyncio.start_server(self._accepted, host, port, limit=CHUNK)
        bound = self._server.sockets[0].getsockname()
        return str(bound[0]), int(bound[1])

    def describe(self, bound: tuple[str, int]) -> str:
        """One line: ``client HOST:PORT -> DEST:PORT``."""
        return f"client {format_address(bound)} -> {self._dest}:{self._dest_port}"

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await run_connection(self._handle(reader, writer), writer)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = format_address(writer.get_extra_info("peername") or ("?", 0))
        if not self._conns.admit():
            log.warning("client %s: refused, %d connections already", peer, len(self._conns))
            abort(writer)
            return
        loop = asyncio.get_running_loop()
        started = loop.time()
        what = f"client {peer} -> {self._dest}:{self._dest_port}"
        try:
            remote = await self._session.open_connection(
                self._dest, self._dest_port, timeout=self._timeout, limit=CHUNK
            )
        except DestinationLookupError as exc:
            log.warning("%s: not found (%s)", what, exc)
        except (OSError, TimeoutError) as exc:
            log.warning("%s: %s", what, str(exc) or type(exc).__name__)
        else:
            log_end(log, what, await splice((reader, writer), remote), loop.time() - started)
            return
        abort(writer)

    async def wait_idle(self) -> None:
        """Wait until no connection is being served."""
        await self._conns.wait_empty()

    async def close(self) -> None:
        """Stop listening and abort every connection."""
        if self._server is not None:
            self._server.close()
        await self._conns.close()


class ServerTunnel:
    """Streams to ``port`` of ``session`` -> a TCP connection to ``target`` each."""

    def __init__(
        self,
        session: Session,
        port: int,
        target: tuple[str, int],
        *,
        source: str | None = None,
        allow: frozenset[str] | None = None,
        max_conns: int = MAX_CONNS,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self._session = session
        self._port = port
        self._target = target
        self._source = source
        self._allow = allow
        self._timeout = connect_timeout
        self._conns = ConnectionSet(max_conns)
        self._closing: list[Any] = []

    async def start(self) -> None:
        """Accept streams on the I2P port (``OSError`` when the port has a server already)."""
        server = await self._session.start_server(self._accepted, self._port, limit=CHUNK)
        self._closing.append(server)

    def describe(self) -> str:
        """One line: ``server B32 port P -> HOST:PORT``."""
        return f"server {self._session.b32} port {self._port} -> {format_address(self._target)}"

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await run_connection(self._handle(reader, writer), writer)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = str(writer.get_extra_info("peer_b32") or "?")
        what = f"server {peer} -> {format_address(self._target)}"
        if self._allow is not None and peer.removesuffix(".b32.i2p") not in self._allow:
            log.warning("%s: refused, not in the access list", what)
            abort(writer)
            return
        if not self._conns.admit():
            log.warning("%s: refused, %d connections already", what, len(self._conns))
            abort(writer)
            return
        loop = asyncio.get_running_loop()
        started = loop.time()
        host, port = self._target
        local = None if self._source is None else (self._source, 0)
        try:
            target = await asyncio.wait_for(
                asyncio.open_connection(host, port, limit=CHUNK, local_addr=local), self._timeout
            )
        except (OSError, TimeoutError) as exc:
            log.warning("%s: %s", what, str(exc) or type(exc).__name__)
            abort(writer)
            return
        log_end(log, what, await splice((reader, writer), target), loop.time() - started)

    async def close(self) -> None:
        """Stop accepting and abort every connection."""
        for server in self._closing:
            server.close()
        await self._conns.close()


def register(subparsers: Any) -> None:
    """Add the ``tunnel`` subcommand with ``client``, ``server`` and ``config``."""
    p = subparsers.add_parser(
        "tunnel",
        help="TCP <-> I2P tunnels (i2ptunnel client and server, i2pd tunnels.conf)",
        description="Client and server tunnels between TCP and I2P, like i2ptunnel.",
    )
    sub = p.add_subparsers(dest="tunnel_kind", metavar="KIND", required=True)
    c = sub.add_parser(
        "client",
        help="listen on a local TCP port, a stream to DEST[:PORT] per connection",
        description="Listen on LOCAL_HOST:LOCAL_PORT (port 0: any free port, printed); open "
        "a stream to DEST (NAME.b32.i2p, NAME.i2p, base64) port PORT (0 if absent) for each "
        "TCP connection.",
    )
    c.add_argument("local", type=hostport_arg, metavar="LOCAL_HOST:LOCAL_PORT")
    c.add_argument("dest", type=dest_port_arg, metavar="DEST[:PORT]")
    add_keys_option(c)
    s = sub.add_parser(
        "server",
        help="accept streams on DEST_PORT, a TCP connection to TARGET per stream",
        description="Accept streams on I2P port DEST_PORT and connect each to "
        "TARGET_HOST:TARGET_PORT; prints the b32 on stderr. --keys FILE: a stable address.",
    )
    s.add_argument("port", type=port_arg, metavar="DEST_PORT")
    s.add_argument("target", type=target_arg, metavar="TARGET_HOST:TARGET_PORT")
    add_keys_option(s)
    f = sub.add_parser(
        "config",
        help="run the tunnels of an i2pd tunnels.conf-style file",
        description="Run every tunnel of FILE (i2pd tunnels.conf format: [name] sections "
        "with type = client or server, address, port, destination, destinationport, host, "
        "inport, keys, accesslist, I2CP options). Errors name FILE:LINE.",
    )
    f.add_argument("file", metavar="FILE")
    for q in (c, s):
        q.add_argument(
            "--max-conns", type=max_conns_arg, default=MAX_CONNS, help=f"at once ({MAX_CONNS})"
        )
    c.set_defaults(run=run_client)
    s.set_defaults(run=run_server)
    f.set_defaults(run=run_config)


async def _client(args: argparse.Namespace) -> int:
    dest, dest_port = args.dest
    session = await open_session(args, keys_arg(args))
    tunnel = ClientTunnel(session, args.local, dest, dest_port, max_conns=args.max_conns)
    where = f"cannot listen on {format_address(args.local)}"
    bound = await start_or_close(session, tunnel.start(), where)
    announce(f"tunnel {tunnel.describe(bound)}")
    return await serve_forever([tunnel], [session])


async def _server(args: argparse.Namespace) -> int:
    session = await open_session(args, keys_arg(args))
    tunnel = ServerTunnel(session, args.port, args.target, max_conns=args.max_conns)
    await start_or_close(session, tunnel.start(), f"cannot accept on port {args.port}")
    announce(f"tunnel {tunnel.describe()}")
    return await serve_forever([tunnel], [session])


def _tunnel_session_options(args: argparse.Namespace, spec: TunnelSpec) -> argparse.Namespace:
    """``args`` with the section's options after the global ``-o`` ones."""
    return argparse.Namespace(**{**vars(args), "options": [*args.options, *spec.options]})


def _spec_keys(spec: TunnelSpec) -> PrivateKeys:
    """The keys of ``spec``: loaded, made and saved when the file is missing (as i2pd
    does), or transient."""
    if spec.keys is None:
        return PrivateKeys.generate(spec.sig_type)
    if os.path.exists(spec.keys):
        return load_key_file(spec.keys)
    keys = PrivateKeys.generate(spec.sig_type)
    try:
        keys.save(spec.keys)
    except OSError as exc:
        raise CommandError(f"{spec.where}: cannot write {spec.keys}: {exc.strerror}", 2) from None
    log.warning("%s: made new keys %s (%s)", spec.where, spec.keys, keys.destination.b32)
    return keys


async def _start(spec: TunnelSpec, session: Session, started: list[Service]) -> str:
    """Start the tunnel or proxy of ``spec`` (appended to ``started`` first, so that it is
    closed even when its start fails); its start line. ``OSError`` when it cannot start."""
    bind = (spec.address or "127.0.0.1", spec.port)
    if spec.kind == "client":
        assert spec.destination is not None
        client = ClientTunnel(session, bind, spec.destination, spec.destination_port)
        started.append(client)
        return client.describe(await client.start())
    if spec.kind == "server":
        assert spec.host is not None
        target = (spec.host, spec.port)
        server = ServerTunnel(
            session, spec.inport, target, source=spec.address, allow=spec.accesslist
        )
        started.append(server)
        await server.start()
        return server.describe()
    proxy: SocksProxy | HttpProxy
    if spec.kind == "socks":
        proxy = SocksProxy(session, bind)
    else:
        try:
            from i2p_streaming.cli.httpproxy import HttpProxy
        except ModuleNotFoundError as exc:
            if exc.name != "h11":
                raise
            raise CommandError(f"{spec.where}: [{spec.name}] needs the h11 package", 2) from None
        proxy = HttpProxy(session, bind)
    started.append(proxy)
    return f"{spec.kind} listening on {format_address(await proxy.start())} ({session.b32})"


async def run_specs(args: argparse.Namespace, specs: list[TunnelSpec]) -> int:
    """Open one session per key file (sections with the same ``keys`` share it, with the
    options of the first), start every tunnel and print its line, then serve until
    cancelled. CommandError naming FILE:LINE when a tunnel cannot start."""
    sessions: dict[str, Session] = {}
    opened: list[Session] = []
    tunnels: list[Service] = []
    try:
        for spec in specs:
            for key in spec.ignored:
                log.warning("%s: [%s] %s has no effect here", spec.where, spec.name, key)
            session = sessions.get(spec.keys) if spec.keys is not None else None
            if session is None:
                keys = _spec_keys(spec)
                session = await open_session(_tunnel_session_options(args, spec), keys)
                opened.append(session)
                if spec.keys is not None:
                    sessions[spec.keys] = session
            line = f"[{spec.name}] "
            try:
                line += await _start(spec, session, tunnels)
            except OSError as exc:
                raise CommandError(f"{spec.where}: [{spec.name}] cannot start: {exc}", 2) from None
            announce(line)
    except BaseException:
        for tunnel in tunnels:
            await tunnel.close()
        for session in opened:
            await session.close(timeout=CLOSE_TIMEOUT)
        raise
    return await serve_forever(list(tunnels), opened)


async def _config(args: argparse.Namespace) -> int:
    try:
        specs = load_tunnels(args.file)
    except ConfigError as exc:
        raise CommandError(str(exc), 2) from None
    return await run_specs(args, specs)


def run_client(args: argparse.Namespace) -> int:
    """Run ``tunnel client`` until Ctrl-C (exit 130); 2 for bad arguments or no router."""
    return run_command("tunnel client", lambda: _client(args))


def run_server(args: argparse.Namespace) -> int:
    """Run ``tunnel server`` until Ctrl-C (exit 130); 2 for bad arguments or no router."""
    return run_command("tunnel server", lambda: _server(args))


def run_config(args: argparse.Namespace) -> int:
    """Run ``tunnel config FILE`` until Ctrl-C (exit 130); 2 for an invalid file."""
    return run_command("tunnel config", lambda: _config(args))

"""``i2p-streaming proxy socks|http``: SOCKS5/4a and HTTP proxies into I2P.

Both listen on a local TCP address (``--listen``, defaults 127.0.0.1:4447 and
127.0.0.1:4444 as the I2P routers use; port 0: any free port), print one line on stderr
(``proxy socks listening on HOST:PORT (B32)``) and serve until Ctrl-C (exit 130). Every
connection goes through one session (``--keys FILE`` for a stable client address). Neither
proxy ever opens a TCP connection: see :mod:`i2p_streaming.cli.socks` and
:mod:`i2p_streaming.cli.httpproxy` for what is refused and how.
"""

from __future__ import annotations

import argparse
from typing import Any

from i2p_streaming.cli.common import (
    CommandError,
    add_keys_option,
    keys_arg,
    open_session,
    run_command,
    start_or_close,
)
from i2p_streaming.cli.service import (
    CONNECT_TIMEOUT,
    MAX_CONNS,
    announce,
    format_address,
    hostport_arg,
    max_conns_arg,
    seconds_arg,
    serve_forever,
)

__all__ = ["register"]

DEFAULT_LISTEN = {"socks": "127.0.0.1:4447", "http": "127.0.0.1:4444"}


def register(subparsers: Any) -> None:
    """Add the ``proxy`` subcommand with ``socks`` and ``http``."""
    p = subparsers.add_parser(
        "proxy",
        help="SOCKS5/4a and HTTP proxies for .i2p sites (never clearnet)",
        description="Local proxies that reach .i2p and .b32.i2p hosts over I2P streams and "
        "refuse everything else.",
    )
    sub = p.add_subparsers(dest="proxy_kind", metavar="KIND", required=True)
    s = sub.add_parser(
        "socks",
        help="SOCKS5 and SOCKS4a (CONNECT to .i2p host names)",
        description="A SOCKS5/SOCKS4a proxy: CONNECT to NAME.i2p or NAME.b32.i2p (resolved "
        "by the router) port P becomes a stream to that port; anything else gets the SOCKS "
        "refusal code. Use curl --socks5-hostname or --socks4a.",
    )
    h = sub.add_parser(
        "http",
        help="HTTP proxy (CONNECT and http:// URLs of .i2p hosts)",
        description="An HTTP proxy: CONNECT host.i2p:port and GET/POST/... http://host.i2p/ "
        "(origin-form, hop-by-hop and identifying headers removed); HTML error pages 403 "
        "(not I2P), 404 (unknown name), 502 (refused/reset), 504 (timeout).",
    )
    for kind, q in (("socks", s), ("http", h)):
        q.add_argument(
            "--listen",
            type=hostport_arg,
            default=hostport_arg(DEFAULT_LISTEN[kind]),
            metavar="HOST:PORT",
            help=f"local address ({DEFAULT_LISTEN[kind]})",
        )
        add_keys_option(q)
        q.add_argument(
            "--timeout",
            type=seconds_arg,
            default=CONNECT_TIMEOUT,
            help=f"seconds to open a stream ({CONNECT_TIMEOUT:g})",
        )
        q.add_argument(
            "--max-conns", type=max_conns_arg, default=MAX_CONNS, help=f"at once ({MAX_CONNS})"
        )
        q.set_defaults(run=run, proxy_kind=kind)


async def _proxy(args: argparse.Namespace) -> int:
    if args.proxy_kind == "http":
        try:
            from i2p_streaming.cli.httpproxy import HttpProxy as Proxy
        except ModuleNotFoundError as exc:
            if exc.name != "h11":
                raise
            hint = "pip install 'i2p-streaming[cli]' (or pip install h11)"
            raise CommandError(f"the HTTP proxy needs the h11 package: {hint}", 2) from None
    else:
        from i2p_streaming.cli.socks import SocksProxy as Proxy  # type: ignore[assignment]
    session = await open_session(args, keys_arg(args))
    proxy = Proxy(session, args.listen, max_conns=args.max_conns, connect_timeout=args.timeout)
    where = f"cannot listen on {format_address(args.listen)}"
    bound = await start_or_close(session, proxy.start(), where)
    announce(f"proxy {args.proxy_kind} listening on {format_address(bound)} ({session.b32})")
    return await serve_forever([proxy], [session])


def run(args: argparse.Namespace) -> int:
    """Run the proxy until Ctrl-C (exit 130); 2 for bad arguments, no router or no h11."""
    return run_command(f"proxy {args.proxy_kind}", lambda: _proxy(args))

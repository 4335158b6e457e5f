"""``i2p-streaming lookup NAME``: a destination from a b32 address, a base64 destination or a
host name the router resolves; prints its b32 and base64 (exit 2 when not found)."""

from __future__ import annotations

import argparse
from typing import Any

from i2p_streaming.cli.common import (
    command_session,
    destination_arg,
    resolve_or_exit,
    run_command,
)

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``lookup`` subcommand."""
    p = subparsers.add_parser(
        "lookup",
        help="print the b32 and base64 of a destination (asks the router for names)",
        description="Resolve NAME (NAME.b32.i2p, NAME.i2p or a base64 destination) through "
        "the router and print its b32 address and base64 destination.",
    )
    p.add_argument("name", type=destination_arg, metavar="NAME")
    p.add_argument(
        "--timeout", type=float, default=15.0, help="seconds to wait for the router (15)"
    )
    p.set_defaults(run=run)


async def _lookup(args: argparse.Namespace) -> int:
    async with command_session(args) as session:
        dest = await resolve_or_exit(session, args.name, args.timeout)
    print(f"b32: {dest.b32}")
    print(f"base64: {dest.to_base64()}", flush=True)
    return 0


def run(args: argparse.Namespace) -> int:
    """Look the name up and print it; exit 0 found, 2 not found or no router."""
    return run_command("lookup", lambda: _lookup(args))

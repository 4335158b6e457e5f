"""Entry point of the ``i2p-streaming`` command: an argparse parser with one subcommand per
module in :data:`COMMANDS`.

A command module provides ``register(subparsers)``, which adds its sub-parser and sets
``run=<callable(args) -> int>`` as a default; :func:`main` parses, configures logging and
returns the exit code of that callable. Global options (before the command): ``--router
HOST:PORT`` (env ``I2CP_ROUTER``, default 127.0.0.1:7654), ``-v``/``-q`` and ``-o KEY=VALUE``
(session options, repeatable), ``--pcap FILE`` (the same as ``-o pcap=FILE``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType
from typing import Any, NoReturn

from i2p_streaming.checks import looks_like_base64_destination
from i2p_streaming.cli import (
    bench,
    demo,
    dgram,
    keys,
    names,
    netcat,
    ping,
    proxy,
    router,
    serve,
    tunnel,
)
from i2p_streaming.cli.common import option_arg, router_arg

__all__ = ["COMMANDS", "build_parser", "main"]

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS: tuple[ModuleType, ...] = (
    router,
    demo,
    keys,
    names,
    netcat,
    ping,
    dgram,
    tunnel,
    proxy,
    serve,
    bench,
)


def _version() -> str:
    try:
        return version("i2p-streaming")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (no usage block), exit 2, and
    that takes a base64 destination for an argument even when it starts with ``-`` (one in
    64 does: ``-`` is a digit of I2P's base64)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")

    def _parse_optional(self, arg_string: str) -> Any:
        # argparse's hook that decides whether ``arg_string`` is an option; None: an argument
        if arg_string.startswith("-") and looks_like_base64_destination(arg_string):
            return None
        return super()._parse_optional(arg_string)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand of :data:`COMMANDS` registered."""
    parser = OneLineParser(
        prog="i2p-streaming",
        description="I2P streaming over I2CP: tools and an embedded test router.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more logging (-v info, -vv debug)"
    )
    parser.add_argument(
        "-q", "--quiet", action="count", default=0, help="less logging (-q errors only)"
    )
    parser.add_argument(
        "--router",
        dest="i2cp_router",
        type=router_arg,
        default=None,
        metavar="HOST:PORT",
        help="I2CP router of the client commands (env I2CP_ROUTER, default 127.0.0.1:7654)",
    )
    parser.add_argument(
        "-o",
        dest="options",
        type=option_arg,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="session option (i2cp.*, inbound.*, outbound.*, i2p.streaming.*); repeatable",
    )
    parser.add_argument(
        "--pcap",
        default=None,
        metavar="FILE",
        help="client commands: write every streaming packet to FILE as a pcap (-o pcap=FILE)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    Bad arguments make argparse print a message and exit with status 2.
    """
    args = build_parser().parse_args(argv)
    level = min(max(logging.WARNING + 10 * (args.quiet - args.verbose), logging.DEBUG), 50)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.pcap is not None:
        args.options.append(("pcap", args.pcap))
    warnings.showwarning = _one_line_warning
    return int(args.run(args))


def _one_line_warning(message: Warning | str, *args: object, **kwargs: object) -> None:
    """Warnings (an unknown ``-o`` key, ...) as one line on stderr, like the errors."""
    print(f"i2p-streaming: warning: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())

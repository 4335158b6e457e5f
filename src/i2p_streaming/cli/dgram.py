"""``i2p-streaming dgram send DEST PORT`` / ``dgram listen PORT``: datagrams from the shell.

``send`` sends ``-m MESSAGE`` (or each line of stdin, without its newline) as one datagram
of ``--kind`` (repliable by default) to DEST:PORT from ``--from-port``; with ``--wait`` it
then prints every answer (one line each: ``SENDER:PORT PAYLOAD``) until none came for that
long. ``listen`` prints ``LISTEN <b32> <port> <kind>``, then one line per datagram in the same
form (``-`` as the sender of raw datagrams); ``--echo`` answers each datagram with its
payload, ``-c COUNT`` stops after COUNT datagrams. Exit 0; 1 when ``send --wait`` got no
answer; 2 for bad arguments, an unknown name, a datagram over the size limit or no router;
130 after Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from i2p_streaming.aio import DatagramEndpoint
from i2p_streaming.cli.common import (
    CommandError,
    add_keys_option,
    command_session,
    destination_arg,
    duration_arg,
    port_arg,
    resolve_or_exit,
    run_command,
)
from i2p_streaming.datagrams import DatagramKind, DatagramReceived, DatagramTooLarge

__all__ = ["format_datagram", "register", "run_listen", "run_send"]

KINDS = [k.value for k in DatagramKind]


def register(subparsers: Any) -> None:
    """Add the ``dgram`` subcommand (``send`` and ``listen``)."""
    p = subparsers.add_parser(
        "dgram",
        help="send or receive datagrams (repliable, raw, datagram2, datagram3)",
        description="Datagrams on an I2CP session. Durations take a unit: 500ms, 2s.",
    )
    sub = p.add_subparsers(dest="dgram_command", metavar="ACTION", required=True)
    s = sub.add_parser(
        "send",
        help="send datagrams to DEST:PORT",
        description="Send -m MESSAGE, or each line of stdin, as one datagram to DEST:PORT; "
        "with --wait print the answers (SENDER:PORT PAYLOAD) until none came for that long.",
    )
    s.add_argument("dest", type=destination_arg, metavar="DEST")
    s.add_argument("port", type=port_arg, metavar="PORT")
    s.add_argument("-m", "--message", default=None, help="one datagram (default: stdin lines)")
    s.add_argument("--wait", type=duration_arg, default=None, help="then print answers")
    s.set_defaults(run=run_send)
    listen = sub.add_parser(
        "listen",
        help="print datagrams to PORT",
        description="Print LISTEN <b32> <port> <kind>, then one SENDER:PORT PAYLOAD line per "
        "datagram (- for raw senders); --echo answers each with its payload.",
    )
    listen.add_argument("port", type=port_arg, metavar="PORT")
    listen.add_argument(
        "--echo", action="store_true", help="answer with the same payload (not raw: no sender)"
    )
    listen.add_argument("-c", "--count", type=int, default=None, help="stop after COUNT")
    add_keys_option(listen)
    listen.set_defaults(run=run_listen)
    for q in (s, listen):
        q.add_argument("-k", "--kind", choices=KINDS, default="repliable", help="(repliable)")
    s.add_argument("--from-port", type=port_arg, default=None, help="our port (any)")


def format_datagram(got: DatagramReceived) -> str:
    """``SENDER:PORT PAYLOAD`` (payload as UTF-8, undecodable bytes escaped)."""
    text = got.data.decode("utf-8", "backslashreplace").rstrip("\n")
    return f"{got.sender or '-'}:{got.src_port} {text}"


async def _send(args: argparse.Namespace) -> int:
    async with command_session(args) as session:
        dest = await resolve_or_exit(session, args.dest, 30.0)
        ep = await session.open_datagram_endpoint(port=args.from_port or 0, kind=args.kind)
        messages = [args.message] if args.message is not None else sys.stdin.read().splitlines()
        for text in messages:
            try:
                await ep.send(text.encode(), dest, args.port)
            except DatagramTooLarge as exc:
                raise CommandError(str(exc), 2) from None
        if args.wait is None:
            return 0
        return 0 if await _print_answers(ep, args.wait) else 1


async def _print_answers(ep: DatagramEndpoint, wait: float) -> int:
    answers = 0
    while True:
        try:
            got = await ep.recv(timeout=wait)
        except TimeoutError:
            return answers
        answers += 1
        print(format_datagram(got), flush=True)


async def _listen(args: argparse.Namespace) -> int:
    async with command_session(args) as session:
        try:
            ep = await session.open_datagram_endpoint(port=args.port, kind=args.kind)
        except OSError as exc:
            raise CommandError(str(exc), 2) from None
        print(f"LISTEN {session.b32} {args.port} {args.kind}", flush=True)
        seen = 0
        while args.count is None or seen < args.count:
            got = await ep.recv()
            seen += 1
            print(format_datagram(got), flush=True)
            if args.echo and got.sender is not None:
                await ep.send(got.data, got.destination or got.sender, got.src_port)
    return 0


def run_send(args: argparse.Namespace) -> int:
    """Run ``dgram send``; the exit status as the module docstring says."""
    return run_command("dgram send", lambda: _send(args))


def run_listen(args: argparse.Namespace) -> int:
    """Run ``dgram listen``; the exit status as the module docstring says."""
    return run_command("dgram listen", lambda: _listen(args))

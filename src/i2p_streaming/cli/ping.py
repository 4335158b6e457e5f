"""``i2p-streaming ping DEST``: signed streaming pings, like ping(8).

One line per reply with its round-trip time, one per ping without an answer, then a summary
(sent, received, loss, min/avg/max). Exit 0 when any reply came, 1 when none did, 2 for bad
arguments, an unknown name or no router, 130 after Ctrl-C (the summary is printed first).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from i2p_streaming.aio import Session
from i2p_streaming.cli.common import (
    command_session,
    destination_arg,
    duration_arg,
    resolve_or_exit,
    run_command,
)
from i2p_streaming.data import Destination

__all__ = ["PingStats", "ping_loop", "register", "run"]


def _count(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: must be at least 1")
    return value


_count.__name__ = "count"


def register(subparsers: Any) -> None:
    """Add the ``ping`` subcommand."""
    p = subparsers.add_parser(
        "ping",
        help="ping a destination (signed streaming ECHO), like ping(8)",
        description="Send signed pings to DEST and print each round-trip time and a summary. "
        "Durations take a unit: 500ms, 2s.",
    )
    p.add_argument("dest", type=destination_arg, metavar="DEST")
    p.add_argument("-c", "--count", type=_count, default=None, help="stop after COUNT pings")
    p.add_argument("-i", "--interval", type=duration_arg, default=1.0, help="between pings (1s)")
    p.add_argument("-W", "--timeout", type=duration_arg, default=5.0, help="wait per ping (5s)")
    p.set_defaults(run=run)


@dataclass(slots=True)
class PingStats:
    """Pings sent and the round-trip times (seconds) of the replies."""

    sent: int = 0
    rtts: list[float] = field(default_factory=list)

    @property
    def received(self) -> int:
        """Replies received."""
        return len(self.rtts)

    def summary(self, name: str) -> list[str]:
        """The ping(8)-style closing lines."""
        loss = 100.0 * (self.sent - self.received) / self.sent if self.sent else 0.0
        lines = [
            f"--- {name} ping statistics ---",
            f"{self.sent} sent, {self.received} received, {loss:.0f}% loss",
        ]
        if self.rtts:
            ms = [r * 1000 for r in self.rtts]
            lines.append(
                f"rtt min/avg/max = {min(ms):.3f}/{sum(ms) / len(ms):.3f}/{max(ms):.3f} ms"
            )
        return lines


async def ping_loop(
    session: Session,
    dest: Destination,
    stats: PingStats,
    *,
    count: int | None,
    interval: float,
    timeout: float,
    out: TextIO,
) -> None:
    """Ping ``dest`` ``count`` times (forever when None), one ``session.ping`` per sequence
    number, starting one every ``interval`` seconds (or at once after a slower one); a line
    per result goes to ``out`` and the counts to ``stats``."""
    loop = asyncio.get_running_loop()
    seq = 0
    while count is None or seq < count:
        seq += 1
        started = loop.time()
        stats.sent += 1
        try:
            rtt = await session.ping(dest, timeout=timeout)
        except TimeoutError:
            print(f"no reply from {dest.b32}: seq={seq} (timeout {timeout:g} s)", file=out)
        else:
            stats.rtts.append(rtt)
            print(f"reply from {dest.b32}: seq={seq} time={rtt * 1000:.3f} ms", file=out)
        out.flush()
        if count is not None and seq >= count:
            break
        await asyncio.sleep(max(0.0, started + interval - loop.time()))


async def _ping(args: argparse.Namespace, stats: PingStats) -> int:
    async with command_session(args) as session:
        dest = await resolve_or_exit(session, args.dest, args.timeout)
        print(f"PING {dest.b32}", flush=True)
        try:
            await ping_loop(
                session,
                dest,
                stats,
                count=args.count,
                interval=args.interval,
                timeout=args.timeout,
                out=sys.stdout,
            )
        finally:
            print("\n".join(stats.summary(dest.b32)), flush=True)
    return 0 if stats.received else 1


def run(args: argparse.Namespace) -> int:
    """Run ``ping``; the exit status as the module docstring says."""
    stats = PingStats()
    return run_command("ping", lambda: _ping(args, stats))

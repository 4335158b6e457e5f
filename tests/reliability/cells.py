"""The scenario table: one frozen :class:`Cell` per row of the matrix.

A cell says what the network does (:class:`~i2p_streaming.router.Impairments`, router-wide
from the start), what is transferred (sizes, number of multiplexed streams, direction and
close order, see :class:`Mode`), which streaming options both sessions use, what is done to
the router while the transfer runs (a :data:`Control`), its limits (connect timeout and the
hard wall-clock limit beyond which the cell is a HANG) and what must happen: ``expect=()``
means every transfer completes with every byte verified; otherwise the first error seen by a
client must be an instance of one of ``expect`` (and mention ``expect_text``).

``known_defect`` names the open defect that makes a cell fail today: the pytest short suite
marks it ``xfail(strict=True)`` so it flips when the defect is fixed; the full matrix only
reports it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from i2p_streaming.router import Burst, Impairments

__all__ = [
    "FULL",
    "QUICK",
    "Blackhole",
    "Cell",
    "Control",
    "DropFirst",
    "HandshakeImpairments",
    "KillRouter",
    "Mode",
    "StopRouter",
    "cells_by_name",
]

KB = 1024
MB = 1024 * 1024


class Mode(enum.Enum):
    """Direction and close order of each stream's transfer."""

    #: the client sends ``size`` bytes and reads them back concurrently; the server echoes
    #: until EOF, then closes its side
    ECHO = "echo"
    #: the client sends ``size`` bytes and ``write_eof()``; the server reads to EOF, then
    #: replies ``reply`` bytes and closes (client closes first)
    UPLOAD = "upload"
    #: the client sends nothing and ``write_eof()``; the server reads to EOF, then sends
    #: ``size`` bytes and closes
    DOWNLOAD = "download"
    #: the server sends ``reply`` bytes and closes its side first; the client reads to EOF,
    #: then sends ``size`` bytes and ``write_eof()`` (server closes first)
    SERVER_FIRST = "server-first"


@dataclass(frozen=True, slots=True)
class HandshakeImpairments:
    """These impairments (router-wide) until every stream is open or failed to open (its
    connect timed out), then the cell's."""

    impairments: Impairments


@dataclass(frozen=True, slots=True)
class DropFirst:
    """Drop the first ``count`` payloads from client to server (``"syn"``: the SYN) or from
    server to client (``"syn-reply"``), then let everything through."""

    direction: str
    count: int = 1


@dataclass(frozen=True, slots=True)
class Blackhole:
    """Once ``at`` of all expected bytes arrived, drop everything for ``duration`` seconds
    (``None``: for good)."""

    at: float
    duration: float | None


@dataclass(frozen=True, slots=True)
class StopRouter:
    """Once ``at`` of all expected bytes arrived, stop the in-process router
    (``EmbeddedRouter.stop()``: every client gets a Disconnect, then its socket closes)."""

    at: float


@dataclass(frozen=True, slots=True)
class KillRouter:
    """Once ``at`` of all expected bytes arrived, SIGKILL the router subprocess (no
    Disconnect: the I2CP sockets just end)."""

    at: float


Control = HandshakeImpairments | DropFirst | Blackhole | StopRouter | KillRouter


def _options(**values: int | str) -> Mapping[str, str]:
    return MappingProxyType({f"i2p.streaming.{k}": str(v) for k, v in values.items()})


@dataclass(frozen=True, slots=True)
class Cell:
    """One scenario. ``size`` is per stream (``streams`` of them, all multiplexed on one
    session pair, connected concurrently); ``reply`` the bytes the server sends in
    :attr:`Mode.UPLOAD` / :attr:`Mode.SERVER_FIRST`. ``options`` are ``i2p.streaming.*``
    properties for both sessions; ``connect_timeout`` bounds each ``open_connection``;
    ``limit`` is the hard wall-clock limit of the whole cell (connects, transfers and stream
    closes; session closes have ``close_limit`` more). ``seed`` seeds the router's
    impairments and the data."""

    name: str
    impairments: Impairments
    size: int
    mode: Mode = Mode.ECHO
    streams: int = 1
    reply: int = 0
    options: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    control: Control | None = None
    connect_timeout: float = 60.0
    limit: float = 60.0
    close_limit: float = 15.0
    expect: tuple[type[BaseException], ...] = ()
    expect_text: str = ""
    seed: int = 1
    backlog: int | None = None
    known_defect: str | None = None

    @property
    def expected_bytes(self) -> int:
        """Payload bytes both ends receive in total when every transfer completes."""
        per_stream = {
            Mode.ECHO: 2 * self.size,
            Mode.UPLOAD: self.size + self.reply,
            Mode.DOWNLOAD: self.size,
            Mode.SERVER_FIRST: self.size + self.reply,
        }[self.mode]
        return per_stream * self.streams

    def describe(self) -> str:
        """A short description of the network and the run-time control."""
        imp = self.impairments
        parts = []
        if imp.delay or imp.jitter:
            parts.append(f"{imp.delay * 1000:g}±{imp.jitter * 1000:g}ms")
        for name in ("loss", "duplicate", "reorder", "corrupt"):
            value = getattr(imp, name)
            if value:
                parts.append(f"{name} {value * 100:g}%")
        if imp.burst is not None:
            parts.append(f"GE {imp.burst.p_enter:g}/{imp.burst.p_exit:g}")
        if self.control is not None:
            parts.append(type(self.control).__name__)
        return ", ".join(parts) or "clean"


# -- the matrix ----------------------------------------------------------------------------

_RTT100 = Impairments(delay=0.05)
_RTT20 = Impairments(delay=0.01)
#: A lossy path needs more retransmissions than the default 8 before a stream gives up.
_LOSSY = _options(maxResends=50)
_GE_MILD = Burst(p_enter=0.01, p_exit=0.3)  # ~3.2 % loss in bursts of ~3.3 payloads
_GE_HEAVY = Burst(p_enter=0.02, p_exit=0.1)  # ~17 % loss in bursts of ~10 payloads
#: Give up quickly on a dead path: 4 retransmissions (RTO ~0.2 s doubling: ~6 s).
_GIVE_UP = _options(maxResends=4)
_DEAD = (ConnectionResetError,)
_NONE = _options()
#: The short suite cannot afford the 9 s initial RTO of a lost SYN (or SYN reply): 1 s.
_FAST_SYN = _options(initialRTO=1000)


def _matrix(quick: bool) -> tuple[Cell, ...]:
    """The matrix; ``quick`` is the short one (sizes 64 KB-1 MB, limits for ``make test``)."""

    def sz(short: int, full: int) -> int:
        return short if quick else full

    def lim(short: float, full: float) -> float:
        return short if quick else full

    cells = [
        Cell("clean", _RTT20, sz(1 * MB, 50 * MB), Mode.UPLOAD, limit=lim(20, 120)),
        Cell("clean-echo", _RTT100, sz(512 * KB, 10 * MB), limit=lim(20, 90)),
        Cell("loss-1", _RTT100.replace(loss=0.01), sz(512 * KB, 10 * MB), limit=lim(25, 120)),
        Cell(
            "loss-3",
            _RTT100.replace(loss=0.03),
            sz(256 * KB, 5 * MB),
            Mode.UPLOAD,
            options=_LOSSY,
            limit=lim(30, 180),
        ),
        Cell(
            "loss-10",
            _RTT100.replace(loss=0.10),
            sz(128 * KB, 2 * MB),
            Mode.UPLOAD,
            options=_LOSSY,
            limit=lim(40, 180),
        ),
        Cell(
            "loss-30",
            _RTT20.replace(loss=0.30),
            sz(64 * KB, 1 * MB),
            Mode.UPLOAD,
            options=_LOSSY,
            connect_timeout=120,
            limit=lim(15, 180),
        ),
        Cell(
            "burst-mild",
            _RTT100.replace(burst=_GE_MILD),
            sz(256 * KB, 5 * MB),
            options=_LOSSY,
            limit=lim(30, 150),
        ),
        Cell(
            "burst-heavy",
            _RTT20.replace(burst=_GE_HEAVY),
            sz(64 * KB, 1 * MB),
            Mode.UPLOAD,
            options=_LOSSY,
            connect_timeout=120,
            limit=lim(40, 180),
        ),
        Cell("duplicate", _RTT100.replace(duplicate=0.2), sz(512 * KB, 10 * MB), limit=lim(20, 90)),
        Cell(
            "reorder",
            _RTT100.replace(reorder=0.1, reorder_delay=0.08),
            sz(512 * KB, 5 * MB),
            limit=lim(20, 120),
        ),
        Cell(
            "jitter",
            Impairments(delay=0.1, jitter=0.08),
            sz(512 * KB, 5 * MB),
            limit=lim(20, 120),
        ),
        Cell(
            "corrupt",
            _RTT100.replace(corrupt=0.02),
            sz(512 * KB, 10 * MB),
            options=_LOSSY,
            limit=lim(25, 120),
        ),
        Cell(
            "i2p-like",
            Impairments(delay=0.3, jitter=0.03, loss=0.01, duplicate=0.01, reorder=0.01),
            sz(128 * KB, 2 * MB),
            options=_LOSSY,
            limit=lim(30, 180),
        ),
        Cell(
            "download-loss-3",
            _RTT100.replace(loss=0.03),
            sz(256 * KB, 5 * MB),
            Mode.DOWNLOAD,
            options=_LOSSY,
            limit=lim(30, 180),
        ),
        Cell(
            "handshake-syn-lost",
            _RTT20,
            sz(64 * KB, 1 * MB),
            options=_FAST_SYN if quick else _NONE,
            control=DropFirst("syn"),
            limit=lim(20, 60),
        ),
        Cell(
            "handshake-syn-reply-lost",
            _RTT20,
            sz(64 * KB, 1 * MB),
            options=_FAST_SYN if quick else _NONE,
            control=DropFirst("syn-reply"),
            limit=lim(20, 60),
        ),
        Cell(
            "blackhole-short",
            _RTT20,
            sz(256 * KB, 10 * MB),
            Mode.UPLOAD,
            control=Blackhole(at=0.3, duration=sz(1, 3)),
            limit=lim(30, 90),
        ),
        Cell(
            "blackhole-long",
            _RTT20,
            sz(1 * MB, 10 * MB),
            Mode.UPLOAD,
            options=_GIVE_UP,
            control=Blackhole(at=0.3, duration=None),
            limit=lim(40, 90),
            expect=_DEAD,
            expect_text="retransmissions",
        ),
        Cell(
            "router-stop",
            _RTT20,
            sz(1 * MB, 10 * MB),
            Mode.UPLOAD,
            control=StopRouter(at=0.3),
            limit=lim(20, 60),
            expect=_DEAD,
            expect_text="router",
        ),
        Cell(
            "router-kill",
            _RTT20,
            sz(1 * MB, 10 * MB),
            Mode.UPLOAD,
            control=KillRouter(at=0.3),
            limit=lim(20, 60),
            expect=_DEAD,
            expect_text="router",
        ),
        Cell(
            "streams-100",
            _RTT20,
            sz(16 * KB, 512 * KB),
            streams=100,
            limit=lim(40, 180),
        ),
        Cell(
            "streams-100-backlog-128",
            _RTT20,
            sz(16 * KB, 512 * KB),
            streams=100,
            backlog=128,
            limit=lim(40, 180),
        ),
        Cell(
            "halfclose-client-first-loss-3",
            _RTT100.replace(loss=0.03),
            sz(128 * KB, 2 * MB),
            Mode.UPLOAD,
            reply=sz(64 * KB, 1 * MB),
            options=_LOSSY,
            limit=lim(30, 120),
        ),
        Cell(
            "halfclose-server-first-loss-3",
            _RTT100.replace(loss=0.03),
            sz(128 * KB, 2 * MB),
            Mode.SERVER_FIRST,
            reply=sz(64 * KB, 1 * MB),
            options=_LOSSY,
            limit=lim(30, 120),
        ),
    ]
    if not quick:
        cells += [
            Cell(
                "loss-3-50m",
                Impairments(delay=0.01, loss=0.03),
                50 * MB,
                Mode.UPLOAD,
                options=_LOSSY,
                limit=300,
            ),
            Cell(
                "handshake-loss-50",
                _RTT20,
                256 * KB,
                streams=10,
                control=HandshakeImpairments(_RTT20.replace(loss=0.5)),
                limit=150,
            ),
            Cell(
                "streams-100-loss-1",
                _RTT20.replace(loss=0.01),
                128 * KB,
                streams=100,
                backlog=128,
                options=_LOSSY,
                limit=240,
            ),
        ]
    return tuple(cells)


#: The short matrix (``make test``) and the full one (``make reliability``).
QUICK: tuple[Cell, ...] = _matrix(quick=True)
FULL: tuple[Cell, ...] = _matrix(quick=False)


def cells_by_name(table: tuple[Cell, ...], names: str) -> tuple[Cell, ...]:
    """The cells of ``table`` named in the comma-separated ``names`` (empty: all). Raises
    ``ValueError`` naming an unknown cell."""
    if not names.strip():
        return table
    index = {c.name: c for c in table}
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in index]
    if unknown:
        raise ValueError(f"unknown cells {unknown}; known: {', '.join(index)}")
    return tuple(index[n] for n in wanted)

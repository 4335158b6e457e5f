"""A real i2pd router on loopback for the interop tests (marker ``i2pd``).

Two flavours: ``newest`` (the default of every ``i2pd`` test: env ``I2PD_BINARY``, else
``scripts/install-i2pd newest``'s ``.cache/i2pd-newest/bin/i2pd`` (Debian unstable, 2.59 today),
else the stable one) and ``stable`` (env ``I2PD_STABLE_BINARY``, else ``.cache/i2pd/bin/i2pd``
(Debian trixie, 2.56), else i2pd on PATH). The interop subset (marker ``i2pd_versions``) runs
against both.
Each instance gets a fresh data directory and free loopback ports, runs as its own
floodfill with NTCP2 on 127.0.0.1 only (no SSU2, no reseed, no clock sync), and offers SAM
and I2CP.  See /work/shared/reference/i2pd-offline.md for why each setting is there.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from tests.support.sam import SAMSession

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_WRAPPER = REPO_ROOT / ".cache" / "i2pd" / "bin" / "i2pd"
CACHE_CERTS = REPO_ROOT / ".cache" / "i2pd" / "prefix" / "usr" / "share" / "i2pd" / "certificates"
NEWEST_WRAPPER = REPO_ROOT / ".cache" / "i2pd-newest" / "bin" / "i2pd"
NEWEST_CERTS = (
    REPO_ROOT / ".cache" / "i2pd-newest" / "prefix" / "usr" / "share" / "i2pd" / "certificates"
)
#: The i2pd flavours the tests know: the default one first.
FLAVOURS = ("newest", "stable")
SYSTEM_CERTS = Path("/usr/share/i2pd/certificates")
MIN_VERSION = (2, 51)
HOST = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
MISSING_REASON = "i2pd not installed: run scripts/install-i2pd"


class I2pdStartError(RuntimeError):
    """i2pd exited or did not open its SAM and I2CP ports in time (message has its log tail)."""


@dataclass(frozen=True, slots=True)
class I2pdBinary:
    """How to run one i2pd: the command prefix, its certificates folder and its version."""

    command: tuple[str, ...]
    certsdir: Path | None
    version: str  # e.g. "2.56.0"


@dataclass
class I2pdInstance:
    """One running i2pd; all services listen on ``host`` (127.0.0.1)."""

    host: str
    i2cp_port: int
    sam_port: int
    http_port: int
    ntcp2_port: int
    datadir: Path
    version: str
    process: subprocess.Popen[bytes]

    @property
    def i2cp_address(self) -> tuple[str, int]:
        return (self.host, self.i2cp_port)

    @property
    def sam_address(self) -> tuple[str, int]:
        return (self.host, self.sam_port)

    def alive(self) -> bool:
        """True while the i2pd process has not exited."""
        return self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of i2pd's log file and of its stdout/stderr, for failure messages."""
        return _log_tail(self.datadir, lines)


# --- finding the binary ---------------------------------------------------------------------


def _version_of(command: tuple[str, ...]) -> str | None:
    """The "X.Y.Z" from ``i2pd --version``, or None if it does not run."""
    try:
        done = subprocess.run([*command, "--version"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(rb"i2pd version (\d+(?:\.\d+)+)", done.stdout + done.stderr)
    return match.group(1).decode() if match else None


def _new_enough(version: str) -> bool:
    parts = tuple(int(p) for p in version.split("."))
    return parts[:2] >= MIN_VERSION


def _candidates(flavour: str) -> list[tuple[Path, Path | None]]:
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown i2pd flavour {flavour!r} (known: {', '.join(FLAVOURS)})")
    candidates: list[tuple[Path, Path | None]] = []
    if flavour == "newest":
        if override := os.environ.get("I2PD_BINARY"):
            candidates.append((Path(override), SYSTEM_CERTS))
        candidates.append((NEWEST_WRAPPER, NEWEST_CERTS))
    elif override := os.environ.get("I2PD_STABLE_BINARY"):
        candidates.append((Path(override), SYSTEM_CERTS))
    candidates.append((CACHE_WRAPPER, CACHE_CERTS))
    if on_path := shutil.which("i2pd"):
        candidates.append((Path(on_path), SYSTEM_CERTS))
    return candidates


def find_i2pd(flavour: str = "newest") -> I2pdBinary | None:
    """The i2pd of ``flavour`` (see the module docstring for where each is looked for).

    Returns None when none is found or the one found is older than 2.51 (2.45 cannot read
    its own LeaseSet2s, see the offline recipe).
    """
    for path, certs in _candidates(flavour):
        if not (path.is_file() and os.access(path, os.X_OK)):
            continue
        command = (str(path),)
        version = _version_of(command)
        if version is not None and _new_enough(version):
            return I2pdBinary(command, certs if certs and certs.is_dir() else None, version)
    return None


def _missing(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: a missing i2pd is a failure)")
    pytest.skip(reason)


def require_i2pd(flavour: str = "newest") -> I2pdBinary:
    """``find_i2pd(flavour)``, or skip the test (locally) / fail it (env CI == "true").

    The ``stable`` flavour also needs a binary of another version than the newest one: a run
    against the same binary twice proves nothing, so it skips (fails under CI) too.
    """
    binary = find_i2pd(flavour)
    if binary is None:
        _missing(MISSING_REASON if flavour == "newest" else f"{MISSING_REASON} ({flavour})")
    if flavour != "newest":
        newest = find_i2pd("newest")
        if newest is not None and newest.version == binary.version:
            _missing(
                f"no {flavour} i2pd besides the newest ({binary.version}): "
                f"run scripts/install-i2pd {flavour} and scripts/install-i2pd newest"
            )
    return binary


# --- ports and configuration ----------------------------------------------------------------


def _free_tcp_port(reserved: set[int]) -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = int(s.getsockname()[1])
        if port not in reserved:
            return port


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_sam_port(reserved: set[int]) -> int:
    """A TCP port whose port-1 is free for UDP too (SAM binds UDP there)."""
    for _ in range(100):
        port = _free_tcp_port(reserved)
        if port - 1 > 1024 and port - 1 not in reserved and _udp_free(port - 1):
            return port
    raise I2pdStartError("no free TCP port p with UDP p-1 free on 127.0.0.1")


def _config(datadir: Path, certsdir: Path | None, ports: dict[str, int]) -> str:
    certs = f"certsdir = {certsdir}\n" if certsdir is not None else ""
    return f"""\
log = file
logfile = {datadir / "i2pd.log"}
loglevel = info
tunconf = {datadir / "tunnels.conf"}
tunnelsdir = {datadir / "tunnels.d"}
{certs}pidfile = {datadir / "i2pd.pid"}
daemon = false
host = {HOST}
ipv4 = true
ipv6 = false
address4 = {HOST}
nat = false
reservedrange = false
floodfill = true
bandwidth = X

[ntcp2]
enabled = true
published = true
port = {ports["ntcp2"]}
[ssu2]
enabled = false
[http]
enabled = true
address = {HOST}
port = {ports["http"]}
[sam]
enabled = true
address = {HOST}
port = {ports["sam"]}
[i2cp]
enabled = true
address = {HOST}
port = {ports["i2cp"]}
[httpproxy]
enabled = false
[socksproxy]
enabled = false
[bob]
enabled = false
[i2pcontrol]
enabled = false
[upnp]
enabled = false
[reseed]
verify = false
urls =
yggurls =
threshold = 0
[addressbook]
enabled = true
defaulturl =
subscriptions =
[nettime]
enabled = false
frompeers = false
[meshnets]
yggdrasil = false
"""


def _log_tail(datadir: Path, lines: int) -> str:
    parts = []
    for name in ("i2pd.log", "stdout.log"):
        path = datadir / name
        with contextlib.suppress(OSError):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path} (last {len(text)} lines)\n" + "\n".join(text))
    return "\n".join(parts) or f"(no log in {datadir})"


_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: SIGTERM i2pd if the test process dies without stopping it."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG (kept across exec)


def _accepts(address: tuple[str, int]) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        return s.connect_ex(address) == 0


# --- start and stop -------------------------------------------------------------------------


def start_i2pd(binary: I2pdBinary, base_dir: Path) -> I2pdInstance:
    """Start i2pd in a new data directory under ``base_dir`` and wait for SAM and I2CP.

    Raises I2pdStartError (with the log tail) if it exits or its ports do not accept
    within START_TIMEOUT seconds; the process is stopped first.
    """
    base_dir.mkdir(parents=True, exist_ok=True)
    datadir = Path(tempfile.mkdtemp(prefix="i2pd-", dir=base_dir))
    (datadir / "tunnels.conf").write_text("")
    (datadir / "tunnels.d").mkdir()
    reserved: set[int] = set()
    ports: dict[str, int] = {}
    ports["sam"] = _free_sam_port(reserved)
    reserved |= {ports["sam"], ports["sam"] - 1}
    for name in ("i2cp", "http", "ntcp2"):
        ports[name] = _free_tcp_port(reserved)
        reserved.add(ports[name])
    conf = datadir / "i2pd.conf"
    conf.write_text(_config(datadir, binary.certsdir, ports))
    with (datadir / "stdout.log").open("wb") as out:
        process = subprocess.Popen(
            [*binary.command, f"--datadir={datadir}", f"--conf={conf}"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # no terminal SIGINT (i2pd's slow graceful shutdown)
            # The death signal fires when the forking *thread* ends: main thread only.
            preexec_fn=_die_with_parent
            if threading.current_thread() is threading.main_thread()
            else None,
        )
    inst = I2pdInstance(
        host=HOST,
        i2cp_port=ports["i2cp"],
        sam_port=ports["sam"],
        http_port=ports["http"],
        ntcp2_port=ports["ntcp2"],
        datadir=datadir,
        version=binary.version,
        process=process,
    )
    deadline = time.monotonic() + START_TIMEOUT
    waiting = [inst.sam_address, inst.i2cp_address]
    while waiting:
        if not inst.alive():
            raise I2pdStartError(
                f"i2pd exited with code {process.returncode} during start-up\n{inst.log_tail()}"
            )
        waiting = [address for address in waiting if not _accepts(address)]
        if not waiting:
            break
        if time.monotonic() > deadline:
            stop_i2pd(inst)
            raise I2pdStartError(
                f"i2pd did not accept on {waiting} within {START_TIMEOUT} s\n{inst.log_tail()}"
            )
        # Not a synchronisation sleep: the bounded wait for the exit of the process doubles
        # as the poll interval for the ports.
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.02)
    return inst


def stop_i2pd(inst: I2pdInstance, timeout: float = STOP_TIMEOUT) -> int | None:
    """SIGTERM the i2pd by pid, wait up to ``timeout`` s, then SIGKILL; returns its exit code."""
    process = inst.process
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
    return process.returncode


class I2pdManager:
    """One shared i2pd of ``flavour`` for a test session: started on first ``get()``,
    restarted if it died.

    ``generation`` counts the starts, so users can tell that the router was replaced.
    """

    def __init__(self, base_dir: Path, flavour: str = "newest") -> None:
        self.base_dir = base_dir
        self.flavour = flavour
        self.generation = 0
        self.deaths: list[str] = []  # log tails of instances that died under the tests
        self._instance: I2pdInstance | None = None
        self._binary: I2pdBinary | None = None
        self._sam: SAMSession | None = None
        self._sam_generation = 0
        # the first SAM session, created in the background from the first start on
        self._sam_soon: tuple[int, Future[SAMSession]] | None = None

    def get(self) -> I2pdInstance:
        """An alive i2pd: skips/fails via require_i2pd() when none is installed."""
        inst = self._instance
        if inst is not None and inst.alive():
            return inst
        if inst is not None:
            tail = inst.log_tail(20)
            self.deaths.append(tail)
            print(
                f"\ni2pd (pid {inst.process.pid}) died with code {inst.process.returncode};"
                f" starting a fresh one\n{tail}",
                file=sys.stderr,
            )
            self._instance = None
        if self._binary is None:
            self._binary = require_i2pd(self.flavour)
        self._instance = start_i2pd(self._binary, self.base_dir)
        self.generation += 1
        if self._sam is None and self._sam_soon is None:
            self._sam_soon = (self.generation, SAMSession.create_soon(self._instance.sam_address))
        return self._instance

    @property
    def current(self) -> I2pdInstance | None:
        """The last started instance (alive or not), without starting one."""
        return self._instance

    def sam_session(self) -> SAMSession:
        """The shared zero-hop SAM STREAM session on the current i2pd.

        Created in the background when i2pd first starts (its creation takes seconds) and
        taken on first use; recreated in place (same keys, so the same destination) when
        i2pd was restarted or the bridge closed it.
        """
        inst = self.get()
        if self._sam is None and self._sam_soon is not None:
            (generation, soon), self._sam_soon = self._sam_soon, None
            with contextlib.suppress(Exception):  # failed: created again just below
                self._sam, self._sam_generation = soon.result(), generation
        if self._sam is None:
            self._sam = SAMSession.create(inst.sam_address)
        elif self._sam_generation != self.generation or not self._sam.alive():
            self._sam.recreate(inst.sam_address)
        self._sam_generation = self.generation
        return self._sam

    def stop(self) -> None:
        """Close the shared SAM session, then stop the current instance, if any."""
        if self._sam_soon is not None:  # never taken: close it once made (or i2pd stops)
            self._sam_soon[1].add_done_callback(_close_made)
            self._sam_soon = None
        if self._sam is not None:
            with contextlib.suppress(OSError):
                self._sam.close()
            self._sam = None
        if self._instance is not None:
            stop_i2pd(self._instance)
            self._instance = None


def _close_made(future: Future[SAMSession]) -> None:
    if future.exception() is None:
        with contextlib.suppress(OSError):
            future.result().close()


class I2pdManagers:
    """The session's i2pd managers, one per flavour, created on first use."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self._factory = factory
        self._managers: dict[str, I2pdManager] = {}

    def get(self, flavour: str) -> I2pdManager:
        if flavour not in self._managers:
            self._managers[flavour] = I2pdManager(self._factory.mktemp(f"i2pd-{flavour}"), flavour)
        return self._managers[flavour]

    def stop(self) -> None:
        for manager in self._managers.values():
            manager.stop()

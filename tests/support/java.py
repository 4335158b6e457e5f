"""Java I2P as a test peer: find a built Java I2P (``JAVA_I2P_HOME``), compile
``tests/java/JavaPeer.java`` against its jars, run it as an asyncio subprocess. Shared by the
``java`` ring (``tests/java/``) and ``benchmarks/paths.py --peer java``.

Nothing of Java I2P lives in the checkout: ``JAVA_I2P_HOME`` points at a build made per
``docs/java-interop.md`` (jars in ``$JAVA_I2P_HOME/src/build``, ``$JAVA_I2P_HOME/build`` or
``$JAVA_I2P_HOME/lib``). :func:`java_home` returns None when it is unset or incomplete, and the
ring skips (also under CI).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["JavaInstall", "JavaPeer", "JavaProcess", "compile_peer", "java_home"]

#: the jars the streaming peer needs; a router adds router.jar and sam.jar.
STREAMING_JARS = ("i2p.jar", "mstreaming.jar", "streaming.jar")
ROUTER_JARS = ("i2p.jar", "router.jar", "mstreaming.jar", "streaming.jar", "sam.jar")
SOURCE = Path(__file__).resolve().parents[1] / "java" / "JavaPeer.java"


@dataclass(frozen=True, slots=True)
class JavaInstall:
    """Where the Java I2P jars are."""

    jar_dir: Path

    def classpath(self, jars: tuple[str, ...] = STREAMING_JARS, *extra: Path) -> str:
        return os.pathsep.join([*(str(p) for p in extra), *(str(self.jar_dir / j) for j in jars)])


def java_home() -> JavaInstall | None:
    """The Java I2P build ``JAVA_I2P_HOME`` names, or None (unset, or jars or java missing)."""
    home = os.environ.get("JAVA_I2P_HOME")
    if not home or shutil.which("java") is None or shutil.which("javac") is None:
        return None
    for candidate in (Path(home) / "src" / "build", Path(home) / "build", Path(home) / "lib"):
        if all((candidate / jar).is_file() for jar in ROUTER_JARS):
            return JavaInstall(candidate)
    return None


def compile_peer(install: JavaInstall, out_dir: Path) -> Path:
    """Compile JavaPeer.java into ``out_dir``; return the directory (for the classpath)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["javac", "-Xlint:none", "-d", str(out_dir), "-cp", install.classpath(), str(SOURCE)],
        check=True,
        timeout=120,
        capture_output=True,
    )
    return out_dir


class JavaProcess:
    """One running JavaPeer: read its tagged output lines, wait for its exit."""

    def __init__(self, proc: asyncio.subprocess.Process, argv: list[str], log: Path) -> None:
        self.proc = proc
        self.argv = argv
        self.log = log
        self.lines: list[str] = []
        self.close_errors = 0

    def log_tail(self, lines: int = 30) -> str:
        """The end of the process's stderr (Java's own log lines and stack traces)."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def line(self, tag: str, timeout: float = 60.0) -> str:
        """The rest of the next output line starting ``tag`` (earlier lines are kept);
        raises AssertionError on an ``ERR`` line or EOF, TimeoutError after ``timeout``."""
        async with asyncio.timeout(timeout):
            while True:
                text = await self.next_line()
                if text is None:
                    raise AssertionError(f"JavaPeer exited before {tag}: {self.lines}")
                if text.startswith("ERR "):
                    raise AssertionError(f"JavaPeer {self.argv[0]}: {text}\n{self.log_tail()}")
                if text.startswith(tag + " "):
                    return text[len(tag) + 1 :]

    async def next_line(self) -> str | None:
        """The next output line whatever its tag (kept in :attr:`lines`), None at EOF."""
        assert self.proc.stdout is not None
        raw = await self.proc.stdout.readline()
        if not raw:
            return None
        text = raw.decode(errors="replace").rstrip("\n")
        self.lines.append(text)
        return text

    async def result(self, timeout: float = 60.0) -> tuple[int, int]:
        """``(bytes or count, milliseconds)`` from the OK line, then the exit status 0. A
        server's OK line also counts the close() calls that threw after a complete exchange
        (:attr:`close_errors`, a Java defect, see JavaPeer.echo)."""
        fields = (await self.line("OK", timeout)).split()
        self.close_errors = int(fields[2]) if len(fields) > 2 else 0
        assert await self.wait(timeout) == 0, self.lines
        return int(fields[0]), int(fields[1])

    async def wait(self, timeout: float = 60.0) -> int:
        async with asyncio.timeout(timeout):
            return await self.proc.wait()

    async def stop(self) -> None:
        """Kill it if still running (test teardown)."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()


class JavaPeer:
    """Starts JavaPeer processes against an I2CP router; every process is killed at
    :meth:`close`."""

    def __init__(self, install: JavaInstall, classes: Path) -> None:
        self.install = install
        self.classes = classes
        self.running: list[JavaProcess] = []

    async def start(
        self,
        mode: str,
        router: tuple[str, int],
        *args: str,
        options: Mapping[str, str] | None = None,
    ) -> JavaProcess:
        """Run ``JavaPeer MODE HOST PORT ARGS...``; ``options`` become I2CP/streaming options
        (``-Dpeer.KEY=VALUE``); none by default, so Java's defaults are what runs."""
        props = [f"-Dpeer.{k}={v}" for k, v in (options or {}).items()]
        argv = [mode, router[0], str(router[1]), *args]
        stderr = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed once the child has it
            dir=self.classes, prefix=f"{mode}-", suffix=".log", delete=False
        )
        log = Path(stderr.name)
        proc = await asyncio.create_subprocess_exec(
            "java",
            "-Xss512k",
            "-XX:TieredStopAtLevel=1",
            *props,
            "-cp",
            self.install.classpath(STREAMING_JARS, self.classes),
            "JavaPeer",
            *argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            cwd=self.classes,  # Java's client library writes logs/ into its working directory
        )
        stderr.close()
        process = JavaProcess(proc, argv, log)
        self.running.append(process)
        return process

    async def close(self) -> None:
        for process in self.running:
            await process.stop()
        self.running.clear()

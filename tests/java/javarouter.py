"""A real Java I2P router (with its SAM bridge) on loopback for the ``java`` ring.

One run directory per router (under pytest's tmp dir, outside the checkout), configured as
``docs/java-interop.md`` says: reseed off, floodfill, zero-hop pools, NTCP2/SSU2 on 127.0.0.1
only, free I2CP/SAM ports. :func:`start_java_router` waits until I2CP and SAM accept
connections; :meth:`JavaRouter.stop` sends SIGTERM and waits (then kills).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.java import ROUTER_JARS, JavaInstall

__all__ = ["JavaRouter", "start_java_router"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


@dataclass
class JavaRouter:
    """A running Java router: its I2CP and SAM addresses, run directory and process."""

    run_dir: Path
    i2cp_port: int
    sam_port: int
    process: subprocess.Popen[bytes]

    @property
    def i2cp_address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.i2cp_port)

    @property
    def sam_address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.sam_port)

    def log_tail(self, lines: int = 30) -> str:
        texts = []
        for name in ("stdout.log", "wrapper.log"):
            with contextlib.suppress(OSError):
                texts.extend((self.run_dir / name).read_text(errors="replace").splitlines())
        return "\n".join(texts[-lines:])

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (Java stops in about 10 s), then SIGKILL after ``timeout``."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _router_config(i2cp: int, transport: int) -> str:
    settings = {
        "router.reseedDisable": "true",
        "router.floodfillParticipant": "true",
        "router.inboundPool.length": "0",
        "router.outboundPool.length": "0",
        "time.disabled": "true",
        "i2np.allowLocal": "true",
        "i2np.upnp.enable": "false",
        "i2np.ntcp.ipv6": "false",
        "i2np.udp.ipv6": "false",
        "i2np.ntcp.hostname": "127.0.0.1",
        "i2np.ntcp.port": str(transport),
        "i2np.ntcp.autoip": "false",
        "i2np.ntcp.bindInterface": "127.0.0.1",
        "i2np.udp.host": "127.0.0.1",
        "i2np.udp.port": str(transport),
        "i2np.udp.bindInterface": "127.0.0.1",
        "i2np.udp.addressSources": "ssu",
        "router.rejectStartupTime": "0",
        "router.newsRefreshFrequency": "0",
        "router.blocklist.enable": "false",
        "i2np.bandwidth.inboundKBytesPerSecond": "200000",
        "i2np.bandwidth.outboundKBytesPerSecond": "200000",
        "i2np.bandwidth.inboundBurstKBytesPerSecond": "200000",
        "i2np.bandwidth.outboundBurstKBytesPerSecond": "200000",
        "i2cp.hostname": "127.0.0.1",
        "i2cp.port": str(i2cp),
    }
    return "".join(f"{k}={v}\n" for k, v in settings.items())


def start_java_router(install: JavaInstall, run_dir: Path, timeout: float = 60.0) -> JavaRouter:
    """Configure ``run_dir`` and start a router; return once I2CP and SAM accept.

    Raises ``RuntimeError`` (with the log tail) if it exits or does not open its ports in
    ``timeout`` seconds."""
    i2cp, sam, udp, transport = (_free_port() for _ in range(4))
    (run_dir / "clients.config.d").mkdir(parents=True, exist_ok=True)
    (run_dir / "router.config").write_text(_router_config(i2cp, transport))
    (run_dir / "clients.config.d" / "00-SAM.config").write_text(
        "clientApp.0.main=net.i2p.sam.SAMBridge\n"
        "clientApp.0.name=SAM\n"
        f"clientApp.0.args=sam.keys 127.0.0.1 {sam} i2cp.tcp.host=127.0.0.1 "
        f"i2cp.tcp.port={i2cp} sam.udp.host=127.0.0.1 sam.udp.port={udp}\n"
        "clientApp.0.startOnLoad=true\n"
        "clientApp.0.delay=0\n"
    )
    dirs = [
        f"-Di2p.dir.{kind}={run_dir}" for kind in ("base", "config", "router", "log", "pid", "app")
    ]
    out = (run_dir / "stdout.log").open("wb")
    process = subprocess.Popen(
        ["java", *dirs, "-cp", install.classpath(ROUTER_JARS), "net.i2p.router.RouterLaunch"],
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=run_dir,
        start_new_session=True,
    )
    out.close()
    router = JavaRouter(run_dir, i2cp, sam, process)
    deadline = time.monotonic() + timeout
    while not (_accepts(i2cp) and _accepts(sam)):  # startup readiness, not synchronisation
        if process.poll() is not None or time.monotonic() > deadline:
            router.stop()
            raise RuntimeError(f"the Java router did not start:\n{router.log_tail()}")
        time.sleep(0.25)
    return router

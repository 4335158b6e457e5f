"""A small blocking SAM v3 client for the i2pd interop tests.

Every call opens its own TCP connection to the SAM bridge and blocks; it is safe to use
from threads or through ``asyncio.to_thread``.  Replies that are not ``RESULT=OK`` raise
SAMError with the bridge's RESULT and MESSAGE.

i2pd notes (see /work/shared/reference/i2pd-offline.md): SESSION CREATE takes 6-15 s; close
stream sockets before the session socket (``SAMSession.close`` does that); session ids must
be unique (the default nickname is).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import os
import re
import secrets
import socket
import threading
from concurrent.futures import Future
from types import TracebackType

ZERO_HOP = {
    "inbound.length": "0",
    "outbound.length": "0",
    "inbound.quantity": "1",
    "outbound.quantity": "1",
}
MAX_LINE = 65536
_TOKEN = re.compile(r'\s*(?:([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)|(\S+))')
_counter = itertools.count(1)

Address = tuple[str, int]


class SAMError(Exception):
    """The SAM bridge refused a command or closed the connection."""


def i2p_b64decode(text: str) -> bytes:
    """Decode I2P base64 (alphabet ``A-Za-z0-9-~``)."""
    return base64.b64decode(text.encode("ascii"), altchars=b"-~", validate=True)


def i2p_b64encode(data: bytes) -> str:
    """Encode bytes as I2P base64."""
    return base64.b64encode(data, altchars=b"-~").decode("ascii")


def public_of(private_key: str) -> str:
    """The destination (base64) at the start of a SAM PRIV blob.

    A destination is 384 bytes of keys and a certificate (type, 2-byte length, payload).
    """
    raw = i2p_b64decode(private_key)
    if len(raw) < 387:
        raise SAMError(f"private key blob too short ({len(raw)} bytes)")
    cert_len = int.from_bytes(raw[385:387], "big")
    return i2p_b64encode(raw[: 387 + cert_len])


def parse_reply(line: str) -> tuple[list[str], dict[str, str]]:
    """Split a SAM line into its bare words and its KEY=VALUE pairs (quotes removed)."""
    words: list[str] = []
    pairs: dict[str, str] = {}
    for match in _TOKEN.finditer(line.strip()):
        key, value, word = match.groups()
        if word is not None:
            words.append(word)
        elif key is not None:
            if value.startswith('"') and value.endswith('"') and len(value) >= 2:
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            pairs[key] = value
    return words, pairs


def read_line(sock: socket.socket, limit: int = MAX_LINE) -> str:
    """Read one ``\\n``-terminated line without consuming any byte after it."""
    line = bytearray()
    while True:
        chunk = sock.recv(min(4096, limit + 1 - len(line)), socket.MSG_PEEK)
        if not chunk:
            raise SAMError(f"SAM bridge closed the connection (after {bytes(line)[:200]!r})")
        end = chunk.find(b"\n")
        want = end + 1 if end >= 0 else len(chunk)
        while want:
            got = sock.recv(want)
            if not got:
                raise SAMError("SAM bridge closed the connection mid-line")
            line += got
            want -= len(got)
        if end >= 0:
            return line.decode("utf-8", errors="replace").rstrip("\r\n")
        if len(line) > limit:
            raise SAMError(f"SAM line longer than {limit} bytes")


def _command(sock: socket.socket, text: str, expect: tuple[str, str]) -> dict[str, str]:
    sock.sendall(text.encode("utf-8") + b"\n")
    words, pairs = parse_reply(read_line(sock))
    if tuple(words[:2]) != expect:
        raise SAMError(f"unexpected SAM reply to {text.split(' ', 2)[:2]}: {words} {pairs}")
    if pairs.get("RESULT", "OK") != "OK":
        message = pairs.get("MESSAGE", "")
        raise SAMError(f"{' '.join(expect)} RESULT={pairs['RESULT']} {message}".rstrip())
    return pairs


def hello(addr: Address, timeout: float = 10.0) -> socket.socket:
    """Connect to the SAM bridge and complete ``HELLO VERSION MIN=3.0 MAX=3.3``.

    Returns the socket (with ``timeout`` set); raises SAMError or OSError.
    """
    sock = socket.create_connection(addr, timeout=timeout)
    try:
        _command(sock, "HELLO VERSION MIN=3.0 MAX=3.3", ("HELLO", "REPLY"))
    except BaseException:
        sock.close()
        raise
    return sock


def dest_generate(addr: Address, sig_type: int) -> tuple[str, str]:
    """``DEST GENERATE SIGNATURE_TYPE=sig_type``: returns (PUB base64, PRIV base64)."""
    with hello(addr) as sock:
        pairs = _command(sock, f"DEST GENERATE SIGNATURE_TYPE={sig_type}", ("DEST", "REPLY"))
    return pairs["PUB"], pairs["PRIV"]


def naming_lookup(addr: Address, name: str) -> str:
    """``NAMING LOOKUP NAME=name``: the destination base64; SAMError if not found."""
    with hello(addr) as sock:
        pairs = _command(sock, f"NAMING LOOKUP NAME={name}", ("NAMING", "REPLY"))
    return pairs["VALUE"]


def _unique_nickname() -> str:
    return f"t{os.getpid()}-{next(_counter)}-{secrets.token_hex(4)}"


class SAMSession:
    """A SAM ``STYLE=STREAM`` session; the control socket stays open while it lives."""

    def __init__(
        self, addr: Address, control: socket.socket, nickname: str, private_key: str
    ) -> None:
        self.addr = addr
        self.nickname = nickname
        self.private_key = private_key
        self.destination = public_of(private_key)
        self._control = control
        self._streams: list[socket.socket] = []

    @classmethod
    def create(
        cls,
        addr: Address,
        *,
        nickname: str | None = None,
        destination: str = "TRANSIENT",
        sig_type: int = 7,
        options: dict[str, str] | None = None,
        timeout: float = 60.0,
    ) -> SAMSession:
        """``SESSION CREATE STYLE=STREAM`` with ZERO_HOP merged under ``options``.

        Blocks until the bridge answers (6-15 s on i2pd: it waits for tunnels and the lease
        set). Raises SAMError (e.g. DUPLICATED_ID) or TimeoutError after ``timeout`` s.
        """
        nickname = nickname or _unique_nickname()
        merged = {**ZERO_HOP, **(options or {})}
        extra = " ".join(f"{key}={value}" for key, value in merged.items())
        control = hello(addr, timeout)
        try:
            pairs = _command(
                control,
                f"SESSION CREATE STYLE=STREAM ID={nickname} DESTINATION={destination}"
                f" SIGNATURE_TYPE={sig_type} {extra}",
                ("SESSION", "STATUS"),
            )
        except BaseException:
            control.close()
            raise
        private_key = pairs.get("DESTINATION", destination)
        return cls(addr, control, nickname, private_key)

    @classmethod
    def create_soon(cls, addr: Address) -> Future[SAMSession]:
        """:meth:`create` (zero-hop, defaults) in a daemon thread: its future (the bridge
        takes seconds to answer, see :meth:`create`; meanwhile the caller goes on)."""
        future: Future[SAMSession] = Future()

        def run() -> None:
            future.set_running_or_notify_cancel()
            try:
                future.set_result(cls.create(addr))
            except BaseException as exc:  # handed to whoever takes the result
                future.set_exception(exc)

        threading.Thread(target=run, name="sam-create", daemon=True).start()
        return future

    def recreate(self, addr: Address, *, timeout: float = 60.0) -> None:
        """Replace a dead session (e.g. after an i2pd restart) in place.

        Uses the same private key, so ``destination`` stays the same; a new nickname.
        """
        self.close()
        fresh = SAMSession.create(addr, destination=self.private_key, timeout=timeout)
        self.addr, self.nickname, self._control = fresh.addr, fresh.nickname, fresh._control

    def alive(self) -> bool:
        """False once the bridge has closed (or we closed) the control socket."""
        if self._control.fileno() == -1:
            return False
        previous = self._control.gettimeout()
        try:
            self._control.setblocking(False)
            return self._control.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            with contextlib.suppress(OSError):
                self._control.settimeout(previous)

    def _track(self, sock: socket.socket) -> None:
        self._streams = [s for s in self._streams if s.fileno() != -1]
        self._streams.append(sock)

    def connect(self, dest: str, *, port: int = 0, timeout: float = 60.0) -> socket.socket:
        """``STREAM CONNECT`` to ``dest`` (base64 or a name); returns the data socket.

        The socket has ``timeout`` set. Raises SAMError (CANT_REACH_PEER, INVALID_KEY, ...).
        """
        sock = hello(self.addr, timeout)
        to_port = f" TO_PORT={port}" if port else ""
        try:
            _command(
                sock,
                f"STREAM CONNECT ID={self.nickname} DESTINATION={dest} SILENT=false{to_port}",
                ("STREAM", "STATUS"),
            )
        except BaseException:
            sock.close()
            raise
        self._track(sock)
        return sock

    def accept(self, *, timeout: float = 60.0) -> tuple[socket.socket, str]:
        """``STREAM ACCEPT``: waits up to ``timeout`` s for one incoming stream.

        Returns (data socket with ``timeout`` set, peer destination base64). Raises SAMError
        or TimeoutError. Call it (in a thread) before the peer connects.
        """
        sock = hello(self.addr, timeout)
        try:
            _command(sock, f"STREAM ACCEPT ID={self.nickname} SILENT=false", ("STREAM", "STATUS"))
            # "<destination base64, may end in '='> [FROM_PORT=n TO_PORT=n]"
            words = read_line(sock).split()
        except BaseException:
            sock.close()
            raise
        if not words:
            sock.close()
            raise SAMError("STREAM ACCEPT: empty peer line")
        self._track(sock)
        return sock, words[0]

    def close(self) -> None:
        """Close our open stream sockets, then the session (i2pd may crash otherwise)."""
        open_streams = [s for s in self._streams if s.fileno() != -1]
        self._streams = []
        for sock in open_streams:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._control.fileno() == -1:
            return
        if open_streams:
            # A round trip through the bridge's thread, so that it has handled the stream
            # closes before the session goes away.
            with contextlib.suppress(OSError, SAMError):
                self._control.settimeout(5.0)
                _command(self._control, "NAMING LOOKUP NAME=ME", ("NAMING", "REPLY"))
        self._control.close()

    def __enter__(self) -> SAMSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

"""SAM v3 datagram sessions for the i2pd interop tests (STYLE=DATAGRAM, RAW, DATAGRAM2,
DATAGRAM3), received by UDP forwarding to a local socket, sent through the bridge's UDP port
(the SAM TCP port - 1 in these tests' i2pd).

Forwarded datagrams of the repliable styles start with one header line, the sender: the
Destination in base64 (DATAGRAM, DATAGRAM2) or the sender's 32-byte hash in base64
(DATAGRAM3); i2pd 2.59 puts no FROM_PORT/TO_PORT there. RAW comes without any header (i2pd
2.59 ignores ``HEADER=true``).
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass

from tests.support.sam import (
    ZERO_HOP,
    Address,
    SAMError,
    _command,
    _unique_nickname,
    hello,
    parse_reply,
    public_of,
)

__all__ = ["SAMDatagram", "SAMDatagramSession"]


@dataclass(frozen=True, slots=True)
class SAMDatagram:
    """One forwarded datagram: the sender of the header line ("" for RAW), any ``KEY=VALUE``
    pairs after it, and the payload."""

    sender: str
    pairs: dict[str, str]
    payload: bytes


class SAMDatagramSession:
    """A SAM datagram session of one ``style``; the control socket stays open while it lives."""

    def __init__(
        self,
        addr: Address,
        control: socket.socket,
        udp: socket.socket,
        nickname: str,
        private_key: str,
        style: str,
    ) -> None:
        self.addr = addr
        self.nickname = nickname
        self.private_key = private_key
        self.destination = public_of(private_key)
        self.style = style
        self._control = control
        self._udp = udp

    @classmethod
    def create(cls, addr: Address, style: str, *, timeout: float = 60.0) -> SAMDatagramSession:
        """``SESSION CREATE STYLE=<style>`` (Ed25519, zero-hop) forwarding to a local UDP
        socket. Raises SAMError when the bridge refuses the style."""
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((addr[0], 0))
        udp_port = udp.getsockname()[1]
        nickname = _unique_nickname()
        extra = " ".join(f"{k}={v}" for k, v in ZERO_HOP.items())
        header = " HEADER=true" if style == "RAW" else ""
        try:
            control = hello(addr, timeout)
        except BaseException:
            udp.close()
            raise
        try:
            pairs = _command(
                control,
                f"SESSION CREATE STYLE={style} ID={nickname} DESTINATION=TRANSIENT"
                f" SIGNATURE_TYPE=7 PORT={udp_port} HOST={addr[0]}{header} {extra}",
                ("SESSION", "STATUS"),
            )
        except BaseException:
            control.close()
            udp.close()
            raise
        return cls(addr, control, udp, nickname, pairs["DESTINATION"], style)

    def sendto(self, dest: str, payload: bytes, *, from_port: int = 0, to_port: int = 0) -> None:
        """One datagram to ``dest`` (base64 or a name) through the bridge's UDP port."""
        ports = f" FROM_PORT={from_port} TO_PORT={to_port}"
        head = f"3.3 {self.nickname} {dest}{ports}\n".encode()
        self._udp.sendto(head + payload, (self.addr[0], self.addr[1] - 1))

    def recv(self, timeout: float) -> SAMDatagram:
        """The next forwarded datagram; TimeoutError after ``timeout``."""
        self._udp.settimeout(timeout)
        data = self._udp.recv(65536)
        if self.style == "RAW":  # i2pd 2.59 forwards RAW without a header, HEADER=true or not
            return SAMDatagram("", {}, data)
        line, sep, payload = data.partition(b"\n")
        if not sep:
            raise SAMError(f"forwarded datagram without a header line: {data[:80]!r}")
        sender, _, rest = line.decode("ascii", "replace").partition(" ")
        _, pairs = parse_reply(rest)
        return SAMDatagram(sender, pairs, payload)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._control.close()
        self._udp.close()

    def __enter__(self) -> SAMDatagramSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""Blocking datagram endpoints: the four kinds with a reply, recvfrom, timeouts, closing."""

from __future__ import annotations

import threading

import pytest

from i2p_streaming.datagrams import DatagramTooLarge
from i2p_streaming.sync import SyncDatagramEndpoint, SyncSession

pytestmark = pytest.mark.timeout(30)


def _answer(server: SyncDatagramEndpoint, raw_peer: str) -> None:
    got = server.recv(timeout=10)
    peer = got.sender if got.sender is not None else raw_peer
    server.sendto(got.data[::-1], (peer, got.src_port))


def test_each_kind_with_a_reply_from_another_thread(
    sessions: tuple[SyncSession, SyncSession],
) -> None:
    a, b = sessions
    for kind in ("repliable", "raw", "datagram2", "datagram3"):
        with (
            b.datagram_endpoint(port=53, kind=kind) as server,
            a.datagram_endpoint(port=54, kind=kind) as client,
        ):
            thread = threading.Thread(target=_answer, args=(server, a.b32))
            thread.start()
            client.sendto(b"olleh", (b.destination, 53))
            data, (sender, port) = client.recvfrom(timeout=10)
            thread.join(10)
            assert data == b"hello" and port == 53, kind
            assert sender == (None if kind == "raw" else b.b32), kind


def test_timeouts_limits_and_close(sessions: tuple[SyncSession, SyncSession]) -> None:
    a, b = sessions
    ep = a.datagram_endpoint(port=1, kind="raw")
    with pytest.raises(TimeoutError):
        ep.recv(timeout=0.05)
    with pytest.raises(DatagramTooLarge, match="limit"):
        ep.sendto(bytes(40000), (b.destination, 1))
    ep.close()
    with pytest.raises(ConnectionError):
        ep.recv(timeout=5)
    again = a.datagram_endpoint(port=1, kind="raw")  # the port is free again
    assert again.port == 1 and again.kind == "raw"

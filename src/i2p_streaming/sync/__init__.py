"""Blocking front end: sessions on a private event-loop thread, socket-like streams.

``with create_session("127.0.0.1:7654") as session:``; ``sock = session.connect(dest, port)``;
``listener = session.listen(port)``; ``conn, peer = listener.accept()``; serve
``http.server``/``socketserver`` handlers with :func:`serve` / :class:`RequestServer`;
datagrams with ``ep = session.datagram_endpoint(port=..., kind=...)``, ``ep.sendto``/``ep.recv``.
"""

from i2p_streaming.sync.datagrams import SyncDatagramEndpoint
from i2p_streaming.sync.server import RequestServer, serve
from i2p_streaming.sync.session import Listener, SyncSession, create_session
from i2p_streaming.sync.socket import StreamSocket

__all__ = [
    "Listener",
    "RequestServer",
    "StreamSocket",
    "SyncDatagramEndpoint",
    "SyncSession",
    "create_session",
    "serve",
]

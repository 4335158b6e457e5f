"""Argument errors of ``tunnel`` and ``proxy``: one line, exit 2, before any network; and an
address already in use is one line, exit 2."""

from __future__ import annotations

import socket

import pytest

from i2p_streaming.cli.__main__ import main
from i2p_streaming.data import PrivateKeys
from i2p_streaming.router import EmbeddedRouter
from tests.cli.helpers import finish, spawn

B32 = PrivateKeys.generate().destination.b32


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["tunnel"], "the following arguments are required: KIND"),
        (["tunnel", "client", "127.0.0.1", B32], "invalid address '127.0.0.1': expected HOST:PORT"),
        (["tunnel", "client", "127.0.0.1:x", B32], "invalid port in '127.0.0.1:x'"),
        (["tunnel", "client", "127.0.0.1:1", "example.com"], "invalid destination 'example.com'"),
        (["tunnel", "client", "127.0.0.1:1", "x.i2p:70000"], "invalid port in 'x.i2p:70000'"),
        (["tunnel", "server", "0", "127.0.0.1:80"], "invalid port '0': must be 1-65535"),
        (["tunnel", "server", "80", "127.0.0.1:0"], "invalid port in '127.0.0.1:0': must be 1"),
        (["tunnel", "server", "80", "h:1", "--max-conns", "0"], "invalid connection count '0'"),
        (["proxy"], "the following arguments are required: KIND"),
        (["proxy", "ftp"], "invalid choice: 'ftp'"),
        (["proxy", "socks", "--listen", "1.2.3.4:99999"], "invalid port in '1.2.3.4:99999'"),
        (["proxy", "http", "--timeout", "0"], "invalid timeout '0': must be more than 0"),
        (["proxy", "http", "--timeout", "soon"], "invalid timeout 'soon': expected seconds"),
    ],
)
def test_argument_errors_are_one_line_and_exit_2(
    argv: list[str], text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert text in captured.err, captured.err
    assert captured.err.count("\n") == 1, captured.err
    assert captured.out == ""


async def test_address_in_use_is_one_line_exit_2(router: EmbeddedRouter) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = await spawn("proxy", "socks", "--listen", f"127.0.0.1:{port}", router=router.address)
        status, out, err = await finish(proc, timeout=30)
    text = err.decode()
    assert (status, out) == (2, b""), text
    assert text.startswith(f"proxy socks: cannot listen on 127.0.0.1:{port}: "), text
    assert text.count("\n") == 1

"""The command-line rows of issue 17's table: one-line argument errors, help text, a router
bound beyond loopback, Ctrl-C in the demo."""

from __future__ import annotations

import asyncio
import signal

import pytest

from i2p_streaming.cli.__main__ import main
from i2p_streaming.cli.router import exposed_warning
from i2p_streaming.data import PrivateKeys
from tests.cli.helpers import finish, read_line, spawn


@pytest.mark.parametrize("port", ["99999", "-1", "http", "80.0"])
def test_router_port_out_of_range_is_one_line_exit_2(
    port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["router", "--port", port])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"argument --port: invalid port {port!r}: must be an integer 0-65535" in err
    assert "Traceback" not in err


def test_router_help_shows_one_percent_sign(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["router", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "probabilities: 0.01 or 1%." in out
    assert "%%" not in out


@pytest.mark.parametrize(
    ("host", "auth", "wanted"),
    [
        ("127.0.0.1", False, None),
        ("::1", False, None),
        ("localhost", False, None),
        ("0.0.0.0", False, "anyone on the network can open sessions on this router (set"),
        ("192.0.2.1", True, "anyone who knows the password on the network"),
    ],
)
def test_exposed_warning(host: str, auth: bool, wanted: str | None) -> None:
    text = exposed_warning(host, 7654, auth)
    if wanted is None:
        assert text is None
    else:
        assert text is not None
        assert text.startswith(f"warning: listening on {host}:7654, not loopback: ")
        assert wanted in text


async def test_router_on_all_addresses_warns_on_stderr() -> None:
    proc = await spawn("router", "--host", "0.0.0.0", "--port", "0", "--status-interval", "0")
    try:
        line = await read_line(proc.stdout)
        assert line.startswith("I2CP router listening on 0.0.0.0:")
        warning = await read_line(proc.stderr)
        assert warning.startswith("warning: listening on 0.0.0.0:")
        assert "anyone on the network can open sessions" in warning
    finally:
        proc.send_signal(signal.SIGINT)
        status, _, _ = await finish(proc)
    assert status == 0


async def test_ctrl_c_in_the_demo_stops_cleanly_within_2_s_with_exit_130() -> None:
    proc = await spawn("demo", "--size", "50MB", "--seed", "1")
    try:
        while "connected in" not in (line := await read_line(proc.stdout, 60)):
            assert line, "the demo ended before connecting"
    except BaseException:
        proc.kill()
        raise
    loop = asyncio.get_running_loop()
    proc.send_signal(signal.SIGINT)
    start = loop.time()
    status, _, err = await finish(proc, timeout=20)
    elapsed = loop.time() - start
    assert status == 130
    assert "Traceback" not in err.decode()
    assert err.decode().strip().endswith("demo interrupted")
    assert elapsed < 2.0


def test_a_misspelt_option_is_one_warning_line(capsys: pytest.CaptureFixture[str]) -> None:
    b32 = PrivateKeys.generate().destination.b32
    status = main(["--router", "127.0.0.1:1", "-o", "inbound.lenght=0", "lookup", b32])
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        "i2p-streaming: warning: unknown session option 'inbound.lenght'; "
        "did you mean 'inbound.length'?"
    )
    assert status == 2  # then the router at port 1 is not there
    assert "cannot use the I2CP router at 127.0.0.1:1" in err[-1]

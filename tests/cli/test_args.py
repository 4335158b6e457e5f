"""Argument errors: one line on stderr, exit 2, before any network."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from i2p_streaming.cli.__main__ import build_parser, main
from i2p_streaming.cli.common import check_destination
from i2p_streaming.data import PrivateKeys
from tests.cli.helpers import cli_env, dash_destination

B32 = PrivateKeys.generate().destination.b32


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["connect", "example.com", "80"], "invalid destination 'example.com'"),
        (["connect", "abc.b32.i2p", "80"], "not a valid .b32.i2p address"),
        (["connect", "bad_name!.i2p", "80"], "invalid host name"),
        (["connect", B32, "0"], "invalid port '0': must be 1-65535"),
        (["connect", B32, "65536"], "invalid port '65536': must be 1-65535"),
        (["connect", B32, "http"], "invalid port 'http': not an integer"),
        (["listen", "-1"], "invalid port '-1'"),
        (["listen", "80", "--once", "--keep"], "not allowed with argument"),
        (
            ["--router", "host:port", "lookup", B32],
            "port 'port' is not a number; expected HOST:PORT",
        ),
        (["--router", ":7654", "lookup", B32], "bad host ''; expected HOST:PORT"),
        (["--router", "h:99999", "lookup", B32], "must be 1-65535; expected HOST:PORT"),
        (["-o", "novalue", "lookup", B32], "invalid option 'novalue': expected KEY=VALUE"),
        (["ping", "-c", "0", B32], "invalid count '0': must be at least 1"),
        (["ping", "-c", "x", B32], "invalid count 'x': not an integer"),
        (["ping", "-W", "300", B32], "invalid duration '300': add a unit"),
        (["ping", "-i", "soon", B32], "invalid duration 'soon'"),
        (["keygen", "k.dat", "--sig-type", "rsa"], "invalid signature type 'rsa'"),
        (["keygen", "k.dat", "--format", "pem"], "invalid choice: 'pem'"),
        (["router", "--name", "x.i2p"], "expected NAME=BASE64DESTINATION"),
        (["router", "--hosts", "/nonexistent/hosts.txt"], "argument --hosts"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_argument_errors_are_one_line_and_exit_2(
    argv: list[str], text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert text in captured.err
    assert captured.err.count("\n") == 1, captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_destinations_accepted_before_any_network() -> None:
    keys = PrivateKeys.generate()
    assert check_destination(f" {keys.destination.b32} ") == keys.destination.b32
    assert check_destination("Site-1.example.i2p") == "Site-1.example.i2p"
    assert check_destination(keys.destination.to_base64()) == keys.destination.to_base64()


def test_a_base64_destination_starting_with_a_dash_is_an_argument() -> None:
    """One destination in 64 starts with ``-`` (a digit of I2P's base64), some with the
    letter of an option too (``-c``, ``-o``): they are arguments wherever a destination goes."""
    parser = build_parser()
    dest = dash_destination().to_base64()
    assert dest.startswith("-")
    assert parser.parse_args(["lookup", dest]).name == dest
    args = parser.parse_args(["-o", "a=b", "ping", dest, "-c", "2"])
    assert (args.dest, args.count, args.options) == (dest, 2, [("a", "b")])
    args = parser.parse_args(["connect", "--timeout", "5", dest, "7"])
    assert (args.dest, args.port, args.timeout) == (dest, 7, 5.0)
    for first in ("-c", "-o", "-W"):  # options of ping and of the top level
        dest = dash_destination(first).to_base64()
        assert parser.parse_args(["ping", dest]).dest == dest
    assert parser.parse_args(["ping", "-c", "3", B32]).count == 3  # options still work


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "i2p_streaming", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_python_dash_m_runs_the_cli() -> None:
    result = _run("--help", env=cli_env())
    assert result.returncode == 0
    for command in ("router", "keygen", "keyinfo", "lookup", "connect", "listen", "ping"):
        assert command in result.stdout


@pytest.mark.parametrize("command", [["lookup", "x.i2p"], ["ping", "-c", "1", "x.i2p"]])
def test_unreachable_router_names_the_address(command: list[str]) -> None:
    port = _closed_port()
    result = _run("--router", f"127.0.0.1:{port}", *command, env=cli_env())
    assert result.returncode == 2
    assert f"cannot use the I2CP router at 127.0.0.1:{port}" in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


def test_router_from_environment_is_checked() -> None:
    env = cli_env()
    env["I2CP_ROUTER"] = "nowhere:xyz"
    result = _run("lookup", "x.i2p", env=env)
    assert result.returncode == 2
    assert "I2CP_ROUTER: router address 'nowhere:xyz'" in result.stderr
    assert result.stderr.count("\n") == 1
    env["I2CP_ROUTER"] = f"127.0.0.1:{_closed_port()}"
    result = _run("lookup", "x.i2p", env=env)
    assert result.returncode == 2
    assert env["I2CP_ROUTER"] in result.stderr


def test_bad_session_option_is_rejected_before_the_router() -> None:
    port = _closed_port()
    result = _run(
        "--router",
        f"127.0.0.1:{port}",
        "-o",
        "i2p.streaming.nonsense=1",
        "lookup",
        "x.i2p",
        env=cli_env(),
    )
    assert result.returncode == 2
    assert result.stderr.startswith("lookup: bad session option: ")
    assert "nonsense" in result.stderr
    assert result.stderr.count("\n") == 1

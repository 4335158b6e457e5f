"""Host names: hosts.txt parsing, ``router --hosts/--name``, lookups through the router."""

from __future__ import annotations

from pathlib import Path

import pytest

from i2p_streaming.aio import create_session
from i2p_streaming.checks import check_host_name
from i2p_streaming.cli.__main__ import build_parser
from i2p_streaming.cli.router import host_names
from i2p_streaming.data import PrivateKeys
from i2p_streaming.errors import DestinationLookupError
from i2p_streaming.router import EmbeddedRouter, server
from i2p_streaming.router.hosts import load_hosts, parse_hosts

A = PrivateKeys.generate().destination
B = PrivateKeys.generate().destination


def test_parse_hosts_skips_comments_and_extended_properties() -> None:
    text = (
        "# my hosts\n\n"
        f"Alpha.i2p={A.to_base64()}\n"
        f"  beta.example.i2p = {B.to_base64()}#!sig=abc#date=1\n"
        "#disabled.i2p=xyz\n"
    )
    assert parse_hosts(text) == {"alpha.i2p": A, "beta.example.i2p": B}


@pytest.mark.parametrize(
    ("line", "text"),
    [
        ("alpha.i2p", "line 2: invalid host entry"),
        ("alpha.i2p=AAAA", "line 2: invalid destination for 'alpha.i2p'"),
        (f"alpha.com={A.to_base64()}", "line 2: invalid host name 'alpha.com'"),
        (f"{A.b32}={A.to_base64()}", ".b32.i2p addresses need no entry"),
        (f"-x.i2p={A.to_base64()}", "use letters, digits"),
    ],
)
def test_parse_hosts_names_the_bad_line(line: str, text: str) -> None:
    with pytest.raises(ValueError, match=text.replace(".", r"\.")):
        parse_hosts(f"# ok\n{line}\n")


def test_parse_hosts_is_bounded() -> None:
    lines = "".join(f"h{i}.i2p={A.to_base64()}\n" for i in range(4))
    assert len(parse_hosts(lines, limit=4)) == 4
    with pytest.raises(ValueError, match="line 4: more than 3 names"):
        parse_hosts(lines, limit=3)


def test_check_host_name_length() -> None:
    assert check_host_name("A.I2P") == "a.i2p"
    with pytest.raises(ValueError, match="at most 67"):
        check_host_name("a" * 64 + ".i2p")


def test_router_arguments_build_the_name_table(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.txt"
    hosts.write_text(f"a.i2p={A.to_base64()}\nb.i2p={A.to_base64()}\n")
    args = build_parser().parse_args(
        ["router", "--hosts", str(hosts), "--name", f"B.i2p={B.to_base64()}"]
    )
    assert host_names(args) == {"a.i2p": A, "b.i2p": B}
    assert load_hosts(hosts) == {"a.i2p": A, "b.i2p": A}


def test_router_name_table_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "MAX_NAMES", 2)
    router = EmbeddedRouter(names={"a.i2p": A, "b.i2p": B})
    router.register_name("A.i2p", B)  # replacing a name is always allowed
    with pytest.raises(ValueError, match="already knows 2 names"):
        router.register_name("c.i2p", A)
    assert router.names == {"a.i2p": B, "b.i2p": B}
    with pytest.raises(ValueError, match="already knows 2 names"):
        EmbeddedRouter(names={"a.i2p": A, "b.i2p": B, "c.i2p": A})


async def test_session_lookup_resolves_constructor_names() -> None:
    async with EmbeddedRouter(names={"site.i2p": A}) as router:
        host, port = router.address
        async with create_session(f"{host}:{port}") as session:
            assert await session.resolve("SITE.i2p", timeout=10) == A
            with pytest.raises(DestinationLookupError):
                await session.resolve("other.i2p", timeout=10)

"""``tunnel config FILE``: i2pd tunnels.conf parsing (in process: values, defaults, errors
naming FILE:LINE) and one run as a process (server, client, socks and httpproxy sections,
curl through each)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from i2p_streaming.cli.tunnelconf import ConfigError, load_tunnels, parse_tunnels
from i2p_streaming.data import PrivateKeys, SigType
from i2p_streaming.router import EmbeddedRouter
from tests.cli.helpers import cli_env, read_line, spawn
from tests.cli.nethelpers import curl, http_server, listening_port, needs_curl, stop

B32 = "a" * 52

EXAMPLE = f"""\
# outgoing
[IRC]
type = client
address = 127.0.0.2
port = 6668
destination = irc.postman.i2p
destinationport = 6667
keys = irc-keys.dat
inbound.length = 1
i2p.streaming.initialAckDelay = 100

; incoming
[LOCALSITE]
type = server
host = 127.0.0.1
port = 8080
inport = 80
keys = transient
accesslist = {B32}, {"b" * 52}.b32.i2p
signaturetype = 1
gzip = false
"""


def test_example_values_and_defaults() -> None:
    client, server = parse_tunnels(EXAMPLE, "t.conf", "/etc/i2pd")
    assert (client.name, client.kind, client.where) == ("IRC", "client", "t.conf:2")
    assert (client.address, client.port) == ("127.0.0.2", 6668)
    assert (client.destination, client.destination_port) == ("irc.postman.i2p", 6667)
    assert client.keys == "/etc/i2pd/irc-keys.dat"
    assert client.options == (("inbound.length", "1"), ("i2p.streaming.initialAckDelay", "100"))
    assert (server.kind, server.host, server.port, server.inport) == (
        "server",
        "127.0.0.1",
        8080,
        80,
    )
    assert server.keys is None  # transient
    assert server.accesslist == frozenset({B32, "b" * 52})
    assert server.sig_type is SigType.ECDSA_SHA256_P256
    assert server.ignored == ("gzip",)
    (only,) = parse_tunnels("[x]\ntype=client\nport=1\ndestination=x.i2p\n")
    assert (only.address, only.destination_port, only.keys) == ("127.0.0.1", 0, None)
    (srv,) = parse_tunnels("[y]\ntype=server\nhost=::1\nport=22\n")
    assert (srv.inport, srv.accesslist, srv.address) == (22, None, None)
    socks, http = parse_tunnels("[s]\ntype=socks\nport=1\n[h]\ntype=httpproxy\nport=2\n")
    assert (socks.kind, socks.port, http.kind, http.port) == ("socks", 1, "httpproxy", 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "t.conf:1: no [tunnel] section"),
        ("type = client\n", "t.conf:1: 'type' before the first [section]"),
        ("[a]\ntype=client\n\n[a]\n", "t.conf:4: section [a] appears twice"),
        ("[a\n", "t.conf:1: expected [name]"),
        ("[a]\njunk\n", "t.conf:2: expected key = value"),
        ("[a]\nport=1\n", "t.conf:1: [a] needs type = (client, server, socks, httpproxy)"),
        (
            "[a]\n\ntype = http\n",
            "t.conf:3: [a] type = http: not supported here (client, server,",
        ),
        ("[a]\ntype=client\nport=1\n", "t.conf:1: [a] a client tunnel needs destination ="),
        ("[a]\ntype=client\nport=99999\ndestination=x.i2p\n", "t.conf:3: [a] port = '99999'"),
        ("[a]\ntype=client\nport=1\ndestination=x.com\n", "t.conf:4: [a] invalid destination"),
        ("[a]\ntype=server\nport=1\n", "t.conf:1: [a] a server tunnel needs host ="),
        ("[a]\ntype=server\nhost=h\nport=1\ninport=x\n", "t.conf:5: [a] inport = 'x'"),
        (
            "[a]\ntype=server\nhost=h\nport=1\ndestinaton=x\n",
            "t.conf:5: [a] unknown key 'destinaton'",
        ),
        ("[a]\ntype=server\ntype=client\n", "t.conf:3: 'type' given twice in [a]"),
        ("[a]\ntype=server\nhost=h\nport=1\naccesslist=foo\n", "t.conf:5: [a] accesslist: 'foo'"),
        ("[a]\ntype=server\nhost=h\nport=1\nsignaturetype=4\n", "t.conf:5: [a] signaturetype = 4"),
    ],
)
def test_errors_name_file_and_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_tunnels(text, "t.conf")
    assert str(info.value).startswith(message), str(info.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_tunnels(str(tmp_path / "missing.conf"))


def test_bad_file_is_exit_2_in_one_line(tmp_path: Path) -> None:
    conf = tmp_path / "tunnels.conf"
    conf.write_text("[web]\ntype = server\nhost = 127.0.0.1\nport = abc\n")
    done = subprocess.run(
        [sys.executable, "-m", "i2p_streaming", "tunnel", "config", str(conf)],
        capture_output=True,
        env=cli_env(("127.0.0.1", 9)),
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.decode() == (
        f"tunnel config: {conf}:4: [web] port = 'abc': expected a port 1-65535\n"
    )


@needs_curl
@pytest.mark.timeout(120)
async def test_config_runs_a_server_and_a_client(router: EmbeddedRouter, tmp_path: Path) -> None:
    site = tmp_path / "www"
    site.mkdir()
    (site / "index.html").write_bytes(b"from tunnels.conf\n")
    web, web_port = await http_server(site)
    keys = PrivateKeys.generate()
    keys.save(tmp_path / "site.dat")
    router.register_name("conf.i2p", keys.destination)
    conf = tmp_path / "tunnels.conf"
    conf.write_text(
        f"[site]\ntype = server\nhost = 127.0.0.1\nport = {web_port}\ninport = 80\n"
        "keys = site.dat\ngzip = false\n\n"
        "[site-out]\ntype = client\nport = 0\ndestination = conf.i2p\ndestinationport = 80\n"
        "keys = new-client.dat\n\n"
        "[socks]\ntype = socks\nport = 0\nkeys = new-client.dat\n\n"
        "[web-proxy]\ntype = httpproxy\nport = 0\n"
    )
    proc = await spawn("tunnel", "config", str(conf), router=router.address)
    try:
        lines = [await read_line(proc.stderr, 30)]
        while not lines[-1].startswith("[web-proxy]"):
            lines.append(await read_line(proc.stderr, 30))
            assert lines[-1], "the process ended"
        first, second, socks, web_proxy = (line for line in lines if line.startswith("["))
        assert first == f"[site] server {keys.destination.b32} port 80 -> 127.0.0.1:{web_port}\n"
        assert second.endswith(" -> conf.i2p:80\n")
        warnings = "".join(lines)
        assert f"{conf}:1: [site] gzip has no effect here" in warnings
        assert f"{conf}:9: made new keys {tmp_path / 'new-client.dat'}" in warnings
        await router.wait_until(lambda r: r.find(keys.destination.hash) is not None, timeout=20)
        status, out, err = await curl(
            "--noproxy", "*", f"http://127.0.0.1:{listening_port(second)}/"
        )
        assert (status, out) == (0, b"from tunnels.conf\n"), err
        assert socks.startswith("[socks] socks listening on 127.0.0.1:")
        # the same keys as [site-out]: one session (the router refuses a second one)
        assert socks.endswith(
            f" ({PrivateKeys.load(tmp_path / 'new-client.dat').destination.b32})\n"
        )
        assert web_proxy.startswith("[web-proxy] httpproxy listening on 127.0.0.1:")
        for how in (
            ("--socks5-hostname", f"127.0.0.1:{listening_port(socks)}"),
            ("-x", f"http://127.0.0.1:{listening_port(web_proxy)}"),
        ):
            status, out, err = await curl(*how, "http://conf.i2p/")
            assert (status, out) == (0, b"from tunnels.conf\n"), err
        # the client section's missing key file was made (mode 0600), as i2pd does
        made = tmp_path / "new-client.dat"
        assert PrivateKeys.load(made).destination.b32 != keys.destination.b32
        assert made.stat().st_mode & 0o777 == 0o600
    finally:
        status, err = await stop(proc)
        web.kill()
        await web.wait()
    assert status == 130
    assert b"Traceback" not in err

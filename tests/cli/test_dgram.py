"""``dgram listen`` and ``dgram send`` as subprocesses on the embedded router."""

from __future__ import annotations

import pytest

from i2p_streaming.router import EmbeddedRouter
from tests.cli.helpers import finish, read_line, spawn

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("kind", ["repliable", "datagram3"])
async def test_listen_echo_and_send_with_wait(router: EmbeddedRouter, kind: str) -> None:
    listener = await spawn(
        "dgram", "listen", "5353", "--kind", kind, "--echo", "-c", "2", router=router.address
    )
    try:
        first = (await read_line(listener.stdout)).split()
        assert first[0] == "LISTEN" and first[2:] == ["5353", kind]
        b32 = first[1]
        sender = await spawn(
            "dgram",
            "send",
            b32,
            "5353",
            "-k",
            kind,
            "--from-port",
            "99",
            "--wait",
            "1s",
            router=router.address,
        )
        assert sender.stdin is not None
        sender.stdin.write(b"one\ntwo\n")
        sender.stdin.close()
        status, out, err = await finish(sender)
        assert (status, err) == (0, b"")
        answers = out.decode().splitlines()
        assert answers == [f"{b32}:5353 one", f"{b32}:5353 two"]
        status, out, _ = await finish(listener)
        assert status == 0
        lines = out.decode().splitlines()
        senders = {line.split(" ", 1)[0] for line in lines}
        assert len(senders) == 1 and senders.pop().endswith(".b32.i2p:99")
        assert [line.split(" ", 1)[1] for line in lines] == ["one", "two"]
    finally:
        if listener.returncode is None:
            listener.kill()
            await listener.wait()


async def test_send_errors(router: EmbeddedRouter) -> None:
    proc = await spawn("dgram", "send", "nobody.i2p", "1", "-m", "x", router=router.address)
    status, _, err = await finish(proc)
    assert status == 2 and b"nobody.i2p: not found" in err
    listener = await spawn("dgram", "listen", "1", "-c", "1", router=router.address)
    try:
        b32 = (await read_line(listener.stdout)).split()[1]
        big = "x" * 40000
        proc = await spawn("dgram", "send", b32, "1", "-m", big, router=router.address)
        status, _, err = await finish(proc)
        assert status == 2 and b"limit" in err
        proc = await spawn(
            "dgram", "send", b32, "1", "-m", "hi", "--wait", "200ms", router=router.address
        )
        status, out, _ = await finish(proc)
        assert status == 1 and out == b""  # delivered, but listen does not echo
        status, out, _ = await finish(listener)
        (line,) = out.decode().splitlines()
        assert status == 0 and line.endswith(".b32.i2p:0 hi")
    finally:
        if listener.returncode is None:
            listener.kill()
            await listener.wait()

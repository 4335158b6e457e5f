"""``lookup NAME``: host names the router knows, b32 of a live session, base64, not found."""

from __future__ import annotations

from i2p_streaming.aio import create_session
from i2p_streaming.data import PrivateKeys
from i2p_streaming.router import EmbeddedRouter
from tests.cli.helpers import dash_destination, finish, reachable, spawn


async def _lookup(router: EmbeddedRouter, name: str) -> tuple[int, str, str]:
    proc = await spawn("lookup", name, router=router.address)
    status, out, err = await finish(proc)
    return status, out.decode(), err.decode()


async def test_lookup_host_name(router: EmbeddedRouter) -> None:
    dest = PrivateKeys.generate().destination
    router.register_name("site.i2p", dest)
    status, out, err = await _lookup(router, "Site.i2p")
    assert (status, err) == (0, "")
    assert out == f"b32: {dest.b32}\nbase64: {dest.to_base64()}\n"


async def test_lookup_b32_of_a_live_session_and_base64(router: EmbeddedRouter) -> None:
    host, port = router.address
    async with create_session(f"{host}:{port}") as peer:
        await reachable(router, peer)
        status, out, _ = await _lookup(router, peer.b32)
        assert status == 0
        assert out == f"b32: {peer.b32}\nbase64: {peer.destination.to_base64()}\n"
    # one base64 destination in 64 starts with "-": this one does (once taken for an option)
    for other in (PrivateKeys.generate().destination, dash_destination()):
        status, out, _ = await _lookup(router, other.to_base64())
        assert (status, out) == (0, f"b32: {other.b32}\nbase64: {other.to_base64()}\n")


async def test_lookup_not_found_is_exit_2(router: EmbeddedRouter) -> None:
    assert await _lookup(router, "missing.i2p") == (2, "", "lookup: missing.i2p: not found\n")
    gone = PrivateKeys.generate().destination.b32
    assert await _lookup(router, gone) == (2, "", f"lookup: {gone}: not found\n")

"""A keygen file loads in i2pd as a server tunnel's ``keys =`` with the b32 keyinfo prints."""

from __future__ import annotations

import pytest

from i2p_streaming.cli.__main__ import main
from tests.support.i2pd import I2pdInstance
from tests.support.i2pd_console import listed_b32
from tests.support.i2pd_tunnels import add_tunnel

pytestmark = pytest.mark.i2pd

TUNNEL = "cli-keygen-server"


@pytest.mark.timeout(120)
def test_keygen_file_loads_in_i2pd_with_the_same_b32(
    own_i2pd: I2pdInstance, capsys: pytest.CaptureFixture[str]
) -> None:
    # i2pd reads ``keys =`` relative to its data directory
    key_file = own_i2pd.datadir / "cli-keys.dat"
    assert main(["keygen", str(key_file), "--format", "i2pd"]) == 0
    capsys.readouterr()
    assert main(["keyinfo", str(key_file)]) == 0
    b32 = capsys.readouterr().out.splitlines()[0].removeprefix("b32: ")
    add_tunnel(
        own_i2pd, TUNNEL, "type = server\nhost = 127.0.0.1\nport = 8080\nkeys = cli-keys.dat\n"
    )
    assert listed_b32(own_i2pd, TUNNEL) == b32

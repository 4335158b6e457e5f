"""Our LS2, keys and gzip wrapper are right: a hand-built signed SYN reaches i2pd's streaming.

The SYN goes from our I2CP session (protocol 6, ports in the gzip header) to a SAM STREAM
ACCEPT on the same i2pd. i2pd's streaming only hands the stream to the acceptor if it could
decrypt the garlic message (our LS2 X25519 key), unwrap the payload, verify the SYN's signature
and the replay hash (our Destination, our signing key) — so the accept line naming our
destination proves the whole chain.
"""

from __future__ import annotations

import asyncio
import secrets

import pytest

from i2p_streaming.aio import I2CPClient
from i2p_streaming.data import Destination
from i2p_streaming.i2cp import PROTO_STREAMING
from i2p_streaming.streaming.packet import Flags, Packet
from tests.i2cp.conftest import ZERO_HOP
from tests.support.i2pd import I2pdInstance
from tests.support.sam import SAMSession

pytestmark = pytest.mark.i2pd


def _replay_nacks(target: Destination) -> tuple[int, ...]:
    h = target.hash
    return tuple(int.from_bytes(h[i : i + 4], "big") for i in range(0, 32, 4))


@pytest.mark.timeout(120)
async def test_signed_syn_reaches_sam_acceptor(i2pd: I2pdInstance, sam_session: SAMSession) -> None:
    host, port = i2pd.i2cp_address
    acceptor_dest = Destination.from_base64(sam_session.destination)
    accept_task = asyncio.create_task(asyncio.to_thread(sam_session.accept, timeout=60.0))
    async with await I2CPClient.connect(host, port, options=ZERO_HOP, timeout=30) as client:
        syn = Packet(
            send_stream_id=0,
            receive_stream_id=secrets.randbelow(2**32 - 1) + 1,
            sequence_num=0,
            ack_through=0,
            nacks=_replay_nacks(acceptor_dest),
            resend_delay=1,
            flags=Flags.SYNCHRONIZE | Flags.NO_ACK,
            delay=0,
            from_destination=client.destination,
            max_packet_size=1730,
            payload=b"hello i2pd",
        )
        raw = syn.encode_signed(client.keys)
        # Retransmit like a real initiator until the acceptor has it (the first garlic
        # message after a lease set appears can be lost).
        for _ in range(10):
            client.send_nowait(
                acceptor_dest, raw, protocol=PROTO_STREAMING, src_port=0, dst_port=0, compress=True
            )
            done, _ = await asyncio.wait({accept_task}, timeout=3.0)
            if done:
                break
        sock, peer = await asyncio.wait_for(accept_task, timeout=60.0)
        try:
            assert Destination.from_base64(peer) == client.destination
            sock.settimeout(10.0)
            data = await asyncio.to_thread(sock.recv, 64)
            assert data == b"hello i2pd"
        finally:
            sock.close()

"""A pcap capture of a session's streaming packets, for Wireshark and tcpdump.

The session (the I/O shell) feeds it: :meth:`PcapWriter.sent` with each flush's packets and
:meth:`PcapWriter.received` with each streaming payload from the router. Every packet is
written as one IPv6 + TCP frame (link type RAW) so the usual tools follow the streams:

- addresses: ``fd`` followed by the first 15 bytes of the destination's hash, ours and the
  peer's (``fdff::`` when the peer of a packet is not known, e.g. a stray packet);
- ports as a TCP client and server would have them: the side that sent the SYN uses the low
  16 bits of its stream id (an ephemeral port), the side that accepted uses its I2P port;
- sequence numbers in bytes, as TCP counts them (:class:`SeqSpace`): I2P numbers packets,
  so each direction of a stream maps packet numbers to byte offsets (the SYN is 0 and takes
  one number, like a CLOSE, as TCP's SYN and FIN do; data follows at 1); a resend gets the
  offset of its first copy, a bare ACK the next offset to send; the acknowledgement is the
  offset after the last packet received in order (``ack_through``, lowered below the lowest
  NACK), with ACK set unless the packet has NO_ACK; SYN, CLOSE and RESET become SYN, FIN and
  RST. So Wireshark's stream analysis, "Follow TCP Stream" and tcpdump's relative numbers
  work. A packet received after a gap is placed as if the missing ones were as long as the
  longest packet seen (bulk data packets all have the MTU) until the gap fills;
- the payload is written whole; a packet's MTU option becomes TCP's MSS option.

The file is bounded: once ``max_size`` bytes are written, further packets are counted in
:attr:`PcapWriter.dropped` and left out (the file stays valid). Writes go through a 64 KiB
buffer, flushed at each CLOSE or RESET and at :meth:`PcapWriter.close`.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import BinaryIO, TypeVar

from i2p_streaming.errors import DataFormatError
from i2p_streaming.streaming import OutgoingPacket
from i2p_streaming.streaming.packet import CLOSE, NO_ACK, RESET, SYNCHRONIZE, Packet

__all__ = [
    "DEFAULT_MAX_SIZE",
    "LINKTYPE_RAW",
    "PCAP_OPTIONS",
    "PcapWriter",
    "SeqSpace",
    "pcap_address",
    "split_pcap_options",
]

#: pcap link type of raw IP frames (IPv4 or IPv6 by the version nibble).
LINKTYPE_RAW = 101
#: Default bound of a capture file, bytes.
DEFAULT_MAX_SIZE = 100 * 1024 * 1024
#: The session options read here (never sent to the router).
PCAP_OPTIONS = ("pcap", "pcap.maxSize")
#: Streams whose ids and peers the writer remembers (oldest forgotten first).
MAX_STREAMS = 4096
UNKNOWN_PEER = b"\xfd\xff" + bytes(14)

#: Packet numbers a direction keeps offsets for behind its in-order point (resends of
#: older packets, far outside any window, get the in-order offset).
SEQ_HISTORY = 1024

_K = TypeVar("_K")
_V = TypeVar("_V")

_FILE_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, LINKTYPE_RAW)
_RECORD = struct.Struct("<IIII")
_IPV6 = struct.Struct("!IHBB16s16s")
_TCP = struct.Struct("!HHIIBBHHH")
_TCP_FIN, _TCP_SYN, _TCP_RST, _TCP_PSH, _TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def pcap_address(dest_hash: bytes) -> bytes:
    """The pseudo IPv6 address of a destination (by its 32-byte hash): ``fd`` + 15 bytes."""
    return b"\xfd" + dest_hash[:15]


def split_pcap_options(
    options: Mapping[str, str] | None,
) -> tuple[dict[str, str] | None, tuple[str, int] | None]:
    """``options`` without the pcap keys, and ``(file, max_size)`` when ``pcap`` is set.

    ``pcap.maxSize`` is a byte count with an optional unit (``64MB``; default 100 MiB).
    Raises ``ValueError`` for a bad size or ``pcap.maxSize`` without ``pcap``."""
    if options is None:
        return None, None
    rest = {k: v for k, v in options.items() if k not in PCAP_OPTIONS}
    path = options.get("pcap")
    size_text = options.get("pcap.maxSize")
    if path is None:
        if size_text is not None:
            raise ValueError("pcap.maxSize needs pcap=FILE")
        return rest, None
    if not str(path).strip():
        raise ValueError("pcap needs a file name (pcap=FILE)")
    max_size = DEFAULT_MAX_SIZE
    if size_text is not None:
        from i2p_streaming.router.units import parse_size  # dependency-free unit parser

        max_size = parse_size(str(size_text))
    return rest, (str(path), max_size)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)


class SeqSpace:
    """One direction of one stream: I2P packet numbers to TCP byte offsets (bounded)."""

    __slots__ = ("_ahead", "_end", "_known", "_largest", "_starts")

    def __init__(self) -> None:
        self._starts: dict[int, int] = {}  # packet number -> offset, up to _known (recent)
        self._ahead: dict[int, int] = {}  # packet number -> length, beyond a gap
        self._known = -1  # every packet up to this number has been seen
        self._end = 0  # the offset after packet _known
        self._largest = 0  # the longest packet seen: what a missing one is taken to be

    @staticmethod
    def length(p: Packet) -> int:
        """The sequence space packet ``p`` takes: its bytes, and one for a SYN or CLOSE."""
        return len(p.payload) + bool(p.flags & SYNCHRONIZE) + bool(p.flags & CLOSE)

    def place(self, p: Packet) -> int:
        """The TCP sequence number of ``p`` (a packet of this direction); records it."""
        if p.sequence_num == 0 and not p.flags & SYNCHRONIZE:
            return self._end  # a bare ACK: the next offset to send
        seq, size = p.sequence_num, self.length(p)
        self._largest = max(self._largest, len(p.payload))
        start = self._starts.get(seq)
        if start is not None:
            return start
        if seq > self._known and len(self._ahead) < 4 * SEQ_HISTORY:
            self._ahead.setdefault(seq, size)
        while (n := self._known + 1) in self._ahead:
            self._starts[n] = self._end
            self._end += self._ahead.pop(n)
            self._known = n
            self._starts.pop(n - SEQ_HISTORY, None)
        start = self._starts.get(seq)
        if start is not None:
            return start
        if seq <= self._known:  # older than the history
            return self._end
        gap = range(self._known + 1, min(seq, self._known + 4 * SEQ_HISTORY))
        return self._end + sum(self._ahead.get(n, self._largest) for n in gap)

    def ack(self, through: int) -> int:
        """The TCP acknowledgement of every packet up to number ``through``."""
        if through >= self._known:
            return self._end
        return self._starts.get(through + 1, self._end)


class PcapWriter:
    """Writes the packets of one session (its destination hash ``local_hash``) to ``file``.

    ``written`` and ``dropped`` count the packets written and left out (file full, or a
    received payload that is not a streaming packet)."""

    def __init__(self, file: BinaryIO, local_hash: bytes, max_size: int = DEFAULT_MAX_SIZE):
        self._file = file
        self._local = pcap_address(local_hash)
        self._max_size = max(max_size, len(_FILE_HEADER))
        self._size = len(_FILE_HEADER)
        self._opened: OrderedDict[int, None] = OrderedDict()  # our ids of streams we opened
        self._peers: OrderedDict[int, bytes] = OrderedDict()  # our id -> the peer's address
        # per stream (opened: ("c", our id); accepted: ("s", their id)): (ours, theirs)
        self._spaces: OrderedDict[tuple[str, int], tuple[SeqSpace, SeqSpace]] = OrderedDict()
        self._closed = False
        self.written = 0
        self.dropped = 0
        file.write(_FILE_HEADER)

    @classmethod
    def open(cls, path: str, local_hash: bytes, max_size: int = DEFAULT_MAX_SIZE) -> PcapWriter:
        """A writer on a new file at ``path`` (replaced if it exists)."""
        return cls(open(path, "wb", buffering=64 * 1024), local_hash, max_size)

    @property
    def size(self) -> int:
        """Bytes written so far (the file header included)."""
        return self._size

    def sent(self, packets: Iterable[OutgoingPacket], now: float) -> None:
        """Write the packets of one flush (wall-clock time ``now``, seconds since the epoch)."""
        for out in packets:
            try:
                p = Packet.decode(out.data)
            except DataFormatError:  # pragma: no cover - our own packets always parse
                self.dropped += 1
                continue
            ours, theirs = p.receive_stream_id, p.send_stream_id
            if p.flags & SYNCHRONIZE and theirs == 0:
                _remember(self._opened, ours, None)
            peer = pcap_address(out.destination.hash)
            _remember(self._peers, ours, peer)
            if ours in self._opened:
                ports, key = (ours & 0xFFFF, out.dst_port), ("c", ours)
            else:
                ports, key = (out.src_port, theirs & 0xFFFF), ("s", theirs)
            mine, peers = self._spaces_of(key)
            self._write(now, self._local, peer, ports, p, mine.place(p), peers)

    def received(self, data: bytes, src_port: int, dst_port: int, now: float) -> None:
        """Write one streaming payload from the router (I2CP ports ``src_port``/``dst_port``;
        wall-clock time ``now``). A payload that does not parse is only counted."""
        try:
            p = Packet.decode(data)
        except DataFormatError:
            self.dropped += 1
            return
        ours, theirs = p.send_stream_id, p.receive_stream_id
        peer = self._peers.get(ours)
        if peer is None:
            sender = p.from_destination
            peer = UNKNOWN_PEER if sender is None else pcap_address(sender.hash)
        if ours in self._opened:
            ports, key = (src_port, ours & 0xFFFF), ("c", ours)
        else:
            ports, key = (theirs & 0xFFFF, dst_port), ("s", theirs)
        mine, peers = self._spaces_of(key)
        self._write(now, peer, self._local, ports, p, peers.place(p), mine)

    def _spaces_of(self, key: tuple[str, int]) -> tuple[SeqSpace, SeqSpace]:
        spaces = self._spaces.get(key)
        if spaces is None:
            spaces = (SeqSpace(), SeqSpace())
        _remember(self._spaces, key, spaces)
        return spaces

    def _write(
        self,
        now: float,
        src: bytes,
        dst: bytes,
        ports: tuple[int, int],
        p: Packet,
        seq: int,
        acked: SeqSpace,
    ) -> None:
        """Write ``p`` at TCP sequence number ``seq``; ``acked`` is the direction it acks."""
        if self._closed:
            return
        options = b""
        if p.max_packet_size is not None:
            options = struct.pack("!BBH", 2, 4, min(p.max_packet_size, 0xFFFF))
        flags = 0
        if p.flags & SYNCHRONIZE:
            flags |= _TCP_SYN
        if p.flags & CLOSE:
            flags |= _TCP_FIN
        if p.flags & RESET:
            flags |= _TCP_RST
        if p.payload:
            flags |= _TCP_PSH
        ack = 0
        if not p.flags & NO_ACK:
            flags |= _TCP_ACK
            lowest = p.ack_through
            if not p.flags & SYNCHRONIZE:  # a SYN's NACK field carries the replay hash
                lowest = min([lowest, *(n - 1 for n in p.nacks)])
            ack = acked.ack(lowest) & 0xFFFFFFFF
        length = _TCP.size + len(options) + len(p.payload)
        header = _TCP.pack(
            ports[0], ports[1], seq & 0xFFFFFFFF, ack,
            (5 + len(options) // 4) << 4, flags, 0xFFFF, 0, 0,
        )  # fmt: skip
        segment = header + options + p.payload
        pseudo = src + dst + struct.pack("!IxxxB", length, 6)
        checksum = _checksum(pseudo + segment)
        segment = segment[:16] + struct.pack("!H", checksum) + segment[18:]
        frame = _IPV6.pack(0x60000000, length, 6, 64, src, dst) + segment
        record = len(frame) + _RECORD.size
        if self._size + record > self._max_size:
            self.dropped += 1
            return
        seconds = int(now)
        micros = min(int((now - seconds) * 1e6), 999_999)
        self._file.write(_RECORD.pack(seconds, micros, len(frame), len(frame)) + frame)
        self._size += record
        self.written += 1
        if p.flags & (CLOSE | RESET):
            self._file.flush()

    def flush(self) -> None:
        """Write out what the buffer holds."""
        if not self._closed:
            self._file.flush()

    def close(self) -> None:
        """Flush and close the file (idempotent); later packets are ignored."""
        if not self._closed:
            self._closed = True
            self._file.close()


def _remember(table: OrderedDict[_K, _V], key: _K, value: _V) -> None:
    table[key] = value
    table.move_to_end(key)
    if len(table) > MAX_STREAMS:
        table.popitem(last=False)

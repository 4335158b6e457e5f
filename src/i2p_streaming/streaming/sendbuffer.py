"""The bytes the application wrote that are not packetised yet (:class:`SendBuffer`).

Bounded by ``i2p.streaming.bufferSize``: a write takes what fits and marks the buffer
blocked; :meth:`SendBuffer.drained` reports (once) when a blocked buffer has drained to half,
which the connection turns into :class:`~i2p_streaming.streaming.events.SendBufferAvailable`;
a shell may also ask to hear when it holds at most N bytes (:attr:`SendBuffer.watch`).
"""

from __future__ import annotations

__all__ = ["SendBuffer"]


class SendBuffer:
    """A byte FIFO with a soft bound of ``capacity`` bytes (the initial SYN data may exceed
    it once, see :meth:`extend`)."""

    __slots__ = ("_buf", "_off", "blocked", "capacity", "watch")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._buf = bytearray()
        self._off = 0
        self.blocked = False
        self.watch = -1  # report once when at most this many bytes are buffered (-1: off)

    @property
    def buffered(self) -> int:
        return len(self._buf) - self._off

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Append what fits of ``data``; return the bytes taken (fewer: now blocked)."""
        free = self.capacity - self.buffered
        n = len(data)
        if n > free:
            n = max(free, 0)
            self.blocked = True
        if n:
            self._buf += data[:n] if n < len(data) else data
        return n

    def extend(self, data: bytes) -> None:
        """Append all of ``data`` regardless of the bound (data given with ``connect``)."""
        self._buf += data

    def take(self, n: int) -> bytes:
        """Remove and return up to ``n`` bytes from the front."""
        off = self._off
        buf = self._buf
        chunk = bytes(buf[off : off + n])
        off += len(chunk)
        if off >= len(buf):
            buf.clear()
            off = 0
        elif off > 65536 and off * 2 > len(buf):
            del buf[:off]
            off = 0
        self._off = off
        return chunk

    def clear(self) -> None:
        self._buf = bytearray()
        self._off = 0

    def notify_at(self, at_most: int) -> None:
        """Make :meth:`drained` report once when at most ``at_most`` bytes are buffered."""
        self.watch = at_most

    def drained(self) -> bool:
        """True once after a refused write, when the buffer has drained to half, or once when
        it holds at most :attr:`watch` bytes."""
        buffered = self.buffered
        if (self.blocked and buffered <= self.capacity // 2) or buffered <= self.watch:
            self.blocked = False
            self.watch = -1
            return True
        return False

"""Receive-buffer flow control and choke (reference A.13, B.14), and the choked sender's probes.

The receiver's buffer holds two kinds of bytes: out-of-order packets waiting for a gap, and
in-order bytes already handed to the shell as :class:`~i2p_streaming.streaming.DataReceived`
that the application has not read yet. The shell reports reads with
``StreamManager.consumed(stream_id, nbytes, now)`` (read credit); until then those bytes count
against the bound. The bound is ``receive_buffer_bytes`` bytes and ``receive_buffer_packets``
packets (defaults: 512 packets and ``maxMessageSize * 516`` bytes; Java holds 128 packets and
``maxMessageSize * 130`` bytes). A packet that does not fit is
dropped, and we *choke* the sender: a plain ACK at once with DELAY=61000 (and DELAY=61000 on
every packet while choking). Once reads (or, with ``auto_consume``, the delivery of what waited
behind a filled gap) bring the buffer down to half of both bounds we
*unchoke*: a plain ACK at once with DELAY=0, and DELAY=0 on the next
:data:`UNCHOKES_TO_SEND` packets. If no data follows, the unchoke ACK is sent again after 1, 2,
4, ... s (at most :data:`UNCHOKE_RETRIES` times): a lost or reordered unchoke would otherwise
leave a peer that does not probe while choked (i2pd) silent for ever. Out-of-order packets
never take the last packet slot or the last MTU of bytes, so the packet that fills a gap always
fits once the application has read.

A sender that receives DELAY >= 60000 (i2pd sends 60000, Java 61000) is choked: it sends no new
data while anything is outstanding (one new packet when nothing is: that packet is the probe).
Its retransmission timer becomes a persist timer (``SendPath``, ``sending.py``, owns that
state): each expiry resends only the oldest unacknowledged packet, with its own sequence
number (a probe never skips or reuses a number), at an interval that doubles up to 45 s.
Probes the peer answers do not count towards ``maxResends``; ``maxResends`` probes in a row
without any answer give up like a normal retransmission timeout. When the peer unchokes, the
oldest outstanding packets (at most 16) are resent at once: the peer dropped them while it was
full.
"""

from __future__ import annotations

from collections import deque

__all__ = ["SEND_DELAY_CHOKE", "UNCHOKES_TO_SEND", "ReceiveFlow"]

#: DELAY value we send to choke (Java's ``SEND_DELAY_CHOKE``).
SEND_DELAY_CHOKE = 61000
#: Packets that carry DELAY=0 after an unchoke (Java's ``UNCHOKES_TO_SEND``).
UNCHOKES_TO_SEND = 8
#: First wait before an unanswered unchoke is sent again, seconds; then doubling.
MIN_UNCHOKE_RETRY = 1.0
UNCHOKE_RETRIES = 5


class ReceiveFlow:
    """Receive-buffer accounting and choke state of one connection (owned by its receive
    path, ``receiving.ReceivePath``).

    With ``auto_consume`` every delivered byte counts as read at once (the manager's
    compatibility mode for shells that do not report reads).
    """

    __slots__ = (
        "_chunks",
        "auto_consume",
        "cap_bytes",
        "cap_packets",
        "chokes_sent",
        "choking",
        "mtu",
        "peak_bytes",
        "peak_packets",
        "unchoke_retries",
        "unchoke_retry_at",
        "unchokes",
        "unread",
    )

    def __init__(self, cap_bytes: int, cap_packets: int, mtu: int, auto_consume: bool) -> None:
        self.cap_bytes = cap_bytes
        self.cap_packets = cap_packets
        self.mtu = mtu
        self.auto_consume = auto_consume
        self.unread = 0  # delivered, not yet consumed
        self._chunks: deque[int] = deque()  # sizes of unread delivered packets
        self.choking = False
        self.unchokes = 0
        self.chokes_sent = 0
        self.peak_bytes = 0
        self.peak_packets = 0
        self.unchoke_retry_at: float | None = None  # resend the unchoke if the peer is silent
        self.unchoke_retries = 0

    # ------------------------------------------------------------------ receiver side
    def used(self, ooo_packets: int, ooo_bytes: int) -> tuple[int, int]:
        """(bytes, packets) held: unread delivered data plus the out-of-order packets (held
        by the receive path)."""
        return self.unread + ooo_bytes, len(self._chunks) + ooo_packets

    def admit(self, size: int, in_order: bool, ooo_packets: int, ooo_bytes: int) -> bool:
        """May a new packet of ``size`` payload bytes be kept? False starts choking; True
        also ends the unchoke retries (data flows again)."""
        used_bytes, used_packets = self.used(ooo_packets, ooo_bytes)
        cap_bytes, cap_packets = self.cap_bytes, self.cap_packets
        if not in_order:  # keep room for the packet that fills the gap
            cap_bytes -= self.mtu
            cap_packets -= 1
        add = 1 if size else 0
        if used_bytes + size <= cap_bytes and used_packets + add <= cap_packets:
            if used_bytes + size > self.peak_bytes:
                self.peak_bytes = used_bytes + size
            if used_packets + add > self.peak_packets:
                self.peak_packets = used_packets + add
            self.unchoke_retry_at = None
            return True
        self.choking = True
        self.unchokes = 0
        return False

    def choke(self) -> None:
        """Choke the peer for a reason outside this buffer (the session budget)."""
        self.choking = True
        self.unchokes = 0

    def unchoke(self, ooo_packets: int, ooo_bytes: int) -> None:
        """End a choke of :meth:`choke` unless this buffer itself is still over half full."""
        used_bytes, used_packets = self.used(ooo_packets, ooo_bytes)
        if (
            self.choking
            and used_bytes * 2 <= self.cap_bytes
            and used_packets * 2 <= self.cap_packets
        ):
            self.choking = False
            self.unchokes = UNCHOKES_TO_SEND

    def delivered(self, size: int) -> None:
        """``size`` (>0) in-order bytes were handed to the shell."""
        if not self.auto_consume:
            self.unread += size
            self._chunks.append(size)

    def consumed(self, nbytes: int, ooo_packets: int, ooo_bytes: int) -> bool:
        """The application read ``nbytes``; True when this unchokes the peer (send now)."""
        n = min(nbytes, self.unread)
        self.unread -= n
        chunks = self._chunks
        while n and chunks:
            first = chunks[0]
            if first <= n:
                n -= first
                chunks.popleft()
            else:
                chunks[0] = first - n
                n = 0
        if not self.choking:
            return False
        used_bytes, used_packets = self.used(ooo_packets, ooo_bytes)
        if used_bytes * 2 <= self.cap_bytes and used_packets * 2 <= self.cap_packets:
            self.choking = False
            self.unchokes = UNCHOKES_TO_SEND
            return True
        return False

    def arm_unchoke_retry(self, now: float, interval: float) -> None:
        """After an unchoke, resend it if no data arrives within ``interval`` (doubling, at
        most :data:`UNCHOKE_RETRIES` times): a lost or reordered unchoke must not leave a
        peer that does not probe (i2pd) choked for ever."""
        self.unchoke_retries = 0
        self.unchoke_retry_at = now + max(interval, MIN_UNCHOKE_RETRY)

    def unchoke_retry_due(self, now: float) -> bool:
        """True when the unchoke should go out again now (re-arms the next retry)."""
        at = self.unchoke_retry_at
        if at is None or now < at:
            return False
        self.unchoke_retries += 1
        if self.choking or self.unchoke_retries > UNCHOKE_RETRIES:
            self.unchoke_retry_at = None
            return False
        self.unchoke_retry_at = now + MIN_UNCHOKE_RETRY * 2**self.unchoke_retries
        self.unchokes = max(self.unchokes, 1)
        return True

    def delay_option(self) -> int | None:
        """The DELAY value flow control wants on the next outgoing packet, or None."""
        if self.choking:
            self.chokes_sent += 1
            return SEND_DELAY_CHOKE
        if self.unchokes:
            self.unchokes -= 1
            return 0
        return None

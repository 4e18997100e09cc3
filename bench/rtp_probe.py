"""The RTP side of bench/scale.py: sockets that receive what the workers send, time each
packet with the kernel's receive timestamp, and echo it back (RTP both ways).

Kernel timestamps (SO_TIMESTAMPNS) make the gaps those of the packets on the wire, not of
this Python thread's scheduling: on a saturated machine the reader may run late, the
timestamps do not. Over loopback the receive gaps are the sender's send gaps.

A probe call's SDP names one of these sockets (SIPp injects the port); the worker's RTP
comes to it and the echo goes back from the same socket, so pjmedia never switches the
remote address (it does after a few packets from a new source).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
from dataclasses import dataclass, field

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
_TIMESPEC = struct.Struct("qq")
LATE_MS = 40.0
"A gap over this is a late packet (the issue's bound for the maximum)."


@dataclass
class Gaps:
    """Inter-packet gaps (ms) of every probe socket, after each socket's first packet (or any
    list of milliseconds to take percentiles of)."""

    values: list[float] = field(default_factory=list)
    packets: int = 0

    def pct(self, q: float) -> float:
        if not self.values:
            return float("nan")
        ordered = sorted(self.values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def max(self) -> float:
        return max(self.values, default=float("nan"))

    @property
    def late_share(self) -> float:
        """Share of gaps over LATE_MS, in %."""
        if not self.values:
            return float("nan")
        return 100 * sum(1 for g in self.values if g > LATE_MS) / len(self.values)


class RtpProbe:
    """``count`` UDP sockets on ``host``; :meth:`start` reads and echoes in a thread."""

    def __init__(self, host: str, count: int) -> None:
        self.sockets: list[socket.socket] = []
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            sock.bind((host, 0))
            sock.setblocking(False)
            self.sockets.append(sock)
        self.ports = [s.getsockname()[1] for s in self.sockets]
        self._last: dict[int, float] = {}
        self._gaps: list[float] = []
        self._packets = 0
        self._recording = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rtp-probe", daemon=True)
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread.start()

    def record(self, on: bool) -> None:
        """Count gaps only between record(True) and record(False) (the steady window)."""
        with self._lock:
            self._recording = on
            self._last.clear()  # no gap spans the switch

    def gaps(self) -> Gaps:
        with self._lock:
            return Gaps(list(self._gaps), self._packets)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock in self.sockets:
            sock.close()

    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        for index, sock in enumerate(self.sockets):
            selector.register(sock, selectors.EVENT_READ, index)
        ancillary = socket.CMSG_SPACE(_TIMESPEC.size)
        while not self._stop.is_set():
            for key, _ in selector.select(0.2):
                sock, index = key.fileobj, key.data
                assert isinstance(sock, socket.socket)
                while True:
                    try:
                        data, cmsgs, _, addr = sock.recvmsg(2048, ancillary)
                    except BlockingIOError:
                        break
                    except OSError:
                        break
                    stamp = _stamp(cmsgs)
                    self._note(index, stamp)
                    with contextlib.suppress(OSError):
                        sock.sendto(data, addr)
        selector.close()

    def _note(self, index: int, stamp: float | None) -> None:
        if stamp is None:
            return
        with self._lock:
            if not self._recording:
                return
            self._packets += 1
            last = self._last.get(index)
            self._last[index] = stamp
            if last is not None:
                self._gaps.append((stamp - last) * 1000)


def _stamp(cmsgs: list[tuple[int, int, bytes]]) -> float | None:
    for level, kind, data in cmsgs:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanos = _TIMESPEC.unpack(data[: _TIMESPEC.size])
            return seconds + nanos / 1e9
    return None

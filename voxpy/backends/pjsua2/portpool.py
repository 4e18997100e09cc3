"""Reuse of the Python media ports, which must outlive the conference bridge.

Destroying an ``AudioMediaPort`` subclass while the bridge clock runs can crash the process
(see :mod:`.ports`), and destroying it after ``libDestroy`` aborts it. So each port is
created once, handed to C++ with ``__disown__`` (the SWIG director then keeps its Python
object alive), and returned here when a recording or a leg is done with it. ``libDestroy``
removes the ports from the bridge; the C++ objects, a few hundred bytes each, are left for
the process exit. The number of ports is bounded by the peak in use at once: with 4 calls,
a meter each and one recording each, 12 ports.

A returned port rests for :data:`~.wiring.GRAVE_S` before it is handed out again, so that a
frame still in flight from its old connection cannot reach its new consumer.
"""

from __future__ import annotations

import time

from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.ports import CapturePort, FeedPort, LevelMeter, PortFeed, audio_format
from voxpy.backends.pjsua2.wiring import GRAVE_S

Port = CapturePort | LevelMeter | FeedPort


class PortPool:
    """Idle ports by kind and sample rate. Owner thread only."""

    def __init__(self, logger: Logger) -> None:
        self._idle: list[tuple[float, int, Port]] = []
        self._logger = logger
        self.created = 0
        self.in_use = 0
        "Ports handed out and not given back (a leak check: 0 once every leg is gone)."

    def capture(self, sample_rate: int, feed: PortFeed, channel: int) -> CapturePort:
        """A capture port at ``sample_rate`` feeding ``feed`` as ``channel``."""
        port = self._take(CapturePort, sample_rate)
        if port is None:
            port = CapturePort(sample_rate)
            self._register(port, f"capture{self.created}-{sample_rate}", sample_rate)
        assert isinstance(port, CapturePort)
        port.attach(feed, channel)
        self.in_use += 1
        return port

    def meter(self, sample_rate: int) -> LevelMeter:
        """A level meter at ``sample_rate``, counting from zero."""
        port = self._take(LevelMeter, sample_rate)
        if port is None:
            port = LevelMeter(sample_rate)
            self._register(port, f"meter{self.created}-{sample_rate}", sample_rate)
        assert isinstance(port, LevelMeter)
        port.attach()
        self.in_use += 1
        return port

    def feed(self, sample_rate: int) -> FeedPort:
        """A feed port at ``sample_rate`` with an empty queue."""
        port = self._take(FeedPort, sample_rate)
        if port is None:
            port = FeedPort(sample_rate)
            self._register(port, f"feed{self.created}-{sample_rate}", sample_rate)
        assert isinstance(port, FeedPort)
        port.attach()
        self.in_use += 1
        return port

    def give(self, *ports: Port | None) -> None:
        """Take back disconnected ports (None is skipped); they rest before reuse."""
        ready = time.monotonic() + GRAVE_S
        for port in ports:
            if port is not None:
                port.detach()
                self.in_use -= 1
                self._idle.append((ready, port.sample_rate, port))

    def clear(self) -> None:
        """Forget the idle ports (shutdown); they stay alive on the C++ side."""
        self._idle.clear()

    def _take(self, kind: type[Port], sample_rate: int) -> Port | None:
        now = time.monotonic()
        for index, (ready, rate, port) in enumerate(self._idle):
            if ready <= now and rate == sample_rate and type(port) is kind:
                del self._idle[index]
                return port
        return None

    def _register(self, port: Port, name: str, sample_rate: int) -> None:
        # Raises pj.Error (no bridge slot left); the port is then unregistered, safe to drop.
        port.createPort(name, audio_format(sample_rate))
        port.__disown__()
        self.created += 1
        self._logger.debug("media_port_created", name=name, total=self.created)

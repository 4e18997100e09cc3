"""A virtual clock for the memory backend: timers fire when the test says time has passed."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

SETTLE_LIMIT = 10_000
"""Loop iterations after which :func:`settle` gives up: something keeps scheduling work."""


async def settle() -> None:
    """Run the loop until it is idle: no callback ready to run (signals, handlers, tasks they
    woke, and those they schedule in turn). Timers and I/O are not work to wait for here: time
    moves in :meth:`VirtualClock.advance`. Raises when the loop is still busy after
    ``SETTLE_LIMIT`` iterations (a task spinning on ``sleep(0)``), rather than returning with
    work half done."""
    loop = asyncio.get_running_loop()
    # The ready queue is an implementation detail of asyncio's own loops; a loop without one
    # (uvloop) gets a fixed number of iterations, as settle() did before.
    ready = getattr(loop, "_ready", None)
    for _ in range(SETTLE_LIMIT if ready is not None else 20):
        await asyncio.sleep(0)
        if ready is not None and not ready:
            return
    if ready is not None:
        raise RuntimeError(f"the event loop was still busy after {SETTLE_LIMIT} iterations")


@dataclass(order=True)
class VirtualTimer:
    when: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class VirtualClock:
    """Implements the core's Clock protocol; time moves only in :meth:`advance`."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._timers: list[VirtualTimer] = []
        self._seq = itertools.count()
        self.idle: Callable[[], Awaitable[None]] = settle
        """Awaited before time moves: until nothing else can happen first. :func:`settle` by
        default; the harness also waits out scenario tasks blocked on real I/O here."""

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> VirtualTimer:
        timer = VirtualTimer(self._now + max(0.0, delay), next(self._seq), callback)
        heapq.heappush(self._timers, timer)
        return timer

    def next_due(self) -> float | None:
        """When the earliest live timer fires, or None."""
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0].when if self._timers else None

    async def advance(self, seconds: float) -> None:
        """Move time forward, firing due timers in order. What is already under way (a signal
        just sent, a handler awaiting real I/O) lands first: :attr:`idle` is awaited before
        the first timer fires and after each one."""
        target = self._now + seconds
        await self.idle()
        while self._timers and self._timers[0].when <= target:
            timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self._now = timer.when
            timer.callback()
            await self.idle()
        self._now = target
        await self.idle()

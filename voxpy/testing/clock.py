"""A virtual clock for the memory backend: timers fire when the test says time has passed."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

SETTLE_ROUNDS = 20
"""Loop iterations that let signals and handlers triggered by a timer run to completion."""


async def settle() -> None:
    """Let every callback already scheduled on the loop (and those they schedule) run."""
    for _ in range(SETTLE_ROUNDS):
        await asyncio.sleep(0)


@dataclass(order=True)
class VirtualTimer:
    when: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class VirtualClock:
    """Implements the runtime's Clock; time moves only in :meth:`advance`."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._timers: list[VirtualTimer] = []
        self._seq = itertools.count()

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
        """Move time forward, firing due timers in order and settling after each one."""
        target = self._now + seconds
        while self._timers and self._timers[0].when <= target:
            timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self._now = timer.when
            timer.callback()
            await settle()
        self._now = target
        await settle()

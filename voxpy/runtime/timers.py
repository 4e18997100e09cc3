"""The clock seam: the runtime reads time and schedules timers only through a :class:`Clock`.

:class:`LoopClock` uses the asyncio loop; the test kit swaps in a virtual clock with the same
protocol so that a 60 s no-answer timeout fires instantly and deterministically.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol


class Timer(Protocol):
    """A scheduled callback that can be cancelled (cancelling twice is harmless)."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """Monotonic seconds and one-shot timers; callbacks run on the event loop."""

    def now(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer: ...


class LoopClock:
    """The real clock: ``loop.time()`` and ``loop.call_later``."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()

    def now(self) -> float:
        return self._loop.time()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self._loop.call_later(max(0.0, delay), callback)


async def clock_sleep(clock: Clock, seconds: float) -> None:
    """Wait ``seconds`` on ``clock`` (``VoxEngine.sleep``); cancelling it cancels the timer."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def wake() -> None:
        if not done.done():
            done.set_result(None)

    timer = clock.call_later(seconds, wake)
    try:
        await done
    finally:
        timer.cancel()

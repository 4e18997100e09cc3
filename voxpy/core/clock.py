"""The clock seam: code that needs time reads it and schedules timers only through a
:class:`Clock`.

The runtime's real clock is the asyncio loop's (``voxpy.runtime.timers.LoopClock``); the test
kit's virtual clock (``voxpy.testing.clock``) has the same protocol, so a 60 s no-answer timeout
fires instantly and deterministically, and the in-memory network runs on whichever it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Timer(Protocol):
    """A scheduled callback that can be cancelled (cancelling twice is harmless)."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """Monotonic seconds and one-shot timers; callbacks run on the event loop."""

    def now(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer: ...

"""The real clock: the asyncio loop's (the :class:`~voxpy.core.clock.Clock` protocol)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from voxpy.core.clock import Timer


class LoopClock:
    """The real clock: ``loop.time()`` and ``loop.call_later``."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()

    def now(self) -> float:
        return self._loop.time()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self._loop.call_later(max(0.0, delay), callback)

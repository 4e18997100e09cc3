"""VoxEngine's ``setTimeout``/``clearTimeout`` for one session, on the session's clock."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from voxpy.core.clock import Clock, Timer


class ScenarioTimers:
    """The scenario's pending timers, by id; all cancelled when the session ends."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._timers: dict[int, Timer] = {}
        self._ids = itertools.count(1)

    def set(self, fire_fn: Callable[[], None], delay: float) -> int:
        """Run ``fire_fn`` once after ``delay`` seconds; returns the id ``clear`` takes."""
        timer_id = next(self._ids)

        def fire() -> None:
            self._timers.pop(timer_id, None)
            fire_fn()

        self._timers[timer_id] = self._clock.call_later(delay, fire)
        return timer_id

    def clear(self, timer_id: int) -> None:
        timer = self._timers.pop(timer_id, None)
        if timer is not None:
            timer.cancel()

    def cancel_all(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

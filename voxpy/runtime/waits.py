"""What a session waits on: ``VoxEngine.sleep`` on its clock, and, when it terminates, its
recordings' stop as well as its calls' end.

A recording finishes after its call (over SIP the recorder closes the file after the BYE, and
its last signal follows the call's end). A session that ``terminate()`` ends from
``Disconnected`` must still deliver that ``RecordStopped``: the engine forgets a session's
calls once the session is terminated, so Terminated waits for the session's recordings.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

from voxpy.core.clock import Clock
from voxpy.core.events import CallEvents, ConferenceEvents, RecorderEvents
from voxpy.errors import InvalidArgumentError


async def clock_sleep(clock: Clock, seconds: float) -> None:
    """Wait ``seconds`` on ``clock`` (``VoxEngine.sleep``): real time in production, the test
    kit's virtual clock in memory mode (where ``asyncio.sleep`` would take real time).
    Cancelling the wait cancels the timer."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise InvalidArgumentError(f"sleep needs a number of seconds >= 0, got {seconds!r}")
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def wake() -> None:
        if not done.done():
            done.set_result(None)

    timer = clock.call_later(float(seconds), wake)
    try:
        await done
    finally:
        timer.cancel()


RECORD_STARTS = frozenset(
    {CallEvents.RecordStarted, ConferenceEvents.RecordStarted, RecorderEvents.RecordStarted}
)
RECORD_ENDS = frozenset(
    {
        CallEvents.RecordStopped,
        CallEvents.RecordError,
        ConferenceEvents.RecordStopped,
        RecorderEvents.RecordStopped,
    }
)


class Recordings:
    """Follows the recordings of a session's legs, conferences and recorders (their
    RecordStarted / RecordStopped / RecordError events), so that Terminated comes after the
    last RecordStopped: its url is what a scenario's end handler most often reports."""

    def __init__(self) -> None:
        self._open: set[str] = set()
        self._none_open = asyncio.Event()
        self._none_open.set()

    @property
    def open(self) -> list[str]:
        """Who records now: ``call:<id>``, ``conference:<id>`` or ``recorder:<id>``."""
        return sorted(self._open)

    def watch(self, observe: Callable[[Any], None]) -> Callable[[Any], None]:
        """``observe`` (a session's event observer), following recordings on the way."""

        def observed(event: Any) -> None:
            name = str(event.name)
            if name in RECORD_STARTS:
                self._open.add(_owner(event))
                self._none_open.clear()
            elif name in RECORD_ENDS:
                self._open.discard(_owner(event))
                if not self._open:
                    self._none_open.set()
            observe(event)

        return observed

    async def settled(self, calls_ended: asyncio.Event, calls_live: bool, timeout: float) -> bool:
        """Until the calls have ended (``calls_ended``, awaited if ``calls_live``) and no
        recording is open; False when ``timeout`` seconds passed first."""
        if not calls_live and not self._open:
            return True
        try:
            await asyncio.wait_for(self._settle(calls_ended if calls_live else None), timeout)
        except TimeoutError:
            return False
        return True

    async def _settle(self, calls_ended: asyncio.Event | None) -> None:
        if calls_ended is not None:
            await calls_ended.wait()
        await self._none_open.wait()


ENGINE_WAITS: weakref.WeakSet[asyncio.Future[Any]] = weakref.WeakSet()
"""Futures that only engine events complete (a :class:`Wakeup`'s): the test kit's memory mode
counts a task blocked on one as waiting on the virtual world, whatever its await chain looks
like (an async generator's chain cannot be followed)."""


class Wakeup:
    """``asyncio.Event``'s set/clear/wait for waits that engine events end (audio frames
    arriving, a feed played out); its futures are in :data:`ENGINE_WAITS`, so memory mode moves
    the clock while a task waits here (an ``asyncio.Event`` would read as real I/O)."""

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[None]] = []

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> None:
        if self._set:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        ENGINE_WAITS.add(waiter)
        self._waiters.append(waiter)
        await waiter


def _owner(event: Any) -> str:
    for kind in ("call", "conference", "recorder"):
        unit = getattr(event, kind, None)
        if unit is not None:
            return f"{kind}:{unit.id()}"
    return "?"

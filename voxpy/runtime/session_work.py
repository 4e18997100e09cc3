"""The work a session runs besides its handlers' direct calls: async handlers, engine tasks
(a playback being prepared), and how a failure in any of them is reported.

A failure is logged once, with the session's (or the call's) ids and the traceback, then
becomes ``AppEvents.HandlerError`` - except a failure of a HandlerError handler itself, which
would otherwise loop. Every task is kept until it is done, so the session can cancel what is
left when it ends (asyncio keeps only weak references to tasks).
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from structlog.typing import FilteringBoundLogger

from voxpy.core.events import AppEvents
from voxpy.runtime.call import Call
from voxpy.runtime.events import AppEvent, HandlerError


@dataclass(frozen=True, slots=True, kw_only=True)
class Work(AppEvent):
    """Stands in for the event when a timer callback or engine work (a playback being
    prepared) fails: HandlerError.event then says ``timer`` or ``playback``."""


class SessionWork:
    """A session's tasks, and the one place their failures are reported."""

    def __init__(
        self, *, session_id: str, log: FilteringBoundLogger, emit: Callable[[AppEvent], None]
    ) -> None:
        self._session_id = session_id
        self._log = log
        self._emit = emit
        self._tasks: set[asyncio.Task[Any]] = set()

    def work(self, what: str) -> Work:
        """The stand-in event for engine work or a timer named ``what``."""
        return Work(name=what, session_id=self._session_id)

    def spawn(self, coro: Coroutine[Any, Any, None], what: str) -> None:
        """Run engine work concurrently; a failure is reported like a handler's."""
        task = asyncio.get_running_loop().create_task(coro)
        self.track(task, self.work(what))

    def keep(self, task: asyncio.Task[Any]) -> None:
        """Hold a task of the session's own (its ending) until the session is done."""
        self._tasks.add(task)

    def track(self, task: asyncio.Future[Any], event: Any) -> None:
        """Follow an async handler: its failure is reported like a sync handler's."""
        assert isinstance(task, asyncio.Task)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                self.failed(t.exception() or RuntimeError("?"), event)

        task.add_done_callback(done)

    def failed(self, exc: BaseException, event: Any) -> None:
        """Log a failed handler once, with ids and traceback, then emit HandlerError."""
        name = str(getattr(event, "name", "?"))
        call = getattr(event, "call", None)
        log = call.log if isinstance(call, Call) else self._log
        log.error("handler_failed", event_name=name, error=repr(exc), exc_info=exc)
        if name == AppEvents.HandlerError:
            return  # a failing error handler must not loop
        text = "".join(traceback.format_exception(exc))
        self._emit(
            HandlerError(
                name=AppEvents.HandlerError,
                session_id=self._session_id,
                error=exc,
                event=name,
                call=call,
                traceback=text,
            )
        )

    def cancel_all(self) -> None:
        """Cancel every task left, except the one running this (the session's ending)."""
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()

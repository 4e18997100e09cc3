"""Memory mode's rule for moving virtual time while a scenario awaits the real world.

The virtual clock may jump only when nothing else can happen first: the loop is idle (no
callback ready) **and** no task of a running session is blocked on something real. A task is
blocked on the *virtual* world when the innermost frame of what it awaits is voxpy's runtime
(a ``Playback``, ``gather()``, ``VoxEngine.sleep()``): those complete only through engine
events, which the peer and the virtual clock drive. Anything else - ``asyncio.sleep``, an HTTP
request to a CRM, a socket, an ``asyncio.Event`` of the scenario's own - is real: the clock
holds still and the harness waits, in real time, for that await to finish. A task awaiting
another task (or ``asyncio.gather``) is judged by what those wait on.

Which tasks are the scenario's: :class:`ScenarioTasks` installs a task factory on the loop and
keeps every task created while a session's code runs (its handlers, timers, the engine work
they start, and tasks the scenario creates itself with ``asyncio.create_task``) - except the
engine's own long-lived I/O tasks (a WebSocket's connection, marked by
``voxpy.runtime.scope.engine_io``): a socket waits on the world by design and is nobody's
await; what it delivers reaches the scenario as events, like the backend's signals.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from voxpy.runtime.scope import current_session, engine_io
from voxpy.runtime.waits import ENGINE_WAITS

VIRTUAL_MODULES = ("voxpy.runtime.",)
"Awaits whose innermost frame is in these modules wait on the virtual world."


def _innermost_module(task: asyncio.Task[Any]) -> str:
    """The module of the innermost coroutine/generator frame in ``task``'s await chain."""
    module = ""
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is None:
            break
        module = str(frame.f_globals.get("__name__", ""))
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return module


def _blocking(task: asyncio.Task[Any], seen: set[int]) -> asyncio.Future[Any] | None:
    """The real future ``task`` is blocked on, or None (done, runnable, or virtual)."""
    if task.done() or id(task) in seen:
        return None
    seen.add(id(task))
    waiter: asyncio.Future[Any] | None = getattr(task, "_fut_waiter", None)
    if waiter is None or waiter.done():
        return None
    if isinstance(waiter, asyncio.Task):
        return _blocking(waiter, seen)
    children = getattr(waiter, "_children", None)  # asyncio.gather's future
    if children is not None:
        found = (_blocking(c, seen) for c in children if isinstance(c, asyncio.Task))
        return next((f for f in found if f is not None), None)
    if waiter in ENGINE_WAITS:  # only engine events complete it (audio, a feed played out)
        return None
    return None if _innermost_module(task).startswith(VIRTUAL_MODULES) else waiter


def real_waits(tasks: Iterable[asyncio.Task[Any]]) -> list[asyncio.Future[Any]]:
    """The futures among ``tasks``' awaits that only the real world completes."""
    seen: set[int] = set()
    found = (_blocking(task, seen) for task in tasks)
    return [f for f in found if f is not None]


def describe(tasks: Iterable[asyncio.Task[Any]]) -> str:
    """Names of the tasks blocked on real awaits, for failure messages."""
    return ", ".join(
        f"{t.get_coro()!r} in {_innermost_module(t) or '?'}"
        for t in tasks
        if _blocking(t, set()) is not None
    )


class ScenarioTasks:
    """The tasks created on the loop while ``owns(session)`` is true of the running session."""

    def __init__(self, owns: Callable[[Any], bool]) -> None:
        self._owns = owns
        self._tasks: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: Any = None

    def install(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._previous = self._loop.get_task_factory()
        self._loop.set_task_factory(self._factory)  # type: ignore[arg-type]

    def uninstall(self) -> None:
        if self._loop is not None and self._loop.get_task_factory() == self._factory:
            self._loop.set_task_factory(self._previous)
        self._loop = None

    def live(self) -> list[asyncio.Task[Any]]:
        return [t for t in list(self._tasks) if not t.done()]

    def _factory(
        self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], **kwargs: Any
    ) -> asyncio.Task[Any]:
        if self._previous is not None:
            task: asyncio.Task[Any] = self._previous(loop, coro, **kwargs)
        else:
            task = asyncio.Task(coro, loop=loop, **kwargs)
        context = kwargs.get("context")
        io = context.get(engine_io, False) if context is not None else engine_io.get()
        session = current_session.get(None)
        if session is not None and self._owns(session) and not io:
            self._tasks.add(task)
        return task

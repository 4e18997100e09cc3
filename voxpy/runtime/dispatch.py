"""Event dispatch: the one door from foreign threads into the loop, and safe handler calls.

* :class:`LoopDoor` is the *only* place where another thread hands work to the event loop
  (``call_soon_threadsafe``). Backends call it from their own threads with signals.
* :class:`Emitter` is a pyee ``AsyncIOEventEmitter`` whose listeners run inside a scope (the
  session's: ``from voxpy import VoxEngine`` resolves to that session) and whose failures - sync
  or async - are reported once to an ``on_error`` hook instead of escaping into the engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from pyee.asyncio import AsyncIOEventEmitter

from voxpy.core.signals import Signal

ErrorHook = Callable[[BaseException, Any], None]
"Called with (exception, event object) when a scenario handler fails."
Scope = Callable[[], AbstractContextManager[None]]
"The context a listener runs in."
Track = Callable[["asyncio.Future[Any]", Any], None]
"Follows an async listener's task: (task, event)."


class LoopDoor:
    """Hands signals from any thread to ``route`` on the loop, preserving their order."""

    def __init__(self, loop: asyncio.AbstractEventLoop, route: Callable[[Signal], None]) -> None:
        self._loop = loop
        self._route = route

    def __call__(self, signal: Signal, /) -> None:
        if self._loop.is_closed():
            return  # late signals during interpreter shutdown have nowhere to go
        self._loop.call_soon_threadsafe(self._route, signal)


class Emitter(AsyncIOEventEmitter):
    """pyee emitter whose listeners receive exactly one event object, run in ``scope``."""

    def __init__(self, scope: Scope, on_error: ErrorHook, track: Track) -> None:
        super().__init__()
        self._scope = scope
        self._on_error = on_error
        self._track = track

    def add_event_listener(self, event: str, handler: Callable[..., Any]) -> None:
        """Run ``handler(e)`` each time ``event`` fires (VoxEngine ``addEventListener``)."""
        if not callable(handler):
            raise TypeError(f"handler for {event!s} must be callable, got {type(handler).__name__}")
        self.add_listener(str(event), handler)

    def remove_event_listener(self, event: str, handler: Callable[..., Any] | None = None) -> None:
        """Remove ``handler`` for ``event``, or every handler of it when ``handler`` is None."""
        if handler is None:
            self.remove_all_listeners(str(event))
        elif handler in self.listeners(str(event)):
            self.remove_listener(str(event), handler)

    def _emit_run(
        self, f: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        # pyee's extension point: how one listener is invoked.
        self.run_handler(f, args[0] if args else None)

    def run_handler(self, f: Callable[[Any], Any], event: Any) -> None:
        """Run user code ``f(event)`` in the session scope; failures go to the error hook."""
        with self._scope():
            try:
                result = f(event)
            except Exception as exc:  # noqa: BLE001 - any user handler failure is reported, not raised
                self._on_error(exc, event)
                return
            if asyncio.iscoroutine(result):
                task = asyncio.ensure_future(result)  # copies the scope's context
                self._track(task, event)

    def _emit_handle_potential_error(self, event: str, error: Any) -> None:
        # Our listeners never raise into pyee; an "error" emit with no listener is ignored.
        if event == "error":
            return
        super()._emit_handle_potential_error(event, error)

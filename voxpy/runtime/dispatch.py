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
from enum import StrEnum
from typing import Any

from pyee.asyncio import AsyncIOEventEmitter

from voxpy.core.signals import Signal
from voxpy.errors import InvalidArgumentError

_KINDS = {
    "CallEvents": "call",
    "AppEvents": "session",
    "WebSocketEvents": "WebSocket",
    "ASREvents": "ASR",
    "ConferenceEvents": "conference",
    "PlayerEvents": "player",
    "RecorderEvents": "recorder",
}
_WHERE = {
    "CallEvents": "register call events on the call (e.call.add_event_listener in a "
    "CallAlerting handler, or on the Call that VoxEngine.call_sip returns)",
    "AppEvents": "register session events with VoxEngine.add_event_listener",
    "WebSocketEvents": "register WebSocket events on the WebSocket "
    "(VoxEngine.create_websocket, or AppEvents.WebSocket's e.websocket)",
    "ASREvents": "register ASR events on the unit VoxEngine.create_asr returns",
    "ConferenceEvents": "register conference events on VoxEngine.create_conference's unit",
    "PlayerEvents": "register player events on the unit VoxEngine.create_*_player returns",
    "RecorderEvents": "register recorder events on VoxEngine.create_recorder's unit",
}


def _guess(event: object, accepts: type[StrEnum], refuses: tuple[type[StrEnum], ...]) -> str:
    """What the user probably meant, for the error message."""
    if isinstance(event, str):
        key = event.rpartition(".")[2].lower()
        for enum in (accepts, *refuses):
            for member in enum:
                if member.name.lower() == key:
                    if enum is not accepts:
                        kind, where = _KINDS[enum.__name__], _WHERE[enum.__name__]
                        return f"{enum.__name__}.{member.name} is a {kind} event: {where}"
                    return f"did you mean {enum.__name__}.{member.name} ({member.value!r})?"
    return f"use a {accepts.__name__} member, e.g. {accepts.__name__}.{next(iter(accepts)).name}"


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
    """pyee emitter whose listeners receive exactly one event object, run in ``scope``.

    Only the names of ``accepts`` (CallEvents on a call, AppEvents on the session) can be
    listened to: a misspelled name, or one of the other kind, would never fire, so it is
    refused at registration (every pyee way in - ``on``, ``once``, ``add_listener`` - goes
    through ``_add_event_handler``).
    """

    def __init__(
        self,
        scope: Scope,
        on_error: ErrorHook,
        track: Track,
        *,
        accepts: type[StrEnum],
        refuses: tuple[type[StrEnum], ...],
    ) -> None:
        super().__init__()
        self._scope = scope
        self._on_error = on_error
        self._track = track
        self._accepts = accepts
        self._refuses = refuses

    def listen(self, event: str, handler: Callable[..., Any]) -> None:
        """Run ``handler(e)`` each time ``event`` fires (VoxEngine ``addEventListener``; the
        typed ``add_event_listener`` of the session and the call call this)."""
        name = self.event_name(event)
        if not callable(handler):
            raise TypeError(f"handler for {event!s} must be callable, got {type(handler).__name__}")
        self.add_listener(name, handler)

    def _add_event_handler(self, event: str, k: Callable[..., Any], v: Callable[..., Any]) -> None:
        super()._add_event_handler(self.event_name(event), k, v)

    def event_name(self, event: object) -> str:
        """``event`` as the name it fires under; InvalidArgumentError naming the right enum
        when it is no event of this emitter's kind."""
        accepts, refuses = self._accepts, self._refuses
        if isinstance(event, accepts):
            return str(event)
        if isinstance(event, refuses):
            kind = type(event).__name__
            raise InvalidArgumentError(
                f"{kind}.{event.name} is not a {_KINDS[accepts.__name__]} event: "
                f"{_WHERE[kind]}; here use {accepts.__name__} members"
            )
        if isinstance(event, str):
            try:
                return str(accepts(event))  # a plain string equal to a name is fine
            except ValueError:
                pass
        raise InvalidArgumentError(
            f"unknown {_KINDS[accepts.__name__]} event {event!r}: {_guess(event, accepts, refuses)}"
        )

    def remove_event_listener(self, event: str, handler: Callable[..., Any] | None = None) -> None:
        """Remove ``handler`` for ``event``, or every handler of it when ``handler`` is None."""
        event = self.event_name(event)
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

    async def first_reply(self, event: Any) -> Any:
        """Run ``event``'s handlers in order (coroutines awaited): the first non-None result
        is the reply. A handler that raises is reported, and the exception propagates."""
        for handler in self.listeners(str(event.name)):
            with self._scope():
                try:
                    result = handler(event)
                    if asyncio.iscoroutine(result):
                        result = await result
                except Exception as exc:
                    self._on_error(exc, event)
                    raise
            if result is not None:
                return result
        return None

    def _emit_handle_potential_error(self, event: str, error: Any) -> None:
        # Our listeners never raise into pyee; an "error" emit with no listener is ignored.
        if event == "error":
            return
        super()._emit_handle_potential_error(event, error)

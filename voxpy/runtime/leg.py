"""What the parts of a call leg are given, and the shape every part has.

A :class:`~voxpy.runtime.call.Call` is a facade over parts it owns (media, tones, signalling,
quality; later WebSocket streams, conference membership and detectors). A part is built with
a :class:`LegContext` - everything it may touch, named: the command sink, the event door, the
clock, the leg's logger and its call machine - and never reaches into the Call or the session.

A part plugs into the leg by implementing :class:`Part`:

* ``routes()`` - the backend signals it handles, ``{signal type: handler}``. The Call merges
  every part's routes into one table; a signal type owned by two parts is a construction error.
* ``audio_started()`` - audio can flow: 183 early media, or the answer (just before
  ``connected()``); once per leg (detectors listen from here: a busy tone comes early).
* ``connected()`` - the leg was answered and confirmed (start polling, streaming, ...).
* ``ended()`` - the leg is over: resolve what is pending, quietly.

Events go out by name, ``ctx.fire(CallEvents.X, field=value)``; the session turns the name
into the event's class (:mod:`voxpy.runtime.catalog`). That is what keeps this module, the
parts and the Call free of the event classes, whose ``call`` field names the Call: the import
graph stays acyclic even for type checkers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from structlog.typing import FilteringBoundLogger

from voxpy.core import commands as cmd
from voxpy.core.clock import Clock
from voxpy.core.events import CallEvents
from voxpy.core.ports import MediaLibrary
from voxpy.core.quality import Thresholds
from voxpy.core.signals import Signal
from voxpy.core.state import CallMachine
from voxpy.errors import InvalidStateError
from voxpy.runtime.dispatch import ErrorHook

Handler = Callable[[Any], None]
"A part's handler for one signal type (it receives that exact type)."


class Fire(Protocol):
    """Dispatch the call event ``name`` with ``fields`` (None values are left out) to the
    scenario; returns the event object handlers received."""

    def __call__(self, name: CallEvents, /, **fields: Any) -> Any: ...


class Part(Protocol):
    """One owned piece of a call leg (see the module docstring)."""

    def routes(self) -> Mapping[type[Signal], Handler]: ...

    def audio_started(self) -> None: ...

    def connected(self) -> None: ...

    def ended(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class LegContext:
    """Everything a part of one leg may use; built once by the Call and shared by its parts."""

    call_id: str
    machine: CallMachine
    "The leg's state: read it; only the Call feeds it signals and commands."
    send: Callable[[cmd.Command], None]
    fire: Fire
    clock: Clock
    log: FilteringBoundLogger
    "The leg's structlog logger, call and session ids bound."
    spawn: Callable[[Coroutine[Any, Any, None], str], None]
    "Run engine work concurrently; a failure is reported like a handler's."

    @classmethod
    def of(
        cls,
        host: LegHost,
        call_id: str,
        machine: CallMachine,
        *,
        fire: Fire,
        log: FilteringBoundLogger,
    ) -> LegContext:
        """The context of one leg of ``host``'s session."""
        return cls(
            call_id=call_id,
            machine=machine,
            send=host.send,
            fire=fire,
            clock=host.clock,
            log=log,
            spawn=host.spawn,
        )

    @property
    def live(self) -> bool:
        return self.machine.live

    def after(self, delay: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` after ``delay`` seconds on the leg's clock."""
        self.clock.call_later(delay, fn)

    def require_media(self, what: str) -> None:
        """Raise unless audio can flow (answered, or early media started)."""
        if not self.machine.media_ready:
            raise InvalidStateError(
                f"cannot {what} a call in state {self.machine.vox_state}: answer it, or call "
                "start_early_media(), first"
            )

    def require_connected(self, what: str) -> None:
        """Raise unless the leg is connected."""
        if self.machine.vox_state != "CONNECTED" or not self.machine.live:
            raise InvalidStateError(
                f"cannot {what}() on a call in state {self.machine.vox_state}: it must be connected"
            )


def merge_routes(*parts: Part) -> dict[type[Signal], Handler]:
    """One routing table from the parts' routes; a signal type claimed twice is a bug."""
    table: dict[type[Signal], Handler] = {}
    for part in parts:
        for kind, handler in part.routes().items():
            if kind in table:
                raise TypeError(f"{kind.__name__} is routed by two parts of a call")
            table[kind] = handler
    return table


@dataclass(frozen=True, slots=True, kw_only=True)
class LegHost:
    """What a leg needs from the session that owns it, named (built once per session)."""

    session_id: str
    log: FilteringBoundLogger
    clock: Clock
    media: MediaLibrary
    thresholds: Thresholds
    send: Callable[[cmd.Command], None]
    spawn: Callable[[Coroutine[Any, Any, None], str], None]
    build_event: Callable[[CallEvents, Any, dict[str, Any]], Any]
    "Make the event object for ``(name, call, fields)`` (the session knows the classes)."
    observe: Callable[[Any], None]
    "Every event, before its handlers run (tests, metrics)."
    ended: Callable[[Any], None]
    "The leg (the Call) is over: the session may end."
    scope: Callable[[str | None], AbstractContextManager[None]]
    "The context handlers of this leg run in (``VoxEngine`` is the session)."
    on_error: ErrorHook
    track: Callable[[asyncio.Future[Any], Any], None]
    "Follow an async handler's task: its failure is reported like a sync handler's."
    make_asr: Callable[..., Any] | None = None
    "``VoxEngine.create_asr`` (for ``gather(input=speech)``); None: no speech input."

"""What the media units apart from a leg share (issue 14): the host a session gives them, the
base class (events, the engine's signal routing), the calls they feed as a protocol, and a
recording's lifecycle (a recorder unit, or a conference's recording).

A unit has an id the backend knows it by (the ``call_id`` of its commands and signals); the
engine routes the unit's signals to :meth:`MediaUnit.receive` while it is registered. Units
fire their events by name; the session hands them the builder (the event classes name the
unit classes, so this module never imports them).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, MutableMapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from structlog.typing import FilteringBoundLogger

from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core import units as u
from voxpy.core.events import (
    AppEvents,
    ASREvents,
    CallEvents,
    ConferenceEvents,
    PlayerEvents,
    RecorderEvents,
    WebSocketEvents,
)
from voxpy.core.ports import MediaLibrary
from voxpy.errors import InvalidArgumentError
from voxpy.runtime.dispatch import Emitter, ErrorHook, Scope, Track
from voxpy.runtime.listening import Listening

UNIT_EVENTS = (ConferenceEvents, PlayerEvents, RecorderEvents)
_OTHERS = (CallEvents, AppEvents, WebSocketEvents, ASREvents)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitHost:
    """What a unit needs from its session (built once per session)."""

    session_id: str
    log: FilteringBoundLogger
    scope: Scope
    on_error: ErrorHook
    track: Track
    spawn: Callable[[Coroutine[Any, Any, None], str], None]
    send: Callable[[cmd.Command], None]
    media: MediaLibrary
    build_event: Callable[[StrEnum, Any, dict[str, Any]], Any]
    observe: Callable[[Any], None]
    register: Callable[[str, Callable[[sig.Signal], None]], None]
    "route the backend's signals of this unit id to this callback"
    forget: Callable[[str], None]
    conferences: MutableMapping[str, Any]
    "the worker's conferences by name (shared by its sessions: the engine's)"


@runtime_checkable
class UnitCall(Protocol):
    """What a unit sees of a Call (the Call sits above the units: they never import it)."""

    def id(self) -> str: ...
    @property
    def live(self) -> bool: ...
    @property
    def media_ready(self) -> bool: ...
    @property
    def mix_owner(self) -> object | None: ...
    def hear_mix(self, owner: object, sources: tuple[str, ...]) -> None: ...
    def hangup(self) -> None: ...
    def stop_mix(self, owner: object) -> None: ...


def unit_call(method: str, value: object) -> UnitCall:
    """``value`` as a Call, or InvalidArgumentError naming ``method``."""
    if not isinstance(value, UnitCall):
        raise InvalidArgumentError(f"{method}: needs a Call, got {value!r}")
    return value


class MediaUnit(Listening):
    """Base of Conference, Player and Recorder: an id, events of one enum, a signal route."""

    kind = "unit"

    def __init__(self, host: UnitHost, accepts: type[StrEnum]) -> None:
        refuses = tuple(e for e in (*UNIT_EVENTS, *_OTHERS) if e is not accepts)
        super().__init__(Emitter(host.scope, host.on_error, host.track, accepts=accepts,
                                 refuses=refuses))  # fmt: skip
        self._host = host
        self._id = f"{self.kind}-{uuid.uuid4().hex[:12]}"
        self.log = host.log.bind(unit_id=self._id)

    def id(self) -> str:
        """The unit's id (its backend's name for it; in its log lines as ``unit_id``)."""
        return self._id

    def receive(self, signal: sig.Signal) -> None:
        """A backend signal of this unit (engine-internal)."""

    def receive_media_from(self, call: UnitCall) -> None:
        """``call.send_media_to(unit)`` (engine side)."""
        raise NotImplementedError

    def stop_receiving_media_from(self, call: UnitCall) -> None:
        """``call.stop_media_to(unit)`` (engine side)."""
        raise NotImplementedError

    def _fire(self, name: StrEnum, **fields: Any) -> Any:
        event = self._host.build_event(name, self, {k: v for k, v in fields.items()
                                                    if v is not None})  # fmt: skip
        self.log.info("event", name=str(name))
        self._host.observe(event)
        self._events.emit(str(name), event)
        return event


class UnitRecording:
    """One recorder unit in the backend: start, the mix it hears, stop, and its outcome.

    ``on_started(url)`` and ``on_stopped(url, duration, error)`` are called from the
    backend's signals; the owner routes them here with :meth:`receive`."""

    def __init__(
        self,
        host: UnitHost,
        path: str,
        *,
        stereo: bool,
        hd_audio: bool,
        on_started: Callable[[str], None],
        on_stopped: Callable[[str, float, str | None], None],
    ) -> None:
        self.id = f"rec-{uuid.uuid4().hex[:12]}"
        self.path = path
        self._host = host
        self._on_started, self._on_stopped = on_started, on_stopped
        self.stopping = False
        rate, kbps = (16000, 64) if hd_audio else (8000, 32)
        host.register(self.id, self.receive)
        host.send(u.StartRecorder(call_id=self.id, path=path, stereo=stereo,
                                  sample_rate=rate, bitrate=kbps))  # fmt: skip

    def mix(self, sources: tuple[str, ...]) -> None:
        if not self.stopping:
            self._host.send(u.Mix(call_id=self.id, sources=sources))

    def stop(self) -> None:
        if not self.stopping:
            self.stopping = True
            self._host.send(u.StopRecorder(call_id=self.id))

    def receive(self, signal: sig.Signal) -> None:
        if isinstance(signal, sig.RecordingStarted):
            self._on_started(signal.path)
        elif isinstance(signal, sig.RecordingStopped | sig.RecordingFailed):
            self._host.forget(self.id)
            self.stopping = True
            if isinstance(signal, sig.RecordingStopped):
                self._on_stopped(signal.path, signal.duration, None)
            else:
                self._on_stopped(self.path, 0.0, signal.error)

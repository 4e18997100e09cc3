"""Events of the media units apart from a leg (issue 14): conferences, players, recorders.

Units fire by name and are handed :func:`build_unit_event` by the session (the classes name
the units, so the unit modules never import them). Field names are VoxEngine's payload names
in snake_case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from voxpy.core.events import ConferenceEvents, PlayerEvents, RecorderEvents
from voxpy.runtime.events import Event

if TYPE_CHECKING:
    from voxpy.runtime.conference import Conference, Endpoint
    from voxpy.runtime.player import Player
    from voxpy.runtime.recorder import Recorder


@dataclass(frozen=True, slots=True, kw_only=True)
class ConferenceEvent(Event):
    """Base of conference events: ``conference`` is the unit that fired."""

    conference: Conference


@dataclass(frozen=True, slots=True, kw_only=True)
class ConferenceStarted(ConferenceEvent):
    """The conference exists (fired once the scenario's code that created it has run)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConferenceStopped(ConferenceEvent):
    """``stop()`` removed everyone; the conference refuses everything from now on."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointAdded(ConferenceEvent):
    endpoint: Endpoint


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointRemoved(ConferenceEvent):
    """``remove``, ``stop``, or the participant's call ended."""

    endpoint: Endpoint


@dataclass(frozen=True, slots=True, kw_only=True)
class ConferenceRecordStarted(ConferenceEvent):
    url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ConferenceRecordStopped(ConferenceEvent):
    url: str
    duration: float = 0.0
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayerEvent(Event):
    player: Player


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayerStarted(PlayerEvent):
    """The media plays: ``duration`` of one pass, in seconds."""

    duration: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayerFinished(PlayerEvent):
    """The media reached its end, or could not be played (``error``)."""

    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecorderEvent(Event):
    recorder: Recorder


@dataclass(frozen=True, slots=True, kw_only=True)
class RecorderStarted(RecorderEvent):
    url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecorderStopped(RecorderEvent):
    """The file is complete (or failed: ``error``)."""

    url: str
    duration: float = 0.0
    error: str | None = None


UNIT_EVENTS: Mapping[StrEnum, type[Event]] = {
    ConferenceEvents.Started: ConferenceStarted,
    ConferenceEvents.Stopped: ConferenceStopped,
    ConferenceEvents.EndpointAdded: EndpointAdded,
    ConferenceEvents.EndpointRemoved: EndpointRemoved,
    ConferenceEvents.RecordStarted: ConferenceRecordStarted,
    ConferenceEvents.RecordStopped: ConferenceRecordStopped,
    PlayerEvents.Started: PlayerStarted,
    PlayerEvents.Finished: PlayerFinished,
    RecorderEvents.RecordStarted: RecorderStarted,
    RecorderEvents.RecordStopped: RecorderStopped,
}
"Every media unit's event class, by name (the catalog checks it is complete)."
_FIELD = {ConferenceEvents: "conference", PlayerEvents: "player", RecorderEvents: "recorder"}


def build_unit_event(name: StrEnum, unit: Any, fields: dict[str, Any]) -> Event:
    """The event object for ``name`` fired by ``unit``; a field the class lacks raises."""
    return UNIT_EVENTS[name](name=name, **{_FIELD[type(name)]: unit}, **fields)

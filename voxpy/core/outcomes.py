"""What the call machine decides, as typed values: ``Leg*`` events and ``Send`` actions.

Naming scheme (one name per concept): backend *signals* are facts the stack observed
(:mod:`voxpy.core.signals`); the machine's *outcomes* are ``Leg*`` values; the runtime turns
each ``Leg*`` into the scenario-facing event of the same ``name`` (``Call.Connected``, ...),
which adds the ``Call`` object. A ``Send`` is a command the machine wants carried out,
with ``why`` set when it is a decision worth logging (a timeout, a slot guard).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from voxpy.core.commands import Command
from voxpy.core.events import CallEvents
from voxpy.core.headers import Headers


@dataclass(frozen=True, slots=True, kw_only=True)
class LegEvent:
    """Base of the machine's events; ``headers`` are those of the message that caused it."""

    name: ClassVar[CallEvents]
    headers: Headers | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LegStateChanged(LegEvent):
    name = CallEvents.StateChanged
    old_state: str
    new_state: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LegRinging(LegEvent):
    name = CallEvents.Ringing


@dataclass(frozen=True, slots=True, kw_only=True)
class LegAudioStarted(LegEvent):
    name = CallEvents.AudioStarted


@dataclass(frozen=True, slots=True, kw_only=True)
class LegConnected(LegEvent):
    name = CallEvents.Connected


@dataclass(frozen=True, slots=True, kw_only=True)
class LegDisconnected(LegEvent):
    name = CallEvents.Disconnected
    code: int
    reason: str = ""
    duration: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class LegFailed(LegEvent):
    name = CallEvents.Failed
    code: int
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Send:
    """A command the machine decided on; ``why`` names the decision (empty: routine)."""

    command: Command
    why: str = ""
    detail: Mapping[str, str | float] = field(default_factory=dict)


Outcome = LegEvent | Send

"""Media units apart from a leg (issue 14): the commands of players, recorders and mixes, and
the conference's rule of who hears whom. Pure values and one pure function.

A unit has an id of its own that travels in the commands' ``call_id`` field, so backends route
and answer unit commands as they do leg commands: a player reports PlayStarted/PlayEnded, a
recorder RecordingStarted/RecordingStopped/RecordingFailed, each with the unit's id as
``call_id`` (and as ``playback_id``/``recording_id``).

Nothing here is a mixer: the backends' bridges mix (pjsua2's conference bridge sums every port
connected to one sink), so a conference is only the set of sources each sink hears, which
:func:`conference_mix` decides and :class:`Mix` tells the backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from voxpy.core.commands import Command


@dataclass(frozen=True, slots=True, kw_only=True)
class Mix(Command):
    """Sink ``call_id`` - a leg, or a recorder unit - hears the sum of ``sources`` in place of
    its current source (a leg receives one stream at a time; a mix is one stream).

    A source is a leg's id (what its far end says) or a player unit's id. Order matters only
    to a stereo recorder: the first source goes left, the others right. An empty mix is
    silence. A source that ended, or is unknown, is skipped, not an error (its BYE may
    overtake the mix the runtime sent)."""

    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class StartPlayer(Command):
    """Create player unit ``call_id`` playing a prepared WAV; it plays whether or not any sink
    hears it yet (VoxEngine's player keeps time). PlayStarted follows at once, PlayEnded at the
    end of the file (never while ``loop``)."""

    path: str
    loop: bool = False
    duration: float = 0.0
    "Length of one pass as prepared; a backend that cannot measure the file uses it."


@dataclass(frozen=True, slots=True, kw_only=True)
class StopPlayer(Command):
    """Stop and destroy player unit ``call_id``; no PlayEnded follows. Sinks hear silence."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StartRecorder(Command):
    """Create recorder unit ``call_id``: an MP3 file of what is mixed into it (:class:`Mix`).
    Stereo puts the mix's first source left and the others right."""

    path: str
    stereo: bool = False
    sample_rate: int = 8000
    bitrate: int = 32
    "kbit/s"


@dataclass(frozen=True, slots=True, kw_only=True)
class StopRecorder(Command):
    """Finish recorder unit ``call_id``; RecordingStopped follows once the file is complete."""


UNIT_COMMANDS = (Mix, StartPlayer, StopPlayer, StartRecorder, StopRecorder)
"Every command of a media unit (a Mix into a leg included: it is the units' way in)."


class Direction(StrEnum):
    """A conference participant's direction (VoxEngine's ``direction``)."""

    BOTH = "BOTH"
    SEND = "SEND"
    "others hear it; it hears nothing"
    RECEIVE = "RECEIVE"
    "it hears the others; nobody hears it"


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """One participant as the mixing rule sees it."""

    direction: Direction = Direction.BOTH
    muted: bool = False
    heard_by: frozenset[str] | None = None
    "Who may hear this participant (None: everyone); a supervisor's whisper names the agent."

    @property
    def sends(self) -> bool:
        return self.direction is not Direction.RECEIVE and not self.muted

    @property
    def hears(self) -> bool:
        return self.direction is not Direction.SEND


def conference_mix(members: Mapping[str, Member]) -> dict[str, tuple[str, ...]]:
    """What each participant hears: every other participant that sends (to it, when the
    sender is heard by some only), never itself; a SEND-only participant hears nothing.
    Sources keep the members' (joining) order."""
    senders = [(member_id, m.heard_by) for member_id, m in members.items() if m.sends]
    return {
        member_id: tuple(
            s for s, only in senders if s != member_id and (only is None or member_id in only)
        )
        if m.hears
        else ()
        for member_id, m in members.items()
    }


def conference_senders(members: Mapping[str, Member]) -> tuple[str, ...]:
    """Who a conference recording hears: every participant that sends to everyone (not a
    whisper), in joining order."""
    return tuple(i for i, m in members.items() if m.sends and m.heard_by is None)

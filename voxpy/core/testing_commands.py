"""Commands that only tests send: measuring what a leg heard, and injecting RTP loss.

They are not in :data:`~voxpy.core.commands.COMMAND_TYPES`, the production set a scenario's
runtime sends; backends that serve as test peers (pjsua2 through its peer process, memory)
accept them too, and :mod:`voxpy.core.wire` carries them to the peer process.
"""

from __future__ import annotations

from dataclasses import dataclass

from voxpy.core.commands import Command


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportAudio(Command):
    """Ask for an AudioReport: how much non-silent audio this leg has received so far.

    Backends measure only when built to (the test peer does); others report ``None``.
    """


@dataclass(frozen=True, slots=True, kw_only=True)
class SetRtpLoss(Command):
    """Fault injection for tests: drop ``percent`` of the RTP this side sends on the leg."""

    percent: float


TESTING_COMMAND_TYPES: tuple[type[Command], ...] = (ReportAudio, SetRtpLoss)

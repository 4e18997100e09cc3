"""Media units for the in-memory network (issue 14): players, recorders and mixes, modelled.

A mix is the set of sources a leg (or a recorder) hears: :mod:`.memory_streams` sums the fed
audio of every leg in a leg's mix into what its far end's taps hear, so a test hears a
conference as the peers would (only fed audio is sound: players are silence, as playbacks
are). :meth:`UnitSim.voices` answers "whose voices reach this leg's far end" without any
audio, for tests that want the rule rather than the sound.

A player keeps time on the network's clock (PlayStarted now, PlayEnded after its duration,
never while looping); a recorder writes no file: RecordingStopped reports the elapsed time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from voxpy.backends.memory_media import LegMedia, MediaSim
from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core import units as u
from voxpy.core.clock import Timer

Emit = Callable[[sig.Signal], None]


@dataclass(eq=False)
class PlayerSim:
    emit: Emit
    timer: Timer | None = None


@dataclass(eq=False)
class RecorderSim:
    emit: Emit
    path: str
    started: float
    sources: tuple[str, ...] = field(default=())


class UnitSim:
    """The units of one memory network; see the module docstring."""

    def __init__(self, media: MediaSim) -> None:
        self.media = media
        self.players: dict[str, PlayerSim] = {}
        self.recorders: dict[str, RecorderSim] = {}

    def handle(self, command: cmd.Command, emit: Emit, leg: LegMedia | None) -> None:
        """Apply a unit command sent to an endpoint (``leg``: its leg of that id, if any)."""
        unit_id = command.call_id
        if isinstance(command, u.Mix):
            if unit_id in self.recorders:
                self.recorders[unit_id].sources = command.sources
            elif leg is not None:  # a leg that ended meanwhile: nothing to connect (as pjsua2)
                self.media.clear_source(leg)
                if self.media.hooks is not None:
                    self.media.hooks.replaced(leg)
                leg.mix = command.sources
        elif isinstance(command, u.StartPlayer):
            if unit_id in self.players:
                self._failed(emit, command, f"player {unit_id!r} already exists")
                return
            self._start_player(command, emit)
        elif isinstance(command, u.StopPlayer):
            player = self.players.pop(unit_id, None)
            if player is not None and player.timer is not None:
                player.timer.cancel()
        elif isinstance(command, u.StartRecorder):
            if unit_id in self.recorders:
                self._failed(emit, command, f"recorder {unit_id!r} already exists")
                return
            self.recorders[unit_id] = RecorderSim(emit, command.path, self.media.now())
            emit(sig.RecordingStarted(call_id=unit_id, recording_id=unit_id, path=command.path))
        elif isinstance(command, u.StopRecorder):
            self.stop_recorder(unit_id)

    def _start_player(self, command: u.StartPlayer, emit: Emit) -> None:
        unit_id = command.call_id
        player = self.players[unit_id] = PlayerSim(emit)
        emit(sig.PlayStarted(call_id=unit_id, playback_id=unit_id, duration=command.duration))
        if command.loop:
            return
        clock = self.media.clock
        if clock is None:
            self._finished(unit_id)
        else:
            player.timer = clock.call_later(command.duration, lambda: self._finished(unit_id))

    def _finished(self, unit_id: str) -> None:
        player = self.players.pop(unit_id, None)
        if player is not None:
            player.emit(sig.PlayEnded(call_id=unit_id, playback_id=unit_id))

    def stop_recorder(self, unit_id: str) -> None:
        recorder = self.recorders.pop(unit_id, None)
        if recorder is not None:
            recorder.emit(
                sig.RecordingStopped(
                    call_id=unit_id,
                    recording_id=unit_id,
                    path=recorder.path,
                    duration=self.media.now() - recorder.started,
                )
            )

    def stop_all(self, emit: Emit) -> None:
        """An endpoint stops: its units stop (recordings complete)."""
        for unit_id in [i for i, p in self.players.items() if p.emit == emit]:
            self.players.pop(unit_id)
        for unit_id in [i for i, r in self.recorders.items() if r.emit == emit]:
            self.stop_recorder(unit_id)

    def voices(self, call_id: str) -> set[str]:
        """The legs whose far ends' voices reach the far end of leg ``call_id``: its mix's
        legs, or the leg routed into it (SendMedia); none while it is muted."""
        leg = self.media.legs.get(call_id)
        if leg is None or leg.muted:
            return set()
        if leg.mix is not None:
            sources = [self.media.legs.get(s) for s in leg.mix if s != call_id]
            return {s.far.call_id for s in sources if s is not None and s.far is not None}
        return {
            other.far.call_id
            for other in self.media.legs.values()
            if call_id in other.sends_to and other.far is not None
        }

    @staticmethod
    def _failed(emit: Emit, command: cmd.Command, message: str) -> None:
        emit(sig.CommandFailed(call_id=command.call_id, op=type(command).__name__, message=message))

"""Media for the in-memory network: timing and bookkeeping, no audio.

A playback lasts its prepared duration on the network's clock and then finishes, as the pjsua2
player does; a new playback or media route into a leg replaces the old one silently; what one
side plays is "heard" by the other (and, through ``SendMedia`` routes, by the far end of the
leg it is sent to), which is what ``ReportAudio`` counts. Recordings produce no file:
RecordingStopped reports the elapsed time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core import testing_commands as tcmd
from voxpy.core.clock import Clock, Timer


@dataclass
class Playing:
    playback_id: str
    started: float
    timer: Timer | None
    audible_since: float | None = None
    "When the far end started hearing it (None while the leg is muted)."


@dataclass
class LegMedia:
    """Media state of one leg; ``heard`` is audio its far end played into it (seconds)."""

    call_id: str
    emit: Callable[[sig.Signal], None]
    playing: Playing | None = None
    pending: list[cmd.Play] = field(default_factory=list)
    heard: float = 0.0
    far: LegMedia | None = None
    sends_to: set[str] = field(default_factory=set)
    "Legs (by call id, same endpoint) that receive what this leg's far end says."
    recordings: dict[str, tuple[str, float]] = field(default_factory=dict)
    muted: bool = False
    mix: tuple[str, ...] | None = None
    "Legs (and player units) mixed into this leg (core ``Mix``: a conference); None: no mix."


class SourceHooks(Protocol):
    """What the taps and feeds (``memory_streams.StreamSim``) hear of the legs' media."""

    def media_up(self, leg: LegMedia) -> None: ...

    def replaced(self, leg: LegMedia) -> None: ...

    def ended(self, leg: LegMedia) -> None: ...


class MediaSim:
    """Applies media commands to :class:`LegMedia` objects."""

    def __init__(self, clock: Clock | None) -> None:
        self.clock = clock
        self.legs: dict[str, LegMedia] = {}
        "Every live leg of the network, so media routes can be followed."
        self.hooks: SourceHooks | None = None

    def now(self) -> float:
        return self.clock.now() if self.clock is not None else 0.0

    def handle(self, leg: LegMedia, command: cmd.Command, media_ready: bool) -> bool:  # noqa: PLR0912 - one branch per command type
        """Apply ``command`` if it is a media command; False otherwise."""
        if isinstance(command, cmd.Play):
            if media_ready:
                self._play(leg, command)
            else:
                leg.pending.append(command)  # as pjsua2: plays once media is up
        elif isinstance(command, cmd.StopPlayback):
            if leg.playing is not None and leg.playing.playback_id == command.playback_id:
                self._stop(leg)
        elif isinstance(command, cmd.SendMedia):
            target = self.legs.get(command.to_call_id)
            if target is not None:
                if target.playing is not None:
                    self._stop(target)  # one source at a time
                if self.hooks is not None:
                    self.hooks.replaced(target)
                for leg_ in self.legs.values():
                    leg_.sends_to.discard(target.call_id)
                target.mix = None
                leg.sends_to.add(target.call_id)
        elif isinstance(command, cmd.StopMedia):
            leg.sends_to.discard(command.to_call_id)
        elif isinstance(command, cmd.StartRecording):
            leg.recordings[command.recording_id] = (command.path, self.now())
            leg.emit(
                sig.RecordingStarted(
                    call_id=leg.call_id, recording_id=command.recording_id, path=command.path
                )
            )
        elif isinstance(command, cmd.StopRecording):
            self._stop_recording(leg, command.recording_id)
        elif isinstance(command, cmd.SendDigits):
            if leg.far is not None:
                for digit in command.digits:
                    leg.far.emit(
                        sig.DtmfReceived(call_id=leg.far.call_id, tone=digit, method=command.method)
                    )
        elif isinstance(command, tcmd.ReportAudio):
            leg.emit(sig.AudioReport(call_id=leg.call_id, seconds=self.heard(leg)))
        else:
            return False
        return True

    def media_up(self, leg: LegMedia) -> None:
        """Early media or answer: start what was asked to play before."""
        if self.hooks is not None:
            self.hooks.media_up(leg)
        pending, leg.pending = leg.pending, []
        if pending:  # as pjsua2: only the last one starts, the others were replaced unheard
            self._play(leg, pending[-1])

    def ended(self, leg: LegMedia) -> None:
        """The call ended: playback stops silently, recordings complete."""
        self.legs.pop(leg.call_id, None)
        if self.hooks is not None:
            self.hooks.ended(leg)
        leg.pending.clear()
        if leg.playing is not None:
            self._stop(leg)
        for recording_id in list(leg.recordings):
            self._stop_recording(leg, recording_id)

    def heard(self, leg: LegMedia) -> float:
        far = leg.far
        live = far.playing if far is not None else None
        audible = live.audible_since if live is not None else None
        return leg.heard + (self.now() - audible if audible is not None else 0.0)

    def clear_source(self, leg: LegMedia) -> None:
        """Another source (a feed) replaces the leg's playback or bridged audio, silently."""
        leg.pending.clear()
        leg.mix = None
        if leg.playing is not None:
            self._stop(leg)
        for other in self.legs.values():
            other.sends_to.discard(leg.call_id)

    def _play(self, leg: LegMedia, play: cmd.Play) -> None:
        leg.mix = None  # one source at a time: the playback replaces the mix
        if self.hooks is not None:
            self.hooks.replaced(leg)
        if leg.playing is not None:
            self._stop(leg)  # one source at a time; the old one ends silently
        timer = None
        if not play.loop and self.clock is not None:
            timer = self.clock.call_later(play.duration, lambda: self._finished(leg, play))
        now = self.now()
        leg.playing = Playing(play.playback_id, now, timer, None if leg.muted else now)
        leg.emit(
            sig.PlayStarted(
                call_id=leg.call_id, playback_id=play.playback_id, duration=play.duration
            )
        )
        if not play.loop and self.clock is None:
            self._finished(leg, play)

    def _finished(self, leg: LegMedia, play: cmd.Play) -> None:
        if leg.playing is not None and leg.playing.playback_id == play.playback_id:
            self._stop(leg)
            leg.emit(sig.PlayEnded(call_id=leg.call_id, playback_id=play.playback_id))

    def _stop(self, leg: LegMedia) -> None:
        playing, leg.playing = leg.playing, None
        if playing is None:
            return
        if playing.timer is not None:
            playing.timer.cancel()
        self._hear(leg, playing)

    def set_muted(self, leg: LegMedia, on: bool) -> None:
        """Muted, a leg's playback goes on but its far end hears nothing of it."""
        leg.muted = on
        playing = leg.playing
        if playing is None:
            return
        if on:
            self._hear(leg, playing)
            playing.audible_since = None
        else:
            playing.audible_since = self.now()

    def _hear(self, leg: LegMedia, playing: Playing) -> None:
        """Credit what ``leg``'s far end heard of ``playing`` since it became audible."""
        if playing.audible_since is None:
            return
        elapsed = self.now() - playing.audible_since
        playing.audible_since = self.now()
        if leg.far is not None:
            leg.far.heard += elapsed
            for routed in leg.far.sends_to:  # bridged on: the far end of that leg hears it too
                target = self.legs.get(routed)
                if target is not None and target.far is not None:
                    target.far.heard += elapsed

    def _stop_recording(self, leg: LegMedia, recording_id: str) -> None:
        entry = leg.recordings.pop(recording_id, None)
        if entry is not None:
            path, started = entry
            leg.emit(
                sig.RecordingStopped(
                    call_id=leg.call_id,
                    recording_id=recording_id,
                    path=path,
                    duration=self.now() - started,
                )
            )

"""Media units apart from legs (issue 14): player units, recorder units and mixes.

Owner thread only. A unit is state in :class:`~.routing.Units`; the bridge connections it
needs come from :func:`~.routing.wanted_links` like every other connection, through the
registry's ``sync``. A player unit is one pjmedia player port transmitting to every sink whose
mix names it (several legs hear the same playback, in step); a recorder unit is a
:class:`~.recordings.Recording` (two capture ports and an MP3 encoder) that no leg owns. A
conference has no object here at all: it is the set of :class:`~voxpy.core.units.Mix`
commands the runtime derives from its participants.

Teardown follows the leg media's rules: players go to the graveyard, capture ports back to
the pool, recordings close on threads of their own.
"""

from __future__ import annotations

from collections.abc import Callable

from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.playback import EofQueue, PlaybackError, open_playback
from voxpy.backends.pjsua2.portpool import PortPool
from voxpy.backends.pjsua2.recordings import Closers, start_recording
from voxpy.backends.pjsua2.routing import LegMedia, Mixed, Source, UnitRecorder, Units
from voxpy.backends.pjsua2.wiring import Graveyard
from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core import units as u


class UnitMedia:
    """Carries out :data:`~voxpy.core.units.UNIT_COMMANDS`."""

    def __init__(
        self,
        *,
        ports: PortPool,
        eofs: EofQueue,
        graves: Graveyard,
        closers: Closers,
        emit: Callable[[sig.Signal], None],
        logger: Logger,
        leg: Callable[[str], LegMedia | None],
        set_source: Callable[[LegMedia, Source], None],
        sync: Callable[[], None],
    ) -> None:
        self.units = Units()
        self._ports, self._eofs, self._graves, self._closers = ports, eofs, graves, closers
        self._emit, self._logger = emit, logger
        self._leg, self._set_source, self._sync = leg, set_source, sync

    def handle(self, command: cmd.Command) -> None:
        """One unit command; a failure comes back as a signal of the unit (or the leg)."""
        unit_id = command.call_id
        if isinstance(command, u.Mix):
            self._mix(command)
        elif isinstance(command, u.StartPlayer):
            if unit_id in self.units.players:
                self._failed(command, f"player {unit_id!r} already exists")
                return
            self._start_player(command)
        elif isinstance(command, u.StopPlayer):
            playback = self.units.players.pop(unit_id, None)
            if playback is not None:
                self._sync()
                self._graves.bury(playback.player)
        elif isinstance(command, u.StartRecorder):
            if unit_id in self.units.recorders:
                self._failed(command, f"recorder {unit_id!r} already exists")
                return
            self._start_recorder(command)
        elif isinstance(command, u.StopRecorder):
            recorder = self.units.recorders.pop(unit_id, None)
            if recorder is not None:
                self._stop_recorder(recorder)

    def _mix(self, command: u.Mix) -> None:
        recorder = self.units.recorders.get(command.call_id)
        if recorder is not None:
            recorder.sources = command.sources
            self._sync()
            return
        lm = self._leg(command.call_id)
        if lm is None:
            # The leg ended (its BYE can overtake the mix): nothing left to connect.
            self._logger.debug("mix_target_gone", call_id=command.call_id)
            return
        self._set_source(lm, Mixed(command.sources))

    def _start_player(self, command: u.StartPlayer) -> None:
        unit_id = command.call_id
        try:
            playback = open_playback(
                unit_id,
                unit_id,
                command.path,
                loop=command.loop,
                fallback_duration=command.duration,
                eofs=self._eofs,
            )
        except PlaybackError as exc:
            self._emit(sig.PlayEnded(call_id=unit_id, playback_id=unit_id, error=str(exc)))
            return
        self.units.players[unit_id] = playback
        playback.started = True
        self._sync()
        self._emit(
            sig.PlayStarted(call_id=unit_id, playback_id=unit_id, duration=playback.duration)
        )

    def _start_recorder(self, command: u.StartRecorder) -> None:
        unit_id = command.call_id
        start = cmd.StartRecording(
            call_id=unit_id,
            recording_id=unit_id,
            path=command.path,
            stereo=command.stereo,
            sample_rate=command.sample_rate,
            bitrate=command.bitrate,
        )
        recording = start_recording(start, self._ports, self._emit, self._logger)
        if recording is None:
            return  # RecordingFailed was emitted
        self.units.recorders[unit_id] = UnitRecorder(recording)
        self._emit(sig.RecordingStarted(call_id=unit_id, recording_id=unit_id, path=command.path))

    def _stop_recorder(self, recorder: UnitRecorder) -> None:
        self._ports.give(*recorder.recording.detach())
        self._sync()
        self._closers.close(recorder.recording)

    def finished(self, token: int) -> bool:
        """A player's EOF token: the unit finishes (PlayEnded). False: not a unit's."""
        for unit_id, playback in self.units.players.items():
            if playback.token == token:
                del self.units.players[unit_id]
                self._sync()
                self._graves.bury(playback.player)
                self._emit(sig.PlayEnded(call_id=unit_id, playback_id=unit_id))
                return True
        return False

    def release(self) -> None:
        """Shutdown: players stop, recordings complete."""
        players, self.units.players = self.units.players, {}
        recorders, self.units.recorders = self.units.recorders, {}
        for recorder in recorders.values():
            self._stop_recorder(recorder)
        self._sync()
        self._graves.bury(*(p.player for p in players.values()))

    def _failed(self, command: cmd.Command, message: str) -> None:
        self._emit(
            sig.CommandFailed(call_id=command.call_id, op=type(command).__name__, message=message)
        )

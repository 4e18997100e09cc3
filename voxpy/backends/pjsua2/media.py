"""Media of the live legs: playback, routing between legs, recording, DTMF out, metering,
taps (the far end's audio to the runtime) and feeds (the runtime's audio into the leg).

Owner thread only (media-thread callbacks live in :mod:`.ports`). The state is declarative:
each leg has at most one *source* (a playback, another leg's audio, or nothing) and a set of
listeners (recording ports, a level meter), see :mod:`.routing`. :meth:`Media._sync` derives
the bridge connections from that state and lets :class:`~.wiring.Wiring` apply the
difference, so a replaced source, a re-INVITE that recreates a call's port, or a leg that
ends all take the same path.

Ownership and teardown: players and tone generators are held here only; once disconnected
they go to the :class:`~.wiring.Graveyard` and are destroyed a few bridge ticks later, still
on this thread. Python media ports (recording capture, level meters, taps, feeds) must never
be destroyed while the bridge runs; they go back to the :class:`~.portpool.PortPool` instead.
Recordings are closed on threads of their own (:class:`~.recordings.Closers`).
:meth:`Media.release` (before the Calls are dropped and long before libDestroy) ends all of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pjsua2 as pj

from voxpy.backends.pjsua2 import dtmf, stats
from voxpy.backends.pjsua2.call import Emit, Leg
from voxpy.backends.pjsua2.clockthread import ClockPriority
from voxpy.backends.pjsua2.errors import NO_SUCH_CALL
from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.options import PjsuaOptions
from voxpy.backends.pjsua2.playback import EofQueue, Playback, PlaybackError, open_playback
from voxpy.backends.pjsua2.portpool import PortPool
from voxpy.backends.pjsua2.ports import FAULTS, FeedPort, TapBuffer
from voxpy.backends.pjsua2.recordings import Closers, Recording, start_recording
from voxpy.backends.pjsua2.routing import LegMedia, Source, wanted_links
from voxpy.backends.pjsua2.streams import Tap
from voxpy.backends.pjsua2.units import UnitMedia
from voxpy.backends.pjsua2.wiring import Graveyard, Wiring, port_id
from voxpy.backends.streams import Feed, check_pcm, check_stream_id, check_stream_rate
from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core import testing_commands as tcmd
from voxpy.core import units as u

MEDIA_COMMANDS = (
    cmd.Play,
    cmd.StopPlayback,
    cmd.SendMedia,
    cmd.StopMedia,
    cmd.StartRecording,
    cmd.StopRecording,
    cmd.SendDigits,
    tcmd.ReportAudio,
    cmd.Mute,
    cmd.ReportStats,
    tcmd.SetRtpLoss,
    *cmd.STREAM_COMMANDS,
    *u.UNIT_COMMANDS,
)
METER_RATE = 8000


class Media:
    """Carries out the media commands and keeps the bridge in line with the leg states."""

    def __init__(
        self,
        options: PjsuaOptions,
        emit: Emit,
        lookup: Callable[[str], Leg | None],
        wake: Callable[[], None],
        logger: Logger,
    ) -> None:
        self._options = options
        self._emit = emit
        self._lookup = lookup
        self._logger = logger
        self._legs: dict[str, LegMedia] = {}
        self._wiring = Wiring(logger)
        self._graves = Graveyard()
        self._ports = PortPool(logger)
        self._eofs = EofQueue(wake)
        self._closers = Closers(emit, logger)
        self._silence: Any = pj.Endpoint.instance().audDevManager().getCaptureDevMedia()
        self._units = UnitMedia(ports=self._ports, eofs=self._eofs, graves=self._graves,
                                closers=self._closers, emit=emit, logger=logger, leg=self._leg,
                                set_source=self._set_source, sync=self._sync)  # fmt: skip
        self._clock = ClockPriority(options.clock_priority, logger)

    # -- leg events (from Leg callbacks and call commands) ---------------------------------

    def media_changed(self, leg: Leg) -> None:
        """Media state or answer state changed: (re)attach the leg's port."""
        lm = self._legs.setdefault(leg.call_id, LegMedia(leg.call_id))
        audio = None
        if leg.may_send_audio and not leg.ended:
            try:
                audio = leg.getAudioMedia(-1)
            except pj.Error:
                audio = None  # no active audio stream (yet, or any more)
        if lm.slot >= 0:
            # A re-INVITE may have replaced the call's port, often by one in the same slot
            # (pjmedia reuses the last freed slot first), so connect everything again; a
            # connection that still exists is merely logged by pjmedia as already there.
            self._wiring.forget(lm.slot)
        lm.audio, lm.slot = audio, port_id(audio) if audio is not None else -1
        if audio is not None and self._options.measure_rx_audio and lm.meter is None:
            lm.meter = self._ports.meter(METER_RATE)
        self._sync()

    def leg_ended(self, leg: Leg) -> None:
        """The call is gone: its players stop silently, its recordings complete."""
        lm = self._legs.pop(leg.call_id, None)
        if lm is None:
            return
        if lm.slot >= 0:
            self._wiring.forget(lm.slot)  # pjsua removed the call's port with its stream
        for other in self._legs.values():
            if other.source == leg.call_id:
                other.source = None
        self._sync()
        self._retire(lm)

    # -- commands --------------------------------------------------------------------------

    def handle(self, command: cmd.Command) -> None:  # noqa: PLR0912 - one branch per command
        """Carry out one of :data:`MEDIA_COMMANDS`; raises pj.Error/InvalidArgumentError."""
        if isinstance(command, u.UNIT_COMMANDS):
            return self._units.handle(command)
        leg = self._live(command.call_id)
        if leg is None:
            self._failed(command, NO_SUCH_CALL)
            return
        lm = self._legs.setdefault(leg.call_id, LegMedia(leg.call_id))
        if isinstance(command, cmd.Play):
            self._play(lm, command)
        elif isinstance(command, cmd.StopPlayback):
            if isinstance(lm.source, Playback) and lm.source.playback_id == command.playback_id:
                self._set_source(lm, None)
        elif isinstance(command, cmd.SendMedia | cmd.StopMedia):
            self._route(command)
        elif isinstance(command, cmd.StartRecording):
            self._record(lm, command)
        elif isinstance(command, cmd.StopRecording):
            recording = lm.recordings.pop(command.recording_id, None)
            if recording is not None:
                self._stop_recording(recording)
        elif isinstance(command, cmd.SendDigits):
            digits = dtmf.check_digits(command.digits, command.method)
            used = dtmf.send_digits(
                leg,
                digits,
                command.method,
                lambda d: self._in_band(lm, d),
                self._logger,
                leg.call_id,
            )
            self._logger.debug("digits_sent", call_id=leg.call_id, digits=digits, method=used)
        elif isinstance(command, tcmd.ReportAudio):
            metered = self._options.measure_rx_audio
            seconds = (lm.meter.seconds if lm.meter is not None else 0.0) if metered else None
            self._emit(sig.AudioReport(call_id=lm.call_id, seconds=_rounded(seconds)))
        elif isinstance(command, cmd.Mute):
            lm.muted = command.on
            self._sync()
        elif isinstance(command, cmd.STREAM_COMMANDS):
            self._stream(lm, command)
        else:  # ReportStats, SetRtpLoss (levels need the bridge state held here)
            listened = lm.slot >= 0 and self._wiring.has_listener(lm.slot)
            stats.answer(leg, command, lm.audio, listened=listened, emit=self._emit)

    def _play(self, lm: LegMedia, command: cmd.Play) -> None:
        try:
            playback = open_playback(
                lm.call_id,
                command.playback_id,
                command.path,
                loop=command.loop,
                fallback_duration=command.duration,
                eofs=self._eofs,
            )
        except PlaybackError as exc:
            self._emit(
                sig.PlayEnded(call_id=lm.call_id, playback_id=command.playback_id, error=str(exc))
            )
            return
        # Starts now, or once the leg can carry audio (PlayStarted is emitted by _sync).
        self._set_source(lm, playback)

    def _route(self, command: cmd.SendMedia | cmd.StopMedia) -> None:
        target = self._live(command.to_call_id)
        if target is None:
            # The target ended (its BYE can overtake a bridge the scenario asked for): there is
            # nothing left to connect, as for StopMedia after a leg ended. Not a failure.
            self._logger.debug(
                "media_target_gone",
                op=type(command).__name__,
                call_id=command.call_id,
                to_call_id=command.to_call_id,
            )
            return
        if target.call_id == command.call_id:
            self._failed(command, "a leg cannot send its own audio back to itself")
            return
        lm = self._legs.setdefault(target.call_id, LegMedia(target.call_id))
        if isinstance(command, cmd.SendMedia):
            self._set_source(lm, command.call_id)
        elif lm.source == command.call_id:
            self._set_source(lm, None)

    def _record(self, lm: LegMedia, command: cmd.StartRecording) -> None:
        if command.recording_id in lm.recordings:
            self._failed(command, f"recording {command.recording_id!r} is already running")
            return
        recording = start_recording(command, self._ports, self._emit, self._logger)
        if recording is None:
            return  # RecordingFailed was emitted
        lm.recordings[command.recording_id] = recording
        self._sync()
        self._emit(
            sig.RecordingStarted(
                call_id=lm.call_id, recording_id=command.recording_id, path=command.path
            )
        )

    def _stream(self, lm: LegMedia, command: cmd.Command) -> None:
        """StartTap/StopTap/StartFeed/FeedAudio/ClearFeed/StopFeed; InvalidArgumentError or
        pj.Error (no bridge slot) become CommandFailed in the dispatcher."""
        check_stream_id(command)
        if isinstance(command, cmd.StartTap):
            rate = check_stream_rate(command.sample_rate)
            if command.tap_id in lm.taps:
                self._failed(command, f"tap {command.tap_id!r} is already running")
                return
            buffer = TapBuffer()
            port = self._ports.capture(rate, buffer.push, 0)
            lm.taps[command.tap_id] = Tap(lm.call_id, command.tap_id, port, buffer)
            self._sync()
        elif isinstance(command, cmd.StopTap):
            tap = lm.taps.pop(command.tap_id, None)
            if tap is None:
                self._failed(command, f"no tap {command.tap_id!r} on this call")
                return
            self._ports.give(tap.port)  # detached first: no frame reaches it after this take
            self._emit_frames(tap)
            self._sync()
        elif isinstance(command, cmd.StartFeed):
            rate = check_stream_rate(command.sample_rate)
            if isinstance(lm.source, Feed) and lm.source.feed_id == command.feed_id:
                self._failed(command, f"feed {command.feed_id!r} is already running")
                return
            feed = Feed(lm.call_id, command.feed_id, self._ports.feed(rate))
            self._set_source(lm, feed)
        else:
            assert isinstance(command, cmd.FeedAudio | cmd.ClearFeed | cmd.StopFeed)
            live = lm.source if isinstance(lm.source, Feed) else None
            pcm = check_pcm(command.pcm) if isinstance(command, cmd.FeedAudio) else b""
            if live is None or live.feed_id != command.feed_id:
                self._failed(command, f"no feed {command.feed_id!r} on this call")
                return
            if isinstance(command, cmd.FeedAudio):
                live.add(pcm)
            elif isinstance(command, cmd.ClearFeed):
                live.clear()
                self._emit_report(live, force=True)
            else:
                self._set_source(lm, None)

    def _emit_frames(self, tap: Tap) -> None:
        frames = tap.take()
        if frames is not None:
            self._emit(frames)

    def _emit_report(self, feed: Feed[FeedPort], force: bool = False) -> None:
        report = feed.report(force=force)
        if report is not None:
            self._emit(report)

    def _in_band(self, lm: LegMedia, digits: str) -> None:
        if lm.tones is None:
            lm.tones = dtmf.tone_generator()
            self._sync()
        dtmf.play_tones(lm.tones, digits)

    # -- owner loop and shutdown -----------------------------------------------------------

    def poll(self) -> None:
        """Finish the playbacks that reached their end; destroy what has been disconnected."""
        for what, error in FAULTS.take():
            self._logger.error("media_callback_failed", what=what, error=error)
        for token in self._eofs.take():
            if self._units.finished(token):
                continue
            for lm in self._legs.values():
                playback = lm.source
                if isinstance(playback, Playback) and playback.token == token:
                    self._set_source(lm, None)
                    self._emit(sig.PlayEnded(call_id=lm.call_id, playback_id=playback.playback_id))
                    break
        for lm in self._legs.values():
            for tap in lm.taps.values():
                self._emit_frames(tap)
            if isinstance(lm.source, Feed):
                lm.source.flush()
                self._emit_report(lm.source)
        self._graves.reap()
        if not self.quiet:  # pjsua runs a clock thread only while media is connected
            self._clock.poll(time.monotonic())

    @property
    def quiet(self) -> bool:
        """Nothing here needs the owner's short poll: no leg, unit or object awaiting its end."""
        units = self._units.units
        return not (self._legs or self._graves or units.players or units.recorders)

    def release(self) -> None:
        """Drop every media object (legs are ended or abandoned); blocks up to a few seconds."""
        legs, self._legs = list(self._legs.values()), {}
        self._units.release()
        for lm in legs:
            self._retire(lm)
        self._closers.join()
        time.sleep(self._graves.wait_s())  # let the bridge apply the disconnections
        self._graves.clear()
        self._ports.clear()
        self._wiring.clear()
        self._eofs.take()
        self._silence = None

    # -- internals -------------------------------------------------------------------------

    def _leg(self, call_id: str) -> LegMedia | None:
        leg = self._live(call_id)
        return None if leg is None else self._legs.setdefault(call_id, LegMedia(call_id))

    def _live(self, call_id: str) -> Leg | None:
        leg = self._lookup(call_id)
        return None if leg is None or leg.ended or leg.silent else leg

    def _failed(self, command: cmd.Command, message: str) -> None:
        self._emit(
            sig.CommandFailed(call_id=command.call_id, op=type(command).__name__, message=message)
        )

    def _set_source(self, lm: LegMedia, source: Source) -> None:
        """Replace the leg's source; a replaced playback stops silently (no Finished)."""
        old, lm.source = lm.source, source
        self._sync()
        if isinstance(old, Playback) and old is not source:
            self._graves.bury(old.player)
        elif isinstance(old, Feed) and old is not source:
            self._ports.give(old.port)

    def _stop_recording(self, recording: Recording) -> None:
        self._ports.give(*recording.detach())
        self._sync()
        self._closers.close(recording)

    def _retire(self, lm: LegMedia) -> None:
        """Destroy what a departed leg owned (it is already out of ``_legs``, disconnected)."""
        if isinstance(lm.source, Playback):
            self._graves.bury(lm.source.player)
        elif isinstance(lm.source, Feed):
            self._ports.give(lm.source.port)
        lm.source = None
        self._ports.give(*(tap.port for tap in lm.taps.values()))
        lm.taps.clear()
        for recording in lm.recordings.values():
            self._stop_recording(recording)
        lm.recordings.clear()
        self._ports.give(lm.meter)
        self._graves.bury(lm.tones)
        lm.meter = lm.tones = None
        lm.audio = None
        self._logger.debug(
            "leg_media_released", call_id=lm.call_id, ports_in_use=self._ports.in_use
        )

    def _sync(self) -> None:
        """Make the bridge match the state; emit PlayStarted for sources now playing."""
        self._wiring.apply(wanted_links(self._legs, self._silence, self._units.units))
        for lm in self._legs.values():
            playback = lm.source
            if lm.audio is not None and isinstance(playback, Playback) and not playback.started:
                playback.started = True
                self._emit(
                    sig.PlayStarted(
                        call_id=lm.call_id,
                        playback_id=playback.playback_id,
                        duration=playback.duration,
                    )
                )


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)

"""The media part of a call leg: say, playback, recording and media routing.

A leg receives one audio stream at a time (VoxEngine's rule): a new ``say``/``start_playback``
or a ``send_media_to`` into the leg replaces what played before; the replaced playback ends
silently (no PlaybackFinished) and its ``await`` returns None.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Mapping

from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core import units as u
from voxpy.core.events import CallEvents
from voxpy.core.ports import MediaLibrary, PreparedMedia
from voxpy.core.redact import mask_credentials
from voxpy.errors import InvalidArgumentError, InvalidStateError, VoxpyError
from voxpy.media.tts import MAX_TTS_CHARS
from voxpy.runtime import args
from voxpy.runtime.leg import Handler, LegContext
from voxpy.runtime.playback import Playback

NAME_PREFIX = re.compile(r"^(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,63})?$")
"A recording's name prefix: a plain file-name start, so no path can leave recordings_dir."
MAX_RATE = 4.0
"The speech rate limit of the real TTS library; checked here so memory mode agrees."


class Media:
    """Playback, recording and routing of one leg (see :mod:`voxpy.runtime.leg`)."""

    def __init__(
        self,
        ctx: LegContext,
        library: MediaLibrary,
        session_id: str,
        on_replaced: Callable[[], None] = lambda: None,
    ) -> None:
        self._ctx = ctx
        self._on_replaced = on_replaced
        "the streams part: a playback or a routed call replaces its feed (the backend did)"
        self._library = library
        self._session_id = session_id
        self._playback: Playback | None = None
        self._recording: str | None = None
        self._mix_owner: object | None = None
        "the media unit (conference, player) whose mix the leg hears now, if any"

    # -- playback ----------------------------------------------------------------------------

    def say(self, text: str, language: str, voice: str | None, rate: float | None) -> Playback:
        args.text("say", "text", text)
        args.text("say", "language", language, empty=False)
        args.optional_text("say", "voice", voice)
        if rate is not None and args.number("say", "rate", rate, positive=True) > MAX_RATE:
            raise InvalidArgumentError(f"say: rate must be in (0, {MAX_RATE:g}], got {rate!r}")
        if len(text) > MAX_TTS_CHARS:

            async def too_long() -> PreparedMedia:
                raise InvalidArgumentError(
                    f"say() text is {len(text)} characters; the limit is {MAX_TTS_CHARS}"
                )

            return self._start(too_long, text=text)
        library = self._library
        return self._start(lambda: library.speech(text, language, voice, rate), text=text)

    def start_playback(self, url: str, loop: bool) -> Playback:
        args.text("start_playback", "url", url, empty=False)
        library = self._library
        # The event's source is what the scenario may show: never the URL's password.
        return self._start(lambda: library.media(url), source=mask_credentials(url), loop=loop)

    def play_progress_tone(self, country: str) -> Playback:
        library = self._library
        return self._start(
            lambda: library.progress_tone(country), source=f"tone:{country}", loop=True
        )

    def stop_playback(self) -> None:
        playback, self._playback = self._playback, None
        if playback is not None:
            if playback.sent and self._ctx.live:
                self._ctx.send(cmd.StopPlayback(call_id=self._ctx.call_id, playback_id=playback.id))
            playback.resolve(None)

    def _start(
        self,
        prepare: Callable[[], Awaitable[PreparedMedia]],
        *,
        text: str | None = None,
        source: str | None = None,
        loop: bool = False,
    ) -> Playback:
        self._ctx.require_media("play into")
        playback = Playback(text, source)
        self.replace_source(playback)
        self._ctx.spawn(self._prepare_and_play(playback, prepare, loop), "playback")
        return playback

    async def _prepare_and_play(
        self, playback: Playback, prepare: Callable[[], Awaitable[PreparedMedia]], loop: bool
    ) -> None:
        try:
            media = await prepare()
        except Exception as exc:  # any failure ends the playback: it must never hang
            # A MediaError is expected (404, bad file); anything else is a bug in a library,
            # logged with its traceback - but either way an awaited playback must resolve.
            error = mask_credentials(
                str(exc) if isinstance(exc, VoxpyError) else f"{type(exc).__name__}: {exc}"
            )
            if playback is self._playback:
                trace = None if isinstance(exc, VoxpyError) else exc
                self._ctx.log.warning("playback_failed", error=error, exc_info=trace)
                self._finish(error=error)
            return
        if playback is not self._playback or not self._ctx.live:
            return  # replaced or stopped while preparing
        self._fire(CallEvents.PlaybackReady, playback)
        playback.sent = True
        self._ctx.send(
            cmd.Play(
                call_id=self._ctx.call_id,
                playback_id=playback.id,
                path=media.path,
                loop=loop,
                duration=media.duration,
            )
        )

    def replace_source(self, playback: Playback | None) -> None:
        """Something new plays into the leg: the previous playback (or stream feed) ends
        silently (the backend replaces the source itself)."""
        self._swap(playback)
        self._on_replaced()

    def yield_source(self) -> None:
        """A stream's feed now plays into the leg: the playback ends silently."""
        self._swap(None)

    def _swap(self, playback: Playback | None) -> None:
        self._mix_owner = None  # whatever replaces the source replaces a unit's mix too
        previous, self._playback = self._playback, playback
        if previous is not None:
            previous.resolve(None)

    def _finish(self, error: str | None) -> None:
        playback, self._playback = self._playback, None
        if playback is not None:
            playback.resolve(self._fire(CallEvents.PlaybackFinished, playback, error=error))

    def _fire(self, name: CallEvents, playback: Playback, **fields: object) -> object:
        return self._ctx.fire(
            name, playback_id=playback.id, text=playback.text, source=playback.source, **fields
        )

    # -- recording ---------------------------------------------------------------------------

    def record(self, stereo: object, hd_audio: object, name_prefix: object) -> None:
        stereo = args.flag("record", "stereo", stereo)
        hd_audio = args.flag("record", "hd_audio", hd_audio)
        name_prefix = args.optional_text("record", "name_prefix", name_prefix)
        if not self._ctx.live:
            raise InvalidStateError(
                f"cannot record() a call in state {self._ctx.machine.vox_state}"
            )
        if self._recording is not None:
            raise InvalidStateError("this call is already being recorded")
        if name_prefix is not None and not NAME_PREFIX.fullmatch(name_prefix):
            raise InvalidArgumentError(
                f"record: name_prefix may hold letters, digits, '.', '_' and '-' (not first "
                f"'.'), so the file stays in the recordings directory; got {name_prefix!r}"
            )
        recording_id = uuid.uuid4().hex[:12]
        call_id = self._ctx.call_id
        name = f"{name_prefix or ''}{self._session_id}-{call_id[:12]}-{recording_id}.mp3"
        path = self._library.recording_path(name)  # may refuse: nothing has changed yet
        rate, kbps = (16000, 64) if hd_audio else (8000, 32)
        self._recording = recording_id
        self._ctx.send(
            cmd.StartRecording(
                call_id=call_id,
                recording_id=recording_id,
                stereo=stereo,
                sample_rate=rate,
                bitrate=kbps,
                path=path,
            )
        )

    def stop_recording(self) -> None:
        if self._recording is not None and self._ctx.live:
            self._ctx.send(
                cmd.StopRecording(call_id=self._ctx.call_id, recording_id=self._recording)
            )

    # -- routing -----------------------------------------------------------------------------

    def send_to(self, other: Media) -> None:
        """Send what this leg's far end says into ``other`` (one way; replaces its source)."""
        for leg in (self, other):
            leg._ctx.require_media("send media between")
        other.replace_source(None)
        self._ctx.send(cmd.SendMedia(call_id=self._ctx.call_id, to_call_id=other._ctx.call_id))

    def hear_mix(self, owner: object, sources: tuple[str, ...]) -> None:
        """The leg hears ``sources`` mixed (a conference, a player): it replaces its source."""
        self._ctx.require_media("send media into")
        if self._mix_owner is not owner:
            self.replace_source(None)
        self._mix_owner = owner
        self._ctx.send(u.Mix(call_id=self._ctx.call_id, sources=sources))

    def stop_mix(self, owner: object) -> None:
        """``owner`` stops feeding the leg: silence, unless something else replaced it."""
        if self._mix_owner is owner:
            self._mix_owner = None
            if self._ctx.live:
                self._ctx.send(u.Mix(call_id=self._ctx.call_id, sources=()))

    @property
    def mix_owner(self) -> object | None:
        return self._mix_owner

    def stop_to(self, other: Media) -> None:
        if self._ctx.live and other._ctx.live:
            self._ctx.send(cmd.StopMedia(call_id=self._ctx.call_id, to_call_id=other._ctx.call_id))

    # -- Part --------------------------------------------------------------------------------

    def routes(self) -> Mapping[type[sig.Signal], Handler]:
        return {
            sig.PlayStarted: self._on_play_started,
            sig.PlayEnded: self._on_play_ended,
            sig.RecordingStarted: self._on_recording_started,
            sig.RecordingStopped: self._on_recording_stopped,
            sig.RecordingFailed: self._on_recording_failed,
        }

    def audio_started(self) -> None:
        pass

    def connected(self) -> None:
        pass

    def ended(self) -> None:
        """Pending playback resolves quietly (None)."""
        self._swap(None)

    def _on_play_started(self, signal: sig.PlayStarted) -> None:
        current = self._playback
        if current is not None and current.id == signal.playback_id:
            self._fire(CallEvents.PlaybackStarted, current, duration=signal.duration)

    def _on_play_ended(self, signal: sig.PlayEnded) -> None:
        current = self._playback
        if current is not None and current.id == signal.playback_id:
            self._finish(signal.error)

    def _on_recording_started(self, signal: sig.RecordingStarted) -> None:
        self._ctx.fire(CallEvents.RecordStarted, url=signal.path)

    def _on_recording_stopped(self, signal: sig.RecordingStopped) -> None:
        self._recording = None
        self._ctx.fire(CallEvents.RecordStopped, url=signal.path, duration=signal.duration)

    def _on_recording_failed(self, signal: sig.RecordingFailed) -> None:
        self._recording = None
        self._ctx.fire(CallEvents.RecordError, error=signal.error)

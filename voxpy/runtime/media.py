"""Media on a call leg: say, playback, recording, media routing and DTMF (mixed into ``Call``).

A leg receives one audio stream at a time (VoxEngine's rule): a new ``say``/``start_playback``
or a ``send_media_to`` into the leg replaces what played before; the replaced playback ends
silently (no PlaybackFinished) and its ``await`` returns None.
"""

from __future__ import annotations

import asyncio
import functools
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core.events import CallEvents
from voxpy.core.ports import PreparedMedia
from voxpy.errors import InvalidArgumentError, InvalidStateError, VoxpyError
from voxpy.media.tts import MAX_TTS_CHARS
from voxpy.runtime.events import (
    PlaybackFinished,
    PlaybackReady,
    PlaybackStarted,
    RecordError,
    RecordStarted,
    RecordStopped,
    ToneReceived,
)
from voxpy.runtime.playback import Playback

if TYPE_CHECKING:
    from voxpy.core.state import CallMachine
    from voxpy.runtime.call import Call
    from voxpy.runtime.session import Session

TYPEAHEAD_MAX = 32
"Digits kept for the next gather() while none is running."
DIGITS = re.compile(r"^[0-9*#A-Dw]+$")
TONE_TYPES = {"rfc2833": "TELEPHONE_EVENT", "info": "SIP_INFO"}


class CallMedia:
    """The media half of :class:`~voxpy.runtime.call.Call`, which provides these members."""

    _id: str
    _session: Session
    _machine: CallMachine
    _log: Any
    _playback: Playback | None = None
    _recording: str | None = None
    _tones = False

    def id(self) -> str:
        raise NotImplementedError

    def state(self) -> str:
        raise NotImplementedError

    @property
    def live(self) -> bool:
        raise NotImplementedError

    def _dispatch(self, event: Any) -> None:
        raise NotImplementedError

    @property
    def _call(self) -> Call:
        return cast("Call", self)  # CallMedia is only ever mixed into Call

    def _media_init(self) -> None:
        self._playback = None
        self._recording = None
        self._tones = False
        self._digit_hooks: list[Callable[[str | None], None]] = []
        self._typeahead: list[str] = []

    # -- playback ----------------------------------------------------------------------------

    def say(
        self,
        text: str,
        language: str = "en",
        voice: str | None = None,
        rate: float | None = None,
    ) -> Playback:
        """Speak ``text`` into the call (offline TTS by default; see config ``media``).

        Text over 1500 characters plays nothing: PlaybackFinished fires with an error.
        """
        if len(text) > MAX_TTS_CHARS:

            async def too_long() -> PreparedMedia:
                raise InvalidArgumentError(
                    f"say() text is {len(text)} characters; the limit is {MAX_TTS_CHARS}"
                )

            return self._start_playback(too_long, text=text)
        library = self._session.media
        return self._start_playback(lambda: library.speech(text, language, voice, rate), text=text)

    def start_playback(self, url: str, loop: bool = False) -> Playback:
        """Play a WAV/MP3/OGG/FLAC file or http(s) URL into the call, once or in a loop."""
        library = self._session.media
        return self._start_playback(lambda: library.media(url), source=url, loop=loop)

    def play_progress_tone(self, country: str = "US") -> Playback:
        """Loop the country's ringback tone (US, EU, GB, ...) until something replaces it."""
        library = self._session.media
        return self._start_playback(
            lambda: library.progress_tone(country), source=f"tone:{country}", loop=True
        )

    def stop_playback(self) -> None:
        """Stop what plays now; no PlaybackFinished fires (VoxEngine's rule)."""
        playback, self._playback = self._playback, None
        if playback is not None:
            if playback.sent and self.live:
                self._session.send(cmd.StopPlayback(call_id=self._id, playback_id=playback.id))
            playback._resolve(None)

    def _start_playback(
        self,
        prepare: Callable[[], Awaitable[PreparedMedia]],
        *,
        text: str | None = None,
        source: str | None = None,
        loop: bool = False,
    ) -> Playback:
        self._require_media("play into")
        playback = Playback(self, text, source)
        self._replace_source(playback)
        self._session.spawn(self._prepare_and_play(playback, prepare, loop), "playback")
        return playback

    async def _prepare_and_play(
        self, playback: Playback, prepare: Callable[[], Awaitable[PreparedMedia]], loop: bool
    ) -> None:
        try:
            media = await prepare()
        except VoxpyError as exc:
            if playback is self._playback:
                self._log.warning("playback_failed", error=str(exc))
                self._finish_playback(error=str(exc))
            return
        if playback is not self._playback or not self.live:
            return  # replaced or stopped while preparing
        self._dispatch(
            PlaybackReady(
                name=CallEvents.PlaybackReady,
                call=self._call,
                playback_id=playback.id,
                text=playback.text,
                source=playback.source,
            )
        )
        playback.sent = True
        self._session.send(
            cmd.Play(
                call_id=self._id,
                playback_id=playback.id,
                path=media.path,
                loop=loop,
                duration=media.duration,
            )
        )

    def _replace_source(self, playback: Playback | None) -> None:
        previous, self._playback = self._playback, playback
        if previous is not None:
            previous._resolve(None)  # the backend replaces the source itself, silently

    def _finish_playback(self, error: str | None) -> None:
        playback, self._playback = self._playback, None
        if playback is None:
            return
        event = PlaybackFinished(
            name=CallEvents.PlaybackFinished,
            call=self._call,
            playback_id=playback.id,
            text=playback.text,
            source=playback.source,
            error=error,
        )
        self._dispatch(event)
        playback._resolve(event)

    # -- recording ---------------------------------------------------------------------------

    def record(
        self, stereo: bool = False, hd_audio: bool = False, name_prefix: str | None = None
    ) -> None:
        """Record the call to MP3 while it runs (8 kHz/32 kbps; hd_audio: 16 kHz/64 kbps).

        Stereo: what the engine sends on the left, what the caller sends on the right.
        """
        if not self.live:
            raise InvalidStateError(f"cannot record() a call in state {self.state()}")
        if self._recording is not None:
            raise InvalidStateError("this call is already being recorded")
        self._recording = uuid.uuid4().hex[:12]
        name = f"{name_prefix or ''}{self._session.id}-{self._id[:12]}-{self._recording}.mp3"
        rate, kbps = (16000, 64) if hd_audio else (8000, 32)
        self._session.send(
            cmd.StartRecording(
                call_id=self._id,
                recording_id=self._recording,
                stereo=stereo,
                sample_rate=rate,
                bitrate=kbps,
                path=self._session.media.recording_path(name),
            )
        )

    def stop_recording(self) -> None:
        """Finish the recording now (it also finishes when the call ends)."""
        if self._recording is not None and self.live:
            self._session.send(cmd.StopRecording(call_id=self._id, recording_id=self._recording))

    # -- media routing -----------------------------------------------------------------------

    def send_media_to(self, other: CallMedia) -> None:
        """Send what this call's far end says into ``other`` (one way; replaces its source)."""
        for leg in (self, other):
            leg._require_media("send media between")
        other._replace_source(None)
        self._session.send(cmd.SendMedia(call_id=self._id, to_call_id=other.id()))

    def stop_media_to(self, other: CallMedia) -> None:
        if self.live and other.live:
            self._session.send(cmd.StopMedia(call_id=self._id, to_call_id=other.id()))

    # -- DTMF --------------------------------------------------------------------------------

    def handle_tones(self, enabled: bool = True) -> None:
        """Fire ToneReceived for DTMF digits (off by default, as in VoxEngine)."""
        self._tones = bool(enabled)

    def send_digits(self, digits: str) -> None:
        """Send DTMF (0-9 * # A-D); each ``w`` waits 500 ms (Twilio's convention)."""
        if not isinstance(digits, str) or not DIGITS.match(digits):
            raise InvalidArgumentError(f"send_digits takes 0-9 * # A-D and w, got {digits!r}")
        self._require_media("send_digits on")
        delay = 0.0
        for chunk in re.split(r"(w)", digits):
            if chunk == "w":
                delay += 0.5
            elif chunk:
                self._session.after(delay, functools.partial(self._send_digits_now, chunk))

    def _send_digits_now(self, digits: str) -> None:
        if self.live:
            self._session.send(cmd.SendDigits(call_id=self._id, digits=digits))

    async def gather(self, max_digits: int = 1, timeout: float = 5.0, finish_on: str = "#") -> str:
        """Collect DTMF digits: stops at ``max_digits``, at a ``finish_on`` key (not included),
        when ``timeout`` seconds pass without a digit, or when the call ends. Digits pressed
        since the last gather (e.g. during a prompt) are taken first."""
        digits: list[str] = []
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        timer: list[Any] = []

        def finish() -> None:
            if not done.done():
                done.set_result("".join(digits))

        def arm() -> None:
            for t in timer:
                t.cancel()
            timer[:] = [self._session.clock.call_later(timeout, finish)]

        def on_digit(tone: str | None) -> None:
            if tone is None or tone in finish_on:
                finish()
                return
            digits.append(tone)
            if len(digits) >= max_digits:
                finish()
            else:
                arm()

        self._digit_hooks.append(on_digit)
        arm()
        typed, self._typeahead = self._typeahead, []
        for tone in typed:  # keys pressed during the prompt count (type-ahead)
            on_digit(tone)
        try:
            return await done
        finally:
            self._digit_hooks.remove(on_digit)
            for t in timer:
                t.cancel()

    # -- signals -----------------------------------------------------------------------------

    def _media_routes(self) -> dict[type[sig.Signal], Callable[[Any], None]]:
        """The signals this part handles, for the call's one routing table."""
        return {
            sig.PlayStarted: self._on_play_started,
            sig.PlayEnded: self._on_play_ended,
            sig.DtmfReceived: self._on_dtmf,
            sig.RecordingStarted: self._on_recording_started,
            sig.RecordingStopped: self._on_recording_stopped,
            sig.RecordingFailed: self._on_recording_failed,
        }

    def _on_play_started(self, signal: sig.PlayStarted) -> None:
        current = self._playback
        if current is not None and current.id == signal.playback_id:
            self._dispatch(
                PlaybackStarted(
                    name=CallEvents.PlaybackStarted,
                    call=self._call,
                    playback_id=current.id,
                    text=current.text,
                    source=current.source,
                    duration=signal.duration,
                )
            )

    def _on_play_ended(self, signal: sig.PlayEnded) -> None:
        current = self._playback
        if current is not None and current.id == signal.playback_id:
            self._finish_playback(signal.error)

    def _on_dtmf(self, signal: sig.DtmfReceived) -> None:
        if self._digit_hooks:
            for hook in list(self._digit_hooks):
                hook(signal.tone)
        elif len(self._typeahead) < TYPEAHEAD_MAX:
            self._typeahead.append(signal.tone)
        if self._tones:
            self._dispatch(
                ToneReceived(
                    name=CallEvents.ToneReceived,
                    call=self._call,
                    tone=signal.tone,
                    tone_type=TONE_TYPES.get(signal.method, ""),
                )
            )

    def _on_recording_started(self, signal: sig.RecordingStarted) -> None:
        self._dispatch(
            RecordStarted(name=CallEvents.RecordStarted, call=self._call, url=signal.path)
        )

    def _on_recording_stopped(self, signal: sig.RecordingStopped) -> None:
        self._recording = None
        self._dispatch(
            RecordStopped(
                name=CallEvents.RecordStopped,
                call=self._call,
                url=signal.path,
                duration=signal.duration,
            )
        )

    def _on_recording_failed(self, signal: sig.RecordingFailed) -> None:
        self._recording = None
        self._dispatch(
            RecordError(name=CallEvents.RecordError, call=self._call, error=signal.error)
        )

    def _media_ended(self) -> None:
        """The call ended: pending playback and gathers resolve quietly."""
        self._replace_source(None)
        for hook in list(self._digit_hooks):
            hook(None)

    def _require_media(self, what: str) -> None:
        if not self._machine.media_ready:
            raise InvalidStateError(
                f"cannot {what} a call in state {self.state()}: answer it, or call "
                "start_early_media(), first"
            )

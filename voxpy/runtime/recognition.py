"""``ASR``: VoxEngine's speech-recognition unit (``VoxEngine.create_asr``), fed by
``call.send_media_to(asr)``, firing ASREvents.

A recognizer (:mod:`voxpy.media.hearing.asr`) blocks: model loading in ``start``, decoding in
``feed``. So it never runs on the event loop: one task per unit takes the caller's audio from
a 16 kHz listener (:class:`~voxpy.runtime.audio_io.AudioListener`, the model's rate: nothing
is resampled in Python) and hands it, in the batches that piled up meanwhile, to
``asyncio.to_thread``, one call at a time, so the recognizer sees its audio in order from one
thread at a time. Events come back on the loop, in order.

A provider that raises (in ``start``, ``feed`` or ``finish``) ends the unit with ASRError
(``error`` names the exception); the call goes on. The unit is fired by name and handed its
event builder by the session (the event classes name this class).

The task is created in the session's scope, so in memory mode the test kit's virtual clock
holds still while the recognizer works in its thread (an await on a thread is real).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from structlog.typing import FilteringBoundLogger

from voxpy.core.events import AppEvents, ASREvents, CallEvents, WebSocketEvents
from voxpy.errors import ConfigError, InvalidArgumentError, InvalidStateError
from voxpy.media.hearing import asr as recognizers
from voxpy.runtime.audio_io import AudioListener
from voxpy.runtime.dispatch import Emitter, ErrorHook, Scope, Track
from voxpy.runtime.listening import Listening

RATE = 16000
"the rate the unit hears at (PocketSphinx's model rate)"
_EVENTS = {
    recognizers.CaptureStarted: ASREvents.CaptureStarted,
    recognizers.SpeechCaptureStopped: ASREvents.SpeechCaptureStopped,
    recognizers.InterimResult: ASREvents.InterimResult,
    recognizers.Result: ASREvents.Result,
    recognizers.ASRError: ASREvents.ASRError,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class AsrHost:
    """What a unit needs from its session (built once per session)."""

    log: FilteringBoundLogger
    scope: Scope
    on_error: ErrorHook
    track: Track
    build_event: Callable[[ASREvents, Any, dict[str, Any]], Any]
    observe: Callable[[Any], None]


class ASR(Listening):
    """One recognition: listen to one call's audio, fire ASREvents (see the module doc)."""

    def __init__(
        self,
        host: AsrHost,
        *,
        provider: object = None,
        language: object = "en-US",
        phrase_hints: object = (),
        single_utterance: object = True,
    ) -> None:
        what = "create_asr"
        if provider is not None and not isinstance(provider, str):
            raise InvalidArgumentError(f"{what}: provider must be a name or None, got {provider!r}")
        if not isinstance(language, str) or not language.strip():
            raise InvalidArgumentError(
                f"{what}: language must be a tag like 'en-US', got {language!r}"
            )
        if (
            isinstance(phrase_hints, str)
            or not isinstance(phrase_hints, Sequence)
            or not all(isinstance(h, str) for h in phrase_hints)
        ):
            raise InvalidArgumentError(
                f"{what}: phrase_hints must be a list of str, got {phrase_hints!r}"
            )
        if not isinstance(single_utterance, bool):
            raise InvalidArgumentError(
                f"{what}: single_utterance must be True or False, got {single_utterance!r}"
            )
        try:
            self._recognizer = recognizers.create_recognizer(provider)
        except ConfigError as exc:
            raise InvalidArgumentError(f"{what}: provider: {exc}") from exc
        super().__init__(Emitter(host.scope, host.on_error, host.track, accepts=ASREvents,
                                 refuses=(CallEvents, AppEvents, WebSocketEvents)))  # fmt: skip
        self._host = host
        self.provider = self._recognizer.name
        self.language, self.phrase_hints = language, tuple(phrase_hints)
        self.single_utterance = single_utterance
        self._listener: AudioListener | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        self.results: list[str] = []
        "the text of every Result so far"

    @property
    def active(self) -> bool:
        """Listening to a call and not stopped."""
        return self._listener is not None and not self._stopped

    def listen_to(self, listener: AudioListener) -> None:
        """``call.send_media_to(asr)``: recognize what ``listener`` hears (once per unit)."""
        if self._listener is not None or self._stopped:
            listener.close()
            raise InvalidStateError("this ASR already listens to a call (create one per call)")
        self._listener = listener
        with self._host.scope():
            self._task = asyncio.get_running_loop().create_task(self._run(listener))

    def on_done(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` when recognition is over (its last event fired before)."""
        if self._task is None or self._task.done():
            fn()
        else:
            self._task.add_done_callback(lambda _task: fn())

    def stop(self) -> None:
        """Stop listening; the utterance under way still gets its Result."""
        if self._listener is not None:
            self._listener.close()
        self._stopped = True

    async def _run(self, listener: AudioListener) -> None:
        rec, position = self._recognizer, 0
        try:
            await asyncio.to_thread(rec.start, RATE, self.language, self.phrase_hints,
                                    self.single_utterance)  # fmt: skip
            async for frame in listener:
                batch = [frame, *listener.take_all()]
                position += sum(len(b) for b in batch) // 2 * 1000 // RATE
                if self._emit(await asyncio.to_thread(rec.feed, b"".join(batch))):
                    break
            else:
                self._emit(await asyncio.to_thread(rec.finish))
        except Exception as exc:  # noqa: BLE001 - a provider's failure ends the unit, not the call
            self._host.log.warning("asr_failed", provider=self.provider, error=repr(exc))
            self._fire(ASREvents.ASRError, error=f"{type(exc).__name__}: {exc}", at_ms=position)
        finally:
            self._stopped = True
            listener.close()

    def _emit(self, events: Sequence[recognizers.AsrEvent]) -> bool:
        """Fire ``events``; True when recognition is over (single utterance, or an error)."""
        over = False
        for e in events:
            fields = {f.name: getattr(e, f.name) for f in dataclasses.fields(e)}
            self._fire(_EVENTS[type(e)], **fields)
            if isinstance(e, recognizers.Result):
                self.results.append(e.text)
                over = over or self.single_utterance
            over = over or isinstance(e, recognizers.ASRError)
        return over

    def _fire(self, name: ASREvents, **fields: Any) -> None:
        event = self._host.build_event(name, self, fields)
        self._host.observe(event)
        self._events.emit(str(name), event)

    def __repr__(self) -> str:
        return f"<ASR {self.provider} {self.language} {'active' if self.active else 'idle'}>"

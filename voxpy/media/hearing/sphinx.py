"""The offline ASR provider: CMU PocketSphinx 5 (``pocketsphinx`` wheel, en-US model inside).

Chosen because its PyPI wheel bundles an acoustic model, a 133k-word dictionary and a
general English language model: nothing to download, so ``create_recognizer()`` works on an
air-gapped machine. Vosk, whisper.cpp, faster-whisper and sherpa-onnx all fetch models at
run time. Its accuracy on open vocabulary is poor on espeak's voice and telephone audio; with
phrase hints it decodes against a grammar of just those phrases, which is what an IVR menu
needs (figures in the README, "Hearing the call"). Only en-US.

``Result.confidence`` is PocketSphinx's posterior, which version 5 reports as 1.0 for every
hypothesis here (grammar and language-model search alike, measured): it carries no
information yet.

Endpointing is :class:`~voxpy.media.hearing.vad.Vad`: an utterance starts with the VAD's
onset (plus 300 ms of audio before it, so the first phoneme is whole) and ends after
``hangover_ms`` of silence, of which the first 100 ms are decoded. More reads line noise as one
more word; none cuts the fading end of the last word where the audio went through G.711 and
pjsua2's resampler: espeak's "one two three" through a real call was "one two" with 0-60 ms of
tail, "one two three" with 80 ms or more (issue 13's call tests). On the generated bench
(README) 100 ms costs little at 16 kHz, the rate the runtime's ASR unit uses, and some
accuracy at 8 kHz. A grammar search that never reached its end state has no final
hypothesis: the last interim one is the result then. Lowering the word insertion penalty
(``wip``) only deleted words. The model
is 16 kHz: 8 kHz audio is upsampled (an 8 kHz front end would need an 8 kHz model; none
ships, and ``samprate=8000, nfft=256`` with this one failed to initialize, tried here).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from voxpy.core.audio import FrameChunker, Resampler, check_rate, frame_bytes
from voxpy.errors import InvalidArgumentError
from voxpy.media.hearing.asr import (
    AsrEvent,
    CaptureStarted,
    InterimResult,
    Result,
    SpeechCaptureStopped,
)
from voxpy.media.hearing.vad import Vad

_MODEL_RATE = 16000
_PREROLL_MS = 300
_TAIL_MS = 100
_INTERIM_EVERY_MS = 500
_LANGUAGES = ("en", "en-us")


def _grammar(decoder: Any, hints: Sequence[str]) -> str | None:
    """A JSGF grammar "one or more of the hints", from the hints the dictionary knows."""
    phrases = []
    for hint in hints:
        words = hint.lower().split()
        if words and all(decoder.lookup_word(w) for w in words):
            phrases.append(" ".join(words))
    if not phrases:
        return None
    alternatives = " | ".join(sorted(set(phrases)))
    return f"#JSGF V1.0;\ngrammar hints;\npublic <utterance> = <hint>+;\n<hint> = {alternatives};\n"


class PocketsphinxRecognizer:
    """:class:`~voxpy.media.hearing.asr.AsrRecognizer` on PocketSphinx (see the module doc)."""

    name = "pocketsphinx"

    def __init__(self, *, hangover_ms: int = 600) -> None:
        self.hangover_ms = hangover_ms
        self._decoder: Any = None
        self._chunker: FrameChunker | None = None
        self._vad: Vad | None = None
        self._up: Resampler | None = None
        self._preroll: deque[bytes] = deque()
        self._pending: list[bytes] = []
        self._in_utterance = False
        self._single = False
        self._done = False
        self._last_interim = ""
        self._since_interim = 0
        self._frame_ms = 20

    def start(
        self, sample_rate: int, language: str, hints: Sequence[str], single_utterance: bool
    ) -> None:
        from pocketsphinx import Decoder

        check_rate(sample_rate)
        if language.strip().replace("_", "-").lower() not in _LANGUAGES:
            raise InvalidArgumentError(f"pocketsphinx ships an en-US model only, not {language!r}")
        decoder = Decoder(samprate=_MODEL_RATE, loglevel="FATAL")
        grammar = _grammar(decoder, hints)
        if grammar is not None:
            decoder.add_jsgf_string("hints", grammar)
            decoder.activate_search("hints")
        self._decoder = decoder
        self._vad = Vad(sample_rate, aggressiveness=3, hangover_ms=self.hangover_ms)
        self._up = Resampler(sample_rate, _MODEL_RATE)
        self._preroll = deque(maxlen=_PREROLL_MS // self._frame_ms)
        self._single = single_utterance
        self._chunker = FrameChunker(frame_bytes(sample_rate))

    def feed(self, pcm: bytes) -> list[AsrEvent]:
        if self._vad is None or self._chunker is None:
            raise InvalidArgumentError("feed() before start()")
        out: list[AsrEvent] = []
        for chunk in self._chunker.feed(pcm):
            if self._done:
                break
            (frame,) = self._vad.feed(chunk)
            out += self._step(chunk, frame.speech, frame.raw, frame.at_ms)
        return out

    def finish(self) -> list[AsrEvent]:
        if self._done or not self._in_utterance or self._vad is None:
            return []
        return self._end(self._vad.now_ms)

    def _step(self, chunk: bytes, speech: bool, raw: bool, at_ms: int) -> list[AsrEvent]:
        if not self._in_utterance:
            self._preroll.append(chunk)
            if not speech:
                return []
            self._in_utterance, self._last_interim, self._since_interim = True, "", 0
            self._decoder.start_utt()
            self._decode(b"".join(self._preroll))
            started = at_ms - len(self._preroll) * self._frame_ms
            self._preroll.clear()
            return [CaptureStarted(at_ms=max(0, started))]
        if not speech:
            return self._end(at_ms)
        if raw:
            self._decode(b"".join(self._pending) + chunk)
            self._pending = []
        else:
            self._pending.append(chunk)
        self._since_interim += self._frame_ms
        if self._since_interim < _INTERIM_EVERY_MS:
            return []
        self._since_interim = 0
        hyp = self._decoder.hyp()
        text = hyp.hypstr if hyp is not None else ""
        if not text or text == self._last_interim:
            return []
        self._last_interim = text
        return [InterimResult(text=text, at_ms=at_ms)]

    def _decode(self, pcm: bytes) -> None:
        if pcm and self._up is not None:
            self._decoder.process_raw(self._up.convert(pcm), False, False)

    def _end(self, at_ms: int) -> list[AsrEvent]:
        decoder = self._decoder
        self._decode(b"".join(self._pending[: _TAIL_MS // self._frame_ms]))
        self._pending = []
        decoder.end_utt()
        hyp = decoder.hyp()
        self._in_utterance = False
        self._done = self._single
        text = hyp.hypstr if hyp is not None else ""
        if not text and self._last_interim:
            # no final hypothesis (the search did not reach its end state): the partial one
            # (espeak "sales" through a real call: interim "sales", final "")
            text = self._last_interim
        confidence = 0.0
        if hyp is not None:
            confidence = min(1.0, max(0.0, float(decoder.get_logmath().exp(hyp.prob))))
        return [
            SpeechCaptureStopped(at_ms=at_ms),
            Result(text=text, confidence=confidence, at_ms=at_ms),
        ]

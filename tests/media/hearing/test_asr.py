"""Speech recognition: the provider registry, and PocketSphinx hearing espeak's words."""

from __future__ import annotations

import pytest

from tests.media.hearing.conftest import Degrade
from voxpy.errors import ConfigError, InvalidArgumentError
from voxpy.media.hearing import (
    AsrRecognizer,
    CaptureStarted,
    Result,
    SpeechCaptureStopped,
    create_recognizer,
    providers,
    synth,
)

MENU = ["sales", "support", "billing", "operator"]
DIGITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "zero"]
HINTS = MENU + DIGITS


def recognize(text: str, rate: int, degrade: Degrade, hints: list[str]) -> list[object]:
    # espeak's "f3" voice: the default one is misheard more often (README, "Hearing the call")
    speech = synth.speech(text, rate, voice="en-us+f3")
    pcm = degrade(synth.silence(500, rate) + speech + synth.silence(1500, rate), rate)
    recognizer = create_recognizer()
    recognizer.start(rate, "en-US", hints, single_utterance=True)
    return [*recognizer.feed(pcm), *recognizer.finish()]


def test_the_offline_provider_is_registered() -> None:
    assert providers()["pocketsphinx"] == "voxpy.media.hearing.sphinx:PocketsphinxRecognizer"
    assert isinstance(create_recognizer(), AsrRecognizer)
    with pytest.raises(ConfigError, match="unknown ASR provider"):
        create_recognizer("nonesuch")


def test_only_en_us() -> None:
    with pytest.raises(InvalidArgumentError, match="en-US"):
        create_recognizer().start(8000, "de-DE", [], True)


@pytest.mark.parametrize(
    ("text", "words", "hints"),
    [("one two three", "one two three", DIGITS), ("sales", "sales", MENU)],
    ids=["digits", "menu"],
)
def test_hinted_words_are_heard(
    text: str, words: str, hints: list[str], rate: int, degrade: Degrade
) -> None:
    """An IVR asks for one kind of answer and hints it: a number, or a menu choice.

    The words must come out in order; PocketSphinx sometimes inserts one more (espeak's
    "one two" is heard as "one eight two" at times): the benchmark counts those.
    """
    events = recognize(text, rate, degrade, hints)
    kinds = [type(e) for e in events]
    assert kinds[0] is CaptureStarted
    assert kinds[-2:] == [SpeechCaptureStopped, Result]
    result = events[-1]
    assert isinstance(result, Result)
    heard = iter(result.text.split())
    assert all(word in heard for word in words.split()), result.text


def test_single_utterance_stops_after_the_first_result(rate: int) -> None:
    pcm = synth.speech("sales", rate) + synth.silence(1500, rate)
    recognizer = create_recognizer()
    recognizer.start(rate, "en-US", HINTS, single_utterance=True)
    first = recognizer.feed(pcm)
    assert sum(isinstance(e, Result) for e in first) == 1
    assert recognizer.feed(pcm) == []

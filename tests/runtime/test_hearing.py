"""Hearing the call (issue 13) through a call: the far end speaks generated audio into the call
(``PeerCall.send_audio``) and the detectors fire their events. Both modes: memory (virtual
clock; run by default) and real pjsua2 (``--voxpy-backend all`` or ``sip``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest

from tests.conftest import TEST_SCENARIOS, Harness
from voxpy.core.events import ASREvents, CallEvents, DTMFType
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.media.hearing import AMDOptions, synth
from voxpy.runtime.call import Call
from voxpy.runtime.call_hearing import Gathered
from voxpy.runtime.session import Session
from voxpy.testing import ScenarioHarness
from voxpy.testing.peer import PeerCall

RATE = 8000
GREETING = (
    "Hi, you have reached the voicemail of John Smith. I am not available right now. "
    "Please leave your name and number after the tone."
)


async def answered(voxpy_harness: Harness) -> tuple[ScenarioHarness, PeerCall, Call, Session]:
    h = await voxpy_harness(TEST_SCENARIOS / "answer_and_wait.py")
    peer = await h.dial()
    await peer.wait_answered()
    call = (await h.wait_event("Call.Connected", peer)).call
    session = next(iter(h.engine.sessions.values()))
    return h, peer, call, session


def quiet(ms: int, rate: int = RATE) -> bytes:
    return synth.silence(ms, rate)


def voice(text: str, rate: int = 16000) -> bytes:
    """espeak's "f3" voice: PocketSphinx mishears the default one more often (README)."""
    return synth.speech(text, rate, voice="en-us+f3")


async def awaited(h: ScenarioHarness, coro: Awaitable[Any], timeout: float = 15) -> Any:
    """Await ``coro`` while the harness moves time (memory mode: nothing else would)."""
    task = asyncio.ensure_future(coro)
    if h.clock is None:  # real time: the harness wakes on the peer's signals only
        return await asyncio.wait_for(task, timeout)
    await h.wait_until(task.done, timeout, "the await")
    return task.result()


async def test_hello_is_human(voxpy_harness: Harness) -> None:
    h, peer, call, _ = await answered(voxpy_harness)
    call.detect_voicemail()
    await h.wait_event("Call.AudioIdentificationStarted", peer)
    peer.send_audio(quiet(500) + synth.speech("Hello?", RATE) + quiet(3000), RATE)
    result = await h.wait_event("Call.AudioIdentificationResult", peer, timeout=10)
    assert (result.audio_type, result.cause) == ("human", "human")
    assert 0 < result.confidence <= 1
    await h.wait_event("Call.AudioIdentificationStopped", peer)


async def test_greeting_and_beep_are_voicemail_then_the_message(voxpy_harness: Harness) -> None:
    h, peer, call, _ = await answered(voxpy_harness)
    call.detect_voicemail(AMDOptions(total_analysis_time_ms=5000))
    call.enable_beep_detection(timeout=20)
    greeting = synth.speech(GREETING, RATE)
    beep_end_ms = 300 + len(greeting) // 16 + 400 + 500
    peer.send_audio(quiet(300) + greeting + quiet(400) + synth.tone([1000], 500, RATE)
                    + quiet(1500), RATE)  # fmt: skip
    result = await h.wait_event("Call.AudioIdentificationResult", peer, timeout=10)
    assert result.audio_type == "voicemail"
    beep = await h.wait_event("Call.BeepDetectionComplete", peer, timeout=20)
    assert beep.frequencies and abs(beep.frequencies[0] - 1000) <= 10
    # the detector's own audio clock started at detection; the tap's first frame is ~0 ms
    assert abs(beep.ended_at_ms - beep_end_ms) <= 100, (beep.ended_at_ms, beep_end_ms)
    assert beep.at_ms - beep.ended_at_ms <= 300
    call.say("Hi, this is a message.")
    await peer.wait_said("this is a message")


async def test_silence_is_unknown_after_the_timeout(voxpy_harness: Harness) -> None:
    h, peer, call, _ = await answered(voxpy_harness)
    call.detect_voicemail({"initial_silence_ms": 1500, "total_analysis_time_ms": 3000})
    peer.send_audio(quiet(4000), RATE)
    result = await h.wait_event("Call.AudioIdentificationResult", peer, timeout=10)
    assert (result.audio_type, result.cause) == ("unknown", "initial_silence")
    assert 1500 <= result.at_ms <= 1600


TONES = {
    "US busy": ((480, 620), (0.5, 0.5), "busy", "US"),
    "US ringback": ((440, 480), (2.0, 4.0), "ringback", "US"),
    "EU busy": ((425,), (0.5, 0.5), "busy", "EU"),
}


@pytest.mark.parametrize("name", list(TONES))
async def test_progress_tones(voxpy_harness: Harness, name: str) -> None:
    freqs, pattern, tone, country = TONES[name]
    h, peer, call, _ = await answered(voxpy_harness)
    call.detect_progress_tone(True)
    peer.send_audio(quiet(300) + synth.cadence(freqs, pattern, 6.0, RATE), RATE)
    found = await h.wait_event("Call.ToneDetected", peer, timeout=10)
    assert (found.progress_tone, found.country, found.voicemail_tone) == (tone, country, False)


async def test_sit(voxpy_harness: Harness) -> None:
    h, peer, call, _ = await answered(voxpy_harness)
    call.detect_progress_tone(True, countries=["US"])
    sit = (synth.tone([913.8], 276, RATE) + synth.tone([1370.6], 276, RATE)
           + synth.tone([1776.7], 380, RATE))  # fmt: skip
    peer.send_audio(quiet(300) + sit + quiet(1000), RATE)
    found = await h.wait_event("Call.ToneDetected", peer, timeout=10)
    assert found.progress_tone == "sit"


async def test_in_band_dtmf_and_no_false_digits_in_speech(voxpy_harness: Harness) -> None:
    h, peer, call, _ = await answered(voxpy_harness)
    call.handle_tones(True, dtmf_types=DTMFType.IN_BAND)
    prompt = synth.speech("Please enter your account number, followed by the pound key.", RATE)
    peer.send_audio(quiet(200) + prompt + quiet(300) + synth.dtmf("147#", RATE) + quiet(500), RATE)
    await h.wait_until(lambda: len(h.recorder.of("Call.ToneReceived")) >= 4, 15, "4 digits")
    await h.advance(0.5)
    tones = h.recorder.of("Call.ToneReceived")
    assert [(t.tone, t.type, t.tone_type) for t in tones] == [
        (d, DTMFType.IN_BAND, "IN_BAND") for d in "147#"
    ]


async def test_in_band_digits_reach_gather(voxpy_harness: Harness) -> None:
    h, peer, call, _ = await answered(voxpy_harness)
    call.handle_tones(True, dtmf_types=DTMFType.ALL)
    peer.send_audio(quiet(200) + synth.dtmf("42#", RATE), RATE)
    assert await awaited(h, call.gather(max_digits=5, timeout=5)) == "42"


async def test_mic_status_vad_and_volume(voxpy_harness: Harness) -> None:
    h, peer, call, _ = await answered(voxpy_harness)
    call.handle_mic_status(True)
    call.monitor_volume(True, interval=0.1)
    assert call.vad() is False
    peer.send_audio(quiet(500) + synth.speech("Hello there, how are you?", RATE) + quiet(1500),
                    RATE)  # fmt: skip
    on = await h.wait_event("Call.MicStatusChange", peer, timeout=10)
    assert on.active is True
    assert call.vad() is True
    await h.wait_until(
        lambda: any(not e.active for e in h.recorder.of("Call.MicStatusChange")), 10, "mic off"
    )
    assert call.vad() is False
    levels = [v.input_volume for v in h.recorder.of("Call.Volume")]
    assert levels and max(levels) > 0.4 and min(levels) < 0.1
    call.monitor_volume(False)
    call.handle_mic_status(False)


async def asr_text(h: ScenarioHarness, session: Session, call: Call, peer: PeerCall,
                   text: str, hints: list[str]) -> Any:  # fmt: skip
    asr = session.create_asr(phrase_hints=hints)
    seen: list[str] = []
    asr.add_event_listener(ASREvents.CaptureStarted, lambda e: seen.append("capture"))
    call.send_media_to(asr)
    peer.send_audio(quiet(300, 16000) + voice(text) + quiet(1500, 16000), 16000)
    result = await h.wait_event("ASR.Result", timeout=15)
    assert seen == ["capture"]
    return result


async def test_asr_one_two_three(voxpy_harness: Harness) -> None:
    h, peer, call, session = await answered(voxpy_harness)
    hints = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "zero"]
    result = await asr_text(h, session, call, peer, "one two three", hints)
    heard = iter(result.text.split())  # in order; PocketSphinx may insert a word
    assert all(word in heard for word in ("one", "two", "three")), result.text


async def test_asr_sales_and_gather_speech(voxpy_harness: Harness) -> None:
    h, peer, call, session = await answered(voxpy_harness)
    result = await asr_text(h, session, call, peer, "sales", ["sales", "support", "operator"])
    assert result.text == "sales"
    peer.send_audio(quiet(300, 16000) + voice("operator") + quiet(1500, 16000), 16000)
    got = await awaited(h, call.gather(input=("dtmf", "speech"), hints=["sales", "operator"]))
    assert isinstance(got, Gathered)
    assert (got.input, got.speech, str(got)) == ("speech", "operator", "operator")


async def test_gather_speech_digits_win_and_nothing_is_empty(voxpy_harness: Harness) -> None:
    h, peer, call, _ = await answered(voxpy_harness)
    peer.send_dtmf("7")
    got = await awaited(h, call.gather(input=("dtmf", "speech"), timeout=3))
    assert (got.input, got.digits) == ("dtmf", "7")
    got = await awaited(h, call.gather(input="speech", timeout=1))
    assert got == Gathered(input="")
    assert await awaited(h, call.gather(timeout=0.5)) == ""  # no input=: the digits, a str
    peer.send_dtmf("5")
    got = await awaited(h, call.gather(input="dtmf", timeout=3))  # input=: always a Gathered
    assert got == Gathered(input="dtmf", digits="5")


class Broken:
    name = "broken"

    def start(self, *args: Any) -> None:
        pass

    def feed(self, pcm: bytes) -> list[Any]:
        raise RuntimeError("decoder crashed")

    def finish(self) -> list[Any]:
        return []


async def test_a_failing_provider_is_an_asr_error_and_the_call_goes_on(
    voxpy_harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voxpy.media.hearing import asr as recognizers

    h, peer, call, session = await answered(voxpy_harness)
    monkeypatch.setattr(recognizers, "create_recognizer", lambda provider=None: Broken())
    asr = session.create_asr()
    call.send_media_to(asr)
    peer.send_audio(voice("hello"), 16000)
    error = await h.wait_event("ASR.ASRError", timeout=10)
    assert "decoder crashed" in error.error
    assert call.state() == "CONNECTED"
    call.say("Still here.")
    await peer.wait_said("Still here")


async def test_misuse_raises_naming_the_argument(voxpy_harness: Harness) -> None:
    h, peer, call, session = await answered(voxpy_harness)
    bad: list[tuple[Any, str]] = [
        (lambda: call.detect_voicemail({"greting_ms": 1}), "greting_ms"),
        (lambda: call.detect_voicemail(AMDOptions(greeting_ms=-5)), "options.greeting_ms"),
        (lambda: call.detect_voicemail("yes"), "options"),
        (lambda: call.enable_beep_detection(timeout=0), "timeout"),
        (lambda: call.detect_progress_tone("on"), "enabled"),
        (lambda: call.detect_progress_tone(True, countries=["XX"]), "countries"),
        (lambda: call.monitor_volume(True, interval=0.001), "interval"),
        (lambda: call.handle_tones(True, dtmf_types="inband"), "dtmf_types"),
        (lambda: session.create_asr(provider="nope"), "provider"),
        (lambda: session.create_asr(phrase_hints="sales"), "phrase_hints"),
        (lambda: session.create_asr(language=""), "language"),
    ]
    for attempt, name in bad:
        with pytest.raises(InvalidArgumentError, match=name):
            attempt()
    with pytest.raises(InvalidArgumentError, match="input"):
        await awaited(h, call.gather(input=("voice",)))
    assert not h.recorder.of("Call.AudioIdentificationStarted")
    peer.hangup()
    await h.wait_event("Call.Disconnected", peer)
    for ended in (
        call.detect_voicemail,
        lambda: call.enable_beep_detection(timeout=5),
        lambda: call.detect_progress_tone(True),
        call.vad,
        lambda: call.handle_mic_status(True),
        lambda: call.monitor_volume(True),
    ):
        with pytest.raises(InvalidStateError):
            ended()


async def test_call_sip_amd(voxpy_harness: Harness) -> None:
    h = await voxpy_harness(TEST_SCENARIOS / "answer_and_wait.py")
    session = await h.start()
    call = session.call_sip(h.peer_uri, amd=True)
    events: list[str] = []
    call.add_event_listener(CallEvents.AudioIdentificationStarted, lambda e: events.append("s"))
    peer = await h.expect_call()
    peer.answer()
    await h.wait_event("Call.AudioIdentificationStarted")
    peer.send_audio(quiet(300) + synth.speech("Hello?", RATE) + quiet(2000), RATE)
    result = await h.wait_event("Call.AudioIdentificationResult", timeout=10)
    assert result.audio_type == "human" and events == ["s"]
    with pytest.raises(InvalidArgumentError, match="call_sip"):
        session.call_sip(h.peer_uri, amd="maybe")  # type: ignore[arg-type]


async def test_voicemail_drop_scenario(voxpy_harness: Harness) -> None:
    """The README's example: voicemail detected, the message said after the beep."""
    h = await voxpy_harness(TEST_SCENARIOS / "voicemail_drop.py")
    await h.start(custom_data=h.peer_uri)
    peer = await h.expect_call()
    peer.answer()
    await peer.wait_answered()
    peer.send_audio(quiet(300) + synth.speech(GREETING, RATE) + quiet(400)
                    + synth.tone([1000], 500, RATE) + quiet(3000), RATE)  # fmt: skip
    await peer.wait_said("Your order has shipped. Goodbye.", timeout=20)
    assert await peer.wait_hangup(timeout=20) == 200


def test_the_readme_shows_the_voicemail_scenario() -> None:
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    scenario = (TEST_SCENARIOS / "voicemail_drop.py").read_text()
    assert f"```python\n# tests/scenarios/voicemail_drop.py\n{scenario}```" in readme


async def test_busy_tone_in_early_media_before_any_answer(voxpy_harness: Harness) -> None:
    """A dialler's case: the callee's network plays busy (or SIT) in 183 early media and never
    answers; the tone is heard on the ringing leg, which the scenario then cancels."""
    h = await voxpy_harness(TEST_SCENARIOS / "answer_and_wait.py")
    session = await h.start()
    call = session.call_sip(h.peer_uri)
    call.detect_progress_tone(True, countries="EU")
    peer = await h.expect_call()
    peer.ring(183)
    await h.wait_event("Call.AudioStarted")
    peer.send_audio(quiet(300) + synth.cadence((425,), (0.5, 0.5), 6.0, RATE), RATE)
    found = await h.wait_event("Call.ToneDetected", timeout=10)
    assert (found.progress_tone, found.country) == ("busy", "EU")
    assert not peer.answered
    call.hangup()
    assert (await h.wait_event("Call.Failed")).code == 487

"""A call's audio to and from a real local WebSocket bot server (aiohttp, port 0), through
``scenarios/voice_bot.py``: the caller is the test kit's peer (memory network, or a real pjsua2
process over loopback SIP with ``--voxpy-backend=sip|all``). Audio is checked decoded, by
frequency and sample rate, on both sides."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import structlog

from tests.backends.test_pjsua2_streams import LOUD, frame_rms, frames_of, frequency, sine
from tests.conftest import SCENARIOS, TEST_SCENARIOS, Harness
from tests.runtime.wsbot import Bot, bot_server, never_reads
from voxpy.core.audio import Decoder, Encoder, Encoding
from voxpy.core.wsmedia.sendqueue import DEFAULT_MAX_MEDIA
from voxpy.testing import ScenarioHarness
from voxpy.testing.peer import PeerCall

VOICE_BOT = SCENARIOS / "voice_bot.py"


async def until(done: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Poll in real time (socket I/O is real in both modes)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout}s")
        await asyncio.sleep(0.01)


def drain(bot: Bot) -> list[dict[str, Any]]:
    out = []
    while not bot.received.empty():
        out.append(json.loads(bot.received.get_nowait()))
    return out


class Inbox:
    """Everything the bot received so far, parsed."""

    def __init__(self, bot: Bot) -> None:
        self.bot, self.messages = bot, list[dict[str, Any]]()

    def of(self, event: str) -> list[dict[str, Any]]:
        self.messages += drain(self.bot)
        return [m for m in self.messages if m["event"] == event]


async def bot_call(
    voxpy_harness: Harness, bot: Bot, dialect: str = "voxengine", encoding: str = "PCM8"
) -> tuple[ScenarioHarness, PeerCall]:
    data = json.dumps({"url": bot.url, "dialect": dialect, "encoding": encoding})
    h = await voxpy_harness(VOICE_BOT, custom_data=data)
    call = await h.dial()
    await call.wait_answered()
    await h.wait_event("WebSocket.Open", timeout=5)
    await until(bot.connected.is_set, what="bot connection")
    return h, call


def media_message(dialect: str, pcm8k: bytes, seq: int) -> dict[str, Any]:
    payload = base64.b64encode(Encoder(Encoding.ULAW if dialect == "twilio" else Encoding.PCM8,
                                       8000).encode(pcm8k)).decode()  # fmt: skip
    if dialect == "twilio":
        return {"event": "media", "streamSid": "MZ1", "media": {"payload": payload}}
    return {"event": "media", "sequenceNumber": seq, "media": {"payload": payload}}


async def send_tone(bot: Bot, dialect: str, hz: float, seconds: float) -> None:
    pcm = sine(hz, seconds, 8000)
    for i in range(0, len(pcm), 320):
        await bot.send(media_message(dialect, pcm[i : i + 320], i // 320))


def frame_frequency(frames: list[Any], rate: int) -> float:
    """Zero crossings with hysteresis (a sign counts once past +-LOUD), inside each loud frame
    from its first crossing to its last, never across two: codec noise around zero, and gaps or
    phase jumps between frames (RTP jitter, an echo's underruns), add nothing. Plain crossings
    over joined frames read 458-486 Hz for 440 Hz over pjsua2."""
    halves = span = 0
    for frame in (f for f in frames if frame_rms(f) > LOUD):
        sign, at = 0, []
        for i, x in enumerate(frame):
            now = 1 if x > LOUD else -1 if x < -LOUD else sign
            if sign and now != sign:
                at.append(i)
            sign = now
        if len(at) >= 2:
            halves, span = halves + len(at) - 1, span + at[-1] - at[0]
    return halves / 2 / (span / rate)


def loud_frames(call: PeerCall, rate: int = 8000) -> int:
    return sum(frame_rms(f) > LOUD for f in frames_of(call.heard_pcm(), rate))


CASES = [("voxengine", e) for e in ("PCM8", "PCM16", "ULAW", "ALAW")] + [("twilio", "ULAW")]


@pytest.mark.parametrize(("dialect", "encoding"), CASES)
async def test_the_callers_tone_reaches_the_bot(
    voxpy_harness: Harness, dialect: str, encoding: str
) -> None:
    async with bot_server(Bot()) as bot:
        h, call = await bot_call(voxpy_harness, bot, dialect, encoding)
        call.send_audio(sine(440, 1.0, 8000))
        await h.advance(1.4)
        inbox = Inbox(bot)
        await until(lambda: len(inbox.of("media")) >= 50, 5, "50 media messages")
        got = inbox.messages
        start = next(m for m in got if m["event"] == "start")
        enc = Encoding(encoding)
        if dialect == "twilio":
            assert got[0]["event"] == "connected"
            assert start["start"]["mediaFormat"] == {
                "encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}  # fmt: skip
        else:
            fmt = start["start"]["mediaFormat"]
            assert (fmt["encoding"], fmt["sampleRate"]) == (encoding, enc.sample_rate)
            assert start["start"]["tag"] == "caller"
        params = start["start"]["customParameters"]
        assert params["callerid"] == "+15550100"
        media = [base64.b64decode(m["media"]["payload"]) for m in got if m["event"] == "media"]
        assert {len(p) for p in media} == {enc.frame_bytes()}  # 20 ms at the encoding's rate
        pcm = Decoder(enc, enc.sample_rate).decode(b"".join(media))
        loud = [f for f in frames_of(pcm, enc.sample_rate) if frame_rms(f) > LOUD]
        assert len(loud) >= 40
        # Counted per frame: joining frames across RTP jitter read 458 Hz once over pjsua2.
        assert abs(frame_frequency(loud, enc.sample_rate) - 440) < 15


@pytest.mark.parametrize("dialect", ["voxengine", "twilio"])
async def test_the_bots_audio_reaches_the_caller(voxpy_harness: Harness, dialect: str) -> None:
    async with bot_server(Bot()) as bot:
        h, call = await bot_call(voxpy_harness, bot, dialect)
        call.listen(8000)
        await send_tone(bot, dialect, 1000, 1.0)
        await h.advance(1.5)
        await until(lambda: loud_frames(call) >= 45, 5, "tone")
        loud = [f for f in frames_of(call.heard_pcm(), 8000) if frame_rms(f) > LOUD]
        assert abs(frequency(loud, 8000) - 1000) < 20
        started = await h.wait_event("WebSocket.MediaEventStarted")
        assert started.encoding in ("PCM8", "ULAW")
        await h.advance(1.5)
        ended = await h.wait_event("WebSocket.MediaEventEnded", timeout=3)
        assert 0.9 <= ended.media_info["duration"] <= 1.1


async def test_twilio_mark_after_play_and_clear_within_100ms(voxpy_harness: Harness) -> None:
    async with bot_server(Bot()) as bot:
        h, call = await bot_call(voxpy_harness, bot, "twilio")
        call.listen(8000)
        await send_tone(bot, "twilio", 1000, 0.4)
        await bot.send({"event": "mark", "streamSid": "MZ1", "mark": {"name": "greeting"}})
        await until(lambda: len(h.recorder.of("WebSocket.Message")) >= 21, what="bot audio")
        assert not [m for m in drain(bot) if m["event"] == "mark"]  # nothing played yet
        await h.advance(0.8)
        inbox = Inbox(bot)
        await until(lambda: bool(inbox.of("mark")), what="mark echo")
        marks = inbox.of("mark")
        assert marks[0]["mark"]["name"] == "greeting"
        loud = [f for f in frames_of(call.heard_pcm(), 8000) if frame_rms(f) > LOUD]
        assert len(loud) >= 18  # the 400 ms before the mark had played

        # 3 s of tone, a mark after it; clear once it is heard: the mark comes back at once.
        await send_tone(bot, "twilio", 1000, 3.0)
        await bot.send({"event": "mark", "streamSid": "MZ1", "mark": {"name": "long"}})
        await until(lambda: len(h.recorder.of("WebSocket.Message")) >= 172, what="bot audio")
        await h.advance(0.5)
        await until(lambda: frame_rms(frames_of(call.heard_pcm(), 8000)[-1]) > LOUD, 3, "tone")
        await bot.send({"event": "clear", "streamSid": "MZ1"})
        await until(lambda: len(inbox.of("mark")) == 2, 3, "mark echoed on clear")
        at_clear = len(frames_of(call.heard_pcm(), 8000))
        await h.advance(0.5)
        after = frames_of(call.heard_pcm(), 8000)[at_clear:]
        loud_after = sum(frame_rms(f) > LOUD for f in after)
        assert len(after) >= 20 and loud_after <= 5, f"{loud_after} loud frames after clear"


async def test_dtmf_reaches_the_bot_and_fires_tone_received(voxpy_harness: Harness) -> None:
    async with bot_server(Bot()) as bot:
        h, call = await bot_call(voxpy_harness, bot, "twilio")
        call.send_dtmf("5")
        await h.wait_event("Call.ToneReceived", call, timeout=5)
        inbox = Inbox(bot)
        await until(lambda: bool(inbox.of("dtmf")), what="dtmf message")
        dtmf = inbox.of("dtmf")[0]
        assert dtmf["dtmf"] == {"track": "inbound_track", "digit": "5"}


async def test_a_refused_bot_leaves_the_call_up(voxpy_harness: Harness) -> None:
    async with bot_server(Bot(refuse=503)) as bot:
        h = await voxpy_harness(VOICE_BOT, custom_data=bot.url)
        call = await h.dial()
        await call.wait_answered()
        await h.wait_event("WebSocket.Error", timeout=5)
        closed = await h.wait_event("WebSocket.Close", timeout=5)
        assert closed.code == 1006 and "503" in closed.reason
        await call.wait_said("not available")
        await h.advance(1.0)
        assert call.code is None  # still up


async def test_a_bot_closing_mid_call_leaves_the_call_up(voxpy_harness: Harness) -> None:
    async with bot_server(Bot()) as bot:
        h, call = await bot_call(voxpy_harness, bot)
        call.send_audio(sine(440, 0.5, 8000))
        await h.advance(0.6)
        assert bot.ws is not None
        await bot.ws.close(code=4000, message=b"bye")
        closed = await h.wait_event("WebSocket.Close", timeout=5)
        assert closed.code == 4000
        await call.wait_said("not available")
        call.send_audio(sine(440, 0.5, 8000))
        await h.advance(1.0)
        assert call.code is None
        engine_call = (await h.wait_event("Call.Connected", call)).call
        assert engine_call.state() == "CONNECTED"
        assert not h.recorder.of("Call.Error")


@pytest.mark.voxpy_backend("memory")
async def test_a_bot_that_does_not_read_costs_bounded_memory(voxpy_harness: Harness) -> None:
    async with bot_server(Bot(behaviour=never_reads)) as bot:
        h, call = await bot_call(voxpy_harness, bot, encoding="PCM16")
        ws = (await h.wait_event("WebSocket.Open")).websocket
        tone = sine(440, 10.0, 8000)
        peak = 0
        with structlog.testing.capture_logs() as logs:
            # The kernel's socket buffers (MBs on loopback) fill first, then aiohttp's, then ours.
            for _ in range(90):  # up to 15 minutes of caller audio, 10 s at a time
                call.send_audio(tone)
                await h.advance(10.0)
                await asyncio.sleep(0.005)  # the writer runs in real time: let it fill the kernel
                peak = max(peak, ws.queue.media_queued)
                if ws.queue.dropped > 1000:
                    break
        assert peak <= DEFAULT_MAX_MEDIA
        assert ws.queue.dropped > 1000
        assert [e["event"] for e in logs].count("websocket_send_queue_full") == 1
        assert call.code is None


async def test_listen_and_audio_output_round_trip(voxpy_harness: Harness) -> None:
    h = await voxpy_harness(TEST_SCENARIOS / "python_bot.py")
    call = await h.dial()
    await call.wait_answered()
    call.listen(8000)
    call.send_audio(sine(440, 1.0, 8000))
    await h.advance(1.6)
    await until(lambda: sum(frame_rms(f) > LOUD for f in frames_of(call.heard_pcm(), 8000)) >= 40,
                5, "echo")  # fmt: skip
    # Per frame: the echo has no jitter buffer, so underruns put gaps between tone frames.
    assert abs(frame_frequency(frames_of(call.heard_pcm(), 8000), 8000) - 440) < 15

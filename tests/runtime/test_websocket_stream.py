"""The media pump between a call's audio (a fake AudioPath) and a real local WebSocket server,
in both dialects: caller audio out, bot audio fed at the backend's pace, marks after play,
clear, DTMF, MEDIA_STARTED/ENDED, and failures that end the stream quietly."""

from __future__ import annotations

import asyncio
import base64
import math
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
import structlog

from tests.runtime.wsbot import Bot, Recorder, bot_server, never_reads
from voxpy import WebSocketEvents as WS
from voxpy.core.audio import Encoding
from voxpy.errors import InvalidStateError
from voxpy.runtime import ws_link
from voxpy.runtime.websocket import WebSocket
from voxpy.runtime.wsstream import FEED_AHEAD_MS, MEDIA_ENDED_AFTER, FeedReport, MediaPump

RATE = 16000
FRAME = RATE * 2 // 50  # 20 ms of internal PCM


def tone(hz: float, ms: int, rate: int = RATE, amplitude: int = 8000) -> bytes:
    n = rate * ms // 1000
    return struct.pack(
        f"<{n}h", *(int(amplitude * math.sin(2 * math.pi * hz * i / rate)) for i in range(n))
    )


@dataclass
class FakePath:
    """The backend's tap and feed, driven by the test: ``tap()`` is the caller speaking,
    ``play()`` the media clock playing what was fed."""

    rate: int = RATE
    on_frames: Callable[[bytes], None] | None = None
    on_played: Callable[[FeedReport], None] | None = None
    fed: list[bytes] = field(default_factory=list)
    buffered: int = 0
    played: int = 0
    dropped: int = 0
    calls: list[str] = field(default_factory=list)

    def start_tap(self, on_frames: Callable[[bytes], None]) -> None:
        self.calls.append("start_tap")
        self.on_frames = on_frames

    def stop_tap(self) -> None:
        self.calls.append("stop_tap")
        self.on_frames = None

    def start_feed(self, on_played: Callable[[FeedReport], None]) -> None:
        self.calls.append("start_feed")
        self.on_played = on_played

    def feed(self, pcm: bytes) -> None:
        self.fed.append(pcm)
        self.buffered += len(pcm)

    def clear(self) -> None:
        # As the backends do: what a clear discards is in none of the totals.
        self.calls.append("clear")
        self.buffered = 0
        self.report()

    def stop_feed(self) -> None:
        self.calls.append("stop_feed")
        self.on_played = None

    def tap(self, pcm: bytes) -> None:
        assert self.on_frames is not None, "not tapped"
        self.on_frames(pcm)

    def play(self, n: int = FRAME) -> None:
        n = min(n, self.buffered)
        self.buffered -= n
        self.played += n
        self.report()

    def report(self) -> None:
        if self.on_played is not None:
            self.on_played(
                FeedReport(
                    played_bytes=self.played,
                    buffered_bytes=self.buffered,
                    dropped_bytes=self.dropped,
                )
            )


@dataclass
class FakeClock:
    timers: list[tuple[float, Callable[[], None], list[bool]]] = field(default_factory=list)

    def now(self) -> float:
        return 0.0

    def call_later(self, delay: float, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer()
        self.timers.append((delay, callback, timer.cancelled))
        return timer

    def fire_due(self) -> None:
        for _delay, callback, cancelled in list(self.timers):
            if not cancelled[0]:
                cancelled[0] = True
                callback()


@dataclass
class FakeTimer:
    cancelled: list[bool] = field(default_factory=lambda: [False])

    def cancel(self) -> None:
        self.cancelled[0] = True


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    async with bot_server(Bot()) as b:
        yield b


async def opened(
    bot: Bot, dialect: str, **kwargs: object
) -> tuple[Recorder, WebSocket, FakePath, MediaPump, FakeClock]:
    rec, path, clock = Recorder(), FakePath(), FakeClock()
    ws = rec.connect(bot.url, dialect=dialect)
    pump = MediaPump(ws, path, clock, call_id="CA1", **kwargs)  # type: ignore[arg-type]
    await rec.wait(WS.OPEN)
    return rec, ws, path, pump, clock


def media(payload: bytes, **extra: object) -> dict[str, object]:
    return {"event": "media", "media": {"payload": base64.b64encode(payload).decode(), **extra}}


@pytest.mark.parametrize(
    ("dialect", "encoding", "wire_bytes"),
    [
        ("voxengine", Encoding.PCM16, 640),
        ("voxengine", Encoding.ULAW, 160),
        ("twilio", Encoding.PCM16, 160),
    ],
)
async def test_caller_frames_go_out_numbered_and_timed(
    bot: Bot, dialect: str, encoding: Encoding, wire_bytes: int
) -> None:
    rec, ws, path, pump, _ = await opened(
        bot, dialect, encoding=encoding, tag="caller", custom_parameters={"lang": "en"}
    )
    pump.start_sending()
    for _ in range(3):
        path.tap(tone(440, 20))
    first = await bot.next_json()
    if dialect == "twilio":
        assert first["event"] == "connected"
        first = await bot.next_json()
    assert first["event"] == "start"
    params = first["start"]["customParameters"]
    assert params == {"lang": "en"}
    frames = [await bot.next_json() for _ in range(3)]
    assert [f["event"] for f in frames] == ["media"] * 3
    seqs = [int(f["sequenceNumber"]) for f in frames]
    assert seqs == [int(first["sequenceNumber"]) + i for i in (1, 2, 3)]
    assert [int(f["media"]["chunk"]) for f in frames] == [1, 2, 3]
    assert [int(f["media"]["timestamp"]) for f in frames] == [0, 20, 40]
    assert all(len(base64.b64decode(f["media"]["payload"])) == wire_bytes for f in frames)
    pump.stop_sending()
    assert (await bot.next_json())["event"] == "stop"
    assert path.calls == ["start_tap", "stop_tap"]
    ws.close()
    await rec.wait(WS.CLOSE)


@pytest.mark.parametrize("dialect", ["voxengine", "twilio"])
async def test_bot_audio_is_fed_at_the_backends_pace(bot: Bot, dialect: str) -> None:
    rec, ws, path, pump, _ = await opened(
        bot, dialect, encoding=Encoding.PCM16 if dialect == "voxengine" else Encoding.ULAW
    )
    pump.start_playing()
    wire = Encoding.PCM16 if dialect == "voxengine" else Encoding.ULAW
    payload = (
        bytes(wire.frame_bytes()) * 50 if wire is Encoding.PCM16 else b"\xff" * 160 * 50
    )  # 1 s of silence
    await bot.send(media(payload))
    await rec.wait(WS.MEDIA_STARTED)
    ahead = RATE * 2 * FEED_AHEAD_MS // 1000
    assert sum(map(len, path.fed)) == ahead  # not the whole second: FEED_AHEAD_MS of it
    assert all(len(f) == FRAME for f in path.fed)
    for _ in range(10):
        path.play()
        assert path.buffered == ahead  # each frame played is topped up
    started = rec.of(WS.MEDIA_STARTED)[0]
    assert started.encoding == str(wire)
    ws.close()
    await rec.wait(WS.CLOSE)
    assert path.calls[-1] == "stop_feed"


@pytest.mark.parametrize("dialect", ["voxengine", "twilio"])
async def test_a_mark_is_echoed_only_after_its_audio_played(bot: Bot, dialect: str) -> None:
    rec, ws, path, pump, _ = await opened(bot, dialect, encoding=Encoding.ULAW)
    pump.start_playing()
    await bot.send(media(b"\xff" * 160 * 3))  # 60 ms
    await bot.send({"event": "mark", "mark": {"name": "greeting"}})
    await rec.wait(WS.MESSAGE, 2)
    assert len(path.fed) == 3  # all fed ahead...
    path.play()
    path.play()
    assert bot.received.empty()  # ...but not yet heard
    path.play()
    echo = await bot.next_json()
    assert echo["event"] == "mark" and echo["mark"]["name"] == "greeting"
    # With nothing playing, a mark comes straight back.
    await bot.send({"event": "mark", "mark": {"name": "idle"}})
    assert (await bot.next_json())["mark"]["name"] == "idle"
    ws.close()
    await rec.wait(WS.CLOSE)


async def test_clear_silences_and_echoes_the_pending_marks(bot: Bot) -> None:
    rec, ws, path, pump, _ = await opened(bot, "twilio")
    pump.start_playing()
    await bot.send(media(b"\xff" * 160 * 50))
    await bot.send({"event": "mark", "mark": {"name": "m1"}})
    await bot.send({"event": "clear", "streamSid": "MZ"})
    echo = await bot.next_json()
    assert echo["mark"]["name"] == "m1"
    assert "clear" in path.calls and path.buffered == 0
    assert pump.stream.playout.queued_bytes == 0
    # New audio after the clear is fed at once, and its marks wait for it alone.
    await bot.send(media(b"\xff" * 160 * 2))
    await bot.send({"event": "mark", "mark": {"name": "m2"}})
    await rec.wait(WS.MESSAGE, 5)
    assert path.buffered == 2 * FRAME
    path.play()
    assert bot.received.empty()
    path.play()
    assert (await bot.next_json())["mark"]["name"] == "m2"
    await bot.send(media(b"\xff" * 160 * 2))
    await rec.wait(WS.MESSAGE, 6)
    pump.clear()  # ws.clear_media_buffer(): the same, from the scenario
    assert path.buffered == 0
    ws.close()
    await rec.wait(WS.CLOSE)


async def test_media_started_then_ended_after_a_second_of_nothing(bot: Bot) -> None:
    rec, ws, path, pump, clock = await opened(bot, "voxengine", encoding=Encoding.ULAW, tag="bot")
    pump.start_playing()
    start = {
        "event": "start",
        "start": {"mediaFormat": {"encoding": "ULAW"}, "tag": "tts", "customParameters": {"v": 1}},
    }
    await bot.send(start)
    await bot.send(media(b"\xff" * 160 * 5))
    started = await rec.wait(WS.MEDIA_STARTED)
    assert (started.tag, started.encoding, started.custom_parameters) == ("tts", "ULAW", {"v": "1"})
    for _ in range(5):
        path.play()
    assert rec.of(WS.MEDIA_ENDED) == []
    assert clock.timers and clock.timers[-1][0] == MEDIA_ENDED_AFTER
    clock.fire_due()
    ended = rec.of(WS.MEDIA_ENDED)[0]
    assert ended.tag == "tts" and 0.08 <= ended.media_info["duration"] <= 0.1
    ws.close()
    await rec.wait(WS.CLOSE)


@pytest.mark.parametrize("dialect", ["twilio", "voxengine"])
async def test_dtmf_reaches_the_socket(bot: Bot, dialect: str) -> None:
    rec, ws, path, pump, _ = await opened(bot, dialect)
    pump.start_sending()
    pump.send_dtmf("5")
    messages = [await bot.next_json() for _ in range(3 if dialect == "twilio" else 2)]
    assert messages[-1]["event"] == "dtmf" and messages[-1]["dtmf"]["digit"] == "5"
    ws.close()
    await rec.wait(WS.CLOSE)


async def test_the_server_closing_mid_stream_ends_it_quietly(bot: Bot) -> None:
    rec, ws, path, pump, _ = await opened(bot, "twilio")
    pump.start_sending()
    pump.start_playing()
    path.tap(tone(440, 40))
    assert bot.ws is not None
    await bot.ws.close(code=1000, message=b"bot done")
    closed = await rec.wait(WS.CLOSE)
    assert (closed.code, closed.reason) == (1000, "bot done")
    assert path.calls[-2:] == ["stop_tap", "stop_feed"]
    path.report()  # a late report from the backend: nothing happens
    assert not pump.sending and not pump.playing and rec.errors == []


async def test_a_refusing_server_is_error_and_close_and_the_stream_stops(bot: Bot) -> None:
    bot.refuse = 404
    rec, path, clock = Recorder(), FakePath(), FakeClock()
    ws = rec.connect(bot.url, dialect="twilio")
    pump = MediaPump(ws, path, clock)
    pump.start_sending()
    pump.start_playing()
    await rec.wait(WS.CLOSE)
    assert "404" in rec.of(WS.ERROR)[0].error
    assert not pump.sending and not pump.playing
    assert len(ws.queue) == 0


async def test_a_server_that_does_not_read_costs_bounded_memory_and_one_warning(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws_link, "CLOSE_TIMEOUT", 0.05)  # the close gives up on it sooner
    bot.behaviour = never_reads
    rec, ws, path, pump, _ = await opened(bot, "voxengine", encoding=Encoding.PCM16)
    pump.start_sending()
    frame = tone(440, 20)
    with structlog.testing.capture_logs() as logs:
        for i in range(100_000):  # the kernel's buffers fill first, then aiohttp's, then ours
            path.tap(frame)
            assert ws.queue.media_queued <= ws.queue.max_media
            if i % 100 == 0:
                await asyncio.sleep(0)
            if ws.queue.dropped > 1000:
                break
    assert ws.queue.dropped > 1000, "the queue never filled"
    assert ws.queue.media_queued == ws.queue.max_media
    warnings = [e for e in logs if e["event"] == "websocket_send_queue_full"]
    assert len(warnings) == 1
    with pytest.raises(InvalidStateError):
        MediaPump(ws, path, FakeClock())  # one stream per socket
    await ws.shutdown("test over")


async def test_malformed_messages_are_events_and_logged_once(bot: Bot) -> None:
    rec, ws, path, pump, _ = await opened(bot, "twilio")
    with structlog.testing.capture_logs() as logs:
        for text in ("not json", '{"event": "media"}', "[1]"):
            await bot.send(text)
        await rec.wait(WS.MESSAGE, 3)
    assert [e["event"] for e in logs if e["event"] == "websocket_bad_media_message"] == [
        "websocket_bad_media_message"
    ]
    assert ws.ready_state == "OPEN" and rec.errors == []
    ws.close()
    await rec.wait(WS.CLOSE)

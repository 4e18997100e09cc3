"""Taps and feeds on the in-memory network: real PCM at the virtual clock's pace.

The engine endpoint is driven with commands; the peer side uses the test kit's PeerCall
(``send_audio``, ``listen``, ``heard_pcm``) through a minimal host, as the harness does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.backends.test_pjsua2_streams import LOUD, frame_rms, frames_of, frequency, sine
from voxpy.backends.memory import MemoryBackend, MemoryNetwork
from voxpy.core.commands import (
    Answer,
    Bye,
    ClearFeed,
    Dial,
    FeedAudio,
    Play,
    StartFeed,
    StartTap,
    StopFeed,
    StopTap,
)
from voxpy.core.signals import (
    AudioFrames,
    CommandFailed,
    FeedPlayed,
    IncomingCall,
    PlayEnded,
    PlayStarted,
    Signal,
)
from voxpy.testing.clock import VirtualClock
from voxpy.testing.peer import PeerCall


class Host:
    """The part of the harness a PeerCall needs."""

    def __init__(self, backend: MemoryBackend) -> None:
        self.peer_backend = backend

    def check_errors(self) -> None:
        pass

    def playbacks(self, call: PeerCall) -> list[Any]:
        return []

    def explain(self, call: PeerCall | None = None) -> str:
        return ""

    async def wait_until(
        self, done: Callable[[], bool], timeout: float, what: str, call: PeerCall | None = None
    ) -> None:
        assert done(), what


class Net:
    def __init__(self) -> None:
        self.clock = VirtualClock()
        self.network = MemoryNetwork(self.clock)
        self.engine = self.network.endpoint("engine")
        self.peer = self.network.endpoint("peer")
        self.got: list[Signal] = []
        self.call: PeerCall | None = None

    async def connect(self) -> tuple[str, PeerCall]:
        await self.engine.start(self.got.append)
        call = self.call = PeerCall(Host(self.peer), "p1", None)
        await self.peer.start(call._on_signal)
        self.peer.send(Dial(call_id="p1", uri="sip:engine@memory.invalid"))
        incoming = next(s for s in self.got if isinstance(s, IncomingCall))
        self.engine.send(Answer(call_id=incoming.call_id))
        return incoming.call_id, call

    def taken(self, kind: type[Any], **fields: Any) -> list[Any]:
        return [
            s
            for s in self.got
            if isinstance(s, kind) and all(getattr(s, k) == v for k, v in fields.items())
        ]

    def heard(self, tap_id: str) -> bytes:
        return b"".join(s.pcm for s in self.taken(AudioFrames, tap_id=tap_id))


@pytest.fixture
async def net() -> Net:
    return Net()


async def test_tap_hears_what_the_peer_says_at_8k_and_16k(net: Net) -> None:
    leg, call = await net.connect()
    net.engine.send(StartTap(call_id=leg, tap_id="t8", sample_rate=8000))
    net.engine.send(StartTap(call_id=leg, tap_id="t16", sample_rate=16000))
    call.send_audio(sine(440, 1.0, 8000), sample_rate=8000)
    await net.clock.advance(1.21)
    assert all(len(s.pcm) == 320 for s in net.taken(AudioFrames, tap_id="t8"))
    assert all(len(s.pcm) == 640 for s in net.taken(AudioFrames, tap_id="t16"))
    assert len(net.heard("t8")) == 60 * 320  # one frame a tick, silence included
    f8, f16 = frames_of(net.heard("t8"), 8000), frames_of(net.heard("t16"), 16000)
    assert sum(frame_rms(f) > LOUD for f in f8) == 50
    assert abs(frequency(f8, 8000) - 440) < 15
    assert abs(frequency(f16, 16000) - 440) < 15
    net.engine.send(StopTap(call_id=leg, tap_id="t8"))
    before = len(net.heard("t8"))
    await net.clock.advance(0.1)
    assert len(net.heard("t8")) == before
    net.engine.send(StopTap(call_id=leg, tap_id="t8"))
    assert net.taken(CommandFailed, op="StopTap")[0].message == "no tap 't8' on this call"


async def test_feed_is_heard_counted_and_cleared(net: Net) -> None:
    leg, call = await net.connect()
    call.listen(8000)
    net.engine.send(StartFeed(call_id=leg, feed_id="bot", sample_rate=8000))
    tone = sine(1000, 1.0, 8000)
    for part in (tone[:7002], tone[7002:15000], tone[15000:]):  # any lengths
        net.engine.send(FeedAudio(call_id=leg, feed_id="bot", pcm=part))
    await net.clock.advance(1.1)
    reports = net.taken(FeedPlayed, feed_id="bot")
    played = [r.played_bytes for r in reports]
    assert played == sorted(played) and played[-1] == len(tone)
    assert reports[-1].buffered_bytes == 0 and reports[-1].dropped_bytes == 0
    assert len(reports) <= 12  # about every 100 ms, plus the one when it ran empty
    frames = frames_of(call.heard_pcm(), 8000)
    loud = [f for f in frames if frame_rms(f) > LOUD]
    assert len(loud) == 50
    assert abs(frequency(loud, 8000) - 1000) < 20

    net.engine.send(FeedAudio(call_id=leg, feed_id="bot", pcm=sine(1000, 2.0, 8000)))
    await net.clock.advance(0.5)
    at_clear = len(frames_of(call.heard_pcm(), 8000))
    net.engine.send(ClearFeed(call_id=leg, feed_id="bot"))
    cleared = net.taken(FeedPlayed, feed_id="bot")[-1]
    assert cleared.buffered_bytes == 0 and cleared.played_bytes < len(tone) + 32000
    await net.clock.advance(0.2)
    after = frames_of(call.heard_pcm(), 8000)[at_clear:]
    assert len(after) == 10 and all(frame_rms(f) < LOUD for f in after)  # the very next frame

    net.engine.send(FeedAudio(call_id=leg, feed_id="bot", pcm=sine(1000, 3.0, 8000)))
    await net.clock.advance(0.1)
    assert net.taken(FeedPlayed, feed_id="bot")[-1].dropped_bytes == 16000


async def test_feed_replaces_a_playback_and_a_playback_replaces_it(net: Net) -> None:
    leg, call = await net.connect()
    call.listen(16000)
    net.engine.send(Play(call_id=leg, playback_id="p", path="memory:x", duration=5.0))
    assert net.taken(PlayStarted, playback_id="p")
    net.engine.send(StartFeed(call_id=leg, feed_id="f", sample_rate=16000))
    net.engine.send(FeedAudio(call_id=leg, feed_id="f", pcm=sine(1000, 0.5, 16000)))
    await net.clock.advance(6.0)
    assert not net.taken(PlayEnded)  # replaced silently, never finished
    loud = [f for f in frames_of(call.heard_pcm(), 16000) if frame_rms(f) > LOUD]
    assert len(loud) == 25 and abs(frequency(loud, 16000) - 1000) < 20
    net.engine.send(Play(call_id=leg, playback_id="q", path="memory:x", duration=1.0))
    net.engine.send(FeedAudio(call_id=leg, feed_id="f", pcm=b"\0\0"))
    assert net.taken(CommandFailed, op="FeedAudio")[0].message == "no feed 'f' on this call"


async def test_hostile_input_and_leg_end_stops_everything(net: Net) -> None:
    leg, call = await net.connect()
    net.engine.send(StartTap(call_id=leg, tap_id="x", sample_rate=44100))
    net.engine.send(StartFeed(call_id=leg, feed_id="f", sample_rate=44100))
    net.engine.send(FeedAudio(call_id=leg, feed_id="nope", pcm=b"\0\0"))
    net.engine.send(StartFeed(call_id=leg, feed_id="f", sample_rate=8000))
    net.engine.send(FeedAudio(call_id=leg, feed_id="f", pcm=b"\0\0\0"))
    net.engine.send(FeedAudio(call_id=leg, feed_id="f", pcm="text"))  # type: ignore[arg-type]
    net.engine.send(StartFeed(call_id=leg, feed_id="f", sample_rate=8000))
    net.engine.send(StartTap(call_id="gone", tap_id="x", sample_rate=8000))
    net.engine.send(StartTap(call_id=leg, tap_id=["x"], sample_rate=8000))  # type: ignore[arg-type]
    net.engine.send(StartTap(call_id=leg, tap_id="y", sample_rate=8000.0))  # type: ignore[arg-type]
    messages = [(s.op, s.message) for s in net.taken(CommandFailed)]
    assert messages == [
        ("StartTap", "sample_rate must be 8000 or 16000, got 44100"),
        ("StartFeed", "sample_rate must be 8000 or 16000, got 44100"),
        ("FeedAudio", "no feed 'nope' on this call"),
        (
            "FeedAudio",
            "pcm must be whole 16-bit samples (an even number of bytes), got 3 bytes",
        ),
        ("FeedAudio", "pcm must be bytes, got str"),
        ("StartFeed", "feed 'f' is already running"),
        ("StartTap", "no such live call"),
        ("StartTap", "tap_id must be a non-empty string, got ['x']"),
        ("StartTap", "sample_rate must be 8000 or 16000, got 8000.0"),
    ]
    net.engine.send(StartTap(call_id=leg, tap_id="t", sample_rate=8000))
    call.listen()
    call.send_audio(sine(440, 0.2, 8000))
    await net.clock.advance(0.1)
    assert net.clock.next_due() is not None  # the 20 ms tick runs
    net.engine.send(Bye(call_id=leg))
    streams = net.network.streams
    assert not streams.feeds and not any(streams.taps.values())
    assert net.clock.next_due() is None  # and stops with the last tap and feed


async def test_without_a_clock_feeds_play_at_once() -> None:
    network = MemoryNetwork()
    engine, peer = network.endpoint("engine"), network.endpoint("peer")
    got: list[Signal] = []
    await engine.start(got.append)
    call = PeerCall(Host(peer), "p1", None)
    await peer.start(call._on_signal)
    peer.send(Dial(call_id="p1", uri="sip:engine@memory.invalid"))
    leg = next(s for s in got if isinstance(s, IncomingCall)).call_id
    engine.send(Answer(call_id=leg))
    call.listen()
    engine.send(StartFeed(call_id=leg, feed_id="f", sample_rate=8000))
    engine.send(FeedAudio(call_id=leg, feed_id="f", pcm=sine(1000, 0.1, 8000)))
    assert len(call.heard_pcm()) == 1600
    done = [s for s in got if isinstance(s, FeedPlayed)][-1]
    assert (done.played_bytes, done.buffered_bytes) == (1600, 0)
    engine.send(StopFeed(call_id=leg, feed_id="f"))
    assert not network.streams.feeds

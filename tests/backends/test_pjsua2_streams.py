"""Taps and feeds on the pjsua2 backend over real SIP and RTP (loopback, two peer processes).

A tap hands what the far end sends to the runtime as PCM frames (AudioFrames); a feed plays
PCM the runtime sends (FeedAudio) into the leg, reporting progress as FeedPlayed. The far end
listens with a tap of its own, so what it heard is checked frame by frame, by frequency.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import re
import time
from array import array
from pathlib import Path

import pytest

from tests.backends.conftest import Peer, PeerFactory, connect
from tests.backends.test_pjsua2_media import tone_wav
from voxpy.core.commands import (
    Bye,
    ClearFeed,
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
    Ended,
    FeedPlayed,
    PlayEnded,
    PlayStarted,
)

pytestmark = pytest.mark.realtime  # real SIP/processes: deselect with -m 'not realtime'

RELEASED = re.compile(r"leg_media_released.*?ports_in_use=(\d+)")
LOUD = 1000
"RMS above which a frame counts as tone, not silence or codec noise."


def sine(freq: float, seconds: float, rate: int, level: float = 0.3) -> bytes:
    count = round(seconds * rate)
    amp = level * 32767
    return array(
        "h", (round(amp * math.sin(2 * math.pi * freq * i / rate)) for i in range(count))
    ).tobytes()


def frames_of(pcm: bytes, rate: int) -> list[array[int]]:
    size = rate // 50
    samples = array("h", pcm)
    return [samples[i : i + size] for i in range(0, len(samples) - size + 1, size)]


def frame_rms(frame: array[int]) -> float:
    return math.sqrt(sum(x * x for x in frame) / max(1, len(frame)))


def frequency(frames: list[array[int]], rate: int) -> float:
    """Zero-crossing estimate over the loud frames, joined (they are mostly contiguous)."""
    samples = array("h")
    for frame in frames:
        if frame_rms(frame) >= LOUD:
            samples.extend(frame)
    assert len(samples) > 1, "no loud frame"
    crossings = sum(1 for a, b in itertools.pairwise(samples) if (a < 0) != (b < 0))
    return crossings / 2 / ((len(samples) - 1) / rate)


def heard(peer: Peer, tap_id: str) -> bytes:
    return b"".join(s.pcm for s in peer.taken(AudioFrames, tap_id=tap_id))


async def hear(peer: Peer, tap_id: str, nbytes: int, timeout: float = 5.0) -> bytes:
    """Wait (on signals) until ``tap_id`` delivered at least ``nbytes``."""
    deadline = time.monotonic() + timeout
    while len(heard(peer, tap_id)) < nbytes:
        await peer.wait(AudioFrames, timeout=max(0.01, deadline - time.monotonic()))
    return heard(peer, tap_id)


async def test_tap_hears_the_caller_at_8k_and_16k(make_peer: PeerFactory, tmp_path: Path) -> None:
    a, b = await make_peer(), await make_peer()
    b_id = await connect(a, b, "t1")
    a.send(StartTap(call_id="t1", tap_id="t8", sample_rate=8000))
    a.send(StartTap(call_id="t1", tap_id="t16", sample_rate=16000))
    b.send(
        Play(call_id=b_id, playback_id="tone", path=tone_wav(tmp_path / "t.wav", 1.0), loop=True)
    )
    await b.wait(PlayStarted)
    pcm8 = await hear(a, "t8", 2 * 8000 * 2)  # 2 s
    pcm16 = await hear(a, "t16", 2 * 16000 * 2)
    for tap, rate in (("t8", 320), ("t16", 640)):
        assert all(len(s.pcm) % rate == 0 for s in a.taken(AudioFrames, tap_id=tap))
    frames8, frames16 = frames_of(pcm8, 8000)[-50:], frames_of(pcm16, 16000)[-50:]
    assert sum(frame_rms(f) > LOUD for f in frames8) >= 45
    assert abs(frequency(frames8, 8000) - 440) < 15
    assert abs(frequency(frames16, 16000) - 440) < 15
    a.send(StopTap(call_id="t1", tap_id="t8"))
    a.send(StopTap(call_id="t1", tap_id="t8"))
    failed = await a.wait(CommandFailed, op="StopTap")
    assert "no tap 't8'" in failed.message
    # t16 goes on after t8 stopped; t8 delivers nothing more.
    stopped_at = len(heard(a, "t8"))
    await hear(a, "t16", len(pcm16) + 16000)
    assert len(heard(a, "t8")) == stopped_at


async def test_feed_reaches_the_far_end_and_clear_silences_it(make_peer: PeerFactory) -> None:
    a, b = await make_peer(), await make_peer()
    b_id = await connect(a, b, "f1")
    b.send(StartTap(call_id=b_id, tap_id="ear", sample_rate=8000))
    a.send(StartFeed(call_id="f1", feed_id="bot", sample_rate=8000))
    tone = sine(1000, 1.0, 8000)
    # Any lengths: the backend cuts them into 20 ms frames (and pads the last one).
    for part in (tone[:7002], tone[7002:15000], tone[15000:]):
        a.send(FeedAudio(call_id="f1", feed_id="bot", pcm=part))
    done = await a.wait(FeedPlayed, feed_id="bot", played_bytes=len(tone), timeout=3.0)
    assert done.buffered_bytes == 0 and done.dropped_bytes == 0
    reports = a.taken(FeedPlayed, feed_id="bot")
    played = [r.played_bytes for r in reports]
    assert played == sorted(played) and len(reports) >= 5  # rising, about every 100 ms
    await hear(b, "ear", len(heard(b, "ear")) + 20 * 320)  # the tail of the tone, in flight
    frames = frames_of(heard(b, "ear"), 8000)
    loud = [f for f in frames if frame_rms(f) > LOUD]
    assert 47 <= len(loud) <= 52, len(loud)  # 1 s = 50 frames
    assert abs(frequency(loud, 8000) - 1000) < 20

    # ClearFeed: what b hears turns silent within 100 ms (5 frames), counted in b's frames.
    a.send(FeedAudio(call_id="f1", feed_id="bot", pcm=sine(1000, 2.0, 8000)))
    start = len(frames)
    while sum(frame_rms(f) > LOUD for f in frames_of(heard(b, "ear"), 8000)[start:]) < 10:
        await b.wait(AudioFrames)
    cleared_at = len(frames_of(heard(b, "ear"), 8000))
    a.send(ClearFeed(call_id="f1", feed_id="bot"))
    report = await a.wait(FeedPlayed, feed_id="bot", buffered_bytes=0)
    assert len(tone) < report.played_bytes < len(tone) + 32000  # part of it was cleared
    await hear(b, "ear", (cleared_at + 30) * 320)
    after = frames_of(heard(b, "ear"), 8000)[cleared_at:]
    first_silent = next(i for i, f in enumerate(after) if frame_rms(f) < LOUD)
    assert first_silent <= 5, first_silent  # measured: 1-2 frames
    assert all(frame_rms(f) < LOUD for f in after[first_silent:]), "tone came back"

    # More than the bound (2 s) at once: the oldest second is dropped and counted.
    a.send(FeedAudio(call_id="f1", feed_id="bot", pcm=sine(1000, 3.0, 8000)))
    over = await a.wait(FeedPlayed, feed_id="bot", dropped_bytes=16000)
    assert over.buffered_bytes <= 32000
    a.send(StopFeed(call_id="f1", feed_id="bot"))
    a.send(FeedAudio(call_id="f1", feed_id="bot", pcm=b"\0\0"))
    failed = await a.wait(CommandFailed, op="FeedAudio")
    assert "no feed 'bot'" in failed.message


async def test_feed_replaces_a_playback(make_peer: PeerFactory, tmp_path: Path) -> None:
    a, b = await make_peer(), await make_peer()
    b_id = await connect(a, b, "r1")
    b.send(StartTap(call_id=b_id, tap_id="ear", sample_rate=16000))
    a.send(Play(call_id="r1", playback_id="p", path=tone_wav(tmp_path / "p.wav", 0.5), loop=True))
    await a.wait(PlayStarted, playback_id="p")
    await hear(b, "ear", 16000 * 2)  # 0.5 s
    assert abs(frequency(frames_of(heard(b, "ear"), 16000)[-10:], 16000) - 440) < 15
    a.send(StartFeed(call_id="r1", feed_id="f", sample_rate=16000))
    a.send(FeedAudio(call_id="r1", feed_id="f", pcm=sine(1000, 1.0, 16000)))
    await a.wait(FeedPlayed, feed_id="f", played_bytes=32000, timeout=3.0)
    mark = len(heard(b, "ear"))
    await hear(b, "ear", mark + 10 * 640)
    # The last second b heard was the feed alone: 1 kHz, no 440 Hz under it.
    frames = frames_of(heard(b, "ear"), 16000)[mark // 640 - 45 : mark // 640 - 5]
    assert abs(frequency(frames, 16000) - 1000) < 20
    # Then silence: the playback it replaced does not come back.
    assert all(frame_rms(f) < LOUD for f in frames_of(heard(b, "ear")[mark:], 16000)[5:])
    assert not a.taken(PlayEnded)


async def test_hostile_input_and_ports_released_at_leg_end(make_peer: PeerFactory) -> None:
    a, b = await make_peer(), await make_peer()
    b_id = await connect(a, b, "h1")
    a.send(StartTap(call_id="h1", tap_id="x", sample_rate=44100))
    failed = await a.wait(CommandFailed, op="StartTap")
    assert failed.message == "sample_rate must be 8000 or 16000, got 44100"
    a.send(StartFeed(call_id="h1", feed_id="f", sample_rate=44100))
    assert "8000 or 16000" in (await a.wait(CommandFailed, op="StartFeed")).message
    a.send(FeedAudio(call_id="h1", feed_id="nope", pcm=b"\0\0"))
    assert "no feed 'nope'" in (await a.wait(CommandFailed, op="FeedAudio")).message
    a.send(StartFeed(call_id="h1", feed_id="f", sample_rate=8000))
    a.send(FeedAudio(call_id="h1", feed_id="f", pcm=b"\0\0\0"))
    failed = await a.wait(CommandFailed, op="FeedAudio")
    assert "even number of bytes" in failed.message and "3 bytes" in failed.message
    a.send(StartFeed(call_id="h1", feed_id="f", sample_rate=8000))
    assert "already running" in (await a.wait(CommandFailed, op="StartFeed")).message
    a.send(StartTap(call_id="gone", tap_id="x", sample_rate=8000))
    await a.wait(CommandFailed, op="StartTap", call_id="gone")
    # What the wire does not type-check: PCM that is not base64 bytes, an id that is a list.
    a.backend.send_raw('{"type":"FeedAudio","call_id":"h1","feed_id":"f","pcm":"AAAA"}')
    assert (await a.wait(CommandFailed, op="FeedAudio")).message == "pcm must be bytes, got str"
    a.backend.send_raw('{"type":"StopTap","call_id":"h1","tap_id":[1]}')
    assert (
        "tap_id must be a non-empty string" in (await a.wait(CommandFailed, op="StopTap")).message
    )
    # Still usable after all that; then the leg ends with a tap and a feed running.
    a.send(StartTap(call_id="h1", tap_id="t", sample_rate=16000))
    a.send(FeedAudio(call_id="h1", feed_id="f", pcm=sine(1000, 0.2, 8000)))
    await a.wait(FeedPlayed, feed_id="f", played_bytes=3200)
    await a.wait(AudioFrames, tap_id="t")
    b.send(Bye(call_id=b_id))
    await a.wait(Ended, call_id="h1")
    # The owner logs the pool's count once the leg's media is retired; a wait on a later
    # command's answer orders it after that.
    a.send(StopTap(call_id="h1", tap_id="t"))
    await a.wait(CommandFailed, op="StopTap")
    # stderr is read by a task of its own: the line may trail the answer a little.
    deadline = time.monotonic() + 2.0
    while not (released := RELEASED.findall(a.backend.stderr_tail)):
        assert time.monotonic() < deadline, a.backend.stderr_tail[-2000:]
        await asyncio.sleep(0.02)
    assert released[-1] == "0", a.backend.stderr_tail[-2000:]
    assert not [e for e in a.backend.errors if "ValueError" in e]

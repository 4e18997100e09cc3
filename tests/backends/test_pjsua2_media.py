"""Media on the pjsua2 backend over real SIP and RTP: playback, DTMF, recording, bridging.

Each end is a ``voxpy.backends.pjsua2.peer`` process under a ProcessBackend (pjsua2 allows one
endpoint per process and never loads into pytest). Far ends are built with
``measure_audio=True`` so ``ReportAudio`` tells how many seconds of non-silent audio they heard.
Recordings are decoded with imageio-ffmpeg's ffmpeg and compared channel by channel.
"""

from __future__ import annotations

import asyncio
import math
import re
import subprocess
import time
import wave
from array import array
from collections.abc import Awaitable, Callable
from pathlib import Path

import imageio_ffmpeg
import pytest

from tests.backends.conftest import Peer, PeerFactory, connect
from voxpy.core.commands import (
    Answer,
    Bye,
    Dial,
    Play,
    Provisional,
    SendDigits,
    SendMedia,
    StartRecording,
    StopMedia,
    StopPlayback,
    StopRecording,
)
from voxpy.core.signals import (
    Answered,
    CommandFailed,
    DtmfReceived,
    Ended,
    IncomingCall,
    PlayEnded,
    PlayStarted,
    Progress,
    RecordingFailed,
    RecordingStarted,
    RecordingStopped,
    Signal,
)

pytestmark = pytest.mark.realtime  # real SIP/processes: deselect with -m 'not realtime'

RATE = 16000


def tone_wav(path: Path, seconds: float, freq: float = 440.0, level: float = 0.3) -> str:
    """A mono 16 kHz PCM16 sine tone."""
    count = round(seconds * RATE)
    amp = level * 32767
    samples = array(
        "h", (round(amp * math.sin(2 * math.pi * freq * i / RATE)) for i in range(count))
    )
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(samples.tobytes())
    return str(path)


@pytest.fixture
def tones(tmp_path: Path) -> dict[str, str]:
    return {
        "2s": tone_wav(tmp_path / "t2.wav", 2.0),
        "1s": tone_wav(tmp_path / "t1.wav", 1.0),
        "half": tone_wav(tmp_path / "t05.wav", 0.5),
        "880": tone_wav(tmp_path / "t880.wav", 1.0, freq=880.0),
    }


def decode_mp3(path: str) -> tuple[int, array[int], array[int]]:
    """(channels in the file, left, right) as 8 kHz int16 samples."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    probe = subprocess.run(
        [ffmpeg, "-hide_banner", "-i", path], capture_output=True, text=True, check=False
    )
    match = re.search(r"Audio: mp3.*?, (mono|stereo)", probe.stderr)
    assert match, probe.stderr
    pcm = subprocess.run(
        [ffmpeg, "-v", "error", "-i", path, "-f", "s16le", "-ac", "2", "-ar", "8000", "-"],
        capture_output=True,
        check=True,
    ).stdout
    samples = array("h", pcm)
    return (2 if match.group(1) == "stereo" else 1), samples[0::2], samples[1::2]


def rms(samples: array[int], start: float, end: float) -> float:
    part = samples[int(start * 8000) : int(end * 8000)]
    return math.sqrt(sum(x * x for x in part) / max(1, len(part)))


async def until(predicate: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_play_is_heard_and_finishes(make_peer: PeerFactory, tones: dict[str, str]) -> None:
    a, b = await asyncio.gather(make_peer(), make_peer(measure_audio=True))
    b_id = await connect(a, b, "p1")
    sent = time.monotonic()
    a.send(Play(call_id="p1", playback_id="tone", path=tones["2s"]))
    started = await a.wait(PlayStarted, playback_id="tone")
    started_at = time.monotonic()
    assert started.duration == 2.0
    await a.wait(PlayEnded, playback_id="tone", timeout=4.0)
    played = time.monotonic() - started_at
    assert started_at - sent < 0.5  # measured: about 1 ms
    assert 1.7 <= played <= 2.6
    assert 1.6 <= await b.heard(b_id) <= 2.4
    assert not a.taken(PlayEnded, error=None)[1:]  # exactly one


async def test_loop_stop_replace_and_errors(
    make_peer: PeerFactory, tmp_path: Path, tones: dict[str, str]
) -> None:
    a, b = await asyncio.gather(make_peer(), make_peer(measure_audio=True))
    b_id = await connect(a, b, "l1")

    a.send(Play(call_id="l1", playback_id="loop", path=tones["half"], loop=True))
    await a.wait(PlayStarted, playback_id="loop")
    await until(lambda: _more_than(b, b_id, 1.2))  # longer than the file: it wrapped
    a.send(StopPlayback(call_id="l1", playback_id="loop"))
    # Wall-clock on purpose: silence is audio that does not come, so only time measures it
    # (0.2 s for the frames in flight, then 0.5 s that must stay silent).
    await asyncio.sleep(0.2)
    before = await b.heard(b_id)
    await asyncio.sleep(0.5)
    assert await b.heard(b_id) - before <= 0.06  # silence once stopped

    # A second Play replaces the first, which never finishes.
    a.send(Play(call_id="l1", playback_id="first", path=tones["1s"]))
    a.send(Play(call_id="l1", playback_id="second", path=tones["half"]))
    await a.wait(PlayEnded, playback_id="second", timeout=3.0)
    a.send(Play(call_id="l1", playback_id="missing", path="/nonexistent/x.wav"))
    failed = await a.wait(PlayEnded, playback_id="missing")
    assert failed.error and "no such file" in failed.error
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"ID3 this is not a WAV file" * 10)
    a.send(Play(call_id="l1", playback_id="garbage", path=str(garbage)))
    failed = await a.wait(PlayEnded, playback_id="garbage")
    assert failed.error and "cannot play" in failed.error
    a.send(Play(call_id="nope", playback_id="x", path=tones["1s"]))
    await a.wait(CommandFailed, call_id="nope", op="Play")
    # A witness as long as "first", started after it: once the witness ends, "first" would
    # have ended too, had it still been playing.
    a.send(Play(call_id="l1", playback_id="witness", path=tones["1s"]))
    await a.wait(PlayEnded, playback_id="witness", timeout=3.0)
    assert not a.taken(PlayEnded, playback_id="first")
    assert not a.taken(PlayEnded, playback_id="loop")
    started = [s.playback_id for s in a.taken(PlayStarted)]
    assert started == ["loop", "first", "second", "witness"]


async def _more_than(peer: Peer, call_id: str, seconds: float) -> bool:
    return await peer.heard(call_id) > seconds


async def test_deferred_until_answer_and_dtmf(
    make_peer: PeerFactory, tones: dict[str, str]
) -> None:
    a, b = await asyncio.gather(make_peer(), make_peer(measure_audio=True))
    b.send(Dial(call_id="d1", uri=a.uri()))
    inc = await a.wait(IncomingCall)
    a_id = inc.call_id
    a.send(Play(call_id=a_id, playback_id="early", path=tones["half"]))
    a.send(Provisional(call_id=a_id, code=180))  # no SDP: the caller cannot hear us yet
    await b.wait(Progress, call_id="d1")
    # A handles commands in order and reports in order: by this failure it has handled the
    # Play and the 180, and a PlayStarted they caused would be logged before it.
    a.send(Answer(call_id="barrier"))
    await a.wait(CommandFailed, call_id="barrier")
    assert not a.taken(PlayStarted)
    a.send(Provisional(call_id=a_id, code=183))
    await a.wait(PlayStarted, playback_id="early")
    await a.wait(PlayEnded, playback_id="early")
    assert await b.heard("d1") >= 0.35  # early media reached the caller
    a.send(Play(call_id=a_id, playback_id="answered", path=tones["half"]))
    a.send(Answer(call_id=a_id))
    await b.wait(Answered, call_id="d1")
    await a.wait(PlayEnded, playback_id="answered")

    sent = time.monotonic()
    b.send(SendDigits(call_id="d1", digits="12#"))
    first = await a.wait(DtmfReceived, call_id=a_id)
    assert time.monotonic() - sent < 0.5  # measured: about 20 ms (one poll of the owner)
    await a.wait(DtmfReceived, tone="#", timeout=3.0)
    b.send(SendDigits(call_id="d1", digits="9", method="info"))
    await a.wait(DtmfReceived, tone="9")
    a.send(SendDigits(call_id=a_id, digits="45"))
    await b.wait(DtmfReceived, tone="5", call_id="d1", timeout=3.0)
    b.send(SendDigits(call_id="d1", digits="1w2"))
    assert "0-9" in (await b.wait(CommandFailed, call_id="d1", op="SendDigits")).message
    # A last digit each way, on the same RTP streams: once it is in, any digit reported twice
    # (or the refused "1w2", had part of it gone out) would be in before it.
    b.send(SendDigits(call_id="d1", digits="0"))
    a.send(SendDigits(call_id=a_id, digits="0"))
    await a.wait(DtmfReceived, tone="0", timeout=3.0)
    await b.wait(DtmfReceived, tone="0", call_id="d1", timeout=3.0)
    assert first.tone == "1"
    got = [(s.tone, s.method) for s in a.taken(DtmfReceived)]
    assert got == [
        ("1", "rfc2833"),
        ("2", "rfc2833"),
        ("#", "rfc2833"),
        ("9", "info"),
        ("0", "rfc2833"),
    ]
    assert [s.tone for s in b.taken(DtmfReceived)] == ["4", "5", "0"]


async def test_in_band_dtmf_without_telephone_event(make_peer: PeerFactory) -> None:
    a, b = await asyncio.gather(
        make_peer(), make_peer(measure_audio=True, extra_args=["--no-telephone-event"])
    )
    b_id = await connect(a, b, "i1")
    a.send(SendDigits(call_id="i1", digits="123"))
    # 3 tones of 160 ms; pjsua has no in-band detector, so B only hears them as audio.
    await until(lambda: _more_than(b, b_id, 0.35))
    # Wall-clock on purpose: that the tones stop, and that B never reports a digit (no
    # detector, no RTP event), is audio and signals that do not come; no event ends it.
    await asyncio.sleep(0.6)
    assert await b.heard(b_id) <= 0.6
    assert not a.taken(CommandFailed) and not b.taken(DtmfReceived)


async def test_stereo_recording_has_both_sides(
    make_peer: PeerFactory, tmp_path: Path, tones: dict[str, str]
) -> None:
    a, b = await asyncio.gather(make_peer(), make_peer())
    b_id = await connect(a, b, "r1")
    path = str(tmp_path / "stereo.mp3")
    a.send(StartRecording(call_id="r1", recording_id="rec", path=path, stereo=True))
    await a.wait(RecordingStarted, recording_id="rec", path=path)
    started = time.monotonic()
    b.send(Play(call_id=b_id, playback_id="far", path=tones["1s"], loop=True))
    await b.wait(PlayStarted, playback_id="far")
    await asyncio.sleep(1.5)
    a.send(Play(call_id="r1", playback_id="near", path=tones["880"], loop=True))
    await a.wait(PlayStarted, playback_id="near")
    await asyncio.sleep(1.5)
    a.send(StopRecording(call_id="r1", recording_id="rec"))
    stopped = await a.wait(RecordingStopped, recording_id="rec")
    elapsed = time.monotonic() - started
    assert stopped.path == path
    assert 0.8 * elapsed <= stopped.duration <= 1.2 * elapsed, (stopped.duration, elapsed)

    channels, left, right = decode_mp3(path)
    assert channels == 2
    assert abs(len(left) / 8000 - stopped.duration) < 0.3
    # First 1.5 s: only the far end (right) has audio; then both.
    assert rms(right, 0.5, 1.3) > 3000
    assert rms(left, 0.5, 1.3) < 300
    assert rms(left, 2.2, 2.8) > 3000
    assert rms(right, 2.2, 2.8) > 3000


async def test_mono_recording_completes_when_the_call_ends(
    make_peer: PeerFactory, tmp_path: Path, tones: dict[str, str]
) -> None:
    a, b = await asyncio.gather(make_peer(), make_peer())
    b_id = await connect(a, b, "m1")
    path = str(tmp_path / "mono.mp3")
    a.send(StartRecording(call_id="m1", recording_id="rec", path=path))
    await a.wait(RecordingStarted, recording_id="rec")
    b.send(Play(call_id=b_id, playback_id="far", path=tones["1s"], loop=True))
    await asyncio.sleep(1.2)
    b.send(Bye(call_id=b_id))
    await a.wait(Ended, call_id="m1")
    stopped = await a.wait(RecordingStopped, recording_id="rec")
    assert 0.8 <= stopped.duration <= 1.6
    assert Path(path).exists() and not Path(path + ".part").exists()
    channels, left, _ = decode_mp3(path)
    assert channels == 1
    assert rms(left, 0.4, 0.9) > 3000


async def test_bridged_legs(make_peer: PeerFactory, tones: dict[str, str]) -> None:
    a, b, c = await asyncio.gather(
        make_peer(), make_peer(measure_audio=True), make_peer(measure_audio=True)
    )
    b_id = await connect(a, b, "ab")
    c_id = await connect(a, c, "ac")
    a.send(SendMedia(call_id="ab", to_call_id="ac"))
    a.send(SendMedia(call_id="ac", to_call_id="ab"))
    b.send(Play(call_id=b_id, playback_id="b", path=tones["half"], loop=True))
    await b.wait(PlayStarted)
    await until(lambda: _more_than(c, c_id, 0.6))
    c.send(Play(call_id=c_id, playback_id="c", path=tones["half"], loop=True))
    await until(lambda: _more_than(b, b_id, 0.4))  # and the other way round
    a.send(StopMedia(call_id="ab", to_call_id="ac"))
    # Wall-clock on purpose: C's silence is measured over time (frames in flight first).
    await asyncio.sleep(0.2)
    before = await c.heard(c_id)
    await asyncio.sleep(0.6)
    assert await c.heard(c_id) - before <= 0.06
    a.send(SendMedia(call_id="ab", to_call_id="ab"))
    await a.wait(CommandFailed, op="SendMedia")
    # Ending one leg removes its links; the other leg goes on.
    c.send(Bye(call_id=c_id))
    await a.wait(Ended, call_id="ac")
    a.send(Play(call_id="ab", playback_id="after", path=tones["half"]))
    await a.wait(PlayEnded, playback_id="after")


async def test_stop_with_live_media_exits_cleanly(
    make_peer: PeerFactory, tmp_path: Path, tones: dict[str, str]
) -> None:
    a, b = await asyncio.gather(make_peer(), make_peer())
    await connect(a, b, "s1")
    path = str(tmp_path / "stop.mp3")
    a.send(Play(call_id="s1", playback_id="loop", path=tones["1s"], loop=True))
    a.send(StartRecording(call_id="s1", recording_id="rec", path=path, stereo=True))
    await a.wait(RecordingStarted)
    await asyncio.sleep(0.5)
    await a.backend.stop()
    assert a.backend.returncode == 0, a.backend.stderr_tail
    assert a.taken(RecordingStopped, recording_id="rec")
    assert Path(path).exists()
    assert not a.taken(PlayEnded)


async def test_churn_reuses_media_ports(
    make_peer: PeerFactory, tmp_path: Path, tones: dict[str, str]
) -> None:
    # Python media ports are pooled, never destroyed while the bridge runs (destroying them
    # crashed about once in a thousand cycles); this cycles them through short-lived
    # recordings, playbacks and legs. The fixture checks both peers exit with status 0.
    a, b = await asyncio.gather(make_peer(measure_audio=True), make_peer(measure_audio=True))
    for i in range(3):
        b_id = await connect(a, b, f"c{i}")
        since = time.monotonic()
        b.send(Play(call_id=b_id, playback_id="far", path=tones["half"], loop=True))
        for k in range(6):
            a.send(
                StartRecording(
                    call_id=f"c{i}",
                    recording_id=f"r{k}",
                    path=str(tmp_path / f"c{i}r{k}.mp3"),
                    stereo=k % 2 == 1,
                )
            )
            a.send(Play(call_id=f"c{i}", playback_id=f"p{k}", path=tones["half"]))
            await asyncio.sleep(0.03)
            a.send(StopRecording(call_id=f"c{i}", recording_id=f"r{k}"))
        heard = await a.heard(f"c{i}")
        # A reused meter counts afresh (+60 ms: a frame is counted whole at each tone edge).
        assert 0.05 < heard <= time.monotonic() - since + 0.06
        b.send(Bye(call_id=b_id))
        await a.wait(Ended, call_id=f"c{i}")
    await until(lambda: _count(a, RecordingStopped, 18))
    assert not a.taken(RecordingFailed)


async def _count(peer: Peer, kind: type[Signal], n: int) -> bool:
    return len(peer.taken(kind)) >= n

"""Mp3Recorder and repair(): real encoding with lameenc, decoded back with imageio-ffmpeg."""

from __future__ import annotations

import errno
import itertools
import math
import os
import shutil
import subprocess
import sys
import threading
import time
from array import array
from pathlib import Path

import imageio_ffmpeg
import lameenc
import pytest
import structlog

from voxpy.errors import InvalidArgumentError, MediaError
from voxpy.media import recording
from voxpy.media.recording import Mp3Recorder, mp3_frames, repair

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
RATE = 8000
FRAME = RATE // 50  # samples in 20 ms
# MP3 decodes longer than what was fed: LAME's encoder delay (576 + 529 samples) plus padding
# up to the last 576-sample frame; without a LAME info tag nothing trims it (~0.14-0.21 s).
MP3_SLACK = (576 + 529 + 576) / RATE
log = structlog.get_logger("tests.recording")


def tone(seconds: float, freq: float = 440.0, amp: float = 8000.0) -> list[bytes]:
    """20 ms s16le frames of a sine (``freq`` 0 = silence)."""
    n = round(seconds * RATE)
    samples = array("h", (round(amp * math.sin(2 * math.pi * freq * i / RATE)) for i in range(n)))
    data = samples.tobytes()
    return [data[i : i + 2 * FRAME] for i in range(0, len(data), 2 * FRAME)]


def decode(path: Path, channels: int = 1) -> array[int]:
    """PCM samples (interleaved when stereo) of an MP3, failing on any decoder error."""
    proc = subprocess.run(
        [
            FFMPEG,
            "-v",
            "error",
            "-f",
            "mp3",
            "-i",
            str(path),
            "-f",
            "s16le",
            "-ac",
            str(channels),
            "-ar",
            str(RATE),
            "-",
        ],
        capture_output=True,
        check=True,
    )
    assert proc.stderr == b"", proc.stderr.decode()
    return array("h", proc.stdout)


def layout(path: Path) -> str:
    info = subprocess.run(
        [FFMPEG, "-hide_banner", "-i", str(path)], capture_output=True, check=False
    )  # exits 1: no output file
    line = next(x for x in info.stderr.decode().splitlines() if "Audio:" in x)
    return "stereo" if "stereo" in line else "mono" if "mono" in line else line


def rms(samples: array[int]) -> float:
    return math.sqrt(sum(s * s for s in samples) / max(len(samples), 1))


def assert_duration(seconds: float, expected: float) -> None:
    assert expected * 0.95 <= seconds <= expected + MP3_SLACK, seconds


def record(
    path: Path, left: list[bytes] | None, right: list[bytes] | None = None, **kwargs: object
) -> float:
    rec = Mp3Recorder(path, **kwargs)  # type: ignore[arg-type]
    for i in range(max(len(left or ()), len(right or ()))):
        if left is not None and i < len(left):
            rec.feed(0, left[i])
        if right is not None and i < len(right):
            rec.feed(1, right[i])
    return rec.close()


def test_mono_tone_decodes_to_three_seconds(tmp_path: Path) -> None:
    path = tmp_path / "call.mp3"
    assert record(path, tone(3.0)) == pytest.approx(3.0)
    samples = decode(path)
    assert_duration(len(samples) / RATE, 3.0)
    assert rms(samples) > 3000  # a 8000-peak sine has an RMS of ~5657
    assert layout(path) == "mono"
    assert not path.with_suffix(".mp3.part").exists()


@pytest.mark.parametrize("loud", [0, 1])
def test_stereo_keeps_directions_apart(tmp_path: Path, loud: int) -> None:
    path = tmp_path / "call.mp3"
    frames = [tone(3.0), tone(3.0, freq=0)]
    if loud:
        frames.reverse()
    assert record(path, *frames, stereo=True) == pytest.approx(3.0)
    assert layout(path) == "stereo"
    samples = decode(path, channels=2)
    assert_duration(len(samples) / 2 / RATE, 3.0)
    channels = samples[0::2], samples[1::2]
    assert rms(channels[loud]) > 3000
    assert rms(channels[1 - loud]) < 50


def test_stereo_pads_a_channel_never_fed(tmp_path: Path) -> None:
    path = tmp_path / "call.mp3"
    assert record(path, tone(3.0), None, stereo=True) == pytest.approx(3.0)
    samples = decode(path, channels=2)
    assert_duration(len(samples) / 2 / RATE, 3.0)
    assert rms(samples[0::2]) > 3000
    assert rms(samples[1::2]) < 50


def test_mono_mixes_both_directions(tmp_path: Path) -> None:
    single, double, cancel = (tmp_path / f"{n}.mp3" for n in ("single", "double", "cancel"))
    record(single, tone(2.0))
    record(double, tone(2.0), tone(2.0))
    assert record(cancel, tone(2.0), tone(2.0, amp=-8000.0)) == pytest.approx(2.0)
    one, two, none = rms(decode(single)), rms(decode(double)), rms(decode(cancel))
    assert two == pytest.approx(2 * one, rel=0.1)
    assert none < 50
    assert_duration(len(decode(double)) / RATE, 2.0)


def test_mix_clips_instead_of_wrapping() -> None:
    loud = array("h", [30000, -30000, 100]).tobytes()
    assert array("h", recording._mix(loud, loud)).tolist() == [32767, -32768, 200]


def test_part_file_while_recording_renamed_at_close(tmp_path: Path) -> None:
    path = tmp_path / "call.mp3"
    rec = Mp3Recorder(path, stereo=True)
    assert rec.part_path == tmp_path / "call.mp3.part"
    for frame in tone(1.0):
        rec.feed(0, frame)
        rec.feed(1, frame)
    assert rec.part_path.exists() and not path.exists()
    assert rec.close() == pytest.approx(1.0)
    assert path.exists() and not rec.part_path.exists()
    assert rec.close() == pytest.approx(1.0)  # idempotent
    assert rec.duration == pytest.approx(1.0)
    assert rec.error is None


KILLED_WORKER = """
import math, sys
from array import array
from pathlib import Path
from voxpy.media.recording import Mp3Recorder

rec = Mp3Recorder(Path(sys.argv[1]), flush_interval=3600)  # no fsync: a kill needs none
n = 2 * 8000
pcm = array("h", (round(8000 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(n)))
data = pcm.tobytes()
for step in range(1, 21):  # 2 s as in a call: 0.1 s (5 frames) per writer batch
    for i in range((step - 1) * 1600, step * 1600, 320):
        rec.feed(0, data[i : i + 320])
    assert rec.wait_written(step / 10, timeout=10)
print("written", flush=True)
sys.stdin.read()  # and here the worker is killed
"""


def test_kill_9_loses_under_a_second(tmp_path: Path) -> None:
    """A worker killed mid-recording loses what the writer had not handed to the kernel.

    Deterministic: the child feeds 2 s in batches as a call would, waits for the writer to
    report each written (no sleeping), and is killed. What the file then lacks is LAME's
    look-ahead; in real time at most one more batch (``_BATCH``: frames the writer had not
    woken up for) adds to it. The fsync period is made an hour: a killed process loses
    nothing the kernel has, and small writes left in Python's file buffer until the next
    fsync (as before: 1.3 s lost, measured) would show here.
    """
    path = tmp_path / "call.mp3"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WORKER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"written\n"
    finally:
        child.kill()  # SIGKILL: no close(), no flush, no rename
        child.wait()
    part = path.with_suffix(".mp3.part")
    assert part.exists() and not path.exists()
    decoded = len(decode(part)) / RATE - (576 + 529) / RATE  # LAME's delay leads the file
    lost = 2.0 - decoded
    log.info("kill -9 loss", lost_s=round(lost, 3), worst_case_s=round(lost + recording._BATCH, 3))
    assert 0 <= lost <= recording.LAME_LATENCY
    assert lost + recording._BATCH < 1.0


@pytest.mark.realtime  # the writer thread runs on real time
def test_repair_finishes_an_abandoned_recording(tmp_path: Path) -> None:
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    rec = Mp3Recorder(tmp_path / "live.mp3", flush_interval=0.1)
    for frame in tone(3.0):
        rec.feed(0, frame)
    deadline = time.monotonic() + 5
    while rec.duration < 3.0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # let a flush + fsync pass
    part = crashed / "call.mp3.part"
    shutil.copyfile(rec.part_path, part)  # the worker "dies" here: never closed
    rec.close()
    data = part.read_bytes()
    frames = list(mp3_frames(data))
    end = frames[-1][0] + frames[-1][1]
    assert len(data) - end < 288  # LAME emits frames in pieces: the file already ends torn
    with open(part, "ab") as f:  # and the frame being written when the process was killed
        f.write(data[: frames[0][1] // 2])
    (crashed / "empty.mp3.part").write_bytes(b"\xff\xe3")  # no complete frame: left alone
    assert repair(crashed) == [crashed / "call.mp3"]
    assert not part.exists()
    assert (crashed / "empty.mp3.part").exists()
    assert (crashed / "call.mp3").read_bytes() == data[:end]
    assert 2.5 <= len(decode(crashed / "call.mp3")) / RATE <= 3.0 + MP3_SLACK


def test_repair_skips_recent_files(tmp_path: Path) -> None:
    record(tmp_path / "a.mp3", tone(0.5))
    (tmp_path / "a.mp3").rename(tmp_path / "b.mp3.part")
    assert repair(tmp_path, older_than=60) == []
    assert repair(tmp_path) == [tmp_path / "b.mp3"]


@pytest.mark.parametrize(("rate", "channels"), [(8000, 1), (16000, 2), (44100, 2), (48000, 1)])
def test_mp3_frames_cover_lame_output(rate: int, channels: int) -> None:
    enc = lameenc.Encoder()
    enc.set_bit_rate(32 if rate < 32000 else 128)
    enc.set_in_sample_rate(rate)
    enc.set_channels(channels)
    data = enc.encode(bytes(2 * channels * rate)) + enc.flush()
    frames = list(mp3_frames(data))
    assert frames and frames[0][0] == 0
    assert all(a + n == b for (a, n), (b, _) in itertools.pairwise(frames))
    assert sum(n for _, n in frames) == len(data)
    assert list(mp3_frames(data[:-1])) == frames[:-1]  # torn last frame is not reported
    tag = b"ID3\x03\x00\x00\x00\x00\x00\x05" + bytes(5)
    assert [o - 15 for o, _ in mp3_frames(tag + data)] == [o for o, _ in frames]


@pytest.mark.realtime  # the writer thread runs on real time
def test_feed_during_close_does_not_crash(tmp_path: Path) -> None:
    rec = Mp3Recorder(tmp_path / "call.mp3", stereo=True)
    frame = tone(0.02)[0]
    stop = threading.Event()
    errors: list[BaseException] = []

    def media_thread() -> None:
        try:
            while not stop.is_set():
                rec.feed(1, frame)
                time.sleep(0.001)  # 20x real time, still racing close()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    worker = threading.Thread(target=media_thread)
    worker.start()
    time.sleep(0.2)
    duration = rec.close()
    time.sleep(0.05)
    stop.set()
    worker.join()
    assert errors == []
    assert duration > 0
    assert (tmp_path / "call.mp3").exists()


@pytest.mark.realtime  # the writer thread runs on real time
def test_write_failure_is_kept_and_raised_by_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    rec = Mp3Recorder(tmp_path / "call.mp3", flush_interval=0.05)
    rec.feed(0, tone(0.02)[0])
    deadline = time.monotonic() + 5
    while rec.error is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert isinstance(rec.error, OSError)
    rec.feed(0, tone(0.02)[0])  # ignored, not queued forever
    with pytest.raises(MediaError, match="No space left"):
        rec.close()
    assert rec.part_path.exists() and not (tmp_path / "call.mp3").exists()


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError):
        Mp3Recorder(tmp_path / "x.mp3", sample_rate=9000)
    with pytest.raises(MediaError):
        Mp3Recorder(tmp_path / "missing" / "x.mp3")
    with Mp3Recorder(tmp_path / "x.mp3") as rec, pytest.raises(InvalidArgumentError):
        rec.feed(2, b"\x00\x00")
    assert rec.close() == 0.0
    assert (tmp_path / "x.mp3").stat().st_size == 0  # nothing fed: an empty file


@pytest.mark.realtime  # the writer thread runs on real time
def test_stalled_direction_keeps_real_time(tmp_path: Path) -> None:
    """Right stalls 0.5 s (padded with silence), then its late audio arrives in a burst."""
    rec = Mp3Recorder(tmp_path / "call.mp3", stereo=True)
    for frame in tone(0.5):
        rec.feed(0, frame)
    time.sleep(0.3)  # the writer sees the right channel 0.5 s behind and pads it
    for frame in tone(0.5, freq=1000):
        rec.feed(1, frame)  # the late burst: dropped, silence already stood in for it
    for left, right in zip(tone(1.0), tone(1.0, freq=1000), strict=True):
        rec.feed(0, left)
        rec.feed(1, right)
    assert rec.close() == pytest.approx(1.5)

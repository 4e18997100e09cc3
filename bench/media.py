"""Benchmark: time to first audio after say() (cached vs uncached prompt), and the CPU cost of
recording calls to stereo MP3, over real SIP on loopback.

Run: .venv/bin/python bench/media.py [--runs 10] [--seconds 10]

The same text is said twice, so both figures share the audio (leading silence included)
and differ only by synthesis. First audio is measured at the far end: after ``say()`` the
peer is asked every 5 ms how much non-silent audio it has received, so figures include the
20 ms RTP packetization and up to 5 ms of polling. CPU is this process's (the engine's) CPU
time while 4 calls run, with and without a stereo MP3 recording each, divided per call.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from pathlib import Path

import structlog

from voxpy.testing import PeerCall, ScenarioHarness

SCENARIO = Path(__file__).resolve().parent / "scenarios_answer.py"


async def first_audio(call: PeerCall, before: float, start: float) -> float:
    """Seconds from ``start`` until the peer's received audio grows past ``before``."""
    while await call.audio_seconds() <= before:
        await asyncio.sleep(0.005)
    return time.perf_counter() - start


async def latency(h: ScenarioHarness, runs: int) -> None:
    call = await h.dial()
    await call.wait_answered()
    engine_call = (await h.wait_event("Call.Connected")).call
    results: dict[str, list[float]] = {"uncached": [], "cached": []}
    for i in range(runs):
        text = f"Your ticket number is {i}, reference {time.time_ns() % 100000}."
        for kind in ("uncached", "cached"):  # the same text: the second time it is cached
            before = await call.audio_seconds()
            start = time.perf_counter()
            playback = engine_call.say(text)
            results[kind].append(await first_audio(call, before, start))
            engine_call.stop_playback()
            await playback
            await asyncio.sleep(0.3)
    for kind, samples in results.items():
        median_ms, max_ms = statistics.median(samples) * 1000, max(samples) * 1000
        print(f"first audio after say(), {kind:8s}: median {median_ms:6.1f} ms"  # noqa: T201
              f"  max {max_ms:6.1f} ms  (n={len(samples)})")
    call.hangup()
    await call.wait_hangup()


async def recording_cpu(h: ScenarioHarness, seconds: float) -> None:
    calls = [await h.dial(to=str(100 + i)) for i in range(4)]
    for call in calls:
        await call.wait_answered()
    legs = [e.call for e in h.recorder.of("Call.Connected")][-4:]
    for leg in legs:
        leg.start_playback(str(_tone_file()), loop=True)
    await asyncio.sleep(1)
    idle = await _cpu(seconds)
    for leg in legs:
        leg.record(stereo=True)
    await asyncio.sleep(1)
    recording = await _cpu(seconds)
    per_call = (recording - idle) / 4 * 100
    print(f"engine CPU with 4 calls playing: {idle * 100:.2f}% of a core; "  # noqa: T201
          f"with stereo MP3 recording: {recording * 100:.2f}%; "
          f"recording costs {per_call:.2f}% of a core per call")
    for call in calls:
        call.hangup()


async def _cpu(seconds: float) -> float:
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.sleep(seconds)
    return (time.process_time() - cpu) / (time.perf_counter() - wall)


def _tone_file() -> Path:
    import math
    import wave
    from array import array

    path = Path(tempfile.gettempdir()) / "voxpy-bench-tone.wav"
    if not path.exists():
        samples = array("h", (int(8000 * math.sin(2 * math.pi * 440 * i / 16000))
                              for i in range(16000 * 2)))
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes(samples.tobytes())
    return path


async def main(runs: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = {"media.cache_dir": f"{tmp}/cache", "media.recordings_dir": f"{tmp}/rec"}
        async with ScenarioHarness(SCENARIO, backend="sip", config=config) as h:
            await latency(h, runs)
        async with ScenarioHarness(SCENARIO, backend="sip", config=config) as h:
            await recording_cpu(h, seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    asyncio.run(main(args.runs, args.seconds))

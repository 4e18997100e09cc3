"""Benchmark: WebSocket media streams over real SIP on loopback (pjsua2 engine, pjsua2 peer).

Run: .venv/bin/python bench/streams.py [--runs 20] [--seconds 10]

1. Latency, caller -> socket: the peer starts a 200 ms tone after silence; the time from
   ``send_audio`` until the bot (in this process) reads the first loud media frame. It includes
   the peer's playout start (up to 20 ms), RTP packetization, the engine's jitter buffer, the
   tap, the pump and the socket.
   Latency, socket -> caller: the bot sends 200 ms of tone; the time from ``send_str`` until
   the peer's tap hands over the first loud frame (the peer's jitter buffer and its process
   pipe included; polled every 2 ms).
2. CPU: the engine process's CPU while 4 calls run (the callers speaking all along), with each
   call only recording (stereo MP3), then with each call streamed both ways to an echo bot
   that runs in another process (so its CPU is not counted). Per call, above the 4 idle calls.
3. On time: during the streamed run, the bot process counts each stream's frames per second
   and the largest gap between two frames.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import logging
import math
import multiprocessing
import tempfile
import time
from array import array
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web

from voxpy.core.audio import Encoder, Encoding
from voxpy.testing import ScenarioHarness

SCENARIO = Path(__file__).resolve().parent / "scenarios_answer.py"
LOUD = 1000


def sine(hz: float, seconds: float, rate: int = 8000) -> bytes:
    n = round(seconds * rate)
    return array(
        "h", (round(9000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(n))
    ).tobytes()


def loud(pcm: bytes) -> bool:
    samples = array("h", pcm)
    return bool(samples) and math.sqrt(sum(x * x for x in samples) / len(samples)) > LOUD


def report(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - a benchmark prints its figures


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


async def serve(handler: Any) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_get("/bot", handler)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"ws://{host}:{port}/bot"


async def engine_leg(h: ScenarioHarness, to: str) -> tuple[Any, Any, Any]:
    call = await h.dial(to=to)
    await call.wait_answered()
    leg = (await h.wait_event("Call.Connected", call)).call
    return call, leg, h.engine.sessions[leg.session_id]


async def latency(h: ScenarioHarness, runs: int) -> None:
    arrivals: asyncio.Queue[float] = asyncio.Queue()
    sockets: list[web.WebSocketResponse] = []

    async def bot(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sockets.append(ws)
        was_loud = False
        async for msg in ws:
            m = json.loads(msg.data)
            if m["event"] == "media":
                now = loud(base64.b64decode(m["media"]["payload"]))
                if now and not was_loud:
                    arrivals.put_nowait(time.perf_counter())
                was_loud = now
        return ws

    runner, url = await serve(bot)
    call, leg, session = await engine_leg(h, "200")
    ws = session.create_websocket(url)
    leg.send_media_to(ws, encoding="PCM8")
    ws.send_media_to(leg)
    call.listen(8000)
    while not sockets:
        await asyncio.sleep(0.01)
    up: list[float] = []
    for _ in range(runs):
        await asyncio.sleep(0.3)  # the caller's feed has run dry: the tone starts at once
        while not arrivals.empty():
            arrivals.get_nowait()
        start = time.perf_counter()
        call.send_audio(sine(440, 0.2))
        up.append(await asyncio.wait_for(arrivals.get(), 5) - start)
        await asyncio.sleep(0.3)
    encoder = Encoder(Encoding.PCM8, 8000)
    tone = encoder.encode(sine(1000, 0.2))
    messages = [json.dumps({"event": "media", "media": {"payload": base64.b64encode(
        tone[i : i + 320]).decode()}}) for i in range(0, len(tone), 320)]  # fmt: skip
    down: list[float] = []
    for _ in range(runs):
        await asyncio.sleep(0.5)  # the previous tone has played, the feed is idle
        seen = len(call.heard_pcm())
        start = time.perf_counter()
        for text in messages:
            await sockets[0].send_str(text)
        while True:
            heard = call.heard_pcm()[seen:]
            frames = [heard[i : i + 320] for i in range(0, len(heard) - 319, 320)]
            if any(loud(f) for f in frames):
                down.append(time.perf_counter() - start)
                break
            await asyncio.sleep(0.002)
    for name, samples in (("caller -> socket", up), ("socket -> caller", down)):
        report(
            f"latency {name}: p50 {pct(samples, 0.5):5.1f} ms  p99 {pct(samples, 0.99):5.1f} ms"
            f"  max {max(samples) * 1000:5.1f} ms  (n={len(samples)})"
        )
    call.hangup()
    await runner.cleanup()


def echo_bot_process(conn: Connection, seconds: float) -> None:
    """An echo bot in its own process; sends back its port, then per-stream timing."""

    async def run() -> None:
        stats: list[dict[str, float]] = []

        async def bot(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            times: list[float] = []
            async for msg in ws:
                m = json.loads(msg.data)
                if m["event"] == "media":
                    times.append(time.perf_counter())
                    await ws.send_str(json.dumps({"event": "media", "media": m["media"]}))
            steady = [t for t in times if t - times[0] > 1.0] if times else []  # after 1 s
            if len(steady) < 3:
                return ws
            gaps = [b - a for a, b in itertools.pairwise(steady)]
            span = steady[-1] - steady[0] if len(steady) > 1 else 1.0
            stats.append({"fps": (len(steady) - 1) / span, "max_gap_ms": max(gaps) * 1000,
                          "p99_gap_ms": pct(gaps, 0.99)})  # fmt: skip
            return ws

        runner, url = await serve(bot)
        conn.send(url)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "report"
        conn.send(stats)
        await runner.cleanup()

    asyncio.run(run())


async def cpu(seconds: float) -> float:
    wall, used = time.perf_counter(), time.process_time()
    await asyncio.sleep(seconds)
    return (time.process_time() - used) / (time.perf_counter() - wall)


async def cpu_and_timing(h: ScenarioHarness, seconds: float) -> None:
    legs = [await engine_leg(h, str(300 + i)) for i in range(4)]
    speech = sine(440, 3 * seconds + 10)
    for call, _, _ in legs:
        call.send_audio(speech)
    await asyncio.sleep(1)
    idle = await cpu(seconds)
    for _, leg, _ in legs:
        leg.record(stereo=True)
    await asyncio.sleep(1)
    recording = await cpu(seconds)
    for _, leg, _ in legs:
        leg.stop_recording()
    parent, child = multiprocessing.Pipe()
    bot = multiprocessing.get_context("spawn").Process(
        target=echo_bot_process, args=(child, seconds)
    )
    bot.start()
    url = parent.recv()
    sockets = []
    for _, leg, session in legs:
        ws = session.create_websocket(url)
        leg.send_media_to(ws, encoding="PCM8")
        ws.send_media_to(leg)
        sockets.append(ws)
    await asyncio.sleep(1)
    streaming = await cpu(seconds)
    for ws in sockets:
        ws.close()
    await asyncio.sleep(1)
    parent.send("report")
    stats = parent.recv()
    bot.join(5)
    report(
        f"engine CPU, 4 calls, callers speaking: idle {idle * 100:.1f}% of a core, "
        f"recording {recording * 100:.1f}%, streamed both ways {streaming * 100:.1f}%"
    )
    report(
        f"per call above idle: recording {(recording - idle) / 4 * 100:.2f}%, "
        f"streaming {(streaming - idle) / 4 * 100:.2f}% of a core"
    )
    for i, s in enumerate(stats):
        report(
            f"stream {i}: {s['fps']:.2f} frames/s, gap p99 {s['p99_gap_ms']:.1f} ms, "
            f"max {s['max_gap_ms']:.1f} ms"
        )
    for call, _, _ in legs:
        call.hangup()


async def main(runs: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = {"media.cache_dir": f"{tmp}/cache", "media.recordings_dir": f"{tmp}/rec"}
        async with ScenarioHarness(SCENARIO, backend="sip", config=config) as h:
            await latency(h, runs)
        async with ScenarioHarness(SCENARIO, backend="sip", config=config) as h:
            await cpu_and_timing(h, seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    asyncio.run(main(args.runs, args.seconds))

"""Soak the edge guard: random hostile single-field mutations plus SIPp bursts against one
``voxpy run scenarios/hello_hangup.py`` worker, bounded in time and count. Not run in CI.

    python bench/edge_soak.py                      # 5 minutes, at most 20000 messages
    python bench/edge_soak.py --seconds 60 --max-messages 2000 --burst-every 20

Each round sends one message from the corpus (tests/edge/corpus.py) or a fresh random
mutation of the base INVITE (a random header gets a random hostile value; or a few random bytes
of the whole message are flipped), over UDP (one in ten over TCP), and waits for the final
answer. Every ``--burst-every`` seconds a SIPp burst (100 calls at 100/s) runs. After every
message the worker must still be alive; an abort is counted, the message that caused it kept,
and the worker restarted. All traffic is to 127.0.0.1.

Prints: messages sent, answers by code, aborts (must be 0), p50/p99 answer latency, bursts and
their 200/503/failed counts.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.edge import corpus  # noqa: E402
from tests.edge.rawsip import send  # noqa: E402
from tests.edge.sippburst import burst  # noqa: E402
from tests.sip.engine_process import EngineProcess  # noqa: E402

HEADERS = [
    "From", "To", "Call-ID", "CSeq", "Max-Forwards", "Contact", "Content-Type", "Via",
    "Session-Expires", "Min-SE", "Replaces", "Supported", "Require", "Event", "Expires",
    "Record-Route", "Route", "Allow", "Accept", "User-Agent", "X-Anything",
]  # fmt: skip


def hostile_value(rng: random.Random) -> bytes:
    choices = [
        b"",
        b"A" * rng.choice([255, 256, 1024, 1500, 3000]),
        b"%s%n%x%p" * rng.randint(1, 40),
        bytes(rng.randrange(128, 256) for _ in range(rng.randint(1, 12))),
        str(rng.choice([2**31, 2**32, 2**63, 2**64, 10**30, -1, -(2**31)])).encode(),
        bytes(rng.randrange(0, 32) for _ in range(rng.randint(1, 8))),
        b"<sip:" + b"x" * rng.randint(1, 600) + b"@127.0.0.1>",
        b";" * rng.randint(1, 200),
        b'"' * rng.randint(1, 9),
        b"\r\n " * rng.randint(1, 5) + b"folded",
    ]
    return rng.choice(choices)


def random_message(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(corpus.ALL).template
    if roll < 0.85:
        name = rng.choice(HEADERS)
        value = hostile_value(rng)
        base = corpus.request(rng.choice(["INVITE", "INVITE", "OPTIONS", "UPDATE", "SUBSCRIBE"]))
        if any(name == k for k, _ in corpus.BASE_HEADERS) and rng.random() < 0.7:
            return corpus.request(replace={name: value})
        added = name.encode() + b": " + value + b"\r\nContent-Length:"
        return base.replace(b"Content-Length:", added)
    data = bytearray(corpus.request())
    for _ in range(rng.randint(1, 6)):  # flip bytes outside the placeholders' '$' signs
        i = rng.randrange(len(data))
        if data[i] != ord("$"):
            data[i] = rng.randrange(256)
    return bytes(data)


async def start_worker(env: dict[str, str]) -> EngineProcess:
    engine = EngineProcess("run", ROOT / "scenarios" / "hello_hangup.py", env=env)
    await engine.start()
    return engine


def address(engine: EngineProcess) -> tuple[str, int]:
    hostport = engine.contact_uri.split("@", 1)[1]
    host, port = hostport.rsplit(":", 1)
    return host, int(port)


def alive(engine: EngineProcess) -> bool:
    return engine.proc is not None and engine.proc.returncode is None


def report(
    elapsed: float,
    seed: int,
    sent: int,
    codes: Counter[str],
    latencies: list[float],
    bursts: list[str],
    aborts: list[tuple[bytes, str]],
) -> None:
    out = sys.stdout.write
    out(f"edge soak: {elapsed:.0f} s, seed {seed}\n")
    out(f"messages sent: {sent} ({sent / max(elapsed, 1e-9):.1f}/s)\n")
    out("answers by code: " + ", ".join(f"{k}: {v}" for k, v in sorted(codes.items())) + "\n")
    if latencies:
        ordered = sorted(latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        out(f"answer latency: p50 {statistics.median(ordered) * 1000:.1f} ms, "
            f"p99 {p99 * 1000:.1f} ms\n")  # fmt: skip
    out(f"bursts: {len(bursts)}\n" + "".join(f"  {b}\n" for b in bursts))
    out(f"aborts: {len(aborts)} (must be 0)\n")
    for message, tail in aborts[:10]:
        shown = message if len(message) < 600 else message[:200] + b" ... " + message[-400:]
        out(f"  abort: {tail}\n  message: {shown!r}\n")


async def soak(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    env = {
        "VOXPY_RTP__PORT": str(rng.randrange(20000, 50000, 1000)),
        "VOXPY_RTP__PORT_RANGE": "200",
        "VOXPY_TIMEOUTS__SESSION_GRACE": "0",
    }
    engine = await start_worker(env)
    codes: Counter[str] = Counter()
    latencies: list[float] = []
    aborts: list[tuple[bytes, str]] = []
    bursts: list[str] = []
    sent = 0
    last = b""
    started = time.monotonic()
    deadline = started + args.seconds
    next_burst = started + args.burst_every
    workdir = Path(tempfile.mkdtemp(prefix="edge-soak-"))
    try:
        while time.monotonic() < deadline and sent < args.max_messages:
            if args.burst_every and time.monotonic() >= next_burst:
                result = await burst(
                    "{}:{}".format(*address(engine)), workdir / f"burst{len(bursts)}",
                    rate=100, calls=100, timeout=30,
                )  # fmt: skip
                bursts.append(
                    f"200={result.received(200)} 503={result.received(503)} "
                    f"failed={result.failed} sipp_exit={result.returncode}"
                )
                next_burst = time.monotonic() + args.burst_every
                last = b"(SIPp burst)"
            else:
                message = last = random_message(rng)
                transport = "tcp" if rng.random() < 0.1 else "udp"
                host, port = address(engine)
                t0 = time.monotonic()
                exchange = await send(message, host, port, transport=transport, timeout=1)
                last = exchange.request
                sent += 1
                codes[str(exchange.outcome)] += 1
                if exchange.final is not None:
                    latencies.append(time.monotonic() - t0)
            if not alive(engine):
                await asyncio.sleep(0.2)
                tail = "\n".join(line for line in engine.raw[-5:] if "Assertion" in line)
                aborts.append((last, tail or engine.tail(5)))
                (workdir / f"abort{len(aborts)}.sip").write_bytes(last)  # to replay it
                await engine.close()
                engine = await start_worker(env)
    finally:
        await engine.close()
    report(time.monotonic() - started, args.seed, sent, codes, latencies, bursts, aborts)
    sys.stdout.write(f"burst logs and aborting messages: {workdir}\n")
    return 1 if aborts else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--max-messages", type=int, default=20000)
    parser.add_argument("--burst-every", type=float, default=60, help="0: no bursts")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    return asyncio.run(soak(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: wall time of a typical memory-mode scenario test (issue: < 50 ms).

Run: .venv/bin/python bench/memory_harness.py [--runs 200]
Prints median / p90 / max milliseconds for three typical tests: an inbound call answered and
hung up, a rejected call, and an outbound call that rings, is answered and hung up.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
from pathlib import Path

import structlog

from voxpy.testing import ScenarioHarness

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


async def inbound() -> None:
    async with ScenarioHarness(SCENARIOS / "hello_hangup.py") as h:
        call = await h.dial(to="100", headers={"X-Tenant": "a"})
        await call.wait_answered()
        assert await call.wait_hangup() == 200


async def rejected() -> None:
    async with ScenarioHarness(SCENARIOS / "reject_busy.py") as h:
        call = await h.dial()
        assert await call.wait_hangup() == 486


async def outbound() -> None:
    async with ScenarioHarness(SCENARIOS / "outbound.py") as h:
        await h.start(custom_data="sip:alice@example.com")
        call = await h.expect_call()
        call.ring()
        call.answer()
        assert await call.wait_hangup() == 200


async def measure(runs: int) -> None:
    for test in (inbound, rejected, outbound):
        await test()  # warm-up: imports, first-time compilation
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            await test()
            samples.append((time.perf_counter() - start) * 1000)
        samples.sort()
        p90 = samples[int(len(samples) * 0.9) - 1]
        print(f"{test.__name__:9s} runs={runs} median={statistics.median(samples):.2f} ms "  # noqa: T201
              f"p90={p90:.2f} ms max={samples[-1]:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    # Measure the engine, not the console renderer: only errors are logged while timing.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    asyncio.run(measure(args.runs))


if __name__ == "__main__":
    main()

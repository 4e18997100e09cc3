"""Benchmark: what an open web console costs ``voxpy serve``.

Run: .venv/bin/python bench/console.py [--workers 2] [--window 20] [--rounds 2] [--requests 50]
Needs kamailio and /usr/bin/chromium (scripts/install-system-deps.sh). Starts ``voxpy serve``
(answer_and_wait, idle) and, in the same run, alternates windows with no console open and with
the overview open in headless Chromium (it polls /console/state.json every 1.5 s), so the
machine's drifting load hits both alike: compare within a run. It prints:

* CPU of the supervisor and of all workers (percent of one core) in each window;
* latency (median / p95 over ``--requests`` sequential requests) of /console/state.json
  beside /sessions and /metrics, which it is made of, and of the overview page.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from procstat import cpu_seconds  # bench scripts run from bench/

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.server.serve_process import TOKEN, ServeProcess

SCENARIO = Path(__file__).resolve().parent.parent / "tests" / "scenarios" / "answer_and_wait.py"


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()




async def window(pids: dict[str, list[int]], seconds: float) -> dict[str, float]:
    before = {k: sum(cpu_seconds(p) for p in v) for k, v in pids.items()}
    start = time.monotonic()
    await asyncio.sleep(seconds)
    spent = time.monotonic() - start
    return {k: 100 * (sum(cpu_seconds(p) for p in v) - before[k]) / spent for k, v in pids.items()}


async def latency(serve: ServeProcess, path: str, n: int) -> str:
    took = []
    for _ in range(n):
        start = time.perf_counter()
        status, _, _ = await serve.api_raw("GET", path)
        took.append(1000 * (time.perf_counter() - start))
        assert status == 200, (path, status)
    took.sort()
    return f"{statistics.median(took):.1f} / {took[int(0.95 * (n - 1))]:.1f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--window", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    from playwright.async_api import async_playwright

    serve = await ServeProcess(SCENARIO, workers=args.workers).start()
    try:
        _, listing = await serve.api("GET", "/workers")
        assert serve.proc is not None
        pids = {"supervisor": [serve.proc.pid], "workers": [w["pid"] for w in listing["workers"]]}
        for path in ("/sessions", "/metrics", "/console/state.json", "/console"):
            say(f"latency {path}: {await latency(serve, path, args.requests)}")
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path="/usr/bin/chromium")
            for n in range(args.rounds):
                closed = await window(pids, args.window)
                page = await browser.new_page()
                await page.goto(f"{serve.url}/console?token={TOKEN}")
                opened = await window(pids, args.window)
                await page.close()
                for who in pids:
                    say(
                        f"round {n}: {who} CPU %: no console {closed[who]:.2f}, "
                        f"console open {opened[who]:.2f}"
                    )
            await browser.close()
    finally:
        await serve.close()


if __name__ == "__main__":
    asyncio.run(main())

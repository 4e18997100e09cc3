"""Benchmark: what session journals cost (issue 16).

Run: .venv/bin/python bench/journal.py [--runs 40]

1. Per entry: a session's worth of commands, signals and events fed to ``Journals`` (the
   engine's calls, nothing else), in microseconds of CPU per entry.
2. Per session: shipped scenarios' scripts (tests/shipped) in memory mode, journals on and off
   alternately in one process (ABAB, so machine load hits both alike), process CPU per
   session, medians; the difference is what the journal adds to a whole session.
3. Drawing: ``flow_svg`` of a full journal (max_entries entries), milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.shipped.scripts import SHIPPED, Run, path
from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core.headers import Headers
from voxpy.core.journal import JournalBuffer, JournalLimits, flow_svg
from voxpy.runtime.journal import Journals
from voxpy.testing import ScenarioHarness

CONFIG = {"timeouts.session_grace": 1}


def per_entry(sessions: int = 2000) -> float:
    journals = Journals()
    invite = sig.IncomingCall(call_id="a", from_uri="sip:+15550100@10.0.0.1",
                              to_uri="sip:100@10.0.0.2", callerid="+15550100", destination="100",
                              headers=Headers({"X-Tenant": "acme"}))  # fmt: skip
    steps: list[object] = [
        invite, cmd.Provisional(call_id="a", code=180), cmd.Answer(call_id="a"),
        sig.Answered(call_id="a"), cmd.Play(call_id="a", playback_id="p", path="/c/x.wav"),
        sig.DtmfReceived(call_id="a", tone="1"), cmd.Bye(call_id="a"),
        sig.Ended(call_id="a", code=200),
    ]  # fmt: skip
    start = time.process_time()
    entries = 0
    for n in range(sessions):
        sid = f"s{n}"
        journals.open(sid, 0.0)
        for i, step in enumerate(steps):
            if isinstance(step, cmd.Command):
                journals.command(sid, step, i * 0.1)
            else:
                assert isinstance(step, sig.Signal)
                journals.signal(sid, step, i * 0.1)
        entries += len(journals.entries(sid) or [])
        journals.close(sid)
    return (time.process_time() - start) / entries * 1e6


async def session_cpu(name: str, journal: bool) -> float:
    shipped = next(s for s in SHIPPED if s.name == name)
    start = time.process_time()
    async with ScenarioHarness(path(shipped), custom_data=shipped.custom_data, config=CONFIG) as h:
        if not journal:
            h.engine.journals = None  # before the script's first session opens
        await shipped.script(Run(h))
        await h.wait_until(lambda: not h.engine.sessions, 30, "the session to end")
    return (time.process_time() - start) * 1000


async def per_session(runs: int) -> None:
    for name in ("hello_hangup", "ivr_sales", "forward"):
        await session_cpu(name, True)  # warm-up
        on, off = [], []
        for _ in range(runs):
            on.append(await session_cpu(name, True))
            off.append(await session_cpu(name, False))
        shipped = next(s for s in SHIPPED if s.name == name)
        async with ScenarioHarness(path(shipped), custom_data=shipped.custom_data,
                                   config=CONFIG) as h:  # fmt: skip
            await shipped.script(Run(h))
            await h.wait_until(lambda: not h.engine.sessions, 30, "the session to end")
            entries = h.journal()
        size = sum(len(e.to_json()) + 1 for e in entries)
        a, b = statistics.median(on), statistics.median(off)
        line = (
            f"{name:13s} runs={runs} CPU/session journal on {a:.2f} ms, off {b:.2f} ms, "
            f"difference {a - b:+.2f} ms; {len(entries)} entries, {size} bytes"
        )
        print(line)  # noqa: T201


def drawing() -> None:
    limits = JournalLimits()
    b = JournalBuffer("s", started=0.0, wall="", limits=limits)
    from voxpy.core.journal import Entry

    for i in range(limits.max_entries):
        b.add(Entry(kind="sip", label="INFO", src="far:a", dst="leg:a", call_id="a",
                    fields=(("X-Seq", str(i)),)), i * 0.01)  # fmt: skip
    start = time.process_time()
    svg = flow_svg(b.entries)
    took = (time.process_time() - start) * 1000
    print(f"flow_svg of {len(b.entries)} entries: {took:.1f} ms CPU, {len(svg)} bytes")  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    print(f"per entry: {per_entry():.1f} us CPU")  # noqa: T201
    asyncio.run(per_session(args.runs))
    drawing()


if __name__ == "__main__":
    main()

"""What the console shows, gathered from the supervisor: workers, sessions, figures, files.

The figures are the supervisor's own Prometheus text (``/metrics``), read back here, so the
charts show exactly what a Prometheus server would scrape, not a second count that could
disagree with it. Recordings are found by name: a call's recording is
``{prefix}{session_id}-{call}-{n}.mp3`` (voxpy.runtime.media), so a session's files are those
whose name holds ``{session_id}-``; nothing is read from a worker to list them.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from voxpy.server.pool import Pool

SESSION_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
"What a session id in a console URL may be: the engine's ids are hex; anything else is a 404."
RECORDING_NAME = re.compile(r"^(?!\.)[A-Za-z0-9_.-]{1,255}\.(?:mp3|wav|ogg)$")
"A file ``/recordings/`` serves: a plain name (no separator, no leading dot) of an audio file."
_SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)")
_WORKER_LABEL = re.compile(r'worker="(\d+)"')
CHARTED = {
    "live_calls": "voxpy_live_calls",
    "sessions": "voxpy_sessions",
    "calls_started": "voxpy_calls_started_total",
    "calls_failed": "voxpy_calls_failed_total",
    "invites_refused": "voxpy_invites_refused_total",
    "handler_errors": "voxpy_handler_errors_total",
}
"The figures the overview charts: summed over workers (and over codes and reasons)."
FINISHED_SHOWN = 100
"""Finished sessions the overview lists, newest first: each worker keeps up to 1000 records
(server.session_results_max), and 100 workers' worth every 1.5 s would be megabytes a poll."""


class ConsoleHost(Protocol):
    """What the console reads from the supervisor (the API's host)."""

    @property
    def pool(self) -> Pool | None: ...
    def health(self) -> dict[str, Any]: ...
    async def metrics(self) -> str: ...


def parse_metrics(text: str) -> tuple[dict[str, float], dict[int, dict[str, float]]]:
    """Prometheus text as (totals by metric name, per worker index by metric name)."""
    totals: dict[str, float] = defaultdict(float)
    per_worker: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match is None:  # comments (# HELP, # TYPE) and blank lines
            continue
        name, labels, raw = match.groups()
        try:
            value = float(raw)
        except ValueError:
            continue
        if not math.isfinite(value):
            continue
        totals[name] += value
        worker = _WORKER_LABEL.search(labels or "")
        if worker is not None:
            per_worker[int(worker.group(1))][name] += value
    return dict(totals), {k: dict(v) for k, v in per_worker.items()}


async def overview(host: ConsoleHost) -> dict[str, Any]:
    """Everything the overview page shows, as JSON for its poller."""
    pool = host.pool
    text, sessions = await asyncio.gather(
        host.metrics(), pool.sessions() if pool is not None else _no_sessions()
    )
    totals, per_worker = parse_metrics(text)
    workers = []
    for w in pool.workers if pool is not None else []:
        figures = per_worker.get(w.index, {})
        workers.append(
            {
                "worker": w.index,
                "pid": w.pid,
                "up": bool(figures.get("voxpy_worker_up", 0)),
                "ready": w.ready,
                "draining": w.draining,
                "restarts": w.restarts,
                "live_calls": int(figures.get("voxpy_live_calls", 0)),
                "sessions": int(figures.get("voxpy_sessions", 0)),
                "last_exit": w.last_exit,
            }
        )
    live = [s for s in sessions if s.get("state") != "finished"]
    finished = [s for s in sessions if s.get("state") == "finished"]
    finished.sort(key=lambda s: str(s.get("ended_at", "")), reverse=True)
    return {
        "at": time.time(),
        "health": host.health(),
        "workers": workers,
        "figures": {key: totals.get(name, 0.0) for key, name in CHARTED.items()},
        "live": sorted(live, key=lambda s: str(s.get("started_at", ""))),
        "finished": finished[:FINISHED_SHOWN],
        "finished_total": len(finished),
    }


async def _no_sessions() -> list[dict[str, Any]]:
    return []


def session_recordings(home: Path | None, session_id: str) -> list[str]:
    """Names of the finished recordings of ``session_id`` in ``home``, sorted."""
    if home is None or not SESSION_ID.match(session_id):
        return []
    try:
        entries: Iterable[os.DirEntry[str]] = list(os.scandir(home))
    except OSError:  # no recordings directory yet: no recordings
        return []
    return sorted(
        e.name
        for e in entries
        if f"{session_id}-" in e.name and RECORDING_NAME.match(e.name) and e.is_file()
    )


def recording_file(home: Path | None, name: str) -> Path | None:
    """The file ``/recordings/{name}`` may serve, or None: a plain audio file name, resolved
    (symlinks too) to a file directly inside ``home``; ``..``, separators, hidden or
    partial (``.part``) files and links that lead out are all refused."""
    if home is None or not RECORDING_NAME.match(name):
        return None
    try:
        base = home.resolve(strict=True)
        path = (base / name).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        return None
    if path.parent != base or not path.is_file():
        return None
    return path

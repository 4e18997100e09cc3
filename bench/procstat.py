"""What the benches read of a process in /proc: CPU seconds (utime + stime) and PSS."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` so far; 0.0 once it is gone."""
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return 0.0


def cpu_times(pids: list[int]) -> dict[int, float]:
    """CPU seconds of each live process in ``pids``."""
    return {pid: cpu_seconds(pid) for pid in pids if Path(f"/proc/{pid}").exists()}


def cpu_delta(before: dict[int, float], pids: list[int]) -> float:
    """CPU seconds spent since ``before`` by the processes that are still there."""
    after = cpu_times(pids)
    return sum(after[pid] - before[pid] for pid in after if pid in before)


def pss_mb(pid: int) -> float:
    """Proportional set size of ``pid`` (shared pages split between their users), MB; NaN
    once it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return float("nan")

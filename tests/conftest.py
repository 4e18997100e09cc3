"""Shared paths and fixtures. The ``voxpy_harness`` fixture comes from voxpy's pytest plugin."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from voxpy.testing import ScenarioHarness

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
TEST_SCENARIOS = Path(__file__).resolve().parent / "scenarios"

Harness = Callable[..., Awaitable[ScenarioHarness]]


def run_probe(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter at the project root (what must not touch this
    process: pjsua2 imports, threads, a process to kill)."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


"""Shared paths and fixtures. The ``voxpy_harness`` fixture comes from voxpy's pytest plugin."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from voxpy.testing import ScenarioHarness

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
TEST_SCENARIOS = Path(__file__).resolve().parent / "scenarios"

Harness = Callable[..., Awaitable[ScenarioHarness]]


@pytest.fixture(autouse=True, scope="session")
def _no_overload_admission_by_default() -> Iterator[None]:
    """Workers this suite starts (``voxpy run``/``serve`` subprocesses) admit calls however
    busy the machine is: a CI runner at full CPU (measured 0.98-1.00 busy while other suites
    ran) must not turn the suite's own INVITEs into 503s. Overload tests set it back on."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VOXPY_OVERLOAD__ENABLED", "false")
        yield


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


def voxpy(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the ``voxpy`` command as users do (``python -m voxpy ARGS`` at the project root,
    ``env`` added to this environment), its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "voxpy", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=False,
    )

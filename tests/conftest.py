"""Shared paths and fixtures. The ``voxpy_harness`` fixture comes from voxpy's pytest plugin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from voxpy.testing import ScenarioHarness

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
TEST_SCENARIOS = Path(__file__).resolve().parent / "scenarios"

Harness = Callable[..., Awaitable[ScenarioHarness]]

"""The pytest plugin works in a user's project that keeps pytest-asyncio's strict mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import SCENARIOS

USER_TEST = f"""
from voxpy.testing import ScenarioHarness


async def test_with_the_fixture(voxpy_harness):
    h = await voxpy_harness({str(SCENARIOS / "hello_hangup.py")!r})
    call = await h.dial()
    assert await call.wait_hangup() == 200


class TestInAClass:
    async def test_backend_too(self, voxpy_harness, voxpy_backend):
        assert voxpy_backend == "memory"
"""


def test_async_tests_run_without_asyncio_mode_auto(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
    )
    (tmp_path / "test_user.py").write_text(USER_TEST)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout

"""A failing test that used ``voxpy_harness`` gets its sessions' call flows: an SVG per
session under --voxpy-flow-dir, and a "voxpy call flow" section in its report."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import SCENARIOS

USER_TEST = f"""
async def test_fails_after_a_call(voxpy_harness):
    h = await voxpy_harness({str(SCENARIOS / "reject_busy.py")!r})
    call = await h.dial(headers={{"X-Note": "<b>bold</b>"}})
    assert await call.wait_hangup() == 200, "deliberately wrong: the scenario answers 486"


async def test_passes(voxpy_harness):
    h = await voxpy_harness({str(SCENARIOS / "reject_busy.py")!r})
    call = await h.dial()
    assert await call.wait_hangup() == 486
"""


def test_failing_test_gets_its_diagram(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
    )
    (tmp_path / "test_user.py").write_text(USER_TEST)
    flows = tmp_path / "flows"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--voxpy-flow-dir={flows}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 1 and "1 failed, 1 passed" in out, out + result.stderr
    assert "voxpy call flow" in out
    assert "INVITE" in out and "486 Busy Here" in out  # the flow as text in the report
    svgs = sorted(flows.glob("*.svg"))
    assert len(svgs) == 1 and "test_fails_after_a_call" in svgs[0].name  # not the passing one
    assert str(svgs[0]) in out
    root = ET.parse(svgs[0]).getroot()
    texts = " ".join(root.itertext())
    assert "486 Busy Here" in texts and "<b>bold</b>" in texts  # shown as text, not markup
    assert not list(root.iter("b"))

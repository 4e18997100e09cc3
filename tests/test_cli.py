"""``voxpy`` as users run it: broken input gives one clear line and exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SCENARIOS, TEST_SCENARIOS


def voxpy(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voxpy", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["--sip-port", "70000"],
            {},
            "voxpy: config error: sip.port: Input should be less than or "
            "equal to 65535 (got 70000, from command line)",
        ),
        ([], {"VOXPY_SIP__MAX_CALLS": "8"}, "voxpy: config error: sip.max_calls:"),
        ([], {"VOXPY_LOG__LEVEL": "loud"}, "voxpy: config error: log.level:"),
        (["--config", "missing.toml"], {}, "voxpy: config error: "),
    ],
)
def test_bad_config_exits_2(args: list[str], env: dict[str, str], message: str) -> None:
    result = voxpy("run", str(SCENARIOS / "hello_hangup.py"), *args, env=env)
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_config_file_names_field(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[timeouts]\ndial = -1\n")
    result = voxpy("run", str(SCENARIOS / "hello_hangup.py"), "--config", str(config))
    assert result.returncode == 2
    assert "timeouts.dial" in result.stderr and str(config) in result.stderr


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ("nope.py", "nope.py: scenario file not found"),
        (str(TEST_SCENARIOS / "syntax_error.py"), "syntax_error.py:3: syntax error"),
        (
            str(TEST_SCENARIOS / "top_level_raises.py"),
            "top_level_raises.py:4: top-level code raised KeyError('timeout')",
        ),
    ],
)
def test_bad_scenario_exits_2(scenario: str, message: str) -> None:
    for command in ("run", "call"):
        result = voxpy(command, scenario)
        assert result.returncode == 2
        assert result.stderr.startswith("voxpy: scenario error: ")
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_recordings_repair_finishes_part_files(tmp_path: Path) -> None:
    """A recording abandoned mid-call (.mp3.part with a torn last frame) becomes an .mp3."""
    import shutil

    from voxpy.media.recording import Mp3Recorder

    rec = Mp3Recorder(tmp_path / "live.mp3")
    for _ in range(100):
        rec.feed(0, b"\x10\x00" * 160)
    rec.close()
    crashed = tmp_path / "crashed" / "call.mp3.part"
    crashed.parent.mkdir()
    shutil.copy(tmp_path / "live.mp3", crashed)
    with crashed.open("ab") as f:
        f.write(b"\xff\xe3\x18\xc4" + b"\x00" * 20)  # half a frame, as a crash leaves it
    result = voxpy("recordings", "repair", str(crashed.parent), "--older-than", "0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"repaired {crashed.parent / 'call.mp3'}"
    assert (crashed.parent / "call.mp3").stat().st_size == (tmp_path / "live.mp3").stat().st_size
    assert not crashed.exists()

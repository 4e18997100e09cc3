"""``voxpy`` as users run it: broken input gives one clear line and exit status 2."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SCENARIOS, TEST_SCENARIOS, voxpy


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


def test_version_prints_the_version() -> None:
    """`voxpy --version` prints the installed version on stdout and exits 0."""
    from voxpy import __version__

    result = voxpy("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"voxpy {__version__}"


@pytest.mark.parametrize("command", [None, "run", "call", "serve"])
def test_help_names_the_environment_overrides(command: str | None) -> None:
    """Every help page says settings may come from VOXPY_<SECTION>__<FIELD> variables."""
    result = voxpy(*([command] if command else []), "--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "VOXPY_<SECTION>__<FIELD>" in text and "VOXPY_SIP__PORT=5070" in text
    assert "config/voxpy.toml" in text
    if command is None:  # each command in users' words
        assert "answer inbound calls with a scenario" in text
        assert "run one outbound session" in text
        assert "HTTP API to start and query sessions" in text
    else:
        assert "--rtp-port PORT" in text and "--rtp-port-range N" in text


def test_rtp_flags_set_the_rtp_settings() -> None:
    """--rtp-port / --rtp-port-range are rtp.port / rtp.port_range, over the environment."""
    from voxpy.cli.parser import build_parser, overrides
    from voxpy.config import load_settings

    for command in ("run", "call", "serve"):
        args = build_parser().parse_args(
            [command, "x.py", "--rtp-port", "20000", "--rtp-port-range", "200"]
        )
        env = {"VOXPY_RTP__PORT": "30000", "VOXPY_RTP__PORT_RANGE": "400"}
        settings = load_settings(overrides=overrides(args), env=env)
        assert (settings.rtp.port, settings.rtp.port_range) == (20000, 200)
    args = build_parser().parse_args(["run", "x.py"])
    assert load_settings(overrides=overrides(args), env=env).rtp.port == 30000


def test_bad_rtp_port_exits_2() -> None:
    """A bad --rtp-port is one config-error line naming rtp.port and the command line."""
    result = voxpy("run", str(SCENARIOS / "hello_hangup.py"), "--rtp-port", "80")
    assert result.returncode == 2
    assert result.stderr.startswith("voxpy: config error: rtp.port: ")
    assert "from command line" in result.stderr


LOOPBACK = ("--sip-host", "127.0.0.1", "--sip-port", "0")  # the OS picks the SIP port


def test_call_without_started_handler_exits_2_at_once() -> None:
    """`voxpy call` on an inbound-only scenario says why and exits 2, not after 60 s idle."""
    started = time.monotonic()
    result = voxpy("call", str(SCENARIOS / "hello_hangup.py"), *LOOPBACK)
    assert result.returncode == 2, result.stderr
    assert time.monotonic() - started < 20
    lines = [line for line in result.stderr.splitlines() if line.startswith("voxpy: ")]
    assert lines == [
        f"voxpy: scenario error: {SCENARIOS / 'hello_hangup.py'}: no AppEvents.Started handler: "
        "`voxpy call` starts a session without an inbound call, so the scenario must place its "
        "calls from VoxEngine.add_event_listener(AppEvents.Started, ...); `voxpy run` serves "
        "scenarios that wait for inbound calls"
    ]


@pytest.mark.parametrize(
    "register",
    [
        "VoxEngine.once(AppEvents.Started, lambda e: VoxEngine.terminate())",
        "VoxEngine.add_event_listener(AppEvents.Started, lambda e: VoxEngine.terminate())",
    ],
    ids=["once", "add_event_listener"],
)
def test_call_with_started_handler_runs(tmp_path: Path, register: str) -> None:
    """A Started handler, even a one-shot one, is what `voxpy call` needs: exit 0."""
    scenario = tmp_path / "started.py"
    scenario.write_text(f"from voxpy import AppEvents, VoxEngine\n{register}\n")
    result = voxpy("call", str(scenario), *LOOPBACK)
    assert result.returncode == 0, result.stderr
    assert "no_started_handler" not in result.stderr


def test_call_dialling_at_top_level_is_not_refused(tmp_path: Path) -> None:
    """No Started handler but a call placed at top level: the session has work, so it runs."""
    scenario = tmp_path / "top_level_dial.py"
    scenario.write_text(
        "from voxpy import VoxEngine\n"
        "VoxEngine.call_sip('sip:nobody@127.0.0.1:9')  # the discard port: nobody answers\n"
    )
    fast = {"VOXPY_TIMEOUTS__DIAL": "1", "VOXPY_TIMEOUTS__SESSION_GRACE": "0"}
    result = voxpy("call", str(scenario), *LOOPBACK, env=fast)
    assert result.returncode == 0, result.stderr
    assert "no_started_handler" not in result.stderr


def _startup_output(*, tty: bool) -> str:
    """stderr of `voxpy run` (on a pseudo-terminal or a pipe) until it has started, and
    half a second more, then SIGTERM."""
    master, slave = pty.openpty() if tty else os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "voxpy", "run", str(SCENARIOS / "hello_hangup.py"), *LOOPBACK],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        cwd=ROOT,
    )
    os.close(slave)
    out = b""
    try:
        deadline = time.monotonic() + 20
        settle: float | None = None
        while settle is None or time.monotonic() < settle:
            wait = (settle or deadline) - time.monotonic()
            ready, _, _ = select.select([master], [], [], max(0.0, wait))
            if ready:
                out += os.read(master, 65536)
            elif settle is None:
                raise AssertionError(f"not started in 20 s: {out!r}")
            if settle is None and b"engine_started" in out and out.endswith(b"\n"):
                settle = time.monotonic() + 0.5
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        os.close(master)
    return out.decode()


def test_run_on_a_terminal_prints_one_readable_line() -> None:
    """On a terminal: no settings dump, one line with address, scenario and capacity."""
    text = _startup_output(tty=True)
    assert "sip.codecs" not in text and "starting" not in text
    [line] = [line for line in text.splitlines() if line.startswith("voxpy run: ")]
    assert re.fullmatch(
        r"voxpy run: answering calls with \S+hello_hangup\.py on sip:voxpy@127\.0\.0\.1:\d+ "
        r"\(UDP and TCP, RTP 10000-11000\), at most 4 calls at once; Ctrl-C stops",
        line.strip(),
    ), line


def test_run_logging_json_keeps_the_settings_line() -> None:
    """Not a terminal (JSON logs): the structured `starting` line with every setting stays."""
    text = _startup_output(tty=False)
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    [starting] = [line for line in lines if line["event"] == "starting"]
    assert starting["command"] == "run" and starting["sip.port"] == 0
    assert "voxpy run: " not in text

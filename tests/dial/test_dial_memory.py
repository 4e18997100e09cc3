"""`voxpy dial` on the memory backend, as users run it: a script, a terminal (pty), bad input."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import ROOT, SCENARIOS, TEST_SCENARIOS, voxpy
from tests.test_cli_flow import write_journal

IVR = str(SCENARIOS / "ivr.py")


def dial(*args: str) -> subprocess.CompletedProcess[str]:
    return voxpy("dial", *args)


def lines_of(out: str, kind: str) -> list[str]:
    return [line[17:] for line in out.splitlines() if line[10:16].strip() == kind]


def test_a_script_walks_the_ivr_to_voicemail_and_exits_0() -> None:
    # w: the menu plays out; 2: voicemail; w w: its prompt, then the beep; #: message done.
    done = dial(IVR, "--keys", "w 2 w w #")
    assert done.returncode == 0, done.stdout + done.stderr
    assert lines_of(done.stdout, "said") == [
        "'Welcome to voxpy. Press 1 for sales. Press 2 to leave a message.'",
        "'Please leave a message after the tone, then press pound.'",
        "'Thank you. Goodbye.'",
    ]
    assert lines_of(done.stdout, "you") == ["pressed 2", "pressed #"]
    events = lines_of(done.stdout, "event")
    assert events[:3] == ["Application.Started", "Application.CallAlerting", "Call.Connected"]
    assert "Call.PlaybackStarted 'tone:beep' duration=0.5" in events
    assert any(e.startswith("Call.RecordStopped") for e in events)
    assert lines_of(done.stdout, "end") == ["the call ended normally (200)"]
    assert done.stdout.splitlines()[-1].endswith("end    the call ended normally (200)")
    # Virtual time: the menu (3.9 s of speech) and the beep passed without real waiting.
    assert "[   3.90] you    pressed 2" in done.stdout
    assert done.stderr == ""


def test_a_script_that_leaves_the_menu_unanswered_hears_it_three_times() -> None:
    done = dial(IVR, "--keys", "")
    assert done.returncode == 0, done.stdout + done.stderr
    said = lines_of(done.stdout, "said")
    assert said.count("'Welcome to voxpy. Press 1 for sales. Press 2 to leave a message.'") == 3
    assert said[-1] == "'Goodbye.'"


def test_a_call_that_outlives_the_script_is_hung_up_with_status_3() -> None:
    done = dial(str(TEST_SCENARIOS / "answer_and_wait.py"), "--keys", "1", "--timeout", "30")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "you    hangup: the call is still up after 30s" in done.stdout
    assert done.stdout.splitlines()[-1].endswith("end    the call outlived --timeout 30")


def test_a_refused_call_exits_1() -> None:
    done = dial(str(SCENARIOS / "reject_busy.py"), "--keys", "1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the call was not answered (486)" in done.stdout


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        ([IVR, "--keys", "1 x"], 2, "voxpy: unknown key 'x' in --keys word 'x'"),
        ([str(TEST_SCENARIOS / "top_level_raises.py")], 2, "voxpy: scenario error: "),
        ([str(TEST_SCENARIOS / "syntax_error.py")], 2, "voxpy: scenario error: "),
        (["--sip", "127.0.0.1:5060"], 2, "voxpy: bad --sip URI '127.0.0.1:5060'"),
        ([], 2, "voxpy: a SCENARIO file is needed without --sip"),
        ([IVR, "--sip", "sip:h"], 2, "voxpy: --sip calls a running server: give no SCENARIO"),
        ([IVR, "--timeout", "-1"], 2, "voxpy: --timeout must be a positive number"),
        ([IVR, "--timeout", "nan"], 2, "voxpy: --timeout must be a positive number"),
        ([IVR, "--timeout", "inf"], 2, "voxpy: --timeout must be a positive number"),
        ([IVR, "--to", "a b"], 2, "voxpy: bad --to 'a b': not a SIP user part"),
        (
            ["--sip", "sip:127.0.0.1", "--custom-data", "x"],
            2,
            "voxpy: --custom-data cannot reach a running server over --sip",
        ),
    ],
)
def test_bad_input_is_one_line_and_no_call(args: list[str], status: int, message: str) -> None:
    done = dial(*args)
    assert done.returncode == status
    assert done.stderr.startswith(message), done.stderr
    assert done.stderr.count("\n") == 1
    assert done.stdout == ""


BARGE_IN = """\
from voxpy import AppEvents, CallEvents, VoxEngine

def on_tone(e):
    {stop}e.call.say("You pressed one. Goodbye for now.")

def on_connected(e):
    e.call.add_event_listener(CallEvents.ToneReceived, on_tone)
    e.call.handle_tones(True)
    e.call.say("Welcome. Press 1 at any time to skip this long menu of many options.")

def on_alerting(e):
    e.call.add_event_listener(CallEvents.Connected, on_connected)
    e.call.answer()

VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
"""


@pytest.mark.parametrize("stop", ["e.call.stop_playback()\n    ", ""], ids=["stopped", "replaced"])
def test_w_waits_for_the_prompt_that_barged_in(tmp_path: Path, stop: str) -> None:
    # A stopped or replaced prompt fires no PlaybackFinished: w must still end with the
    # second prompt, not with the call.
    scenario = tmp_path / "barge_in.py"
    scenario.write_text(BARGE_IN.format(stop=stop))
    done = dial(str(scenario), "--keys", "1 w h", "--timeout", "30")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.index("said   'Welcome.") < out.index("you    pressed 1")  # the menu played
    assert "said   'You pressed one. Goodbye for now.'" in out
    finished = next(x for x in out.splitlines() if "Call.PlaybackFinished" in x)
    hung_up = next(x for x in out.splitlines() if "you    hangup" in x)
    assert finished[:9] == hung_up[:9] == "[   1.80]"  # right after the second prompt


def test_w_gives_up_at_the_timeout_on_a_looped_prompt(tmp_path: Path) -> None:
    scenario = tmp_path / "loop.py"
    scenario.write_text(
        BARGE_IN.format(stop="").replace(
            'e.call.say("Welcome.', 'e.call.start_playback("tone:beep", loop=True)\n    #'
        )
    )
    done = dial(str(scenario), "--keys", "w h", "--timeout", "5")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[   5.00] you    hangup" in done.stdout


@pytest.mark.parametrize("command", ["dial", "flow"])
def test_a_closed_stdout_exits_1_without_a_traceback(tmp_path: Path, command: str) -> None:
    if command == "dial":
        args = [IVR, "--keys", "w 2 w w #"]
    else:
        args = [str(write_journal(tmp_path)), "--text", "-o", "-"]
    read, write = os.pipe()
    os.close(read)  # `| head -0`: the reader is gone before the first line
    try:
        done = subprocess.run(
            [sys.executable, "-m", "voxpy", command, *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            cwd=ROOT,
            check=False,
        )
    finally:
        os.close(write)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr


def test_a_handler_that_raises_is_shown_and_exits_1_without_a_traceback() -> None:
    done = dial(str(TEST_SCENARIOS / "raising_handler.py"), "--keys", "")
    assert done.returncode == 1, done.stdout + done.stderr
    assert lines_of(done.stdout, "error") == [
        "a handler of Call.Connected raised ZeroDivisionError('scenario bug')"
    ]
    assert "the call ended; a scenario handler raised" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


STUCK = """\
import asyncio
from voxpy import AppEvents, CallEvents, VoxEngine

async def on_connected(e):
    await asyncio.Event().wait()  # real I/O that never ends

def on_alerting(e):
    e.call.add_event_listener(CallEvents.Connected, on_connected)
    e.call.answer()

VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
"""


def test_a_script_stuck_on_real_io_says_so_and_exits_1(tmp_path: Path) -> None:
    scenario = tmp_path / "stuck.py"
    scenario.write_text(STUCK)
    done = dial(str(scenario), "--keys", "1 w", "--timeout", "2")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.startswith(
        "voxpy: virtual time cannot move on: scenario tasks still awaiting real I/O: "
        "<coroutine object on_connected"
    ), done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def spawn(*args: str) -> pexpect.spawn:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "voxpy", "dial", *args],
        cwd=str(ROOT),
        env={**os.environ, "TERM": "dumb"},
        encoding="utf-8",
        timeout=30,
        # As a terminal's foreground job has it: a suite started in the background by a
        # non-interactive shell (`cmd &`) inherits SIGINT ignored, and so would the softphone.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    child.logfile_read = io.StringIO()  # the whole screen, for the checks after EOF
    child.expect_exact("voxpy dial: calling")
    return child


@pytest.mark.realtime  # the terminal's clock is the wall clock
def test_typing_at_a_terminal_presses_keys_as_the_prompts_go_by() -> None:
    child = spawn(IVR)
    try:
        child.expect_exact("said   'Welcome to voxpy. Press 1 for sales.")
        child.expect_exact("Call.PlaybackFinished")  # real time passed: 3.9 s of menu
        child.send("x")
        child.expect_exact("key 'x' does nothing (h hangs up)")
        child.send("\x1b[A")  # arrow up: not the DTMF digit A
        child.expect_exact("key '\\x1b[A' does nothing (h hangs up)")
        child.send("2")
        child.expect_exact("you    pressed 2")
        child.expect_exact("said   'Please leave a message after the tone, then press pound.'")
        child.send("h")
        child.expect_exact("you    hangup")
        child.expect_exact("end    the call ended normally (200)")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


@pytest.mark.realtime  # the terminal's clock is the wall clock
@pytest.mark.parametrize(
    ("key", "shown", "status"),
    [
        ("d", "end    the call ended normally (200)", 0),  # Ctrl-D hangs up
        ("c", "voxpy: interrupted", 1),  # Ctrl-C: the engine hung up first, no call left
    ],
    ids=["ctrl-d", "ctrl-c"],
)
def test_ctrl_d_hangs_up_and_ctrl_c_interrupts_cleanly(key: str, shown: str, status: int) -> None:
    child = spawn(str(TEST_SCENARIOS / "answer_and_wait.py"))
    try:
        child.expect_exact("sip    answered")
        child.sendcontrol(key)
        child.expect_exact(shown)
        child.expect(pexpect.EOF)
        screen = child.logfile_read.getvalue()
    finally:
        child.close(force=True)
    assert child.exitstatus == status
    assert "Traceback" not in screen

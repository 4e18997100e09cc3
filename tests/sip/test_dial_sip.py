"""`voxpy dial --sip` against a `voxpy run` the test starts: real pjsua2 on both ends."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable

import pexpect
import pytest

from tests.conftest import ROOT, SCENARIOS, TEST_SCENARIOS
from tests.sip.engine_process import EngineProcess

pytestmark = pytest.mark.realtime  # real SIP/processes: deselect with -m 'not realtime'

EngineFactory = Callable[..., Awaitable[EngineProcess]]


async def dial(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voxpy",
        "dial",
        *args,
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    except TimeoutError:  # never leave a softphone (and its pjsua2 stack) behind
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_a_script_over_sip_sends_keys_hold_and_info(engine_factory: EngineFactory) -> None:
    engine = await engine_factory(TEST_SCENARIOS / "answer_and_wait.py")
    # A second between keys: the re-INVITEs for hold and unhold do not cross.
    host_only = engine.contact_uri.replace("voxpy@", "")  # --to gives the user part
    status, out, err = await dial(
        "--sip", host_only, "--to", "200", "--keys", "1 w1 o w1 O w1 i w1 h"
    )
    assert status == 0, out + err
    assert "sip    answered" in out
    assert "end    the call ended normally (200)" in out
    for name in ("Call.OnHold", "Call.OffHold", "Call.InfoReceived"):
        await engine.wait_event(name)
    dialled = engine.find(lambda line: line.get("event") == "call_incoming")
    assert dialled.get("destination") == "200", dialled


async def test_a_script_over_sip_waits_for_prompts_by_ear(engine_factory: EngineFactory) -> None:
    engine = await engine_factory(SCENARIOS / "ivr.py")
    # w: the menu is heard out (sound, then 600 ms of quiet); 2: voicemail; w: its prompt.
    status, out, err = await dial("--sip", engine.contact_uri, "--keys", "w 2 w h")
    assert status == 0, out + err
    said = [x for x in engine.lines if x.get("name") == "Call.PlaybackStarted"]
    assert len(said) >= 2, engine.tail()  # the menu, then the voicemail prompt: 2 reached it
    lines = out.splitlines()
    pressed = lines.index(next(x for x in lines if "you    pressed 2" in x))
    hung_up = lines.index(next(x for x in lines if "you    hangup" in x))
    assert any("heard" in x for x in lines[:pressed])  # the menu, before the key
    assert any("heard" in x for x in lines[pressed:hung_up])  # the voicemail prompt


async def test_a_bad_uri_and_a_refused_call(engine_factory: EngineFactory) -> None:
    status, out, err = await dial("--sip", "sip:", "--keys", "h")
    assert (status, out) == (2, "")
    assert err.startswith("voxpy: bad --sip URI 'sip:': expected sip:[USER@]HOST[:PORT]")
    engine = await engine_factory(SCENARIOS / "reject_busy.py")
    status, out, err = await dial("--sip", engine.contact_uri, "--keys", "")
    assert status == 1, out + err
    assert "sip    call ended 486" in out
    assert "the call was not answered (486)" in out
    assert "Traceback" not in out + err


async def test_typing_over_sip_while_the_server_plays_the_ivr(
    engine_factory: EngineFactory,
) -> None:
    engine = await engine_factory(SCENARIOS / "ivr.py")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "voxpy", "dial", "--sip", engine.contact_uri],
        cwd=str(ROOT),
        env={**os.environ, "TERM": "dumb"},
        encoding="utf-8",
        timeout=30,
    )
    try:
        await child.expect_exact("sip    answered", async_=True)
        await child.expect(r"heard  \S+ +-\d+ dBFS", async_=True)  # the menu, as levels
        await engine.wait_event("Call.PlaybackFinished")  # the menu is over: gather listens
        child.send("2")
        await child.expect_exact("you    pressed 2", async_=True)
        await engine.wait_log(  # the voicemail prompt starts: the digit reached the scenario
            lambda _line: sum(x.get("name") == "Call.PlaybackStarted" for x in engine.lines) >= 2
        )
        child.send("h")
        await child.expect_exact("end    the call ended normally (200)", async_=True)
        await child.expect(pexpect.EOF, async_=True)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    await engine.wait_event("Call.Disconnected")

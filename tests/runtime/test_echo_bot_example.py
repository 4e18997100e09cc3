"""``examples/echo_bot.py`` with ``scenarios/voice_bot.py``, both dialects: the caller hears
their own tone back about a second later, and the bot's marks come back once played."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
from collections.abc import AsyncIterator
from types import ModuleType

import pytest
from aiohttp import web

from tests.backends.test_pjsua2_streams import frames_of, sine
from tests.conftest import ROOT, SCENARIOS, Harness
from tests.runtime.test_call_streams import frame_frequency, loud_frames


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("echo_bot", ROOT / "examples" / "echo_bot.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
async def echo_url() -> AsyncIterator[str]:
    runner = web.AppRunner(load_example().make_app(), handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]  # the port the OS gave: never bind-then-release
    yield f"ws://{host}:{port}/bot"
    await runner.cleanup()


@pytest.mark.parametrize("dialect", ["voxengine", "twilio"])
async def test_the_caller_hears_the_echo_and_marks_come_back(
    echo_url: str, voxpy_harness: Harness, dialect: str, caplog: pytest.LogCaptureFixture
) -> None:
    # echo_url first: the server is torn down after the engine has closed its socket.
    caplog.set_level(logging.INFO, "echo_bot")
    h = await voxpy_harness(
        SCENARIOS / "voice_bot.py", custom_data=json.dumps({"url": echo_url, "dialect": dialect})
    )
    call = await h.dial()
    await call.wait_answered()
    await h.wait_event("WebSocket.Open", timeout=5)
    call.listen(8000)
    call.send_audio(sine(440, 1.2, 8000))
    await h.advance(1.3)
    for _ in range(40):  # the bot waits a real second; then 1.2 s plays (virtual in memory)
        await asyncio.sleep(0.1)
        await h.advance(0.1)
        if loud_frames(call) >= 55 and "mark echo-1 played" in caplog.text:
            break
    assert loud_frames(call) >= 55, loud_frames(call)
    assert abs(frame_frequency(frames_of(call.heard_pcm(), 8000), 8000) - 440) < 15
    assert "mark echo-1 played" in caplog.text

"""Memory mode's virtual clock holds still while a handler awaits real I/O (issue 11)."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web

from tests.conftest import SCENARIOS, TEST_SCENARIOS
from voxpy.testing import ScenarioHarness

MENU = "Welcome to voxpy. Press 1 for sales. Press 2 to leave a message."


@pytest.fixture
async def slow_crm() -> object:
    """An HTTP server answering after 0.5 s (the OS picks its port; it stays bound)."""

    async def balance(_request: web.Request) -> web.Response:
        await asyncio.sleep(0.5)
        return web.Response(text="42")

    app = web.Application()
    app.router.add_get("/balance", balance)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/balance"
    await runner.cleanup()


async def test_wait_said_outlasts_a_slow_http_request(slow_crm: str) -> None:
    async with ScenarioHarness(TEST_SCENARIOS / "crm_lookup.py", custom_data=slow_crm) as h:
        call = await h.dial()
        started = time.monotonic()
        assert await call.wait_said("balance", timeout=60) == "Your balance is 42."
        assert time.monotonic() - started >= 0.4  # it really waited for the CRM
        assert h.clock is not None and h.clock.now() < 1  # and virtual time did not jump


async def test_asyncio_sleep_is_real_voxengine_sleep_is_virtual() -> None:
    async with ScenarioHarness(TEST_SCENARIOS / "crm_lookup.py") as h:
        call = await h.dial()
        await call.wait_said("balance", timeout=60)
        assert h.clock is not None
        before = h.clock.now()
        started = time.monotonic()
        await call.wait_said("Still there?", timeout=60)  # 20 s on the virtual clock
        assert time.monotonic() - started < 2
        assert h.clock.now() - before >= 20
        assert await call.wait_hangup() == 200


async def test_a_task_the_scenario_creates_itself_holds_the_clock_too() -> None:
    async with ScenarioHarness(TEST_SCENARIOS / "crm_lookup.py") as h:
        call = await h.dial(to="detached")
        assert await call.wait_said("background", timeout=60) == "In the background: 5."
        assert h.clock is not None and h.clock.now() < 1


async def test_advance_waits_for_real_io_before_moving_time() -> None:
    async with ScenarioHarness(TEST_SCENARIOS / "crm_lookup.py") as h:
        call = await h.dial()
        await h.advance(60)  # the 0.3 s asyncio.sleep ends first, then 60 s pass
        assert call.said == ["Your balance is 5.", "Still there?"]
        assert call.code == 200


async def test_peer_signal_lands_before_advance_moves_time() -> None:
    async with ScenarioHarness(SCENARIOS / "outbound.py", custom_data="sip:a@example.com") as h:
        await h.start()
        call = await h.expect_call()
        call.reject(486)
        await h.advance(70)  # past timeouts.dial: the 486 was already on its way
        assert h.recorder.find("Call.Failed").code == 486


async def test_voxengine_sleep_rejects_nonsense() -> None:
    from voxpy.errors import InvalidArgumentError
    from voxpy.runtime.session import Session

    async with ScenarioHarness(SCENARIOS / "hello_hangup.py") as h:
        session: Session = h.engine.start_session()
        with pytest.raises(InvalidArgumentError):
            await session.sleep(-1)


async def test_failed_wait_said_shows_what_was_said() -> None:
    async with ScenarioHarness(SCENARIOS / "ivr.py") as h:
        call = await h.dial()
        with pytest.raises(AssertionError, match=r"said to this call: \['Welcome to voxpy"):
            await call.wait_said("no such prompt", timeout=1)
        texts = h.events(call, texts=True)
        assert texts[:3] == [
            "Call.Connected",
            f"Call.PlaybackReady({MENU!r})",
            f"Call.PlaybackStarted({MENU!r})",
        ]

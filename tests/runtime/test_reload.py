"""ScenarioReloader in-process, on both backends: new sessions get the new version, live
sessions keep theirs, a broken version changes nothing; the watcher reloads on a save."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from tests.sip.test_reload import SCENARIO
from voxpy.core.signals import SipInfoReceived
from voxpy.log import get_logger
from voxpy.runtime.reload import ScenarioReloader


async def version_of(h: Any, call: Any) -> str:
    since = len(call.received(SipInfoReceived))
    call.send_info("text/plain", "which?")
    await h.wait_until(lambda: len(call.received(SipInfoReceived)) > since, 5, "INFO back")
    return str(call.received(SipInfoReceived)[-1].body)


async def test_reload_is_for_new_sessions_only(tmp_path: Path, voxpy_harness: Any) -> None:
    scenario = tmp_path / "versioned.py"
    scenario.write_text(SCENARIO.format(version="one"))
    h = await voxpy_harness(scenario)
    reloader = ScenarioReloader(h.engine, get_logger("test"))
    first = await h.dial()
    await first.wait_answered()

    scenario.write_text(SCENARIO.format(version="two"))
    assert reloader.reload() is True
    second = await h.dial()
    await second.wait_answered()
    assert await version_of(h, first) == "one"
    assert await version_of(h, second) == "two"

    serving = h.engine.scenario
    scenario.write_text("def broken(:\n")
    with capture_logs() as logs:
        assert reloader.reload() is False
    assert h.engine.scenario is serving
    [failed] = [line for line in logs if line["event"] == "scenario_reload_failed"]
    assert (failed["log_level"], failed["line"]) == ("error", 1)
    assert "syntax error" in failed["error"]
    scenario.write_text("")  # an in-place save between its truncate and its write
    assert reloader.reload() is False
    assert h.engine.scenario is serving
    third = await h.dial()
    await third.wait_answered()
    assert await version_of(h, third) == "two"
    for call in (first, second, third):
        call.hangup()
        await call.wait_hangup()


class Counted(ScenarioReloader):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.done: asyncio.Queue[bool] = asyncio.Queue()

    def reload(self) -> bool:
        ok = super().reload()
        self.done.put_nowait(ok)
        return ok


async def test_the_watcher_reloads_on_a_save_and_stops(tmp_path: Path) -> None:
    from voxpy.testing import ScenarioHarness

    scenario = tmp_path / "versioned.py"
    scenario.write_text(SCENARIO.format(version="one"))
    (tmp_path / "unrelated.txt").write_text("x")
    async with ScenarioHarness(scenario) as h:
        reloader = Counted(h.engine, get_logger("test"))
        await reloader.start()
        try:
            (tmp_path / "unrelated.txt").write_text("y")  # another file: no reload
            scenario.write_text(SCENARIO.format(version="two"))
            assert await asyncio.wait_for(reloader.done.get(), 10) is True
        finally:
            await reloader.stop()
        call = await h.dial()
        await call.wait_answered()
        assert await version_of(h, call) == "two"
        call.hangup()
        await call.wait_hangup()


def test_only_the_scenario_file_concerns_the_watcher(tmp_path: Path) -> None:
    """The watch is on the scenario's folder (editors save by rename): its filter keeps the
    scenario's own name only, whatever the change."""
    from watchfiles import Change

    reloader = ScenarioReloader.__new__(ScenarioReloader)
    reloader.path = tmp_path / "versioned.py"
    for change in Change:
        assert reloader._concerns(change, str(tmp_path / "versioned.py"))
        assert not reloader._concerns(change, str(tmp_path / "unrelated.txt"))
        assert not reloader._concerns(change, str(tmp_path / "versioned.py.swp"))

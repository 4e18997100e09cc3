"""Outbound legs and session API on the memory backend."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import SCENARIOS, TEST_SCENARIOS, EngineFactory
from voxpy import ScenarioError, VoxEngine
from voxpy.runtime.scenario import Scenario, check
from voxpy.runtime.session import Timeouts

PEER = "sip:100@127.0.0.1:5072"


class TestOutbound:
    """scenarios/outbound.py dials the custom-data URI and reacts to each outcome."""

    async def test_peer_answers(self, memory_engine: EngineFactory) -> None:
        """Ringing, then AudioStarted and Connected; the scenario hangs up; session ends."""
        engine, net, rec = await memory_engine(SCENARIOS / "outbound.py")
        session = engine.start_session(custom_data=PEER)
        leg = await net.expect_call()
        assert leg.uri == PEER
        assert leg.headers == {"X-Campaign": "demo"}
        net.ring(leg)
        net.answer(leg, headers={"X-Agent": "7"})
        await asyncio.wait_for(session.terminated.wait(), 2)
        assert rec.events(leg.call_id) == [
            "Call.Ringing",
            "Call.AudioStarted",
            "Call.Connected",
            "Call.Disconnected",
        ]
        assert rec.find("Call.Connected").headers == {"X-Agent": "7"}
        assert leg.history == ["BYE"]
        assert rec.session_events() == [
            "Application.Started",
            "Application.Terminating",
            "Application.Terminated",
        ]

    async def test_peer_busy(self, memory_engine: EngineFactory) -> None:
        """A 486 from the far end fires Failed with the code and the far end's headers."""
        engine, net, rec = await memory_engine(SCENARIOS / "outbound.py")
        session = engine.start_session(custom_data=PEER)
        leg = await net.expect_call()
        net.reject(leg, 486, headers={"X-Why": "busy"})
        await asyncio.wait_for(session.terminated.wait(), 2)
        failed = rec.find("Call.Failed")
        assert (failed.code, failed.headers) == (486, {"X-Why": "busy"})
        assert rec.events(leg.call_id) == ["Call.Failed"]
        assert failed.call.state() == "TERMINATED"

    async def test_no_answer_fails_408(self, memory_engine: EngineFactory) -> None:
        """A leg nobody answers is cancelled after the dial timeout and fails with 408."""
        engine, net, rec = await memory_engine(
            SCENARIOS / "outbound.py", timeouts=Timeouts(dial=0.05)
        )
        engine.start_session(custom_data=PEER)
        leg = await net.expect_call()
        net.ring(leg)
        failed = await rec.wait("Call.Failed", leg.call_id)
        assert (failed.code, failed.reason) == (408, "Request Timeout")
        assert leg.history == ["CANCEL"]
        assert rec.events(leg.call_id) == ["Call.Ringing", "Call.Failed"]

    async def test_fifth_call_sip_refused(self, memory_engine: EngineFactory) -> None:
        """With 4 legs up, call_sip raises CapacityError and the 4 legs are untouched."""
        engine, net, rec = await memory_engine(TEST_SCENARIOS / "dial_four_then_one.py")
        session = engine.start_session(custom_data=PEER)
        legs = [await net.expect_call() for _ in range(4)]
        assert net.offered.empty()
        assert all(leg.live for leg in legs)
        await asyncio.wait_for(session.terminated.wait(), 2)
        assert [leg.history for leg in legs] == [["CANCEL"]] * 4
        assert [rec.find("Call.Failed", leg.call_id).code for leg in legs] == [487] * 4


class TestSessionApi:
    """Timers, custom data and the VoxEngine proxy."""

    async def test_timers(self, memory_engine: EngineFactory) -> None:
        """A cleared timer never fires; a failing timer is a HandlerError; terminate works."""
        engine, net, rec = await memory_engine(TEST_SCENARIOS / "timers.py")
        session = engine.start_session()
        await asyncio.wait_for(session.terminated.wait(), 2)
        assert net.commands == []
        assert rec.session_events() == [
            "Application.Started",
            "Application.HandlerError",
            "Application.Terminating",
            "Application.Terminated",
        ]
        assert rec.find("Application.HandlerError").event == "timer"

    def test_voxengine_outside_session(self) -> None:
        with pytest.raises(ScenarioError, match="only available inside"):
            VoxEngine.custom_data()

    async def test_call_sip_rejects_non_sip_uri(self, memory_engine: EngineFactory) -> None:
        from voxpy import InvalidArgumentError

        engine, net, rec = await memory_engine(SCENARIOS / "outbound.py")
        session = engine.start_session(custom_data="tel:+15550100")
        error = await rec.wait("Application.HandlerError")
        assert isinstance(error.error, InvalidArgumentError)
        assert net.commands == []
        session.terminate()


class TestScenarioErrors:
    """A broken scenario file is reported with file and line."""

    def test_missing(self, tmp_path: object) -> None:
        with pytest.raises(ScenarioError, match=r"nope\.py: scenario file not found"):
            Scenario.load("nope.py")

    def test_syntax_error_names_line(self) -> None:
        with pytest.raises(ScenarioError, match=r"syntax_error.py:3: syntax error"):
            Scenario.load(TEST_SCENARIOS / "syntax_error.py")

    def test_top_level_raise_names_line(self) -> None:
        scenario = Scenario.load(TEST_SCENARIOS / "top_level_raises.py")
        with pytest.raises(
            ScenarioError,
            match=r"top_level_raises.py:4: top-level code raised "
            r"KeyError\('timeout'\)",
        ):
            check(scenario, log=__import__("structlog").get_logger())

    async def test_inbound_call_to_broken_session_gets_500(
        self, memory_engine: EngineFactory
    ) -> None:
        engine, net, rec = await memory_engine(TEST_SCENARIOS / "top_level_raises.py")
        leg = net.dial()
        await asyncio.wait_for(leg.ended.wait(), 2)
        assert leg.code == 500
        assert engine.sessions == {}

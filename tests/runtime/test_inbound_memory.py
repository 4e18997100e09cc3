"""Inbound calls on the memory backend: answer, reject, caller hangup, timeouts, capacity."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import SCENARIOS, TEST_SCENARIOS, EngineFactory
from voxpy.runtime.session import Timeouts


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


class TestAnswerAndHangup:
    """The engine answers, then hangs up as soon as the call is connected."""

    async def test_whole_history(self, memory_engine: EngineFactory) -> None:
        """Session and call histories are complete and in order; the caller saw 200 then BYE."""
        engine, net, rec = await memory_engine(SCENARIOS / "hello_hangup.py")
        leg = net.dial(to="100", from_="+15550100", headers={"X-Tenant": "a"})
        await asyncio.wait_for(leg.ended.wait(), 2)
        await settle()
        assert rec.session_events() == ["Application.Started", "Application.CallAlerting"]
        assert rec.events(leg.call_id, with_state=True) == [
            "Call.StateChanged",
            "Call.Connected",
            "Call.StateChanged",
            "Call.Disconnected",
        ]
        alerting = rec.find("Application.CallAlerting")
        assert (alerting.callerid, alerting.destination) == ("+15550100", "100")
        assert alerting.headers["x-tenant"] == "a"
        assert alerting.call.headers() == {"X-Tenant": "a"}
        disconnected = rec.find("Call.Disconnected", leg.call_id)
        assert disconnected.code == 200
        assert disconnected.call.state() == "TERMINATED"
        assert disconnected.call.status == "closed"
        assert leg.history == ["200", "BYE"]

    async def test_session_ends_after_grace(self, memory_engine: EngineFactory) -> None:
        """With no calls left, the session terminates after the grace period."""
        engine, net, rec = await memory_engine(
            SCENARIOS / "hello_hangup.py", timeouts=Timeouts(session_grace=0.05)
        )
        net.dial()
        await rec.wait("Application.Terminated", timeout=2)
        assert rec.session_events()[-2:] == ["Application.Terminating", "Application.Terminated"]
        assert engine.sessions == {}


class TestReject:
    """reject(486) with a custom header reaches the caller; Disconnected carries the code."""

    async def test_reject_busy_with_header(self, memory_engine: EngineFactory) -> None:
        engine, net, rec = await memory_engine(SCENARIOS / "reject_busy.py")
        leg = net.dial()
        await asyncio.wait_for(leg.ended.wait(), 2)
        await settle()
        assert leg.code == 486
        assert leg.received_headers["486"] == {"X-Reason": "all-agents-busy"}
        assert rec.events(leg.call_id) == ["Call.Disconnected"]
        assert rec.find("Call.Disconnected").code == 486


class TestCallerHangsUp:
    """The caller ends a connected call: Disconnected has code 200 and a duration."""

    async def test_caller_bye(self, memory_engine: EngineFactory) -> None:
        engine, net, rec = await memory_engine(TEST_SCENARIOS / "answer_and_wait.py")
        leg = net.dial()
        await asyncio.wait_for(leg.answered.wait(), 2)
        await asyncio.sleep(0.05)
        net.hangup(leg, headers={"X-Why": "done"})
        event = await rec.wait("Call.Disconnected", leg.call_id)
        assert rec.events(leg.call_id) == ["Call.Connected", "Call.Disconnected"]
        assert event.code == 200
        assert event.duration >= 0.04
        assert event.headers == {"X-Why": "done"}

    async def test_caller_cancels_before_answer(self, memory_engine: EngineFactory) -> None:
        """A CANCEL before the answer ends the inbound leg with 487."""
        engine, net, rec = await memory_engine(TEST_SCENARIOS / "ignore_call.py")
        leg = net.dial()
        await rec.wait("Application.CallAlerting")
        net.hangup(leg)
        event = await rec.wait("Call.Disconnected", leg.call_id)
        assert (event.code, event.duration) == (487, 0.0)


class TestNoAnswer:
    """An inbound call nobody answers is dropped with 408 after the configured time."""

    async def test_dropped_with_408(self, memory_engine: EngineFactory) -> None:
        engine, net, rec = await memory_engine(
            TEST_SCENARIOS / "ignore_call.py", timeouts=Timeouts(no_answer=0.05)
        )
        leg = net.dial()
        event = await rec.wait("Call.Disconnected", leg.call_id)
        assert event.code == 408
        assert leg.code == 408


class TestCapacity:
    """A process holds 4 legs; the 5th INVITE gets 486 and the 4 live calls are untouched."""

    async def test_fifth_call_busy(self, memory_engine: EngineFactory) -> None:
        engine, net, rec = await memory_engine(TEST_SCENARIOS / "answer_and_wait.py")
        legs = [net.dial(to=str(100 + i)) for i in range(4)]
        for leg in legs:
            await asyncio.wait_for(leg.answered.wait(), 2)
        fifth = net.dial(to="105")
        assert fifth.code == 486
        await settle()
        assert engine.live_legs() == 4
        assert all(leg.live for leg in legs)
        for leg in legs:
            net.hangup(leg)
        for leg in legs:
            assert (await rec.wait("Call.Disconnected", leg.call_id)).code == 200


class TestHandlerErrors:
    """A raising handler is reported once and neither this call nor the next one breaks."""

    async def test_call_survives_and_next_call_works(self, memory_engine: EngineFactory) -> None:
        engine, net, rec = await memory_engine(TEST_SCENARIOS / "raising_handler.py")
        for _ in range(2):
            leg = net.dial()
            await asyncio.wait_for(leg.ended.wait(), 2)
            await settle()
            assert leg.history == ["200", "BYE"]
            assert rec.events(leg.call_id) == ["Call.Connected", "Call.Disconnected"]
        errors = [e for _, e in rec.log if str(e.name) == "Application.HandlerError"]
        assert len(errors) == 2
        assert isinstance(errors[0].error, ZeroDivisionError)
        assert errors[0].event == "Call.Connected"
        assert "scenario bug" in errors[0].traceback


@pytest.mark.parametrize("method", ["answer", "ring", "start_early_media"])
async def test_misuse_after_hangup_raises_and_changes_nothing(
    memory_engine: EngineFactory, method: str
) -> None:
    """Calling answer() (or ring) on a terminated call raises InvalidStateError; state stays."""
    from voxpy import InvalidStateError

    engine, net, rec = await memory_engine(SCENARIOS / "hello_hangup.py")
    leg = net.dial()
    event = await rec.wait("Call.Disconnected", leg.call_id)
    sent = len(net.commands)
    with pytest.raises(InvalidStateError, match="TERMINATED"):
        getattr(event.call, method)()
    assert event.call.state() == "TERMINATED"
    assert len(net.commands) == sent

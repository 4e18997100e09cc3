"""Engine behaviour through the test kit, on both backends unless a test says otherwise."""

from __future__ import annotations

import pytest

from tests.conftest import SCENARIOS, TEST_SCENARIOS, Harness
from voxpy import InvalidArgumentError, InvalidStateError, ScenarioError


class TestCallerSide:
    """What the caller does: hang up first, cancel before the answer."""

    async def test_caller_hangs_up_first(self, voxpy_harness: Harness) -> None:
        """Disconnected has code 200, the BYE's header and the connected duration."""
        h = await voxpy_harness(TEST_SCENARIOS / "answer_and_wait.py")
        call = await h.dial()
        await call.wait_answered()
        await h.advance(0.5)
        call.hangup(headers={"X-Why": "done"})
        event = await h.wait_event("Call.Disconnected")
        assert h.events(call) == ["Call.Connected", "Call.Disconnected"]
        assert (event.code, event.headers) == (200, {"X-Why": "done"})
        assert 0.5 <= event.duration < 3
        assert (event.call.state(), event.call.status()) == ("TERMINATED", "closed")

    async def test_caller_cancels_before_answer(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(TEST_SCENARIOS / "ignore_call.py")
        call = await h.dial()
        await h.wait_event("Application.CallAlerting")
        call.hangup()
        assert await call.wait_hangup() == 487
        event = await h.wait_event("Call.Disconnected")
        assert (event.code, event.duration) == (487, 0.0)


class TestTimeouts:
    """An unanswered inbound call is dropped with 408; an idle session ends after its grace."""

    async def test_no_answer_drops_with_408(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(
            TEST_SCENARIOS / "ignore_call.py", config={"timeouts.no_answer": 1.0}
        )
        call = await h.dial()
        assert await call.wait_hangup(timeout=10) == 408
        assert h.events(call) == ["Call.Disconnected"]

    async def test_session_ends_after_grace(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(
            SCENARIOS / "hello_hangup.py", config={"timeouts.session_grace": 0.5}
        )
        call = await h.dial()
        await call.wait_hangup()
        await h.wait_until(lambda: "Application.Terminated" in h.session_events(), 5, "Terminated")
        assert h.session_events() == [
            "Application.Started",
            "Application.CallAlerting",
            "Application.Terminating",
            "Application.Terminated",
        ]
        assert h.engine.sessions == {}


class TestCapacity:
    """A process holds 4 legs: a 5th INVITE gets 486, a 5th call_sip raises CapacityError."""

    @pytest.mark.voxpy_backend("memory")  # one pjsua2 peer holds 4 calls too: see tests/sip
    async def test_fifth_inbound_busy(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(TEST_SCENARIOS / "answer_and_wait.py")
        calls = [await h.dial(to=str(100 + i)) for i in range(4)]
        for call in calls:
            await call.wait_answered()
        fifth = await h.dial(to="105")
        assert await fifth.wait_hangup() == 486
        assert h.engine.live_legs() == 4
        for call in calls:
            call.hangup()
            assert await call.wait_hangup() == 200

    async def test_fifth_call_sip_refused(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(
            TEST_SCENARIOS / "dial_four_then_one.py", custom_data="sip:many@example.com"
        )
        session = await h.start()
        calls = [await h.expect_call() for _ in range(4)]
        await h.wait_until(session.terminated.is_set, 5, "session end")
        assert h.recorder.of("Application.HandlerError") == []  # the except branch ran
        assert [await c.wait_hangup() for c in calls] == [487] * 4
        assert [h.events(c) for c in calls] == [["Call.Failed"]] * 4
        assert {h.recorder.find("Call.Failed").code} == {487}
        with pytest.raises(AssertionError, match="no outbound call"):
            await h.expect_call(timeout=0.2)


class TestHandlers:
    """Handler failures are reported once; nothing else breaks."""

    async def test_raising_handler_breaks_neither_call_nor_next(
        self, voxpy_harness: Harness
    ) -> None:
        h = await voxpy_harness(TEST_SCENARIOS / "raising_handler.py", raise_handler_errors=False)
        for _ in range(2):
            call = await h.dial()
            await call.wait_answered()
            assert await call.wait_hangup() == 200
            assert h.events(call) == ["Call.Connected", "Call.Disconnected"]
        errors = h.recorder.of("Application.HandlerError")
        assert [type(e.error) for e in errors] == [ZeroDivisionError] * 2
        assert errors[0].event == "Call.Connected" and "scenario bug" in errors[0].traceback

    async def test_handler_error_fails_the_test_by_default(self, voxpy_harness: Harness) -> None:
        """With the default raise_handler_errors=True the scenario bug is the test's failure."""
        h = await voxpy_harness(TEST_SCENARIOS / "raising_handler.py")
        with pytest.raises(ScenarioError, match="ZeroDivisionError") as info:
            call = await h.dial()  # memory mode: surfaces here, at the first settle
            await call.wait_hangup()  # sip mode: surfaces while waiting
        assert isinstance(info.value.__cause__, ZeroDivisionError)

    async def test_on_once_remove_and_async_failure(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(TEST_SCENARIOS / "listeners.py", raise_handler_errors=False)
        call = await h.dial()
        assert await call.wait_hangup() == 200
        disconnected = await h.wait_event("Call.Disconnected")
        error = await h.wait_event("Application.HandlerError")
        assert disconnected.call.custom_data()["seen"] == [
            ("once", "CONNECTED"),
            ("on", "CONNECTED"),
            ("on", "TERMINATED"),
        ]
        assert (error.event, str(error.error)) == ("Call.Connected", "async handler bug")

    async def test_timers(self, voxpy_harness: Harness) -> None:
        """A cleared timer never fires; a failing one is a HandlerError named 'timer'."""
        h = await voxpy_harness(TEST_SCENARIOS / "timers.py", raise_handler_errors=False)
        session = await h.start()
        await h.wait_until(session.terminated.is_set, 5, "session end")
        assert h.session_events() == [
            "Application.Started",
            "Application.HandlerError",
            "Application.Terminating",
            "Application.Terminated",
        ]
        assert h.recorder.find("Application.HandlerError").event == "timer"


class TestMisuse:
    """Misuse raises a clear error and changes nothing."""

    @pytest.mark.parametrize("method", ["answer", "ring", "start_early_media"])
    async def test_after_hangup(self, voxpy_harness: Harness, method: str) -> None:
        h = await voxpy_harness(SCENARIOS / "hello_hangup.py")
        call = await h.dial()
        await call.wait_hangup()
        engine_call = (await h.wait_event("Call.Disconnected")).call
        with pytest.raises(InvalidStateError, match="TERMINATED"):
            getattr(engine_call, method)()
        assert engine_call.state() == "TERMINATED"

    async def test_bad_arguments(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(TEST_SCENARIOS / "ignore_call.py")
        await h.dial()
        engine_call = (await h.wait_event("Application.CallAlerting")).call
        with pytest.raises(InvalidArgumentError, match=r"400\.\.699"):
            engine_call.reject(200)
        with pytest.raises(InvalidArgumentError, match="set by the SIP stack"):
            engine_call.answer(headers={"Contact": "<sip:x@y>"})
        assert engine_call.state() == "ALERTING"
        session = h.recorder.log[0][0]
        with pytest.raises(InvalidArgumentError, match="sip: or sips: URI"):
            session.call_sip("tel:+15550100")

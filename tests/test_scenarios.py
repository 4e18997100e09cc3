"""Every scenario in scenarios/, through the test kit, on both backends."""

from __future__ import annotations

from tests.conftest import SCENARIOS, Harness


class TestHelloHangup:
    """scenarios/hello_hangup.py answers, then hangs up once connected."""

    async def test_answers_then_hangs_up(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(SCENARIOS / "hello_hangup.py")
        call = await h.dial(to="100", from_="+15550100", headers={"X-Tenant": "acme"})
        await call.wait_answered()
        assert await call.wait_hangup() == 200
        assert call.history() == ["Answered", "Ended(200)"]
        assert h.events(call) == ["Call.Connected", "Call.Disconnected"]
        assert h.events(call, state_changes=True) == [
            "Call.StateChanged",
            "Call.Connected",
            "Call.StateChanged",
            "Call.Disconnected",
        ]
        assert h.session_events() == ["Application.Started", "Application.CallAlerting"]
        alerting = h.recorder.find("Application.CallAlerting")
        assert (alerting.callerid, alerting.destination) == ("+15550100", "100")
        assert alerting.headers == {"X-Tenant": "acme"}


class TestRejectBusy:
    """scenarios/reject_busy.py refuses with 486 and an X-Reason header."""

    async def test_rejects_486_with_reason(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(SCENARIOS / "reject_busy.py")
        call = await h.dial()
        assert await call.wait_hangup() == 486
        assert call.headers["X-Reason"] == "all-agents-busy"
        assert h.events(call) == ["Call.Disconnected"]
        assert h.recorder.find("Call.Disconnected").code == 486


class TestOutbound:
    """scenarios/outbound.py dials the custom-data URI, hangs up on answer, ends the session."""

    async def test_answered(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(SCENARIOS / "outbound.py")
        session = await h.start(custom_data="sip:alice@example.com")
        call = await h.expect_call()
        assert call.incoming is not None and call.incoming.to_uri.startswith("sip:alice@")
        assert call.headers == {"X-Campaign": "demo"}
        call.ring()
        await h.advance(0.2)
        call.answer(headers={"X-Agent": "7"})
        assert await call.wait_hangup() == 200
        await h.wait_until(session.terminated.is_set, 5, "session end")
        assert h.events(call) == [
            "Call.Ringing",
            "Call.AudioStarted",
            "Call.Connected",
            "Call.Disconnected",
        ]
        assert h.recorder.find("Call.Connected").headers == {"X-Agent": "7"}
        assert h.session_events() == [
            "Application.Started",
            "Application.Terminating",
            "Application.Terminated",
        ]

    async def test_busy(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(SCENARIOS / "outbound.py", custom_data="sip:bob@example.com")
        session = await h.start()
        call = await h.expect_call()
        call.reject(486, headers={"X-Why": "busy"})
        await h.wait_until(session.terminated.is_set, 5, "session end")
        failed = h.recorder.find("Call.Failed")
        assert (failed.code, failed.headers) == (486, {"X-Why": "busy"})
        assert h.events(call) == ["Call.Failed"]

    async def test_no_answer_fails_408(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(SCENARIOS / "outbound.py", config={"timeouts.dial": 1.5})
        await h.start(custom_data="sip:carol@example.com")
        call = await h.expect_call()
        call.ring()
        assert await call.wait_hangup(timeout=10) == 487  # the peer saw CANCEL
        failed = await h.recorder.wait("Call.Failed")
        assert (failed.code, failed.reason) == (408, "Request Timeout")
        assert h.events(call) == ["Call.Ringing", "Call.Failed"]

    async def test_without_destination_ends_session(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(SCENARIOS / "outbound.py")
        session = await h.start()
        await h.wait_until(session.terminated.is_set, 5, "session end")
        assert h.session_events() == [
            "Application.Started",
            "Application.Terminating",
            "Application.Terminated",
        ]

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
        failed = await h.wait_event("Call.Failed")
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


MENU = "Welcome to voxpy. Press 1 for sales. Press 2 to leave a message."


class TestIvr:
    """scenarios/ivr.py: 1 connects to sales, 2 records a message, else the menu repeats."""

    async def test_press_1_connects_to_sales(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(SCENARIOS / "ivr.py", custom_data="sip:sales@example.com")
        call = await h.dial(from_="+15550123")
        await call.wait_said("Press 1", timeout=10)
        call.send_dtmf("1")
        agent = await h.expect_call(timeout=20)
        assert agent.incoming is not None and agent.incoming.callerid == "+15550123"
        assert call.said == [MENU, "Connecting you to sales."]
        await h.wait_until(lambda: call.played == ["tone:US"], 5, "ringback tone")
        agent.answer()
        await h.wait_event("Call.Connected", agent)
        await h.advance(1)
        agent.hangup()
        assert await call.wait_hangup(timeout=10) == 200
        assert h.events(agent) == ["Call.AudioStarted", "Call.Connected", "Call.Disconnected"]

    async def test_press_2_records_a_message(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(SCENARIOS / "ivr.py")
        call = await h.dial()
        await call.wait_said("Press 1", timeout=10)
        call.send_dtmf("2")
        started = await h.wait_event("Call.RecordStarted", call, timeout=20)
        await h.advance(1.5)
        call.send_dtmf("#")
        await call.wait_said("Thank you", timeout=10)
        assert await call.wait_hangup(timeout=15) == 200
        stopped = await h.wait_event("Call.RecordStopped", call, timeout=10)
        assert stopped.url == started.url and stopped.url.endswith(".mp3")
        assert 1.0 <= stopped.duration < 10

    async def test_wrong_keys_repeat_the_menu_twice_then_hang_up(
        self, voxpy_harness: Harness
    ) -> None:
        h = await voxpy_harness(SCENARIOS / "ivr.py")
        call = await h.dial()
        await call.wait_said("Press 1", timeout=10)
        call.send_dtmf("9")
        call.send_dtmf("*")
        call.send_dtmf("7")
        assert await call.wait_hangup(timeout=60) == 200
        sorry = "Sorry, that is not an option."
        assert call.said == [MENU, sorry, MENU, sorry, MENU, "Goodbye."]


class TestForward:
    """scenarios/forward.py bridges the caller to the custom-data URI."""

    async def test_answered_and_bridged(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(SCENARIOS / "forward.py", custom_data="sip:desk@example.com")
        call = await h.dial(from_="+15550142", headers={"X-Ticket": "42"})
        agent = await h.expect_call()
        assert agent.headers == {"X-Ticket": "42"}
        assert agent.incoming is not None and agent.incoming.callerid == "+15550142"
        assert not call.answered
        agent.answer()
        await call.wait_answered()
        call.hangup()
        assert await agent.wait_hangup() == 200
        assert h.events(call) == ["Call.Connected", "Call.Disconnected"]

    async def test_busy_destination_busies_the_caller(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(SCENARIOS / "forward.py", custom_data="sip:desk@example.com")
        call = await h.dial()
        agent = await h.expect_call()
        agent.reject(486)
        assert await call.wait_hangup() == 486

    async def test_no_destination_rejects_404(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(SCENARIOS / "forward.py")
        call = await h.dial()
        assert await call.wait_hangup() == 404


class TestVoicemail:
    """scenarios/voicemail.py records until the caller hangs up, then ends the session."""

    async def test_message_recorded_until_hangup(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(SCENARIOS / "voicemail.py")
        call = await h.dial()
        await call.wait_said("Leave a message", timeout=10)
        started = await h.wait_event("Call.RecordStarted", call, timeout=20)
        await h.advance(2)
        call.hangup()
        stopped = await h.wait_event("Call.RecordStopped", call, timeout=10)
        assert stopped.url == started.url
        assert 1.5 <= stopped.duration < 10
        await h.wait_until(lambda: "Application.Terminated" in h.session_events(), 5, "session end")

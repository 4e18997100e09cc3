"""Call flow through the test kit, both backends: easy_process (ringback, early media, relays,
outcome, on_failed), call_sip's no-answer timeout, reject() with a 3xx redirect, and gather's
barge_in."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SCENARIOS, TEST_SCENARIOS, Harness
from tests.runtime.test_media import tone_wav
from voxpy.core.signals import HoldChanged, Redirected, SipInfoReceived, SipMessageReceived
from voxpy.errors import InvalidArgumentError
from voxpy.runtime.forwarding import EasyProcess, ForwardOutcome
from voxpy.testing import PeerCall, ScenarioHarness

LAB = TEST_SCENARIOS / "flow_lab.py"


async def forwarded(h: ScenarioHarness, to: str) -> tuple[PeerCall, PeerCall, EasyProcess]:
    """The peer calls ``to``; returns (caller, agent: the leg the engine placed, forwarding)."""
    caller = await h.dial(to=to)
    agent = await h.expect_call(timeout=10)
    forwarding = h.recorder.find("Application.CallAlerting").call.custom_data()
    assert isinstance(forwarding, EasyProcess)
    return caller, agent, forwarding


async def outcome(h: ScenarioHarness, forwarding: EasyProcess) -> ForwardOutcome:
    await h.wait_until(lambda: forwarding.outcome is not None, 10, "forwarding outcome")
    return await forwarding


class TestEasyProcess:
    async def test_ringing_relayed_then_bridged(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(LAB)
        caller, agent, forwarding = await forwarded(h, "forward")
        agent.ring()
        await caller.wait_progress(180, timeout=10)  # the caller hears it ring
        assert forwarding.outcome is None
        agent.answer()
        await caller.wait_answered(timeout=10)
        assert (await outcome(h, forwarding)) == ForwardOutcome(result="connected")
        agent.hangup()
        assert await caller.wait_hangup() == 200

    async def test_early_media_reaches_the_caller(
        self, voxpy_harness: Harness, tmp_path: Path
    ) -> None:
        h = await voxpy_harness(LAB)
        caller, agent, forwarding = await forwarded(h, "forward")
        agent.ring(183)
        await caller.wait_progress(183, timeout=10)
        agent.play(tone_wav(tmp_path / "ringback.wav", 1.0))  # the callee's own ringback
        await h.advance(2.0)
        assert await caller.audio_seconds() > 0.5  # heard before anyone answered
        assert not caller.answered and forwarding.outcome is None
        agent.answer()
        await caller.wait_answered(timeout=10)
        assert (await outcome(h, forwarding)).connected

    async def test_info_message_and_hold_relayed(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(LAB)
        caller, agent, forwarding = await forwarded(h, "forward")
        agent.answer()
        await caller.wait_answered(timeout=10)
        await outcome(h, forwarding)
        caller.send_info("application/json", '{"q": 1}', headers={"X-Seq": "1"})
        await h.wait_until(lambda: bool(agent.received(SipInfoReceived)), 10, "INFO relayed")
        info = agent.received(SipInfoReceived)[0]
        assert (info.body, info.headers.get("X-Seq")) == ('{"q": 1}', "1")
        agent.send_message("from the agent")
        await h.wait_until(lambda: bool(caller.received(SipMessageReceived)), 10, "MESSAGE")
        assert caller.received(SipMessageReceived)[0].text == "from the agent"
        caller.hold()
        await h.wait_until(lambda: bool(agent.received(HoldChanged)), 10, "hold relayed")
        caller.unhold()
        await h.wait_until(lambda: len(agent.received(HoldChanged)) == 2, 10, "unhold relayed")
        assert [s.on_hold for s in agent.received(HoldChanged)] == [True, False]

    async def test_failure_passed_to_unanswered_caller(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(LAB)
        caller, agent, forwarding = await forwarded(h, "forward")
        agent.reject(486)
        assert await caller.wait_hangup() == 486
        assert (await outcome(h, forwarding)).result == "failed"
        assert forwarding.outcome is not None and forwarding.outcome.code == 486

    async def test_failure_after_hold_music_hangs_up_cleanly(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(LAB)
        caller = await h.dial(to="music")
        await caller.wait_answered(timeout=10)
        agent = await h.expect_call(timeout=10)
        agent.reject(486)
        assert await caller.wait_hangup() == 200  # BYE; no handler error (the harness checks)
        assert h.recorder.of("Application.HandlerError") == []

    async def test_on_failed_keeps_the_caller_for_voicemail(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(LAB)
        caller, agent, forwarding = await forwarded(h, "voicemail")
        agent.ring()
        await caller.wait_progress(180, timeout=10)
        agent.reject(486)
        await caller.wait_answered(timeout=10)
        await caller.wait_said("Please leave a message.", timeout=15)
        result = await outcome(h, forwarding)
        assert (result.result, result.code) == ("failed", 486)
        caller.hangup()
        assert await caller.wait_hangup() == 200

    async def test_caller_hanging_up_cancels_the_agent(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(LAB)
        caller, agent, forwarding = await forwarded(h, "forward")
        agent.ring()
        await caller.wait_progress(180, timeout=10)
        caller.hangup()
        assert await agent.wait_hangup() == 487
        assert (await outcome(h, forwarding)).result == "cancelled"


class TestDialTimeout:
    async def test_per_call_no_answer_timeout(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(LAB)
        await h.start(custom_data="1.5")
        agent = await h.expect_call(timeout=10)
        agent.ring()
        assert await agent.wait_hangup(timeout=10) == 487  # CANCEL after 1.5 s
        failed = await h.wait_event("Call.Failed", timeout=10)
        assert (failed.code, failed.reason) == (408, "Request Timeout")

    @pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, "5", True])
    async def test_timeout_must_be_positive(self, voxpy_harness: Harness, bad: Any) -> None:
        h = await voxpy_harness(LAB)
        session = await h.start()
        with pytest.raises(InvalidArgumentError):
            session.call_sip("sip:agent@example.com", timeout=bad)
        assert session.live_calls() == []  # nothing was dialled


class TestRedirect:
    async def test_reject_302_sends_the_caller_to_the_contact(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(LAB)
        target = h.engine.backend.contact_uri.replace("sip:voxpy@", "sip:desk@", 1)
        caller = await h.dial(to="redirect", headers={"X-Target": target})
        await h.wait_until(lambda: bool(caller.received(Redirected)), 10, "redirect")
        assert (caller.received(Redirected)[0].code, caller.received(Redirected)[0].contact) == (
            302,
            target,
        )
        # The caller follows it, back to this scenario, which redirects it to the same place
        # again: a target is tried once, so that 302 is final.
        assert await caller.wait_hangup() == 302
        assert len(caller.received(Redirected)) == 1
        codes = [e.code for e in h.recorder.of("Call.Disconnected")]
        assert codes == [302, 302]

    async def test_redirect_needs_a_contact(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(LAB)
        caller = await h.dial(to="idle")
        call = (await h.wait_event("Application.CallAlerting")).call
        for code, contact in [(302, None), (486, "sip:a@b"), (302, "desk"), (302, "sip:a b")]:
            with pytest.raises(InvalidArgumentError):
                call.reject(code, contact=contact)
        assert call.state() == "ALERTING"  # nothing changed
        call.reject(486)
        assert await caller.wait_hangup() == 486


class TestGatherBargeIn:
    @pytest.mark.parametrize(
        ("to", "said"), [("barge", "got 12 cut"), ("nobarge", "got 12 played")]
    )
    async def test_first_key_stops_the_prompt(
        self, voxpy_harness: Harness, to: str, said: str
    ) -> None:
        h = await voxpy_harness(LAB)
        caller = await h.dial(to=to)
        await caller.wait_answered(timeout=10)
        await h.wait_event("Call.PlaybackStarted", timeout=15)
        caller.send_dtmf("12")
        await caller.wait_said(said, timeout=30)
        assert await caller.wait_hangup(timeout=15) == 200


class TestAgentOrVoicemail:
    """scenarios/agent_or_voicemail.py: the README's "forward to an agent, else voicemail"."""

    SCENARIO = SCENARIOS / "agent_or_voicemail.py"

    async def test_agent_answers(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(self.SCENARIO, custom_data="sip:agent@example.com")
        caller = await h.dial(from_="+15550142")
        agent = await h.expect_call(timeout=10)
        assert agent.incoming is not None and agent.incoming.callerid == "+15550142"
        agent.ring()
        await caller.wait_progress(180, timeout=10)
        agent.answer()
        await caller.wait_answered(timeout=10)
        caller.hangup()
        assert await agent.wait_hangup(timeout=10) == 200
        assert h.recorder.of("Call.RecordStarted") == []

    async def test_busy_agent_means_voicemail(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(self.SCENARIO, custom_data="sip:agent@example.com")
        caller = await h.dial()
        agent = await h.expect_call(timeout=10)
        agent.reject(486)
        await caller.wait_answered(timeout=10)
        await caller.wait_said("Please leave a message", timeout=15)
        started = await h.wait_event("Call.RecordStarted", timeout=20)
        await h.advance(1.5)
        caller.hangup()
        stopped = await h.wait_event("Call.RecordStopped", timeout=10)
        assert stopped.url == started.url

    @pytest.mark.voxpy_backend("memory")  # 20 s of real ringing over SIP; see TestDialTimeout
    async def test_unanswered_agent_means_voicemail(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(self.SCENARIO, custom_data="sip:agent@example.com")
        caller = await h.dial()
        agent = await h.expect_call(timeout=10)
        agent.ring()
        await h.advance(19)
        assert not caller.answered
        assert await agent.wait_hangup(timeout=5) == 487  # cancelled at 20 s
        await caller.wait_said("Please leave a message", timeout=15)
        assert (await h.wait_event("Call.Failed")).code == 408

"""Issue 11: event names, payloads and Twilio's Call as VoxEngine and Twilio users expect them.

Wrong event names raise at registration; ``hangup()`` on an ended leg is a no-op; every event
carries the fields users reach for; every event class is exported and typed. Both backends.
(Arguments and values refused at the call: ``test_api_usage.py``.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mypy import api as mypy_api
from structlog.testing import capture_logs

import voxpy
from tests.conftest import TEST_SCENARIOS, Harness
from tests.runtime.apiuse import WAIT, connected, ticking
from voxpy.core.events import AppEvents, CallEvents, DTMFType
from voxpy.core.signals import SipMessageReceived
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.runtime.catalog import APP_EVENTS, CALL_EVENTS


class TestEventNames:
    """A name that would never fire is refused at registration, naming the right enum."""

    @pytest.mark.parametrize(
        ("event", "match"),
        [
            ("Call.Bogus", r"unknown call event 'Call.Bogus': use a CallEvents member"),
            ("Connected", r"did you mean CallEvents.Connected \('Call.Connected'\)"),
            ("connected", r"did you mean CallEvents.Connected"),
            (None, "unknown call event None"),
            (AppEvents.Started, r"AppEvents.Started is not a call event: .*VoxEngine"),
            ("Application.Terminated", r"AppEvents.Terminated is a session event"),
        ],
    )
    async def test_on_a_call(self, voxpy_harness: Harness, event: Any, match: str) -> None:
        h = await voxpy_harness(WAIT)
        _, engine_call = await connected(h)
        for register in (
            engine_call.add_event_listener,
            engine_call.on,
            engine_call.once,
            engine_call.remove_event_listener,
        ):
            with pytest.raises(InvalidArgumentError, match=match):
                register(event, print)
        assert engine_call.listeners(CallEvents.Disconnected) == []

    @pytest.mark.parametrize(
        ("event", "match"),
        [
            ("Application.Bogus", "unknown session event 'Application.Bogus'"),
            ("CallAlerting", r"did you mean AppEvents.CallAlerting"),
            (CallEvents.Connected, r"CallEvents.Connected is not a session event: .*on the call"),
            ("Connected", r"CallEvents.Connected is a call event"),
        ],
    )
    async def test_on_the_session(self, voxpy_harness: Harness, event: Any, match: str) -> None:
        h = await voxpy_harness(WAIT)
        session = await h.start()
        for register in (session.add_event_listener, session.on, session.once):
            with pytest.raises(InvalidArgumentError, match=match):
                register(event, print)

    async def test_plain_strings_still_work(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(WAIT)
        call, engine_call = await connected(h)
        seen: list[str] = []
        engine_call.add_event_listener("Call.Disconnected", lambda e: seen.append(e.name))
        call.hangup()
        await h.wait_event("Call.Disconnected", call, timeout=10)
        assert seen == ["Call.Disconnected"]


class TestHangupOnEndedCall:
    """hangup() on a leg that is over does nothing (VoxEngine, Twilio); answer still raises."""

    async def test_hangup_twice_and_after_the_far_end(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(WAIT)
        call, engine_call = await connected(h)
        engine_call.hangup()
        engine_call.hangup()  # ending: the BYE is already out
        assert await call.wait_hangup() == 200
        await h.wait_event("Call.Disconnected", call, timeout=10)
        engine_call.hangup({"X-Why": "late"})
        assert engine_call.state() == "TERMINATED"
        assert len(h.recorder.of("Call.Disconnected")) == 1
        with pytest.raises(InvalidStateError, match="TERMINATED"):
            engine_call.answer()
        with pytest.raises(InvalidStateError, match="TERMINATED"):
            engine_call.reject(486)

    async def test_hangup_after_reject(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(TEST_SCENARIOS / "ignore_call.py")
        call = await h.dial()
        engine_call = (await h.wait_event("Application.CallAlerting")).call
        engine_call.reject(486)
        engine_call.hangup()  # the reject is ending the leg: nothing more to send
        assert await call.wait_hangup() == 486


class TestPayloads:
    """VoxEngine's payload fields: id, direction, custom_data, role, numeric DTMF type."""

    async def test_inbound(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(TEST_SCENARIOS / "ignore_call.py")
        call = await h.dial()
        engine_call = (await h.wait_event("Application.CallAlerting")).call
        engine_call.custom_data({"ticket": 7})
        engine_call.handle_tones(True)
        engine_call.answer()
        connected_event = await h.wait_event("Call.Connected", call, timeout=10)
        assert connected_event.custom_data == {"ticket": 7}
        call.send_dtmf("5")
        await h.wait_event("Call.ToneReceived", call, timeout=10)
        call.send_dtmf("7", method="info")  # after: INFO would overtake the RTP events
        await h.wait_until(lambda: len(h.recorder.of("Call.ToneReceived")) == 2, 10, "tones")
        tones = h.recorder.of("Call.ToneReceived")
        assert [(t.tone, t.type, t.tone_type) for t in tones] == [
            ("5", DTMFType.TELEPHONE_EVENT, "TELEPHONE_EVENT"),
            ("7", DTMFType.SIP_INFO, "SIP_INFO"),
        ]
        assert tones[0].type == 1 and tones[1].type == 3
        call.hangup()
        disconnected = await h.wait_event("Call.Disconnected", call, timeout=10)
        assert disconnected.direction == "INCOMING"
        ids = [e.id for _, e in h.recorder.log]
        assert all(isinstance(i, str) and i for i in ids)
        assert len(set(ids)) == len(ids)

    async def test_outbound(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(WAIT)
        session = await h.start()
        outbound = session.call_sip(h.peer_uri)
        peer = await h.expect_call(timeout=10)
        peer.answer()
        connected_event = await h.wait_event("Call.Connected", timeout=10)
        assert connected_event.custom_data is None
        outbound.hangup()
        disconnected = await h.wait_event("Call.Disconnected", timeout=10)
        assert disconnected.direction == "OUTGOING"

    async def test_transfer_role(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(TEST_SCENARIOS / "signalling_lab.py")
        call = await h.dial(to="xfer")
        failed = await h.wait_event("Call.TransferFailed", call, timeout=10)
        assert (failed.code, failed.role) == (603, "transferor")


class TestTwilioCall:
    """status() is a method and says reconnecting; mute(bool); MESSAGE delivery; feedback."""

    async def test_status_reconnecting_while_rtp_stopped(self, voxpy_harness: Harness) -> None:
        # no quality listener here: the call machine's RTP silence watch tells
        h = await voxpy_harness(WAIT, config={"quality.rtp_timeout": 3})
        call, engine_call = await connected(h)
        assert engine_call.status() == "open"
        await h.advance(1.5)
        call.set_rtp_loss(100)
        # no event fires when status() changes: look every half second (virtual in memory)
        assert await ticking(h, lambda: engine_call.status() == "reconnecting", 15)
        call.set_rtp_loss(0)
        assert await ticking(h, lambda: engine_call.status() == "open", 15)
        call.hangup()
        await h.wait_event("Call.Disconnected", call, timeout=10)
        assert engine_call.status() == "closed"

    async def test_mute_should_mute(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(WAIT)
        _, engine_call = await connected(h)
        engine_call.mute()
        engine_call.mute(False)
        engine_call.mute(True)
        engine_call.unmute()
        assert [e.muted for e in h.recorder.of("Call.Mute")] == [True, False, True, False]
        with pytest.raises(InvalidArgumentError, match="mute: should_mute"):
            engine_call.mute("no")
        assert not engine_call.is_muted()

    async def test_send_message_fires_message_sent(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(WAIT)
        call, engine_call = await connected(h)
        engine_call.send_message('{"a": 1}', content_type="application/json")
        sent = await h.wait_event("Call.MessageSent", call, timeout=10)
        assert (sent.text, sent.code) == ('{"a": 1}', 200)
        await h.wait_until(lambda: bool(call.received(SipMessageReceived)), 10, "MESSAGE")
        assert call.received(SipMessageReceived)[0].text == '{"a": 1}'
        with pytest.raises(InvalidArgumentError, match="send_message: content_type"):
            engine_call.send_message("x", content_type="json")

    async def test_post_feedback(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(WAIT)
        session = await h.start()
        with capture_logs() as logs:
            session.post_feedback(2, "choppy-audio")
            session.post_feedback()
        assert [(f.score, f.issue) for f in session.feedback] == [(2, "choppy-audio"), (None, None)]
        assert [e["score"] for e in logs if e["event"] == "call_feedback"] == [2, None]
        for score, issue in ((0, None), (6, None), ("5", None), (None, "bad-audio")):
            with pytest.raises(InvalidArgumentError, match="post_feedback"):
                session.post_feedback(score, issue)
        assert len(session.feedback) == 2


def test_every_event_class_is_exported() -> None:
    """Each CallEvents/AppEvents member's class can be imported from voxpy by its name."""

    classes = [*CALL_EVENTS.values(), *APP_EVENTS.values()]
    assert set(APP_EVENTS) == set(AppEvents)
    for cls in classes:
        assert getattr(voxpy, cls.__name__) is cls, cls.__name__
        assert cls.__name__ in voxpy.__all__
    assert "DTMFType" in voxpy.__all__
    assert set(voxpy.__all__) <= set(dir(voxpy))


TYPED_SCENARIO = """
from voxpy import AppEvents, CallAlerting, CallEvents, Started, VoxEngine

def on_alerting(e: CallAlerting) -> None:
    e.call.answer()

VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)
VoxEngine.add_event_listener("Application.Started", lambda e: print(e.custom_data))
VoxEngine.add_event_listener(AppEvents.Started, on_alerting)  # wrong class: line 9
VoxEngine.add_event_listener(AppEvents.CallAlerting, lambda e: e.nope)  # line 10
reveal_type(VoxEngine.call_sip)
"""


def test_voxengine_is_typed(tmp_path: Path) -> None:
    """mypy sees VoxEngine as the Session and ties each AppEvents member to its class."""
    scenario = tmp_path / "typed.py"
    scenario.write_text(TYPED_SCENARIO, encoding="utf-8")
    out, _, _ = mypy_api.run(["--strict", "--no-error-summary", str(scenario)])
    errors = [line.split(":", 2)[1:] for line in out.splitlines() if "typed.py" in line]
    lines = {int(n) for n, _ in errors}
    assert lines == {9, 10, 11}, out
    assert 'Revealed type is "def (to: ' in out and "*, callerid: " in out  # keyword-only
    assert 'matches argument types "AppEvents", "Callable[[CallAlerting], None]"' in out

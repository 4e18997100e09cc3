"""Issue 11: scenarios written as VoxEngine users write them fail loudly, not silently.

Options dicts passed positionally, bad values, wrong event names: each raises at the call,
names what to write instead, and changes nothing (nothing reaches the peer). Both backends.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mypy import api as mypy_api
from structlog.testing import capture_logs

import voxpy
from tests.conftest import TEST_SCENARIOS, Harness
from voxpy.core.events import AppEvents, CallEvents, DTMFType
from voxpy.core.redact import mask_credentials
from voxpy.core.signals import SipInfoReceived, SipMessageReceived, TransferRequested
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.media import convert
from voxpy.media.library import FileMediaLibrary
from voxpy.runtime.catalog import APP_EVENTS, CALL_EVENTS
from voxpy.testing import PeerCall, ScenarioHarness

WAIT = TEST_SCENARIOS / "answer_and_wait.py"


async def connected(h: ScenarioHarness) -> tuple[PeerCall, Any]:
    call = await h.dial()
    await call.wait_answered()
    return call, (await h.wait_event("Call.Connected", call)).call


async def ticking(h: ScenarioHarness, done: Callable[[], bool], seconds: float) -> bool:
    """Whether ``done()`` holds within ``seconds``, looking every half second."""
    for _ in range(int(seconds * 2)):
        if done():
            return True
        await h.advance(0.5)
    return done()


def nothing_sent(call: PeerCall) -> bool:
    kinds = (TransferRequested, SipInfoReceived, SipMessageReceived)
    return not any(call.received(kind) for kind in kinds) and call.code is None


class TestOptionsDicts:
    """A VoxEngine options object passed positionally is a TypeError naming the keywords."""

    @pytest.mark.parametrize(
        ("method", "args", "match"),
        [
            ("start_playback", ("x.wav", {"loop": True}), r"start_playback\(\.\.\., loop=True\)"),
            (
                "record",
                ({"stereo": True, "hdAudio": True},),
                r"record\(stereo=True, hd_audio=True\)",
            ),
            ("say", ("hi", {"language": "de"}), r"keywords: language, voice, rate"),
            ("transfer_to", ({"to": "sip:a@b"},), r"transfer_to\(to='sip:a@b'\)"),
            ("monitor_media_statistics", ({"interval": 1},), r"interval=1"),
            ("handle_tones", ({"enabled": True},), "handle_tones"),
            ("send_message", ({"text": "x"},), "send_message"),
            ("send_info", ("a/b", {"body": "x"}), "send_info"),
        ],
    )
    async def test_call_methods(
        self, voxpy_harness: Harness, method: str, args: tuple[Any, ...], match: str
    ) -> None:
        h = await voxpy_harness(WAIT)
        call, engine_call = await connected(h)
        with pytest.raises(TypeError, match=match) as info:
            getattr(engine_call, method)(*args)
        assert "keyword arguments" in str(info.value)
        await h.advance(0.5)
        assert nothing_sent(call)
        assert h.recorder.of("Call.PlaybackReady") == []
        assert h.recorder.of("Call.RecordStarted") == []

    async def test_call_sip(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(WAIT)
        session = await h.start()
        with pytest.raises(
            TypeError, match=r"call_sip\(\.\.\., callerid='\+1555', display_name='X'\)"
        ):
            session.call_sip(h.peer_uri, {"callerid": "+1555", "displayName": "X"})
        assert session.live_calls() == []

    async def test_gather(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(WAIT)
        _, engine_call = await connected(h)
        with pytest.raises(TypeError, match="max_digits=4"):
            await engine_call.gather({"max_digits": 4})
        with pytest.raises(TypeError):  # keyword-only: gather(4) is not a digit count
            await engine_call.gather(4)

    async def test_headers_stay_positional(self, voxpy_harness: Harness) -> None:
        """VoxEngine passes extraHeaders positionally; a dict there is read as headers."""
        h = await voxpy_harness(WAIT)
        call, engine_call = await connected(h)
        engine_call.hangup({"X-Why": "done"})
        assert await call.wait_hangup() == 200
        assert call.headers.get("X-Why") == "done"


class TestBadValues:
    """Bad values raise InvalidArgumentError naming method and argument; nothing changes."""

    @pytest.mark.parametrize(
        ("method", "args", "kwargs", "match"),
        [
            ("start_playback", (None,), {}, "start_playback: url"),
            ("start_playback", ("",), {}, "start_playback: url"),
            ("start_playback", ("x.wav",), {"loop": "yes"}, "start_playback: loop"),
            ("say", (None,), {}, "say: text"),
            ("say", ("hi",), {"rate": 0}, "say: rate"),
            ("say", ("hi",), {"rate": 9}, r"say: rate must be in \(0, 4\]"),
            ("say", ("hi",), {"language": None}, "say: language"),
            ("send_info", (None, None), {}, "send_info: mime_type"),
            ("send_info", ("application/json", None), {}, "send_info: body"),
            ("send_message", (None,), {}, "send_message: text"),
            ("transfer_to", ("not a uri",), {}, "transfer_to: to must be a sip:"),
            ("transfer_to", ("sip:",), {}, "transfer_to: to"),
            ("transfer_to", (), {"call": "abc"}, "transfer_to: needs a Call"),
            ("answer", ("X-A: 1",), {}, "answer: headers"),
            ("record", (), {"stereo": 1}, "record: stereo"),
            ("record", (), {"name_prefix": 5}, "record: name_prefix"),
            ("send_media_to", ("ws://x",), {}, "send_media_to: needs a Call"),
            ("stop_media_to", ("junk",), {}, "stop_media_to: needs a Call"),
            ("monitor_media_statistics", (True,), {"interval": "1"}, "interval"),
            ("notify_blind_transfer_failed", ("486",), {}, "code"),
            ("play_progress_tone", (None,), {}, "play_progress_tone: country"),
        ],
    )
    async def test_call_methods(
        self,
        voxpy_harness: Harness,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        match: str,
    ) -> None:
        h = await voxpy_harness(WAIT)
        call, engine_call = await connected(h)
        with pytest.raises(InvalidArgumentError, match=match):
            getattr(engine_call, method)(*args, **kwargs)
        await h.advance(0.5)
        assert nothing_sent(call)
        assert engine_call.state() == "CONNECTED"
        assert h.recorder.of("Call.PlaybackReady") == []

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"max_digits": 0}, "gather: max_digits"),
            ({"timeout": "5"}, "gather: timeout"),
            ({"finish_on": None}, "gather: finish_on"),
        ],
    )
    async def test_gather(self, voxpy_harness: Harness, kwargs: dict[str, Any], match: str) -> None:
        h = await voxpy_harness(WAIT)
        _, engine_call = await connected(h)
        with pytest.raises(InvalidArgumentError, match=match):
            await engine_call.gather(**kwargs)

    @pytest.mark.parametrize(
        ("to", "kwargs", "match"),
        [
            ("sip:", {}, "call_sip: to"),
            ("sip:a b@c d", {}, "call_sip: to"),
            ("tel:+15550100", {}, "call_sip: to must be a sip: or sips: URI"),
            ("sip:a@example.com", {"callerid": "has space"}, "call_sip: callerid"),
            ("sip:a@example.com", {"display_name": 5}, "call_sip: display_name"),
            ("sip:a@example.com", {"headers": "X-A: 1"}, "call_sip: headers"),
        ],
    )
    async def test_call_sip(
        self, voxpy_harness: Harness, to: str, kwargs: dict[str, Any], match: str
    ) -> None:
        h = await voxpy_harness(WAIT)
        session = await h.start()
        with pytest.raises(InvalidArgumentError, match=match):
            session.call_sip(to, **kwargs)
        assert session.live_calls() == []

    async def test_session_methods(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(WAIT)
        session = await h.start()
        for seconds in ("abc", -1, float("nan"), None, True):
            with pytest.raises(InvalidArgumentError, match="set_timeout: seconds"):
                session.set_timeout(lambda: None, seconds)
        with pytest.raises(InvalidArgumentError, match="set_timeout: fn"):
            session.set_timeout("notfn", 1)
        with pytest.raises(InvalidArgumentError, match="easy_process: needs a Call"):
            session.easy_process(None, None)
        with pytest.raises(InvalidArgumentError, match="send_media_between: needs a Call"):
            session.send_media_between("a", "b")


class TestMediaSafety:
    """A playback always resolves; recordings stay in their directory; URL passwords hidden."""

    async def test_failed_preparation_resolves_with_error(
        self, voxpy_harness: Harness, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        h = await voxpy_harness(WAIT)
        _, engine_call = await connected(h)

        async def broken(source: str) -> Any:
            raise RuntimeError("boom")  # not a VoxpyError: a bug in a library

        monkeypatch.setattr(h.media, "media", broken)
        finished = await asyncio.wait_for(engine_call.start_playback("x.wav"), 10)
        assert finished.error == "RuntimeError: boom"
        assert h.recorder.of("Call.PlaybackFinished") == [finished]
        assert engine_call.state() == "CONNECTED"

    async def test_record_prefix_cannot_leave_the_directory(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(WAIT)
        _, engine_call = await connected(h)
        for prefix in ("../x-", "a/b-", "/tmp/x-", ".hidden-", "..", "a\\b"):
            with pytest.raises(InvalidArgumentError, match="record: name_prefix"):
                engine_call.record(name_prefix=prefix)
        engine_call.record(name_prefix="ok.v1-")  # nothing changed: recording still possible
        started = await h.wait_event("Call.RecordStarted", timeout=10)
        assert Path(started.url).name.startswith("ok.v1-")

    async def test_url_password_masked(self, voxpy_harness: Harness) -> None:
        h = await voxpy_harness(WAIT)
        _, engine_call = await connected(h)
        url = "http://user:s3cret@127.0.0.1:9/x.mp3"  # the discard port: the fetch fails
        with capture_logs() as logs:
            finished = await asyncio.wait_for(engine_call.start_playback(url), 20)
        assert finished.source == "http://user:***@127.0.0.1:9/x.mp3"
        assert finished.error and "s3cret" not in finished.error
        assert "s3cret" not in repr(h.recorder.log)
        assert "s3cret" not in repr(logs)
        assert any(entry.get("event") == "playback_failed" for entry in logs)


def test_recording_path_refuses_escape(tmp_path: Path) -> None:
    library = FileMediaLibrary(None, tmp_path / "cache", tmp_path / "rec")  # type: ignore[arg-type]
    assert library.recording_path("a.mp3") == str((tmp_path / "rec" / "a.mp3").resolve())
    for name in ("../a.mp3", "/etc/a.mp3", "x/../../a.mp3"):
        with pytest.raises(InvalidArgumentError, match="leaves the recordings directory"):
            library.recording_path(name)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("https://user:pass@host/x.mp3", "https://user:***@host/x.mp3"),
        ("fetch http://a:b@h:80/p failed", "fetch http://a:***@h:80/p failed"),
        ("https://host/x.mp3", "https://host/x.mp3"),
        ("https://user@host/x.mp3", "https://user@host/x.mp3"),
    ],
)
def test_mask_credentials(text: str, masked: str) -> None:
    assert mask_credentials(text) == masked


def test_fetch_sends_url_credentials_as_basic_auth() -> None:
    request = convert._request("https://al%40ice:p%3Ass@example.com:8443/x.mp3?t=1")
    assert request.full_url == "https://example.com:8443/x.mp3?t=1"
    assert request.get_header("Authorization") == "Basic " + base64.b64encode(
        b"al@ice:p:ss"
    ).decode("ascii")


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

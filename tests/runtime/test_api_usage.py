"""Issue 11: scenarios written as VoxEngine users write them fail loudly, not silently.

Options dicts passed positionally, bad values, wrong event names: each raises at the call,
names what to write instead, and changes nothing (nothing reaches the peer). Both backends.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.conftest import Harness
from tests.runtime.apiuse import WAIT, connected, nothing_sent
from voxpy.core.redact import mask_credentials
from voxpy.errors import InvalidArgumentError
from voxpy.media import convert
from voxpy.media.library import FileMediaLibrary


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
            # A trailing newline: `^...$` patterns matched before it (fullmatch does not).
            ("transfer_to", ("sip:a@example.com\n",), {}, "transfer_to: to"),
            ("send_digits", ("12\n",), {}, "send_digits takes"),
            ("record", (), {"name_prefix": "day\n"}, "record: name_prefix"),
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

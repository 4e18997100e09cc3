"""`voxpy dial`'s pure parts: the key/script language and the lines it prints."""

from __future__ import annotations

import pytest

from voxpy.cli import dial_view as view
from voxpy.cli.dial_keys import (
    Act,
    Digit,
    Wait,
    describe,
    key_action,
    parse_script,
    split_keys,
)
from voxpy.cli.dial_sip import target_uri
from voxpy.core.signals import Answered, AudioFrames, Ended, Progress
from voxpy.errors import InvalidArgumentError


def test_a_script_is_keys_and_waits() -> None:
    assert parse_script("1 w2 #") == [Digit(digit="1"), Wait(seconds=2.0), Digit(digit="#")]
    assert parse_script(" w 12 w0.5 oOih ") == [
        Wait(seconds=None),
        Digit(digit="1"),
        Digit(digit="2"),
        Wait(seconds=0.5),
        Act(command="hold"),
        Act(command="unhold"),
        Act(command="info"),
        Act(command="hangup"),
    ]
    assert parse_script("") == []


@pytest.mark.parametrize(("script", "named"), [("1 x", "'x'"), ("w2x", "'w'"), ("12;", "';'")])
def test_an_unknown_key_names_itself_and_its_word(script: str, named: str) -> None:
    with pytest.raises(InvalidArgumentError, match=f"unknown key {named}"):
        parse_script(script)


def test_keys_at_the_terminal() -> None:
    assert key_action("7") == Digit(digit="7")
    assert key_action("\x04") == Act(command="hangup")  # Ctrl-D
    assert key_action("q") is None
    assert describe(Digit(digit="#")) == "pressed #"
    assert describe(Wait(seconds=None)) == "wait for the prompt"


def test_typed_keys_keep_escape_sequences_whole() -> None:
    assert split_keys("12#") == ["1", "2", "#"]
    assert split_keys("\x1b[A1\x1bOP\x1b[15~h\x1b") == [
        "\x1b[A",
        "1",
        "\x1bOP",
        "\x1b[15~",
        "h",
        "\x1b",
    ]
    assert key_action("\x1b[A") is None  # not the DTMF digit A


def test_sip_uris() -> None:
    assert target_uri("sip:127.0.0.1:5060", "100") == "sip:100@127.0.0.1:5060"
    assert target_uri("sip:200@example.com", "100") == "sip:200@example.com"
    assert target_uri("sip:[::1]:5062;transport=tcp", "7") == "sip:7@[::1]:5062;transport=tcp"
    for bad in ("127.0.0.1", "http://x", "sip:", "sip:host:99999", "sip:a b"):
        with pytest.raises(InvalidArgumentError, match="bad --sip URI"):
            target_uri(bad, "100")


class _Event:
    def __init__(self, name: str, **fields: object) -> None:
        self.name = name
        self.__dict__.update(fields)


def test_event_lines() -> None:
    said = _Event("Call.PlaybackStarted", text="Hello.", source=None, duration=1.0)
    assert view.event_line(1.5, said) == "[   1.50] said   'Hello.'"
    gone = _Event("Call.Disconnected", code=200, reason="OK", duration=3.14159)
    assert view.event_line(3, gone) == (
        "[   3.00] event  Call.Disconnected code=200 reason='OK' duration=3.14"
    )
    assert view.event_line(0, _Event("Call.StateChanged")) is None
    error = _Event("Application.HandlerError", error=ZeroDivisionError("x"), event="Call.Connected")
    assert view.event_line(0, error) == (
        "[   0.00] error  a handler of Call.Connected raised ZeroDivisionError('x')"
    )


def test_signal_lines() -> None:
    assert view.signal_line(0, Progress(call_id="c", code=180, reason="Ringing")) == (
        "[   0.00] sip    180 Ringing"
    )
    assert view.signal_line(0, Answered(call_id="c")) == "[   0.00] sip    answered"
    assert view.signal_line(2, Ended(call_id="c", code=486)) == "[   2.00] sip    call ended 486"
    assert view.signal_line(0, AudioFrames(call_id="c", tap_id="t", pcm=b"")) is None


def test_the_meter_shows_volume_levels() -> None:
    assert view.meter([0.0, 0.0]) == "   silence"
    assert view.meter([0.0, 0.5, 1.0]) == " ▄█    0 dBFS"  # -60, -30 and 0 dBFS
    assert view.meter([0.25]) == "▂  -45 dBFS"


def test_lines_escape_what_the_far_end_sent() -> None:
    ended = Ended(call_id="c", code=603, reason="Decline\x1b[2J\r\nnow")
    assert view.signal_line(0, ended) == (
        "[   0.00] sip    call ended 603 Decline\\x1b[2J\\r\\nnow"
    )


def test_quiet_events_are_the_journals_and_audio_started() -> None:
    for name in ("Call.Volume", "Call.MediaStatisticsReceived", "ASR.InterimResult",
                 "WebSocket.Message", "Call.StateChanged", "Call.AudioStarted"):  # fmt: skip
        assert view.event_line(0, _Event(name)) is None, name


async def test_prompts_are_told_by_ear_over_sip() -> None:
    import math

    from voxpy.cli.dial_sip import SipLine

    shown: list[str] = []
    line = SipLine(shown.append, 0.02)
    tone = b"".join(
        int(10000 * math.sin(2 * math.pi * 440 * n / 8000)).to_bytes(2, "little", signed=True)
        for n in range(8000)
    )
    quiet = b"\x00\x00" * 800  # 100 ms
    line._hear(tone)  # 1 s of sound: a prompt starts, one line of bars
    first = line.prompt()
    assert first is not None
    line._hear(quiet * 3 + tone[:1600] + quiet * 5)  # a 300 ms pause is within the prompt
    assert line.prompt() == first
    line._hear(quiet * 2)  # 600 ms of quiet in a row end it
    assert line.prompt() is None
    line._hear(tone[:1600])
    assert line.prompt() not in (None, first)  # another prompt
    assert len(shown) == 2
    assert shown[0].endswith("heard  ▆▆▆▆▆▆▆▆▆▆  -13 dBFS"), shown

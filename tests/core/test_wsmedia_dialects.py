"""The VoxEngine and Twilio dialects of WebSocket media streams, sans-I/O (issue 12)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.core.tones import assert_tone, sine
from voxpy.core.audio import Decoder, Encoder, Encoding, frame_bytes
from voxpy.core.wsmedia import (
    ClearReceived,
    MalformedMessage,
    MarkReceived,
    MediaReceived,
    MediaStartReceived,
    MediaStopReceived,
    MediaStream,
    Output,
    SendQueue,
    StreamConfig,
    TwilioStream,
    UnknownEvent,
    VoxEngineStream,
    open_stream,
)
from voxpy.errors import InvalidArgumentError, InvalidStateError

TWILIO = StreamConfig(
    stream_id="MZ1", call_id="CA1", account_id="AC1", custom_parameters={"lang": "en"}
)


def msgs(out: Output) -> list[dict[str, Any]]:
    return [json.loads(t) for t in out.texts]


def feed_in_odd_pieces(stream: MediaStream, pcm: bytes) -> list[dict[str, Any]]:
    """Caller audio in pieces that never line up with 20 ms, as a resampler hands them over."""
    out: list[dict[str, Any]] = []
    for i in range(0, len(pcm), 202):
        out += msgs(stream.send_audio(pcm[i : i + 202]))
    return out


def bot_media(encoding: Encoding, pcm: bytes, rate: int) -> str:
    wire = Encoder(encoding, rate).encode(pcm)
    return json.dumps({"event": "media", "media": {"payload": base64.b64encode(wire).decode()}})


class TestTwilioOut:
    def test_connected_then_start_with_twilios_fields(self) -> None:
        stream = open_stream("twilio", TWILIO)
        connected, start = msgs(stream.start())
        assert connected == {"event": "connected", "protocol": "Call", "version": "1.0.0"}
        assert start == {
            "event": "start",
            "sequenceNumber": "1",
            "start": {
                "accountSid": "AC1",
                "streamSid": "MZ1",
                "callSid": "CA1",
                "tracks": ["inbound"],
                "customParameters": {"lang": "en"},
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            },
            "streamSid": "MZ1",
        }

    def test_media_frames_are_numbered_and_timed_in_20_ms(self) -> None:
        stream = open_stream("twilio", TWILIO)
        stream.start()
        media = feed_in_odd_pieces(stream, sine(440, 16000, 1000))
        assert len(media) == 50
        assert [m["sequenceNumber"] for m in media] == [str(n) for n in range(2, 52)]
        assert [m["media"]["chunk"] for m in media] == [str(n) for n in range(1, 51)]
        assert [m["media"]["timestamp"] for m in media] == [str(20 * n) for n in range(50)]
        assert {m["media"]["track"] for m in media} == {"inbound"}
        assert {m["streamSid"] for m in media} == {"MZ1"}
        wire = [base64.b64decode(m["media"]["payload"]) for m in media]
        assert {len(w) for w in wire} == {160}
        assert_tone(Decoder(Encoding.ULAW, 8000).decode(b"".join(wire)), 8000)

    def test_the_encoding_asked_for_is_ignored(self) -> None:
        stream = open_stream("twilio", StreamConfig(encoding=Encoding.PCM16))
        assert stream.encoding is Encoding.ULAW

    def test_dtmf_and_stop(self) -> None:
        stream = open_stream("twilio", TWILIO)
        stream.start()
        (dtmf,) = msgs(stream.send_dtmf("5"))
        assert dtmf["dtmf"] == {"track": "inbound_track", "digit": "5"}
        assert dtmf["sequenceNumber"] == "2"
        (stop,) = msgs(stream.stop())
        assert stop == {
            "event": "stop",
            "sequenceNumber": "3",
            "stop": {"accountSid": "AC1", "callSid": "CA1"},
            "streamSid": "MZ1",
        }
        assert stream.stop() == Output()  # twice is harmless


class TestVoxEngineOut:
    @pytest.mark.parametrize("encoding", list(Encoding))
    @pytest.mark.parametrize("rate", [8000, 16000])
    def test_start_and_a_440_hz_tone_in_each_encoding(self, encoding: Encoding, rate: int) -> None:
        config = StreamConfig(encoding=encoding, rate=rate, tag="caller")
        stream = open_stream("voxengine", config)
        (start,) = msgs(stream.start())
        assert start == {
            "event": "start",
            "sequenceNumber": 0,
            "start": {
                "tag": "caller",
                "mediaFormat": {"encoding": encoding.value, "sampleRate": encoding.sample_rate},
                "customParameters": {},
            },
        }
        media = feed_in_odd_pieces(stream, sine(440, rate, 500))
        assert [m["sequenceNumber"] for m in media] == list(range(1, len(media) + 1))
        assert [m["media"]["chunk"] for m in media] == list(range(1, len(media) + 1))
        assert media[1]["media"]["timestamp"] == 20
        assert {m["media"]["tag"] for m in media} == {"caller"}
        wire = b"".join(base64.b64decode(m["media"]["payload"]) for m in media)
        assert {len(base64.b64decode(m["media"]["payload"])) for m in media} == {
            encoding.frame_bytes()
        }
        assert len(media) >= 24  # 500 ms, less what the resampler still holds
        assert_tone(Decoder(encoding, encoding.sample_rate).decode(wire), encoding.sample_rate)

    def test_no_tag_no_tag_field_and_stop_says_how_long(self) -> None:
        stream = open_stream("voxengine", StreamConfig(custom_parameters={"a": "b"}))
        (start,) = msgs(stream.start())
        assert "tag" not in start["start"] and start["start"]["customParameters"] == {"a": "b"}
        stream.send_audio(bytes(frame_bytes(16000) * 10))
        (dtmf,) = msgs(stream.send_dtmf("#"))
        assert dtmf == {"event": "dtmf", "sequenceNumber": 11, "dtmf": {"digit": "#"}}
        (stop,) = msgs(stream.stop())
        assert stop["stop"] == {"mediaInfo": {"duration": 0.2}}

    def test_a_stream_can_start_again_after_stop(self) -> None:
        stream = open_stream("voxengine", StreamConfig())
        stream.start()
        stream.send_audio(bytes(640 * 2))
        stream.stop()
        (again,) = msgs(stream.start())
        assert again["event"] == "start" and again["sequenceNumber"] == 4
        (m,) = msgs(stream.send_audio(bytes(640)))
        assert m["media"]["chunk"] == 1


class TestLifecycleMisuse:
    @pytest.mark.parametrize("dialect", ["voxengine", "twilio"])
    def test_audio_before_start_is_a_bug_after_stop_is_normal(self, dialect: str) -> None:
        stream = open_stream(dialect, StreamConfig())
        with pytest.raises(InvalidStateError):
            stream.send_audio(bytes(640))
        assert stream.send_dtmf("1") == Output()
        stream.start()
        with pytest.raises(InvalidStateError):
            stream.start()
        stream.stop()
        assert stream.send_audio(bytes(640)) == Output()  # still in flight from the media thread

    def test_a_twilio_restart_sends_no_second_connected(self) -> None:
        stream = open_stream("twilio", TWILIO)
        stream.start()
        stream.stop()
        assert [m["event"] for m in msgs(stream.start())] == ["start"]

    def test_bad_digit_dialect_and_rate(self) -> None:
        stream = open_stream("twilio", TWILIO)
        stream.start()
        with pytest.raises(InvalidArgumentError):
            stream.send_dtmf("x")
        with pytest.raises(InvalidArgumentError, match="known: twilio, voxengine"):
            open_stream("jambonz", StreamConfig())
        with pytest.raises(InvalidArgumentError):
            open_stream("voxengine", StreamConfig(rate=48000))


@pytest.mark.parametrize(
    ("dialect", "encoding"),
    [("twilio", Encoding.ULAW)] + [("voxengine", e) for e in Encoding],
)
@pytest.mark.parametrize("rate", [8000, 16000])
def test_the_bots_1_khz_tone_plays_at_the_internal_rate(
    dialect: str, encoding: Encoding, rate: int
) -> None:
    stream = open_stream(dialect, StreamConfig(encoding=encoding, rate=rate))
    tone = sine(1000, encoding.sample_rate, 400)
    out = stream.receive(bot_media(encoding, tone, encoding.sample_rate))
    (event,) = out.events
    assert isinstance(event, MediaReceived) and out.send == ()
    frames = []
    while (frame := stream.pull()[0].pcm) is not None:
        frames.append(frame)
    assert {len(f) for f in frames} == {frame_bytes(rate)}
    assert len(frames) >= 19
    assert_tone(b"".join(frames), rate, 1000.0)


class TestMarksAndClear:
    @pytest.fixture
    def stream(self) -> MediaStream:
        return TwilioStream(TWILIO)

    def test_a_mark_is_echoed_after_the_audio_sent_before_it(self, stream: MediaStream) -> None:
        frame = bytes(160)  # 20 ms of ULAW
        stream.receive(_media(frame * 3))
        out = stream.receive(json.dumps({"event": "mark", "mark": {"name": "a"}}))
        assert out.events == (MarkReceived(name="a"),) and out.send == ()
        stream.receive(_media(frame * 2))
        stream.receive(json.dumps({"event": "mark", "mark": {"name": "b"}}))
        echoes = [msgs(stream.pull()[1]) for _ in range(5)]
        assert echoes[:2] == [[], []]
        assert [m["mark"]["name"] for m in echoes[2]] == ["a"]
        assert echoes[2][0]["streamSid"] == "MZ1" and echoes[2][0]["event"] == "mark"
        assert echoes[3] == [] and [m["mark"]["name"] for m in echoes[4]] == ["b"]

    def test_a_mark_with_nothing_queued_is_echoed_at_once(self, stream: MediaStream) -> None:
        out = stream.receive(json.dumps({"event": "mark", "mark": {"name": "now"}}))
        assert [m["mark"] for m in msgs(out)] == [{"name": "now"}]

    def test_clear_silences_at_once_and_echoes_pending_marks(self, stream: MediaStream) -> None:
        stream.receive(_media(bytes(160) * 50))
        for name in ("x", "y"):
            stream.receive(json.dumps({"event": "mark", "mark": {"name": name}}))
        stream.pull()
        out = stream.receive(json.dumps({"event": "clear", "streamSid": "MZ1"}))
        (cleared,) = out.events
        assert isinstance(cleared, ClearReceived)
        assert 49 * 640 - 4 <= cleared.dropped_bytes <= 49 * 640  # less the resampler's lag
        assert [m["mark"]["name"] for m in msgs(out)] == ["x", "y"]
        assert stream.pull()[0].pcm is None  # the very next frame is silence

    def test_the_scenarios_clear_media_buffer_is_the_same(self, stream: MediaStream) -> None:
        stream.receive(_media(bytes(160) * 5))
        stream.receive(json.dumps({"event": "mark", "mark": {"name": "m"}}))
        assert [m["mark"]["name"] for m in msgs(stream.clear())] == ["m"]

    def test_a_flood_is_bounded_and_reported(self) -> None:
        stream = TwilioStream(StreamConfig(max_playout_seconds=1, rate=8000))  # no resampling
        drops = [stream.receive(_media(bytes(8000))).events[0] for _ in range(3)]
        assert [d.dropped_bytes for d in drops if isinstance(d, MediaReceived)] == [
            0,
            16000,
            16000,
        ]
        assert stream.playout.queued_ms == 1000


def _media(ulaw: bytes) -> str:
    return json.dumps({"event": "media", "media": {"payload": base64.b64encode(ulaw).decode()}})


class TestVoxEngineIn:
    def test_the_bots_start_names_its_encoding_tag_and_parameters(self) -> None:
        stream = VoxEngineStream(StreamConfig(encoding=Encoding.PCM16, rate=8000))
        start = {
            "event": "start",
            "start": {
                "tag": "bot",
                "mediaFormat": {"encoding": "ulaw", "sampleRate": 8000},
                "customParameters": {"n": 1},
            },
        }
        (event,) = stream.receive(json.dumps(start)).events
        assert event == MediaStartReceived(
            tag="bot", encoding=Encoding.ULAW, custom_parameters={"n": "1"}
        )
        stream.receive(bot_media(Encoding.ULAW, sine(440, 8000, 200), 8000))
        assert stream.playout.queued_ms == 200  # read as ULAW, not as the PCM16 we send
        (stop,) = stream.receive('{"event":"stop","stop":{"tag":"bot"}}').events
        assert stop == MediaStopReceived(tag="bot")
        (bare,) = stream.receive('{"event":"stop"}').events
        assert bare == MediaStopReceived(tag=None)

    def test_a_start_without_format_keeps_the_streams_encoding(self) -> None:
        stream = VoxEngineStream(StreamConfig(encoding=Encoding.PCM8))
        (event,) = stream.receive('{"event":"start","start":{}}').events
        assert event == MediaStartReceived(tag=None, encoding=Encoding.PCM8, custom_parameters={})

    def test_marks_are_echoed_in_voxengine_shape(self) -> None:
        stream = VoxEngineStream(StreamConfig(tag="t"))
        (echo,) = msgs(stream.receive('{"event":"mark","mark":{"name":"m"}}'))
        assert echo == {"event": "mark", "sequenceNumber": 0, "mark": {"tag": "t", "name": "m"}}


B64_BAD = json.dumps({"event": "media", "media": {"payload": "not base64!"}})
NON_ASCII = json.dumps({"event": "media", "media": {"payload": "ü"}}, ensure_ascii=False)
MALFORMED = [
    ("hello", "not JSON"),
    ("[1, 2]", "not a JSON object but list"),
    ('"media"', "not a JSON object but str"),
    ("[" * 100_000, "not JSON"),
    ('{"media": {}}', "missing field 'event'"),
    ('{"event": 5}', "field 'event' must be str, not int"),
    ('{"event": "media"}', "missing field 'media'"),
    ('{"event": "media", "media": []}', "field 'media' must be dict"),
    ('{"event": "media", "media": {}}', "missing field 'media.payload'"),
    ('{"event": "media", "media": {"payload": 5}}', "'media.payload' must be str, not int"),
    ('{"event": "media", "media": {"payload": true}}', "must be str, not bool"),
    (B64_BAD, "not base64"),
    (NON_ASCII, "not base64"),
    ('{"event": "mark"}', "missing field 'mark'"),
    ('{"event": "mark", "mark": {"name": 3}}', "'mark.name' must be str"),
    ('{"event": "dance"}', "unknown event 'dance'"),
]


@pytest.mark.parametrize("dialect", ["voxengine", "twilio"])
@pytest.mark.parametrize(("text", "reason"), MALFORMED)
def test_a_bad_message_is_an_event_never_an_exception(dialect: str, text: str, reason: str) -> None:
    stream = open_stream(dialect, StreamConfig())
    out = stream.receive(text)
    (event,) = out.events
    assert isinstance(event, MalformedMessage)
    assert reason in event.reason
    assert event.text == text
    assert out.send == ()
    assert stream.playout.queued_bytes == 0 and stream.playout.pending_marks == ()


def test_an_unknown_event_says_which() -> None:
    (event,) = TwilioStream(TWILIO).receive('{"event": "start", "start": {}}').events
    assert isinstance(event, UnknownEvent) and event.event == "start"
    assert "twilio dialect" in event.reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"event": "start"}', "missing field 'start'"),
        ('{"event": "start", "start": {"mediaFormat": 1}}', "'start.mediaFormat' must be dict"),
        ('{"event":"start","start":{"mediaFormat":{"encoding":"OPUS"}}}', "unknown audio"),
        ('{"event":"start","start":{"customParameters":[]}}', "customParameters' must be dict"),
        ('{"event":"start","start":{"tag":7}}', "'start.tag' must be str"),
        (
            json.dumps({"event": "media", "media": {"payload": "AAAA"}}),  # 3 bytes
            "odd length",
        ),
    ],
)
def test_voxengine_specific_malformed(text: str, reason: str) -> None:
    stream = VoxEngineStream(StreamConfig(encoding=Encoding.PCM16))
    (event,) = stream.receive(text).events
    assert isinstance(event, MalformedMessage) and reason in event.reason


def test_a_server_that_does_not_read_keeps_memory_bounded() -> None:
    """Ten seconds of caller audio into a send queue nobody drains: 5 s kept, one warning."""
    stream = open_stream("voxengine", StreamConfig(encoding=Encoding.PCM16))
    queue = SendQueue()
    warnings = int(queue.extend(stream.start().send))
    for _ in range(500):
        warnings += queue.extend(stream.send_audio(bytes(640)).send)
    assert warnings == 1
    assert queue.media_queued == 250 and len(queue) == 251
    first = queue.pop()
    assert first is not None and json.loads(first)["event"] == "start"  # control is kept

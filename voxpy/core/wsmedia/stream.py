"""The sans-I/O media stream over a WebSocket: what both dialects share.

One :class:`MediaStream` is one socket's media session, both ways. Caller audio goes in as
internal PCM (:meth:`~MediaStream.send_audio`) and comes out as JSON text frames of 20 ms;
the bot's text frames go in (:meth:`~MediaStream.receive`) and come out as typed events, their
audio landing in the playout queue that the media clock drains with :meth:`~MediaStream.pull`.
No sockets, no clock, no threads: media time is counted in frames (a pjsua2 port ticks every
20 ms whether or not anyone speaks), so timestamps are exact and tests need no sleeping.

A dialect (voxengine.py, twilio.py) decides the envelope of each message and which events it
accepts; parsing, codecs, framing, marks and bounds live here. Misuse by the I/O layer (audio
before start, a bad DTMF digit) raises from voxpy.errors; nothing the bot sends does.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from voxpy.core.audio import FRAME_MS, Decoder, Encoder, Encoding, FrameChunker, check_rate
from voxpy.core.wsmedia.events import (
    ClearReceived,
    MalformedMessage,
    MarkReceived,
    MediaReceived,
    Outgoing,
    Output,
    StreamEvent,
    UnknownEvent,
)
from voxpy.core.wsmedia.playout import DEFAULT_MAX_SECONDS, Playout, PlayoutQueue
from voxpy.errors import InvalidArgumentError, InvalidStateError

DTMF_DIGITS = frozenset("0123456789*#ABCD")

Json = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamConfig:
    """What a stream is told when it is opened (``send_media_to``'s parameters and ids)."""

    encoding: Encoding = Encoding.PCM8
    "wire encoding (VoxEngine's default PCM8); the Twilio dialect always uses ULAW"
    rate: int = 16000
    "internal PCM rate, the pjsua2 bridge's clock (8000 or 16000)"
    tag: str | None = None
    custom_parameters: dict[str, str] = field(default_factory=dict)
    call_id: str = ""
    "Twilio's callSid"
    stream_id: str = ""
    "Twilio's streamSid: made by the I/O layer (ids are not the core's business)"
    account_id: str = ""
    "Twilio's accountSid"
    max_playout_seconds: float = DEFAULT_MAX_SECONDS


class BadMessage(Exception):
    """A message cannot be used. Control flow inside a dialect's parsing only: caught in
    :meth:`MediaStream.receive` and turned into a MalformedMessage, so it is not in the error
    tree (voxpy.errors) and never escapes."""


def field_of(obj: Json, key: str, kind: type[Any], where: str = "") -> Any:
    """``obj[key]`` if present and of type ``kind``; otherwise BadMessage naming the path."""
    path = f"{where}.{key}" if where else key
    if key not in obj:
        raise BadMessage(f"missing field {path!r}")
    value = obj[key]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise BadMessage(f"field {path!r} must be {kind.__name__}, not {type(value).__name__}")
    return value


def dumps(message: Json) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


class MediaStream:
    """Base of the dialects; use :func:`~voxpy.core.wsmedia.dialects.open_stream`."""

    dialect: ClassVar[str]

    def __init__(self, config: StreamConfig) -> None:
        check_rate(config.rate)
        self.config = config
        self.encoding = self.wire_encoding(config)
        self._encoder = Encoder(self.encoding, config.rate)
        self._chunker = FrameChunker(self.encoding.frame_bytes())
        self._decoder = Decoder(self.encoding, config.rate)
        "the bot's audio: the stream's encoding until a VoxEngine start names another"
        self.playout = PlayoutQueue(config.rate, max_seconds=config.max_playout_seconds)
        self.started = False
        "between start() and stop(): caller audio is being sent"
        self._ever_started = False
        self._seq = 0
        self._chunk = 0
        self._handlers: dict[str, Callable[[Json, str], Output]] = {
            "media": self._on_media,
            "mark": self._on_mark,
            "clear": self._on_clear,
        }

    # -- what a dialect defines ---------------------------------------------------------------

    def wire_encoding(self, config: StreamConfig) -> Encoding:
        return config.encoding

    def envelope(self, event: str, body: Json | None) -> Json:
        """The message for ``event`` with its ``body`` (under the event's own key)."""
        raise NotImplementedError

    def start_body(self) -> Json:
        raise NotImplementedError

    def media_body(self, payload: str, chunk: int, timestamp: int) -> Json:
        raise NotImplementedError

    def dtmf_body(self, digit: str) -> Json:
        raise NotImplementedError

    def stop_body(self) -> Json:
        raise NotImplementedError

    def mark_body(self, name: str) -> Json:
        raise NotImplementedError

    def preamble(self) -> list[Json]:
        """Messages before the first start (Twilio's ``connected``)."""
        return []

    # -- caller audio out ---------------------------------------------------------------------

    def start(self) -> Output:
        """Begin sending caller audio: the start message (and the dialect's preamble)."""
        if self.started:
            raise InvalidStateError("the media stream is already started")
        first = [] if self._ever_started else self.preamble()
        self.started, self._ever_started = True, True
        self._chunk = 0
        self._chunker.flush()
        texts = [dumps(m) for m in first] + [self._message("start", self.start_body())]
        return Output(send=tuple(Outgoing(text=t) for t in texts))

    def send_audio(self, pcm: bytes) -> Output:
        """Caller audio (internal PCM, any length) in; a media message per whole 20 ms out.

        After stop() it is ignored: audio still in flight from the media thread is normal.
        """
        if not self._ever_started:
            raise InvalidStateError("send_audio() before start()")
        if not self.started:
            return Output()
        sent = []
        for frame in self._chunker.feed(self._encoder.encode(pcm)):
            self._chunk += 1
            payload = base64.b64encode(frame).decode("ascii")
            body = self.media_body(payload, self._chunk, (self._chunk - 1) * FRAME_MS)
            sent.append(Outgoing(text=self._message("media", body), media=True))
        return Output(send=tuple(sent))

    def send_dtmf(self, digit: str) -> Output:
        """A DTMF digit the caller pressed (0-9, *, #, A-D)."""
        if digit not in DTMF_DIGITS:
            raise InvalidArgumentError(f"not a DTMF digit: {digit!r}")
        if not self.started:
            return Output()
        return Output(send=(Outgoing(text=self._message("dtmf", self.dtmf_body(digit))),))

    def stop(self) -> Output:
        """Stop sending caller audio (a partial frame is dropped); twice is harmless."""
        if not self.started:
            return Output()
        self.started = False
        self._chunker.flush()
        return Output(send=(Outgoing(text=self._message("stop", self.stop_body())),))

    @property
    def duration_ms(self) -> int:
        """Caller audio sent since the last start."""
        return self._chunk * FRAME_MS

    # -- bot audio in -------------------------------------------------------------------------

    def receive(self, text: str) -> Output:
        """One text frame from the bot: its events, and any messages it makes us send."""
        try:
            message = json.loads(text)
        except (ValueError, RecursionError) as e:  # RecursionError: "[[[[..." nested deep
            return _malformed(f"not JSON: {e}", text)
        if not isinstance(message, dict):
            return _malformed(f"not a JSON object but {type(message).__name__}", text)
        try:
            event = field_of(message, "event", str)
            handler = self._handlers.get(event)
            if handler is None:
                reason = f"unknown event {event!r} for the {self.dialect} dialect"
                return Output(events=(UnknownEvent(reason=reason, text=text, event=event),))
            return handler(message, text)
        except BadMessage as e:
            return _malformed(str(e), text)

    def pull(self) -> tuple[Playout, Output]:
        """One media-clock tick: the frame to play and the mark echoes it makes due."""
        playout = self.playout.pull()
        return playout, self._echo(playout.marks)

    def clear(self) -> Output:
        """Drop the bot's queued audio now (``ws.clear_media_buffer()``); echo pending marks."""
        dropped, marks = self.playout.clear()
        return self._echo(marks, events=(ClearReceived(dropped_bytes=dropped),))

    def decode_payload(self, message: Json) -> bytes:
        media = field_of(message, "media", dict)
        payload = field_of(media, "payload", str, "media")
        try:
            data = base64.b64decode(payload, validate=True)
        except ValueError as e:  # binascii.Error, or non-ASCII characters
            raise BadMessage(f"media.payload is not base64: {e}") from None
        try:
            return self._decoder.decode(data)
        except InvalidArgumentError as e:
            raise BadMessage(str(e)) from None

    def _on_media(self, message: Json, text: str) -> Output:
        pcm = self.decode_payload(message)
        dropped = self.playout.push(pcm)
        return Output(events=(MediaReceived(pcm=pcm, dropped_bytes=dropped),))

    def _on_mark(self, message: Json, text: str) -> Output:
        mark = field_of(message, "mark", dict)
        name = field_of(mark, "name", str, "mark")
        return self._echo(self.playout.mark(name), events=(MarkReceived(name=name),))

    def _on_clear(self, message: Json, text: str) -> Output:
        return self.clear()

    def _echo(self, marks: tuple[str, ...], events: tuple[StreamEvent, ...] = ()) -> Output:
        send = tuple(Outgoing(text=self._message("mark", self.mark_body(n))) for n in marks)
        return Output(send=send, events=events) if send or events else Output()

    def _message(self, event: str, body: Json | None) -> str:
        self._seq += 1
        return dumps(self.envelope(event, body))

    @property
    def sequence_number(self) -> int:
        """Messages numbered so far (the last one's number, counted from 1)."""
        return self._seq


def _malformed(reason: str, text: str) -> Output:
    return Output(events=(MalformedMessage(reason=reason, text=text),))

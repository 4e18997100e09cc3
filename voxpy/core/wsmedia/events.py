"""What a media stream protocol hands back: events from the bot server and messages to send.

Every call into a stream returns one :class:`Output`: the text frames to send, in order, and
the typed events the bot's message meant. Nothing here raises for what the server sends: a bad
message is a :class:`MalformedMessage` carrying the reason and the text.
"""

from __future__ import annotations

from dataclasses import dataclass

from voxpy.core.audio import Encoding


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """One text frame for the socket.

    ``media``: caller audio, which the send queue may drop when the server does not read;
    everything else (start, dtmf, mark echoes, stop) is control and is kept.
    """

    text: str
    media: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamEvent:
    """Base of what the bot server's messages mean."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaReceived(StreamEvent):
    """Audio from the bot, decoded to internal PCM; it is already in the playout queue."""

    pcm: bytes
    dropped_bytes: int = 0
    "internal PCM the playout queue dropped (oldest first) to make room; log it"


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkReceived(StreamEvent):
    """The bot asked to hear back when the audio it sent so far has been played."""

    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearReceived(StreamEvent):
    """The bot dropped its queued audio (barge-in); pending marks are echoed in the same Output."""

    dropped_bytes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaStartReceived(StreamEvent):
    """VoxEngine dialect: the bot announced its stream (MEDIA_STARTED's tag, encoding, params)."""

    tag: str | None
    encoding: Encoding
    custom_parameters: dict[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaStopReceived(StreamEvent):
    """VoxEngine dialect: the bot ended its stream (queued audio still plays out)."""

    tag: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class MalformedMessage(StreamEvent):
    """A message the dialect cannot use: not JSON, a field missing or of the wrong type, bad
    base64, or (:class:`UnknownEvent`) an event the dialect does not know. Nothing changed.

    The I/O layer still fires MESSAGE(text) for it, as for every text frame, so a bot's own
    messages reach the scenario; this event is for a (rate-limited) log line.
    """

    reason: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownEvent(MalformedMessage):
    """A well-formed JSON object whose ``event`` the dialect does not know (often a bot's own
    application message, so worth a quieter log line than other malformed ones)."""

    event: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Output:
    """The result of one step: frames to send (in order) and events (in order)."""

    send: tuple[Outgoing, ...] = ()
    events: tuple[StreamEvent, ...] = ()

    @property
    def texts(self) -> list[str]:
        """Just the texts to send (tests and logs)."""
        return [o.text for o in self.send]

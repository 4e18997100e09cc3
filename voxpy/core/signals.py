"""Signals: facts a backend observed on a call leg, handed to the runtime as values.

A backend creates these on whatever thread it runs and passes them to its
:class:`~voxpy.core.ports.SignalSink`; it never touches runtime objects. Headers are the leg's
custom SIP headers (see :mod:`voxpy.core.headers`) as an immutable name → value mapping.

Naming: one name means one thing on both sides of the thread boundary. A signal is named for
the stack-level fact, never for the scenario event it may lead to: the command it answers
(``Play`` → :class:`PlayStarted`/:class:`PlayEnded`), the protocol unit that arrived
(:class:`DtmfReceived`, ``Sip*Received`` for in-dialog requests), or the call progress
(Progress, Answered, Ended). Scenario events keep VoxEngine's names (``PlaybackFinished``,
``ToneReceived``, ``InfoReceived``, ...) and live only in :mod:`voxpy.runtime.events`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from voxpy.core.headers import Headers


@dataclass(frozen=True, slots=True, kw_only=True)
class Signal:
    """Base of every signal: which leg it is about."""

    call_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingCall(Signal):
    """A new INVITE arrived and the backend holds a leg for it (not yet answered)."""

    from_uri: str
    to_uri: str
    callerid: str
    "User part of the From URI."
    destination: str
    "User part of the To/Request URI: the number that was dialled."
    display_name: str = ""
    headers: Headers = field(default_factory=Headers)
    sip_call_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress(Signal):
    """A provisional response was received (outbound) or sent (inbound): 180 ringing, 183 media."""

    code: int
    reason: str = ""
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Answered(Signal):
    """The leg is confirmed: 200 OK received (outbound) or ACK of our 200 received (inbound)."""

    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ended(Signal):
    """The leg is gone. ``code`` is the final SIP status: 200 after a BYE, or the failure code."""

    code: int
    reason: str = ""
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandFailed(Signal):
    """The backend could not carry out ``op`` on this leg; ``status`` is the stack's error code."""

    op: str
    message: str
    status: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayStarted(Signal):
    """``playback_id`` is now the leg's audio source; ``duration`` is one pass, in seconds."""

    playback_id: str
    duration: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayEnded(Signal):
    """``playback_id`` reached its end (never for a loop), or failed with ``error``."""

    playback_id: str
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingStarted(Signal):
    recording_id: str
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingStopped(Signal):
    """The MP3 file is complete (after StopRecording or the end of the call)."""

    recording_id: str
    path: str
    duration: float


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingFailed(Signal):
    recording_id: str
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DtmfReceived(Signal):
    """A DTMF digit arrived: ``method`` is "rfc2833" (telephone-event) or "info" (SIP INFO)."""

    tone: str
    method: str = "rfc2833"


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioReport(Signal):
    """Seconds of non-silent audio received from the far end so far (None: not measured).

    Counting starts when the leg can carry audio (183 or 200)."""

    seconds: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferStatus(Signal):
    """Progress of a REFER we sent, from the NOTIFY sipfrags (``final`` on the last one)."""

    code: int
    reason: str = ""
    final: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferRequested(Signal):
    """An incoming REFER was accepted (202); ``to`` is the Refer-To URI, kept as written
    (tel: stays tel:). Answer it with NotifyTransfer."""

    to: str
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Redirected(Signal):
    """An outbound leg got a 3xx; ``contact`` is where it was sent."""

    code: int
    contact: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SipInfoReceived(Signal):
    """A SIP INFO (other than DTMF, which comes as DtmfReceived) arrived and was answered 200."""

    mime_type: str
    body: str
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class SipMessageReceived(Signal):
    text: str
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageDelivered(Signal):
    """A MESSAGE we sent got its 2xx (a failure comes as CommandFailed, op SendMessage)."""

    text: str
    code: int = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class SipReInviteReceived(Signal):
    """The far end sent a re-INVITE (its SDP as ``body``)."""

    mime_type: str
    body: str
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldChanged(Signal):
    """The far end put us on hold (sendonly/inactive) or took us off it."""

    on_hold: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class StatsReport(Signal):
    """Running totals of the leg's audio stream (answers ReportStats).

    ``packets_lost`` is what we did not receive; ``rtt_ms`` needs RTCP (None before the
    first report); levels are 0-32767, None when not measured.
    """

    codec: str
    packets_sent: int
    packets_received: int
    bytes_sent: int
    bytes_received: int
    packets_lost: int
    jitter_ms: float
    rtt_ms: float | None = None
    audio_in_level: int | None = None
    audio_out_level: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RxReport(Signal):
    """RTP packets received on the leg so far, over every stream it had (answers ReportRx)."""

    packets_received: int


SIGNAL_TYPES: tuple[type[Signal], ...] = (
    IncomingCall,
    Progress,
    Answered,
    Ended,
    CommandFailed,
    PlayStarted,
    PlayEnded,
    RecordingStarted,
    RecordingStopped,
    RecordingFailed,
    DtmfReceived,
    AudioReport,
    TransferStatus,
    TransferRequested,
    Redirected,
    SipInfoReceived,
    SipMessageReceived,
    MessageDelivered,
    SipReInviteReceived,
    HoldChanged,
    StatsReport,
    RxReport,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioFrames(Signal):
    """Audio the far end sent, captured by ``tap_id``: one or more whole 20 ms frames of
    16-bit little-endian mono PCM at the tap's rate, in order and without gaps."""

    tap_id: str
    pcm: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedPlayed(Signal):
    """Progress of ``feed_id``, cumulative bytes since StartFeed.

    ``played_bytes`` went out to the far end; ``buffered_bytes`` wait; ``dropped_bytes`` were
    dropped because the buffer was full. What ClearFeed discarded is in none of them
    (fed = played + buffered + dropped + cleared). Emitted when the counts change, at most
    about every 100 ms, right after a ClearFeed, and once each time the buffer runs empty."""

    feed_id: str
    played_bytes: int
    buffered_bytes: int
    dropped_bytes: int


SIGNAL_TYPES = (*SIGNAL_TYPES, AudioFrames, FeedPlayed)

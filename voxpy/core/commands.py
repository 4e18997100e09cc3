"""Commands: what the runtime asks a backend to do to a leg, as values.

A backend's ``send(command)`` never blocks and never raises for a SIP-level failure: the outcome
comes back later as a signal (:class:`~voxpy.core.signals.Ended`,
:class:`~voxpy.core.signals.CommandFailed`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from voxpy.core.headers import Headers


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """Base of every command: which leg it is for."""

    call_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Dial(Command):
    """Place an outbound leg to ``uri``; ``call_id`` is chosen by the runtime."""

    uri: str
    callerid: str | None = None
    display_name: str | None = None
    headers: Headers = field(default_factory=Headers)
    auth_user: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Provisional(Command):
    """Send a provisional response on an inbound leg: 180 (ring) or 183 (early media, with SDP)."""

    code: int
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer(Command):
    """Answer an inbound leg with 200 OK."""

    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reject(Command):
    """Send a final non-2xx response on an inbound leg: 4xx-6xx, or a 3xx redirect to
    ``contact`` (the Contact of the response; the caller may follow it)."""

    code: int
    headers: Headers = field(default_factory=Headers)
    contact: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancel(Command):
    """CANCEL an outbound leg that has not been answered.

    ``code`` is the status the backend reports in its Ended (487 by default, 408 for a dial
    timeout), as pjsua does. A 200 that crossed the CANCEL is ended with BYE by the stack.
    """

    code: int = 487
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Bye(Command):
    """End an answered leg with BYE (inbound: also once our 200 OK went out)."""

    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Play(Command):
    """Play a prepared WAV file (mono PCM16) into the leg, replacing its current audio source.

    A leg receives one audio stream at a time (VoxEngine's rule): a new Play or SendMedia
    replaces the previous source. ``playback_id`` names this playback in later signals.
    """

    playback_id: str
    path: str
    loop: bool = False
    duration: float = 0.0
    "Length of one pass as prepared; a backend that cannot measure the file uses it."


@dataclass(frozen=True, slots=True, kw_only=True)
class StopPlayback(Command):
    """Stop ``playback_id`` if it still plays; no PlayEnded follows (VoxEngine's rule)."""

    playback_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SendMedia(Command):
    """Send what the far end of ``call_id`` says into leg ``to_call_id`` (one direction).

    It replaces ``to_call_id``'s current audio source.
    """

    to_call_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StopMedia(Command):
    """Stop sending ``call_id``'s audio into ``to_call_id``."""

    to_call_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StartRecording(Command):
    """Record the leg to an MP3 file, encoded while the call runs.

    Mono mixes both directions; stereo puts what the engine sends on the left channel and what
    the far end sends on the right (VoxEngine's layout).
    """

    recording_id: str
    path: str
    stereo: bool = False
    sample_rate: int = 8000
    bitrate: int = 32
    "kbit/s"


@dataclass(frozen=True, slots=True, kw_only=True)
class StopRecording(Command):
    """Finish ``recording_id``; RecordingStopped follows once the file is complete."""

    recording_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SendDigits(Command):
    """Send DTMF digits (0-9 * # A-D, no pauses: the runtime schedules 'w').

    ``rfc2833`` falls back to in-band tones when the far end did not offer telephone-event.
    """

    digits: str
    method: str = "rfc2833"
    "rfc2833 or info (SIP INFO application/dtmf-relay)."


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer(Command):
    """Send REFER: blind to ``to``, or attended (Refer-To with Replaces) to the dialog of
    ``replaces_call_id``, a leg of the same backend. Progress comes back as TransferStatus."""

    to: str = ""
    replaces_call_id: str | None = None
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class HandleTransfers(Command):
    """Whether an incoming REFER on this leg is accepted (202, then TransferRequested) or
    declined with 603 (the default)."""

    enabled: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifyTransfer(Command):
    """Finish an accepted incoming REFER: NOTIFY with a sipfrag of ``code`` (200 = success)."""

    code: int
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SendInfo(Command):
    """SIP INFO in the dialog."""

    mime_type: str
    body: str
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class SendMessage(Command):
    """SIP MESSAGE in the dialog; MessageDelivered follows its 2xx."""

    text: str
    headers: Headers = field(default_factory=Headers)
    content_type: str = "text/plain"


@dataclass(frozen=True, slots=True, kw_only=True)
class Hold(Command):
    """Put the far end on hold (re-INVITE a=sendonly) or take it off (``on=False``)."""

    on: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Mute(Command):
    """Stop (or resume) sending our audio into the leg; RTP keeps flowing as silence."""

    on: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportStats(Command):
    """Ask for a StatsReport of the leg's audio stream (running totals)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportRx(Command):
    """Ask for an RxReport: the packets received so far. The always-on RTP-timeout watch
    sends this every few seconds per call, so it must stay far cheaper than ReportStats."""


COMMAND_TYPES: tuple[type[Command], ...] = (
    Dial,
    Provisional,
    Answer,
    Reject,
    Cancel,
    Bye,
    Play,
    StopPlayback,
    SendMedia,
    StopMedia,
    StartRecording,
    StopRecording,
    SendDigits,
    Transfer,
    HandleTransfers,
    NotifyTransfer,
    SendInfo,
    SendMessage,
    Hold,
    Mute,
    ReportStats,
    ReportRx,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class StartTap(Command):
    """Hand what the far end sends (the caller's audio) to the runtime as AudioFrames:
    16-bit little-endian mono PCM in whole 20 ms frames at ``sample_rate`` (8000 or 16000).

    A leg may have several taps (by ``tap_id``); they end with StopTap or the leg."""

    tap_id: str
    sample_rate: int = 8000


@dataclass(frozen=True, slots=True, kw_only=True)
class StopTap(Command):
    """Stop ``tap_id``; frames captured before it still arrive, none after."""

    tap_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StartFeed(Command):
    """Make ``feed_id`` the leg's audio source: PCM the runtime sends with FeedAudio
    (16-bit little-endian mono at ``sample_rate``, 8000 or 16000) is played into the leg.

    Like Play and SendMedia it replaces the leg's current source (one incoming stream per
    leg); a later Play, SendMedia or StartFeed replaces it in turn and stops it silently.
    Silence is sent whenever its buffer is empty. Progress comes back as FeedPlayed."""

    feed_id: str
    sample_rate: int = 8000


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedAudio(Command):
    """Append ``pcm`` (any whole number of samples; the backend cuts it into frames) to the
    feed's buffer. The buffer is bounded (:data:`FEED_BUFFER_S` seconds): beyond it the oldest
    audio is dropped and counted in FeedPlayed.dropped_bytes."""

    feed_id: str
    pcm: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearFeed(Command):
    """Drop everything buffered in ``feed_id`` now (Twilio's ``clear``): the far end hears
    silence within 100 ms. A FeedPlayed with ``buffered_bytes=0`` follows."""

    feed_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StopFeed(Command):
    """Stop ``feed_id``: its buffer is dropped and the leg hears silence."""

    feed_id: str


FEED_BUFFER_S = 2.0
"How much audio a feed buffers before FeedAudio drops the oldest."

STREAM_COMMANDS = (StartTap, StopTap, StartFeed, FeedAudio, ClearFeed, StopFeed)
"The commands of audio taps and feeds (both backends route them to their stream code)."
COMMAND_TYPES = (*COMMAND_TYPES, *STREAM_COMMANDS)

"""Event objects handed to scenario handlers: one frozen dataclass per event, one argument ``e``.

Field names are VoxEngine's payload names in snake_case. Every call event carries ``call`` and
``headers`` (the custom SIP headers of the message that caused it, empty when none).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from voxpy.core.events import AppEvents, CallEvents, DTMFType
from voxpy.core.headers import Headers

if TYPE_CHECKING:
    from voxpy.runtime.call import Call


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every event: ``name`` is the ``AppEvents``/``CallEvents`` member that fired,
    ``id`` a unique id of this one event (VoxEngine's ``e.id``; also in its log line)."""

    name: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


# -- call events ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEvent(Event):
    """Base of call events."""

    call: Call
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Connected(CallEvent):
    """The leg is answered and confirmed."""

    custom_data: object = None
    "The call's ``custom_data()`` when it connected (VoxEngine's ``customData``)."


@dataclass(frozen=True, slots=True, kw_only=True)
class Disconnected(CallEvent):
    """The leg ended after being connected, or an inbound leg ended before it was."""

    code: int
    "Final SIP status: 200 after a BYE, else the failure (487 caller cancelled, 408 no answer)."
    reason: str = ""
    duration: float = 0.0
    "Seconds the leg was connected."
    direction: str = ""
    "INCOMING or OUTGOING, as ``call.direction()``."


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed(CallEvent):
    """An outbound leg ended without connecting (486, 404, 603, 408 timeout, 487 cancelled)."""

    code: int
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Ringing(CallEvent):
    """The far end of an outbound leg is ringing (180)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioStarted(CallEvent):
    """Audio can flow: 183 early media or answer (once per leg)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StateChanged(CallEvent):
    """``call.state()`` changed; values are VoxEngine's state strings."""

    old_state: str
    new_state: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallError(CallEvent):
    """The backend could not carry out ``op`` on this leg (voxpy addition)."""

    op: str
    error: str
    status: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybackEvent(CallEvent):
    """Base of playback events. ``text`` (say) or ``source`` (start_playback) say what plays:
    voxpy additions, so a test can tell what a caller heard."""

    playback_id: str = ""
    text: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybackReady(PlaybackEvent):
    """The media is synthesized/downloaded and converted; playing starts next."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybackStarted(PlaybackEvent):
    """Audio is playing into the call; ``duration`` is its length in seconds."""

    duration: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybackFinished(PlaybackEvent):
    """Playback reached its end, or failed with ``error`` (then the call simply goes on)."""

    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordStarted(CallEvent):
    url: str
    "Path of the MP3 file being written."


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordStopped(CallEvent):
    url: str
    duration: float


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordError(CallEvent):
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ToneReceived(CallEvent):
    """A DTMF digit (after ``handle_tones(True)``)."""

    tone: str
    tone_type: str
    "TELEPHONE_EVENT (RFC 2833), IN_BAND (heard in the audio) or SIP_INFO."
    type: DTMFType
    "VoxEngine's numeric kind: TELEPHONE_EVENT (1), IN_BAND (2) or SIP_INFO (3)."


# -- application events --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AppEvent(Event):
    """Base of session events; ``session_id`` says which session."""

    session_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Started(AppEvent):
    """The session started; its scenario's top-level code has run."""

    custom_data: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAlerting(AppEvent):
    """An inbound call arrived and waits for the scenario to answer, reject or ignore it."""

    call: Call
    callerid: str
    destination: str
    display_name: str
    from_uri: str
    to_uri: str
    headers: Headers
    custom_data: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRequest(AppEvent):
    """A request sent to this session through the HTTP API (VoxEngine's media_session_access
    URL). The first handler that returns something other than None gives the reply: a str,
    bytes, or a JSON-able value."""

    method: str
    path: str
    body: str
    headers: dict[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Terminating(AppEvent):
    """The session is ending; live calls are about to be hung up."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Terminated(AppEvent):
    """The session has ended; no further events fire for it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HandlerError(AppEvent):
    """A handler raised (voxpy addition). The engine logged it and carried on."""

    error: BaseException
    event: str
    "Name of the event whose handler failed (or ``timer``)."
    call: Call | None = None
    traceback: str = ""


__all__ = [
    "AppEvent",
    "AppEvents",
    "AudioStarted",
    "CallAlerting",
    "CallError",
    "CallEvent",
    "CallEvents",
    "Connected",
    "DTMFType",
    "Disconnected",
    "Failed",
    "HandlerError",
    "HttpRequest",
    "PlaybackEvent",
    "PlaybackFinished",
    "PlaybackReady",
    "PlaybackStarted",
    "RecordError",
    "RecordStarted",
    "RecordStopped",
    "Ringing",
    "Started",
    "StateChanged",
    "Terminated",
    "Terminating",
    "ToneReceived",
]

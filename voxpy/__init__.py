"""voxpy: VoxEngine-style call scenarios in Python on PJSIP.

A scenario file does ``from voxpy import VoxEngine, AppEvents, CallEvents``; ``VoxEngine`` is
the session the code runs in (each session runs the file afresh, as VoxEngine does).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any, cast

from voxpy.core.events import (
    AppEvents,
    ASREvents,
    CallEvents,
    ConferenceEvents,
    DTMFType,
    PlayerEvents,
    RecorderEvents,
    WebSocketEvents,
)
from voxpy.core.headers import Headers
from voxpy.errors import (
    BackendError,
    CapacityError,
    ConfigError,
    InvalidArgumentError,
    InvalidStateError,
    MediaError,
    ScenarioError,
    VoxpyError,
)
from voxpy.media.hearing import AMDOptions
from voxpy.runtime.call import Call
from voxpy.runtime.call_hearing import Gathered
from voxpy.runtime.conference import Conference, Endpoint
from voxpy.runtime.events import (
    AppEvent,
    AudioStarted,
    CallAlerting,
    CallError,
    CallEvent,
    Connected,
    Disconnected,
    Event,
    Failed,
    HandlerError,
    HttpRequest,
    PlaybackEvent,
    PlaybackFinished,
    PlaybackReady,
    PlaybackStarted,
    RecordError,
    RecordStarted,
    RecordStopped,
    Ringing,
    Started,
    StateChanged,
    Terminated,
    Terminating,
    ToneReceived,
)
from voxpy.runtime.hearing_events import (
    ASREvent,
    AudioIdentificationError,
    AudioIdentificationResult,
    AudioIdentificationStarted,
    AudioIdentificationStopped,
    BeepDetectionComplete,
    BeepDetectionError,
    MicStatusChange,
    ToneDetected,
    Volume,
)
from voxpy.runtime.playback import Playback
from voxpy.runtime.player import Player
from voxpy.runtime.recognition import ASR
from voxpy.runtime.recorder import Recorder
from voxpy.runtime.scope import current_session
from voxpy.runtime.session import Session
from voxpy.runtime.signal_events import (
    BlindTransferRequested,
    FirstAudioPacketReceived,
    Forwarding,
    InfoReceived,
    MediaStatisticsReceived,
    MessageReceived,
    MessageSent,
    MuteChanged,
    OffHold,
    OnHold,
    QualityWarning,
    ReInviteReceived,
    RtpResumed,
    RtpStopped,
    TransferComplete,
    TransferFailed,
    WarningCleared,
)
from voxpy.runtime.unit_events import (
    ConferenceEvent,
    ConferenceRecordStarted,
    ConferenceRecordStopped,
    ConferenceStarted,
    ConferenceStopped,
    EndpointAdded,
    EndpointRemoved,
    PlayerEvent,
    PlayerFinished,
    PlayerStarted,
    RecorderEvent,
    RecorderStarted,
    RecorderStopped,
)
from voxpy.runtime.websocket import WebSocket
from voxpy.runtime.ws_events import (
    IncomingWebSocket,
    MediaEnded,
    MediaStarted,
    WebSocketClose,
    WebSocketError,
    WebSocketEvent,
    WebSocketMessage,
    WebSocketOpen,
)


class _SessionProxy:
    """``VoxEngine``: forwards every attribute to the session whose code is running now."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            session = current_session.get()
        except LookupError:
            raise ScenarioError(
                "VoxEngine is only available inside a running scenario session "
                "(top-level scenario code, handlers and timers)"
            ) from None
        return getattr(session, name)

    def __repr__(self) -> str:
        session = current_session.get(None)
        return f"<VoxEngine session={session.id if session else None}>"


VoxEngine: Session = cast(Session, _SessionProxy())
"""The session the running code belongs to. Typed as :class:`Session`, which it forwards every
attribute to, so an IDE completes ``VoxEngine.`` and mypy checks the calls; at runtime it is
the proxy (``isinstance(VoxEngine, Session)`` is False)."""

try:
    __version__ = version("voxpy")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = [
    "ASR",
    "AMDOptions",
    "ASREvent",
    "ASREvents",
    "AppEvent",
    "AppEvents",
    "AudioIdentificationError",
    "AudioIdentificationResult",
    "AudioIdentificationStarted",
    "AudioIdentificationStopped",
    "AudioStarted",
    "BackendError",
    "BeepDetectionComplete",
    "BeepDetectionError",
    "BlindTransferRequested",
    "Call",
    "CallAlerting",
    "CallError",
    "CallEvent",
    "CallEvents",
    "CapacityError",
    "Conference",
    "ConferenceEvent",
    "ConferenceEvents",
    "ConferenceRecordStarted",
    "ConferenceRecordStopped",
    "ConferenceStarted",
    "ConferenceStopped",
    "ConfigError",
    "Connected",
    "DTMFType",
    "Disconnected",
    "Endpoint",
    "EndpointAdded",
    "EndpointRemoved",
    "Event",
    "Failed",
    "FirstAudioPacketReceived",
    "Forwarding",
    "Gathered",
    "HandlerError",
    "Headers",
    "HttpRequest",
    "IncomingWebSocket",
    "InfoReceived",
    "InvalidArgumentError",
    "InvalidStateError",
    "MediaEnded",
    "MediaError",
    "MediaStarted",
    "MediaStatisticsReceived",
    "MessageReceived",
    "MessageSent",
    "MicStatusChange",
    "MuteChanged",
    "OffHold",
    "OnHold",
    "Playback",
    "PlaybackEvent",
    "PlaybackFinished",
    "PlaybackReady",
    "PlaybackStarted",
    "Player",
    "PlayerEvent",
    "PlayerEvents",
    "PlayerFinished",
    "PlayerStarted",
    "QualityWarning",
    "ReInviteReceived",
    "RecordError",
    "RecordStarted",
    "RecordStopped",
    "Recorder",
    "RecorderEvent",
    "RecorderEvents",
    "RecorderStarted",
    "RecorderStopped",
    "Ringing",
    "RtpResumed",
    "RtpStopped",
    "ScenarioError",
    "Session",
    "Started",
    "StateChanged",
    "Terminated",
    "Terminating",
    "ToneDetected",
    "ToneReceived",
    "TransferComplete",
    "TransferFailed",
    "Volume",
    "VoxEngine",
    "VoxpyError",
    "WarningCleared",
    "WebSocket",
    "WebSocketClose",
    "WebSocketError",
    "WebSocketEvent",
    "WebSocketEvents",
    "WebSocketMessage",
    "WebSocketOpen",
    "__version__",
]

"""Event names. Values are VoxEngine's strings, so ``CallEvents.Connected == "Call.Connected"``."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class AppEvents(StrEnum):
    """Session-level events (VoxEngine ``AppEvents``)."""

    Started = "Application.Started"
    CallAlerting = "Application.CallAlerting"
    HttpRequest = "Application.HttpRequest"
    """An HTTP request for this session arrived (management API); the handler's return value
    is the reply."""
    Terminating = "Application.Terminating"
    Terminated = "Application.Terminated"
    HandlerError = "Application.HandlerError"
    """voxpy addition: a handler raised (``error``, ``event``, ``call``, ``traceback``)."""


class DTMFType(IntEnum):
    """VoxEngine's DTMF kinds: ``ToneReceived.type`` holds one (``handle_tones`` detects
    TELEPHONE_EVENT and SIP_INFO; in-band detection does not exist yet)."""

    ALL = 0
    TELEPHONE_EVENT = 1
    "RFC 2833 / 4733 telephone-event in the RTP stream."
    IN_BAND = 2
    SIP_INFO = 3


class CallEvents(StrEnum):
    """Call-leg events (VoxEngine ``CallEvents``)."""

    Connected = "Call.Connected"
    Disconnected = "Call.Disconnected"
    Failed = "Call.Failed"
    Ringing = "Call.Ringing"
    AudioStarted = "Call.AudioStarted"
    StateChanged = "Call.StateChanged"
    PlaybackReady = "Call.PlaybackReady"
    PlaybackStarted = "Call.PlaybackStarted"
    PlaybackFinished = "Call.PlaybackFinished"
    RecordStarted = "Call.RecordStarted"
    RecordStopped = "Call.RecordStopped"
    RecordError = "Call.RecordError"
    ToneReceived = "Call.ToneReceived"
    TransferComplete = "Call.TransferComplete"
    TransferFailed = "Call.TransferFailed"
    BlindTransferRequested = "Call.BlindTransferRequested"
    Forwarding = "Call.Forwarding"
    InfoReceived = "Call.InfoReceived"
    MessageReceived = "Call.MessageReceived"
    MessageSent = "Call.MessageSent"
    """Twilio's ``messageSent``: a MESSAGE we sent got its 2xx (``text``)."""
    ReInviteReceived = "Call.ReInviteReceived"
    OnHold = "Call.OnHold"
    OffHold = "Call.OffHold"
    MediaStatisticsReceived = "Call.MediaStatisticsReceived"
    Warning = "Call.Warning"
    WarningCleared = "Call.WarningCleared"
    RtpStopped = "Call.RtpStopped"
    RtpResumed = "Call.RtpResumed"
    FirstAudioPacketReceived = "Call.FirstAudioPacketReceived"
    Mute = "Call.Mute"
    Error = "Call.Error"
    """voxpy addition: the backend could not carry out a command on this leg (``error``, ``op``)."""

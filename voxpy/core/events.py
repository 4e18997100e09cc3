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
    WebSocket = "Application.WebSocket"
    """A WebSocket connected to this session through the API (``/sessions/{id}/websocket``);
    the event carries the same ``WebSocket`` object ``VoxEngine.create_websocket`` returns."""
    Terminating = "Application.Terminating"
    Terminated = "Application.Terminated"
    HandlerError = "Application.HandlerError"
    """voxpy addition: a handler raised (``error``, ``event``, ``call``, ``traceback``)."""


class DTMFType(IntEnum):
    """VoxEngine's DTMF kinds: ``ToneReceived.type`` holds one. ``handle_tones`` detects
    TELEPHONE_EVENT and SIP_INFO; IN_BAND (tones in the audio) when ``dtmf_types`` names it or
    ALL."""

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
    AudioIdentificationStarted = "Call.AudioIdentificationStarted"
    "answering-machine detection began (``detect_voicemail`` or ``call_sip(amd=...)``)"
    AudioIdentificationResult = "Call.AudioIdentificationResult"
    "``audio_type`` human / voicemail / unknown, ``confidence``, ``cause`` and timings"
    AudioIdentificationStopped = "Call.AudioIdentificationStopped"
    AudioIdentificationError = "Call.AudioIdentificationError"
    BeepDetectionComplete = "Call.BeepDetectionComplete"
    "the voicemail beep ended: ``frequencies`` (Hz)"
    BeepDetectionError = "Call.BeepDetectionError"
    "no beep: ``reason`` (``timeout``)"
    ToneDetected = "Call.ToneDetected"
    "a call-progress tone (``progress_tone``) or a voicemail beep (``voicemail_tone``)"
    MicStatusChange = "Call.MicStatusChange"
    "the far end started or stopped speaking (``active``)"
    Volume = "Call.Volume"
    "``input_volume`` (0..1) every ``monitor_volume`` interval"


class ASREvents(StrEnum):
    """Speech-recognition events (VoxEngine ``ASREvents``), fired by ``VoxEngine.create_asr``'s
    unit."""

    CaptureStarted = "ASR.CaptureStarted"
    SpeechCaptureStopped = "ASR.SpeechCaptureStopped"
    InterimResult = "ASR.InterimResult"
    Result = "ASR.Result"
    ASRError = "ASR.ASRError"


class WebSocketEvents(StrEnum):
    """WebSocket events (VoxEngine ``WebSocketEvents``; its upper-case member names)."""

    OPEN = "WebSocket.Open"
    CLOSE = "WebSocket.Close"
    "``code``, ``reason``, ``was_clean``"
    MESSAGE = "WebSocket.Message"
    "``text``: every text frame, media messages included"
    ERROR = "WebSocket.Error"
    "``error``: why (a refused connection, a TLS error, a bad frame)"
    MEDIA_STARTED = "WebSocket.MediaEventStarted"
    "the socket's audio started playing: ``tag``, ``encoding``, ``custom_parameters``"
    MEDIA_ENDED = "WebSocket.MediaEventEnded"
    "a second without the socket's audio: ``tag``, ``media_info`` {``duration``}"


class ConferenceEvents(StrEnum):
    """Conference events (VoxEngine ``ConferenceEvents``), fired by
    ``VoxEngine.create_conference``'s unit."""

    Started = "Conference.Started"
    Stopped = "Conference.Stopped"
    EndpointAdded = "Conference.EndpointAdded"
    "``endpoint``: a call joined"
    EndpointRemoved = "Conference.EndpointRemoved"
    "``endpoint``: a call left (removed, or hung up)"
    RecordStarted = "Conference.RecordStarted"
    "``url``: ``conf.record()`` began writing"
    RecordStopped = "Conference.RecordStopped"
    "``url``, ``duration``: the recording is complete"


class PlayerEvents(StrEnum):
    """Player events (VoxEngine ``PlayerEvents``) of ``create_tts_player``/``create_url_player``."""

    Started = "Player.Started"
    Finished = "Player.PlaybackFinished"
    "the end of the media (never while looping); ``error`` when it could not play"


class RecorderEvents(StrEnum):
    """Recorder events (VoxEngine ``RecorderEvents``) of ``VoxEngine.create_recorder``."""

    RecordStarted = "Recorder.Started"
    "``url``"
    RecordStopped = "Recorder.Stopped"
    "``url``, ``duration``; ``error`` when the file could not be written"

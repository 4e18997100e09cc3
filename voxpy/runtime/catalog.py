"""Every call event's class, by name: the parts of a leg fire events by name and the session
builds them here.

Firing by name keeps the parts and the Call free of the event classes (which name the Call in
their ``call`` field), so the import graph has no cycle, not even for type checkers. The table
is complete - one class per ``CallEvents`` member, checked at import - so a name that fires
always has a class, and each class has one name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from voxpy.core.events import AppEvents, CallEvents, ConferenceEvents, PlayerEvents, RecorderEvents
from voxpy.runtime import events as ev
from voxpy.runtime import hearing_events as hev
from voxpy.runtime import signal_events as sev
from voxpy.runtime import unit_events as uev
from voxpy.runtime.ws_events import IncomingWebSocket

CALL_EVENTS: Mapping[CallEvents, type[ev.CallEvent]] = {
    CallEvents.Connected: ev.Connected,
    CallEvents.Disconnected: ev.Disconnected,
    CallEvents.Failed: ev.Failed,
    CallEvents.Ringing: ev.Ringing,
    CallEvents.AudioStarted: ev.AudioStarted,
    CallEvents.StateChanged: ev.StateChanged,
    CallEvents.PlaybackReady: ev.PlaybackReady,
    CallEvents.PlaybackStarted: ev.PlaybackStarted,
    CallEvents.PlaybackFinished: ev.PlaybackFinished,
    CallEvents.RecordStarted: ev.RecordStarted,
    CallEvents.RecordStopped: ev.RecordStopped,
    CallEvents.RecordError: ev.RecordError,
    CallEvents.ToneReceived: ev.ToneReceived,
    CallEvents.Error: ev.CallError,
    CallEvents.TransferComplete: sev.TransferComplete,
    CallEvents.TransferFailed: sev.TransferFailed,
    CallEvents.BlindTransferRequested: sev.BlindTransferRequested,
    CallEvents.Forwarding: sev.Forwarding,
    CallEvents.InfoReceived: sev.InfoReceived,
    CallEvents.MessageReceived: sev.MessageReceived,
    CallEvents.MessageSent: sev.MessageSent,
    CallEvents.ReInviteReceived: sev.ReInviteReceived,
    CallEvents.OnHold: sev.OnHold,
    CallEvents.OffHold: sev.OffHold,
    CallEvents.MediaStatisticsReceived: sev.MediaStatisticsReceived,
    CallEvents.Warning: sev.QualityWarning,
    CallEvents.WarningCleared: sev.WarningCleared,
    CallEvents.RtpStopped: sev.RtpStopped,
    CallEvents.RtpResumed: sev.RtpResumed,
    CallEvents.FirstAudioPacketReceived: sev.FirstAudioPacketReceived,
    CallEvents.Mute: sev.MuteChanged,
    CallEvents.AudioIdentificationStarted: hev.AudioIdentificationStarted,
    CallEvents.AudioIdentificationResult: hev.AudioIdentificationResult,
    CallEvents.AudioIdentificationStopped: hev.AudioIdentificationStopped,
    CallEvents.AudioIdentificationError: hev.AudioIdentificationError,
    CallEvents.BeepDetectionComplete: hev.BeepDetectionComplete,
    CallEvents.BeepDetectionError: hev.BeepDetectionError,
    CallEvents.ToneDetected: hev.ToneDetected,
    CallEvents.MicStatusChange: hev.MicStatusChange,
    CallEvents.Volume: hev.Volume,
}
if set(CALL_EVENTS) != set(CallEvents):  # pragma: no cover - a new name without a class
    raise ImportError(f"call events without a class: {set(CallEvents) - set(CALL_EVENTS)}")

APP_EVENTS: Mapping[AppEvents, type[ev.AppEvent]] = {
    AppEvents.Started: ev.Started,
    AppEvents.CallAlerting: ev.CallAlerting,
    AppEvents.HttpRequest: ev.HttpRequest,
    AppEvents.Terminating: ev.Terminating,
    AppEvents.Terminated: ev.Terminated,
    AppEvents.HandlerError: ev.HandlerError,
    AppEvents.WebSocket: IncomingWebSocket,
}
"Every session event's class (the session builds these itself; this is the index)."
UNIT_EVENTS = uev.UNIT_EVENTS
"Every media unit's event class (units fire by name through ``uev.build_unit_event``)."
for _enum in (ConferenceEvents, PlayerEvents, RecorderEvents):
    if not set(_enum) <= set(UNIT_EVENTS):  # pragma: no cover - a name without a class
        raise ImportError(f"{_enum.__name__} without a class: {set(_enum) - set(UNIT_EVENTS)}")
if set(APP_EVENTS) != set(AppEvents):  # pragma: no cover - a new name without a class
    raise ImportError(f"app events without a class: {set(AppEvents) - set(APP_EVENTS)}")


def build_call_event(name: CallEvents, call: Any, fields: dict[str, Any]) -> ev.CallEvent:
    """The event object for ``name`` on ``call``; a field the class lacks raises TypeError."""
    return CALL_EVENTS[name](name=name, call=call, **fields)

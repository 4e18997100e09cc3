"""Which event class each CallEvents name builds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from voxpy.core.events import CallEvents
from voxpy.runtime.events import (
    AudioStarted,
    CallError,
    CallEvent,
    Connected,
    Disconnected,
    Failed,
    PlaybackFinished,
    PlaybackReady,
    PlaybackStarted,
    RecordError,
    RecordStarted,
    RecordStopped,
    Ringing,
    StateChanged,
    ToneReceived,
)
from voxpy.runtime.signal_events import (
    BlindTransferRequested,
    FirstAudioPacketReceived,
    Forwarding,
    InfoReceived,
    MediaStatisticsReceived,
    MessageReceived,
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

if TYPE_CHECKING:
    from voxpy.runtime.call import Call

CALL_EVENT_TYPES: dict[CallEvents, type[CallEvent]] = {
    CallEvents.Connected: Connected,
    CallEvents.Disconnected: Disconnected,
    CallEvents.Failed: Failed,
    CallEvents.Ringing: Ringing,
    CallEvents.AudioStarted: AudioStarted,
    CallEvents.StateChanged: StateChanged,
    CallEvents.Error: CallError,
    CallEvents.PlaybackReady: PlaybackReady,
    CallEvents.PlaybackStarted: PlaybackStarted,
    CallEvents.PlaybackFinished: PlaybackFinished,
    CallEvents.RecordStarted: RecordStarted,
    CallEvents.RecordStopped: RecordStopped,
    CallEvents.RecordError: RecordError,
    CallEvents.ToneReceived: ToneReceived,
    CallEvents.TransferComplete: TransferComplete,
    CallEvents.TransferFailed: TransferFailed,
    CallEvents.BlindTransferRequested: BlindTransferRequested,
    CallEvents.Forwarding: Forwarding,
    CallEvents.InfoReceived: InfoReceived,
    CallEvents.MessageReceived: MessageReceived,
    CallEvents.ReInviteReceived: ReInviteReceived,
    CallEvents.OnHold: OnHold,
    CallEvents.OffHold: OffHold,
    CallEvents.MediaStatisticsReceived: MediaStatisticsReceived,
    CallEvents.Warning: QualityWarning,
    CallEvents.WarningCleared: WarningCleared,
    CallEvents.RtpStopped: RtpStopped,
    CallEvents.RtpResumed: RtpResumed,
    CallEvents.FirstAudioPacketReceived: FirstAudioPacketReceived,
    CallEvents.Mute: MuteChanged,
}


def call_event(name: CallEvents, call: Call, fields: dict[str, Any]) -> CallEvent:
    """Build the event object for ``name`` from the core's payload fields."""
    args = {k: v for k, v in fields.items() if v is not None}
    return CALL_EVENT_TYPES[name](name=name, call=call, **args)

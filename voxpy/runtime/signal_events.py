"""Call events of transfers, in-dialog messages, hold, mute and call quality (Twilio-style)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voxpy.runtime.events import CallEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferComplete(CallEvent):
    """The far end reported (NOTIFY 2xx) that the transfer we asked for succeeded."""

    role: str = "transferor"
    "VoxEngine's role of this leg's side: voxpy sent the REFER, so always ``transferor``."


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferFailed(CallEvent):
    code: int
    reason: str = ""
    role: str = "transferor"
    "As on TransferComplete."


@dataclass(frozen=True, slots=True, kw_only=True)
class BlindTransferRequested(CallEvent):
    """The far end sent REFER (after ``handle_blind_transfer(True)``); answer with
    ``notify_blind_transfer_success()`` or ``notify_blind_transfer_failed(code, reason)``."""

    transfer_to: str
    "The Refer-To URI as received (a tel: URI stays tel:)."


@dataclass(frozen=True, slots=True, kw_only=True)
class Forwarding(CallEvent):
    """An outbound leg was redirected (3xx) to ``contact``."""

    code: int
    contact: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InfoReceived(CallEvent):
    mime_type: str
    body: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageReceived(CallEvent):
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageSent(CallEvent):
    """``send_message(text)`` reached the far end: its MESSAGE got a 2xx (Twilio)."""

    text: str
    code: int = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class ReInviteReceived(CallEvent):
    mime_type: str
    body: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OnHold(CallEvent):
    """The far end put the call on hold."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OffHold(CallEvent):
    """The far end took the call off hold."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaStatisticsReceived(CallEvent):
    """One interval's statistics, shaped like Twilio's ``sample`` (snake_case)."""

    codec: str
    timestamp: float
    packets_sent: int
    packets_received: int
    packets_lost: int
    packets_lost_fraction: float
    "percent of the interval's packets"
    bytes_sent: int
    bytes_received: int
    jitter: float
    "ms"
    rtt: float | None = None
    "ms, from RTCP; None until the first RTCP report"
    audio_input_level: int | None = None
    audio_output_level: int | None = None
    mos: float
    totals: dict[str, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityWarning(CallEvent):
    """Twilio's warning payload. ``warning`` is Twilio's ``name`` ("high-rtt", ...): on every
    voxpy event ``name`` is the event's own name."""

    warning: str
    values: Any
    samples: list[Any]
    threshold: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class WarningCleared(QualityWarning):
    """The condition of an earlier Warning is over."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RtpStopped(CallEvent):
    """No RTP arrived for ``quality.rtp_timeout`` seconds (VoxEngine: 7)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RtpResumed(CallEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class FirstAudioPacketReceived(CallEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class MuteChanged(CallEvent):
    """``mute()``/``unmute()`` took effect (Twilio's ``mute`` event)."""

    muted: bool

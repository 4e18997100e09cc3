"""In-dialog signalling and call quality on a leg (mixed into ``Call``).

Transfers (REFER both ways), INFO and MESSAGE, hold, mute, and quality: while a connected leg
is monitored (``monitor_media_statistics(True)``) or anything listens to a quality event, the
leg's stream statistics are read every second and a :class:`~voxpy.core.quality.QualityMonitor`
turns them into MediaStatisticsReceived, Warning/WarningCleared, RtpStopped/RtpResumed and
FirstAudioPacketReceived.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core.events import CallEvents
from voxpy.core.headers import outgoing_headers
from voxpy.core.quality import QualityMonitor
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.runtime.signal_events import SIGNALLING_EVENTS

if TYPE_CHECKING:
    from voxpy.core.state import CallMachine
    from voxpy.runtime.call import Call
    from voxpy.runtime.session import Session

QUALITY_EVENTS = (
    CallEvents.Warning,
    CallEvents.WarningCleared,
    CallEvents.RtpStopped,
    CallEvents.RtpResumed,
    CallEvents.FirstAudioPacketReceived,
    CallEvents.MediaStatisticsReceived,
)
POLL_SECONDS = 1.0
VERSTAT = re.compile(r"verstat=([A-Za-z-]+)")


class CallSignalling:
    """The signalling half of :class:`~voxpy.runtime.call.Call`, which provides these members."""

    _id: str
    _session: Session
    _machine: CallMachine
    _log: Any
    _from_uri: str

    def _signalling_init(self) -> None:
        self._transfers_handled = False
        self._transfer_pending = False
        self._muted = False
        self._codec: str | None = None
        self._monitor_interval: float | None = None
        self._quality: QualityMonitor | None = None
        self._polling = False
        self._polls_in_flight = 0
        self._since_sample = 0.0

    # -- transfers ---------------------------------------------------------------------------

    def transfer_to(
        self,
        to: str | None = None,
        headers: Mapping[str, str] | None = None,
        call: Call | None = None,
    ) -> None:
        """REFER the far end to ``to`` (blind), or to ``call``'s far end (attended, with
        Replaces). TransferComplete or TransferFailed follows."""
        self._require_connected("transfer_to")
        if (to is None) == (call is None):
            raise InvalidArgumentError("transfer_to needs either to= or call=")
        self._send(
            cmd.Transfer(
                call_id=self._id,
                to=to or "",
                replaces_call_id=call.id() if call is not None else None,
                headers=outgoing_headers(headers),
            )
        )

    def handle_blind_transfer(self, enabled: bool = True) -> None:
        """Accept incoming REFERs as BlindTransferRequested (off: they are declined, 603)."""
        self._transfers_handled = bool(enabled)
        self._send(cmd.HandleTransfers(call_id=self._id, enabled=self._transfers_handled))

    def notify_blind_transfer_success(self) -> None:
        self._notify_transfer(200, "OK")

    def notify_blind_transfer_failed(self, code: int = 503, reason: str = "") -> None:
        if not 300 <= code <= 699:
            raise InvalidArgumentError(f"a failed transfer needs a 3xx-6xx code, got {code}")
        self._notify_transfer(code, reason)

    def _notify_transfer(self, code: int, reason: str) -> None:
        if not self._transfer_pending:
            raise InvalidStateError("no blind transfer request is waiting for an answer")
        self._transfer_pending = False
        self._send(cmd.NotifyTransfer(call_id=self._id, code=code, reason=reason))

    # -- in-dialog messages, hold, mute --------------------------------------------------------

    def send_info(
        self, mime_type: str, body: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self._require_connected("send_info")
        self._send(
            cmd.SendInfo(
                call_id=self._id, mime_type=mime_type, body=body, headers=outgoing_headers(headers)
            )
        )

    def send_message(self, text: str) -> None:
        self._require_connected("send_message")
        self._send(cmd.SendMessage(call_id=self._id, text=text))

    def hold(self) -> None:
        """Put the far end on hold (re-INVITE a=sendonly)."""
        self._require_connected("hold")
        self._machine.local_hold = True  # the far end may stop sending: not RTP silence
        self._send(cmd.Hold(call_id=self._id, on=True))

    def unhold(self) -> None:
        """Take the far end off hold (re-INVITE a=sendrecv). Called right after hold(), the
        second re-INVITE goes out once the first transaction has completed."""
        self._require_connected("unhold")
        self._machine.local_hold = False
        self._send(cmd.Hold(call_id=self._id, on=False))

    def mute(self) -> None:
        """Stop sending our audio into the call (the far end hears silence)."""
        self._set_mute(True)

    def unmute(self) -> None:
        self._set_mute(False)

    def is_muted(self) -> bool:
        return self._muted

    def _set_mute(self, on: bool) -> None:
        if not self._call.live:
            raise InvalidStateError(f"cannot change mute on a call in state {self._call.state()}")
        if on != self._muted:
            self._muted = on
            self._send(cmd.Mute(call_id=self._id, on=on))
            self._fire(CallEvents.Mute, {"muted": on})

    # -- information -------------------------------------------------------------------------

    def codec(self) -> str | None:
        """The negotiated audio codec ("PCMU", ...), known once the call is connected."""
        return self._codec

    def direction(self) -> str:
        return "INCOMING" if self._machine.incoming else "OUTGOING"

    def caller_info(self) -> dict[str, bool] | None:
        """STIR/SHAKEN: ``{"is_verified": ...}`` from a ``verstat`` parameter in
        P-Asserted-Identity or From; None when the network sent none."""
        for source in (self._call.headers().get("P-Asserted-Identity", ""), self._from_uri):
            if match := VERSTAT.search(source):
                return {"is_verified": match.group(1) == "TN-Validation-Passed"}
        return None

    # -- quality -----------------------------------------------------------------------------

    def monitor_media_statistics(self, enabled: bool = True, interval: float = 1.0) -> None:
        """Fire MediaStatisticsReceived every ``interval`` seconds (a Twilio-shaped sample)."""
        if interval < POLL_SECONDS:
            raise InvalidArgumentError(f"the statistics interval is at least {POLL_SECONDS} s")
        self._monitor_interval = interval if enabled else None
        self._start_polling()

    def _start_polling(self) -> None:
        if self._polling or not self._call.live or self._machine.vox_state != "CONNECTED":
            return
        if self._monitor_interval is None and not any(
            self._call.listeners(name) for name in QUALITY_EVENTS
        ):
            return
        self._polling = True
        self._quality = self._quality or QualityMonitor(self._session.thresholds)
        self._session.after(POLL_SECONDS, self._poll)

    def _poll(self) -> None:
        self._polling = False
        if self._call.live:
            self._polls_in_flight += 1
            self._send(cmd.ReportStats(call_id=self._id))
            self._start_polling()

    def _on_stats(self, report: sig.StatsReport) -> None:
        self._codec = report.codec
        if self._quality is None or self._polls_in_flight == 0:
            return  # the report asked for at connect time only tells the codec
        self._polls_in_flight -= 1
        sample, events = self._quality.feed(report, self._session.clock.now())
        for event in events:
            fields = dict(event.fields)
            if "name" in fields:
                fields["warning"] = fields.pop("name")
            self._fire(CallEvents(f"Call.{event.name}"), fields)
        self._since_sample += POLL_SECONDS
        if self._monitor_interval is not None and self._since_sample >= self._monitor_interval:
            self._since_sample = 0.0
            self._fire(CallEvents.MediaStatisticsReceived, sample)

    # -- signals -----------------------------------------------------------------------------

    def _signalling_routes(self) -> dict[type[sig.Signal], Callable[[Any], None]]:
        """The signals this part handles, for the call's one routing table."""
        return {
            sig.StatsReport: self._on_stats,
            sig.TransferStatus: self._on_transfer_status,
            sig.TransferRequested: self._on_transfer_requested,
            sig.Redirected: self._on_redirected,
            sig.SipInfoReceived: self._on_info,
            sig.SipMessageReceived: self._on_message,
            sig.SipReInviteReceived: self._on_reinvite,
            sig.HoldChanged: self._on_hold_changed,
        }

    def _on_transfer_status(self, signal: sig.TransferStatus) -> None:
        if signal.final and 200 <= signal.code < 300:
            self._fire(CallEvents.TransferComplete, {})
        elif signal.final:
            self._fire(CallEvents.TransferFailed, {"code": signal.code, "reason": signal.reason})

    def _on_transfer_requested(self, signal: sig.TransferRequested) -> None:
        self._transfer_pending = True
        self._fire(
            CallEvents.BlindTransferRequested,
            {"transfer_to": signal.to, "headers": signal.headers},
        )

    def _on_redirected(self, signal: sig.Redirected) -> None:
        self._fire(CallEvents.Forwarding, {"code": signal.code, "contact": signal.contact})

    def _on_info(self, signal: sig.SipInfoReceived) -> None:
        self._fire(
            CallEvents.InfoReceived,
            {"mime_type": signal.mime_type, "body": signal.body, "headers": signal.headers},
        )

    def _on_message(self, signal: sig.SipMessageReceived) -> None:
        self._fire(CallEvents.MessageReceived, {"text": signal.text, "headers": signal.headers})

    def _on_reinvite(self, signal: sig.SipReInviteReceived) -> None:
        self._fire(
            CallEvents.ReInviteReceived,
            {"mime_type": signal.mime_type, "body": signal.body, "headers": signal.headers},
        )

    def _on_hold_changed(self, signal: sig.HoldChanged) -> None:
        self._machine.remote_hold = signal.on_hold
        self._fire(CallEvents.OnHold if signal.on_hold else CallEvents.OffHold, {})

    def _signalling_connected(self) -> None:
        """The leg is connected: learn the codec, start quality polling if wanted."""
        self._send(cmd.ReportStats(call_id=self._id))
        self._start_polling()

    # -- helpers -----------------------------------------------------------------------------

    @property
    def _call(self) -> Call:
        return self  # type: ignore[return-value]  # only ever mixed into Call

    def _send(self, command: cmd.Command) -> None:
        self._session.send(command)

    def _fire(self, name: CallEvents, fields: dict[str, Any]) -> None:
        args = {k: v for k, v in fields.items() if v is not None}
        self._call._dispatch(SIGNALLING_EVENTS[name](name=name, call=self._call, **args))

    def _require_connected(self, what: str) -> None:
        if self._machine.vox_state != "CONNECTED" or not self._call.live:
            raise InvalidStateError(
                f"cannot {what}() on a call in state {self._call.state()}: it must be connected"
            )

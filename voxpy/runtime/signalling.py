"""The in-dialog signalling part of a call leg: transfers (REFER both ways), INFO, MESSAGE,
re-INVITEs, hold and mute."""

from __future__ import annotations

import re
from collections.abc import Mapping

from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core.events import CallEvents
from voxpy.core.headers import Headers
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.runtime import args
from voxpy.runtime.leg import Handler, LegContext

VERSTAT = re.compile(r"verstat=([A-Za-z-]+)")


def caller_info(headers: Headers, from_uri: str) -> dict[str, bool] | None:
    """STIR/SHAKEN: ``{"is_verified": ...}`` from a ``verstat`` parameter in
    P-Asserted-Identity or From; None when the network sent none."""
    for source in (headers.get("P-Asserted-Identity", ""), from_uri):
        if match := VERSTAT.search(source):
            return {"is_verified": match.group(1) == "TN-Validation-Passed"}
    return None


class Signalling:
    """Transfers, in-dialog messages, hold and mute of one leg (see :mod:`voxpy.runtime.leg`)."""

    def __init__(self, ctx: LegContext) -> None:
        self._ctx = ctx
        self._transfer_pending = False
        self._muted = False

    # -- transfers ---------------------------------------------------------------------------

    def transfer_to(self, to: str | None, headers: Headers, replaces_call_id: str | None) -> None:
        if to is not None:
            args.sip_uri("transfer_to", "to", to, tel=True)
        self._ctx.require_connected("transfer_to")
        if (to is None) == (replaces_call_id is None):
            raise InvalidArgumentError("transfer_to needs either to= or call=")
        self._ctx.send(
            cmd.Transfer(
                call_id=self._ctx.call_id,
                to=to or "",
                replaces_call_id=replaces_call_id,
                headers=headers,
            )
        )

    def handle_blind_transfer(self, enabled: bool) -> None:
        self._ctx.send(cmd.HandleTransfers(call_id=self._ctx.call_id, enabled=bool(enabled)))

    def notify_transfer(self, code: int, reason: str) -> None:
        args.integer("notify_blind_transfer_failed", "code", code, 200, 699)
        args.text("notify_blind_transfer_failed", "reason", reason)
        if code != 200 and not 300 <= code <= 699:
            raise InvalidArgumentError(f"a failed transfer needs a 3xx-6xx code, got {code}")
        if not self._transfer_pending:
            raise InvalidStateError("no blind transfer request is waiting for an answer")
        self._transfer_pending = False
        self._ctx.send(cmd.NotifyTransfer(call_id=self._ctx.call_id, code=code, reason=reason))

    # -- in-dialog messages, hold, mute --------------------------------------------------------

    def send_info(self, mime_type: str, body: str, headers: Headers) -> None:
        args.mime_type("send_info", mime_type)
        args.text("send_info", "body", body)
        self._ctx.require_connected("send_info")
        self._ctx.send(
            cmd.SendInfo(call_id=self._ctx.call_id, mime_type=mime_type, body=body, headers=headers)
        )

    def send_message(self, text: str, content_type: str) -> None:
        args.text("send_message", "text", text)
        args.mime_type("send_message", content_type, arg="content_type")
        self._ctx.require_connected("send_message")
        self._ctx.send(
            cmd.SendMessage(call_id=self._ctx.call_id, text=text, content_type=content_type)
        )

    def hold(self, on: bool) -> None:
        self._ctx.require_connected("hold" if on else "unhold")
        # On hold the far end may stop sending: that is not RTP silence (the machine's watch).
        self._ctx.machine.local_hold = on
        self._ctx.send(cmd.Hold(call_id=self._ctx.call_id, on=on))

    def hold_failed(self) -> None:
        """The hold re-INVITE did not go through, so the far end was not put on hold: let the
        RTP-silence watch run again, or a caller who vanished would keep the slot."""
        self._ctx.machine.local_hold = False

    @property
    def muted(self) -> bool:
        return self._muted

    def mute(self, on: bool) -> None:
        args.flag("mute", "should_mute", on)
        if not self._ctx.live:
            raise InvalidStateError(
                f"cannot change mute on a call in state {self._ctx.machine.vox_state}"
            )
        if on != self._muted:
            self._muted = on
            self._ctx.send(cmd.Mute(call_id=self._ctx.call_id, on=on))
            self._ctx.fire(CallEvents.Mute, muted=on)

    # -- Part --------------------------------------------------------------------------------

    def routes(self) -> Mapping[type[sig.Signal], Handler]:
        return {
            sig.TransferStatus: self._on_transfer_status,
            sig.TransferRequested: self._on_transfer_requested,
            sig.Redirected: self._on_redirected,
            sig.SipInfoReceived: self._on_info,
            sig.SipMessageReceived: self._on_message,
            sig.MessageDelivered: self._on_message_delivered,
            sig.SipReInviteReceived: self._on_reinvite,
            sig.HoldChanged: self._on_hold_changed,
        }

    def audio_started(self) -> None:
        pass

    def connected(self) -> None:
        pass

    def ended(self) -> None:
        pass

    def _on_transfer_status(self, signal: sig.TransferStatus) -> None:
        if signal.final and 200 <= signal.code < 300:
            self._ctx.fire(CallEvents.TransferComplete)
        elif signal.final:
            self._ctx.fire(CallEvents.TransferFailed, code=signal.code, reason=signal.reason)

    def _on_transfer_requested(self, signal: sig.TransferRequested) -> None:
        self._transfer_pending = True
        self._ctx.fire(
            CallEvents.BlindTransferRequested, transfer_to=signal.to, headers=signal.headers
        )

    def _on_redirected(self, signal: sig.Redirected) -> None:
        self._ctx.fire(CallEvents.Forwarding, code=signal.code, contact=signal.contact)

    def _on_info(self, signal: sig.SipInfoReceived) -> None:
        self._ctx.fire(
            CallEvents.InfoReceived,
            mime_type=signal.mime_type,
            body=signal.body,
            headers=signal.headers,
        )

    def _on_message(self, signal: sig.SipMessageReceived) -> None:
        self._ctx.fire(CallEvents.MessageReceived, text=signal.text, headers=signal.headers)

    def _on_message_delivered(self, signal: sig.MessageDelivered) -> None:
        self._ctx.fire(CallEvents.MessageSent, text=signal.text, code=signal.code)

    def _on_reinvite(self, signal: sig.SipReInviteReceived) -> None:
        self._ctx.fire(
            CallEvents.ReInviteReceived,
            mime_type=signal.mime_type,
            body=signal.body,
            headers=signal.headers,
        )

    def _on_hold_changed(self, signal: sig.HoldChanged) -> None:
        self._ctx.machine.remote_hold = signal.on_hold
        self._ctx.fire(CallEvents.OnHold if signal.on_hold else CallEvents.OffHold)

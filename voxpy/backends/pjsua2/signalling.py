"""Signalling commands on live legs: transfer, INFO, MESSAGE, hold. Owner thread only.

Also the registry of the REFER subscriptions we serve (:class:`Subscriptions`). A subscription
outlives the INVITE session that carried its REFER (it keeps the dialog alive), and its
pjsip_evsub* dangles once pjsip destroys it, so the registry learns every termination from the
evsub state callback and ends the subscriptions of legs that have ended: never inside the
leg's own DISCONNECTED callback, but on the next turn of the owner loop (:meth:`poll`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pjsua2 as pj

from voxpy.backends.pjsua2.call import Emit
from voxpy.backends.pjsua2.dialog import LegDialog
from voxpy.backends.pjsua2.errors import NO_SUCH_CALL, reason_of, status_of
from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.native import native
from voxpy.backends.pjsua2.pjmsg import add_headers, call_op
from voxpy.backends.pjsua2.sipmsg import refer_target
from voxpy.core import commands as cmd
from voxpy.core.headers import outgoing_headers
from voxpy.core.signals import CommandFailed
from voxpy.errors import InvalidArgumentError

if TYPE_CHECKING:
    from voxpy.backends.pjsua2.call import Leg

PJ_EINVALIDOP = 70013
"pjsua's answer to a re-INVITE while an INVITE transaction is unfinished."

SIGNALLING_COMMANDS = (
    cmd.Transfer,
    cmd.HandleTransfers,
    cmd.NotifyTransfer,
    cmd.SendInfo,
    cmd.SendMessage,
    cmd.Hold,
)


class Subscriptions:
    """The REFER subscriptions we serve, by pjsip_evsub* (an int)."""

    def __init__(self) -> None:
        self._subs: dict[int, LegDialog] = {}
        self._doomed: list[tuple[int, LegDialog]] = []
        native().on_evsub_state = self._on_state

    def __contains__(self, sub: int) -> bool:
        return sub in self._subs

    def subscribed(self, dialog: LegDialog, sub: int) -> None:
        """``dialog`` accepted a REFER: ``sub`` waits for its NotifyTransfer."""
        self._subs[sub] = dialog

    def closed(self, dialog: LegDialog) -> None:
        """The leg ended; its unanswered subscription is terminated by the next :meth:`poll`."""
        if dialog.xfer_sub:
            self._doomed.append((dialog.xfer_sub, dialog))
            dialog.xfer_sub = 0

    def _on_state(self, sub: int, state: int) -> None:
        # Called from inside pjsip for every state change of our subscriptions.
        if state != pj.PJSIP_EVSUB_STATE_TERMINATED:
            return
        dialog = self._subs.pop(sub, None)
        if dialog is not None and dialog.xfer_sub == sub:
            dialog.xfer_sub = 0

    def poll(self) -> None:
        """Terminate (without NOTIFY) the subscriptions of legs that have ended."""
        doomed, self._doomed = self._doomed, []
        for sub, dialog in doomed:
            # Still ours: pjsip did not end it meanwhile (its address may even have been
            # reused by a new subscription of another leg, which must live on).
            if self._subs.get(sub) is dialog:
                del self._subs[sub]
                native().evsub_terminate(sub)

    def release(self) -> None:
        """Before libDestroy: end every subscription and stop listening to pjsip."""
        self._doomed.extend(self._subs.items())
        self.poll()
        native().on_evsub_state = None


class Signalling:
    """Carries out :data:`SIGNALLING_COMMANDS`; failures raise pj.Error/InvalidArgumentError
    (reported by the caller) or are emitted as CommandFailed."""

    def __init__(self, lookup: Callable[[str], Leg | None], emit: Emit, logger: Logger) -> None:
        self.subscriptions = Subscriptions()
        self._queued: set[str] = set()
        "Legs with hold re-INVITEs waiting for an INVITE transaction to end."
        self._lookup = lookup
        self._emit = emit
        self._logger = logger
        self._callback_failures = 0

    def handle(self, command: cmd.Command) -> None:
        """Carry out one command."""
        leg = self._live(command.call_id)
        if leg is None:
            self._failed(command, NO_SUCH_CALL)
        elif isinstance(command, cmd.HandleTransfers):
            leg.dialog.handle_transfers = command.enabled
        elif isinstance(command, cmd.NotifyTransfer):
            self._notify(leg, command)
        elif not leg.connected:
            self._failed(command, "only possible on an answered call")
        elif isinstance(command, cmd.Transfer):
            self._transfer(leg, command)
        elif isinstance(command, cmd.SendInfo):
            self._info(leg, command)
        elif isinstance(command, cmd.SendMessage):
            param = pj.SendInstantMessageParam()
            param.contentType = command.content_type
            param.content = command.text
            add_headers(param.txOption, outgoing_headers(command.headers))
            leg.sendInstantMessage(param)  # the outcome: Leg.onInstantMessageStatus
        elif isinstance(command, cmd.Hold):
            self._hold(leg, command)

    def poll(self) -> None:
        """Owner loop: housekeeping of subscriptions, queued hold re-INVITEs."""
        self.subscriptions.poll()
        failures = native().failures
        if failures != self._callback_failures:
            # A subscription may have ended unseen and be terminated again later: say so.
            self._logger.error(
                "refer_state_callback_failed", count=failures - self._callback_failures
            )
            self._callback_failures = failures
        if self._queued:
            self._retry_holds()

    def release(self) -> None:
        """Before the legs and accounts go: no subscription may outlive the endpoint."""
        self.subscriptions.release()

    def _live(self, call_id: str) -> Leg | None:
        leg = self._lookup(call_id)
        return None if leg is None or leg.ended or leg.silent else leg

    def _failed(self, command: cmd.Command, message: str, status: int | None = None) -> None:
        self._emit(
            CommandFailed(
                call_id=command.call_id, op=type(command).__name__, message=message, status=status
            )
        )

    def _transfer(self, leg: Leg, command: cmd.Transfer) -> None:
        dialog = leg.dialog
        if dialog.transfer_pending:
            self._failed(command, "a transfer is already in progress on this call")
            return
        op = call_op(0, outgoing_headers(command.headers))
        other = None
        if command.replaces_call_id is not None:
            other = self._live(command.replaces_call_id)
            if other is None or other is leg or not other.connected:
                self._failed(command, "replaces_call_id is not another answered call")
                return
        elif not command.to:
            raise InvalidArgumentError("Transfer needs 'to' or 'replaces_call_id'")
        # Set first: a refusal can be reported from inside xfer() (transport errors).
        dialog.transfer_pending = True
        try:
            if other is not None:
                leg.xferReplaces(other, op)  # Refer-To: <other's remote contact?Replaces=...>
            else:
                leg.xfer(refer_target(command.to), op)  # tel: stays tel:
        except BaseException:
            dialog.transfer_pending = False
            raise

    def _notify(self, leg: Leg, command: cmd.NotifyTransfer) -> None:
        dialog = leg.dialog
        sub = dialog.xfer_sub
        if not sub or sub not in self.subscriptions:
            self._failed(command, "no accepted transfer request waits for a NOTIFY")
            return
        _check_sipfrag(command.code, command.reason)
        final = command.code >= 200  # 1xx: progress, the subscription stays active
        if final:
            dialog.xfer_sub = 0  # pjsip may destroy the subscription once NOTIFY is answered
        status = native().xfer_notify(sub, command.code, command.reason, final=final)
        if status != 0:
            self._failed(command, f"cannot send NOTIFY (pj status {status})", status)

    def _info(self, leg: Leg, command: cmd.SendInfo) -> None:
        if command.body and "/" not in command.mime_type:
            raise InvalidArgumentError(
                f"SendInfo needs a type/subtype mime_type, got {command.mime_type!r}"
            )
        param = pj.CallSendRequestParam()
        param.method = "INFO"
        param.txOption.contentType = command.mime_type
        param.txOption.msgBody = command.body
        add_headers(param.txOption, outgoing_headers(command.headers))
        leg.dialog.expect("INFO", "SendInfo")
        try:
            leg.sendRequest(param)
        except BaseException:
            leg.dialog.unexpect("INFO")
            raise

    def _hold(self, leg: Leg, command: cmd.Hold) -> None:
        """Send a hold/unhold re-INVITE, or queue it behind the INVITE transaction in flight.

        pjsua refuses a re-INVITE (PJ_EINVALIDOP) while another INVITE transaction of the
        dialog, ours or the far end's, is unfinished: hold() then unhold() in quick
        succession would fail. Such a command waits in the leg's queue, in order, and is
        retried after the dialog's next INVITE transaction ends (see :meth:`poll`)."""
        queue = leg.dialog.queued_holds
        if queue:
            queue.append(command)
            return
        try:
            self._send_hold(leg, command)
        except pj.Error as exc:
            if status_of(exc) != PJ_EINVALIDOP:
                raise
            queue.append(command)
            self._queued.add(leg.call_id)

    def _retry_holds(self) -> None:
        for call_id in list(self._queued):
            leg = self._live(call_id)
            if leg is None:
                self._queued.discard(call_id)
                continue
            dialog = leg.dialog
            if not dialog.invite_settled:
                continue  # still waiting for the transaction in flight
            dialog.invite_settled = False
            while dialog.queued_holds:
                command = dialog.queued_holds[0]
                try:
                    self._send_hold(leg, command)
                except pj.Error as exc:
                    if status_of(exc) == PJ_EINVALIDOP:
                        break  # another transaction came first: wait for its end too
                    dialog.queued_holds.popleft()
                    self._failed(command, reason_of(exc), status_of(exc))
                    continue
                dialog.queued_holds.popleft()
                break  # the next one waits for this re-INVITE to finish
            if not dialog.queued_holds:
                self._queued.discard(call_id)

    def _send_hold(self, leg: Leg, command: cmd.Hold) -> None:
        op = call_op()
        leg.dialog.expect("INVITE", "Hold")
        try:
            if command.on:
                leg.setHold(op)  # re-INVITE with a=sendonly
            else:
                op.opt.flag |= pj.PJSUA_CALL_UNHOLD  # re-INVITE with a=sendrecv
                leg.reinvite(op)
        except BaseException:
            leg.dialog.unexpect("INVITE")
            raise


MAX_REASON_BYTES = 100
"pjsip builds the sipfrag in a 128-byte buffer and *asserts* it fits (an abort in this build)."


def _check_sipfrag(code: object, reason: object) -> None:
    if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 699:
        raise InvalidArgumentError(f"NotifyTransfer code must be 100-699, got {code!r}")
    if not isinstance(reason, str) or "\r" in reason or "\n" in reason:
        raise InvalidArgumentError("NotifyTransfer reason must be a one-line string")
    if len(reason.encode()) > MAX_REASON_BYTES:
        raise InvalidArgumentError(f"NotifyTransfer reason is over {MAX_REASON_BYTES} bytes")

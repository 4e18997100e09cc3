"""The live legs and what commands do to them. Runs on the owner thread only."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pjsua2 as pj

from voxpy.backends.pjsua2.account import Accounts, SipAccount
from voxpy.backends.pjsua2.call import Emit, Leg
from voxpy.backends.pjsua2.errors import NO_SUCH_CALL, dial_failure, reason_of, status_of
from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.media import MEDIA_COMMANDS, Media
from voxpy.backends.pjsua2.native import native
from voxpy.backends.pjsua2.options import PjsuaOptions
from voxpy.backends.pjsua2.pjmsg import add_contact, call_op
from voxpy.backends.pjsua2.probe import DeadEndProbe, udp_target
from voxpy.backends.pjsua2.signalling import SIGNALLING_COMMANDS, Signalling
from voxpy.backends.pjsua2.sipmsg import host_part, local_uri, parse_invite
from voxpy.backends.pjsua2.stats import rx_packets
from voxpy.backends.refusal import refusal
from voxpy.core.commands import (
    Answer,
    Bye,
    Cancel,
    Command,
    Dial,
    Provisional,
    Reject,
    ReportRx,
)
from voxpy.core.headers import outgoing_headers, redirect_target
from voxpy.core.signals import CommandFailed, Ended, Progress, RxReport
from voxpy.errors import BackendError, InvalidArgumentError


class Calls:
    """Registry of legs by runtime ``call_id``; turns commands into pjsua2 calls."""

    def __init__(
        self,
        options: PjsuaOptions,
        contact_host: str,
        emit: Emit,
        accepting: Callable[[], bool],
        logger: Logger,
    ) -> None:
        self.options = options
        self.contact_host = contact_host
        self.legs: dict[str, Leg] = {}
        self.accounts: Accounts | None = None
        self.media: Media | None = None
        self.signalling: Signalling | None = None
        self.admit_dial: Callable[[], str | None] | None = None
        "The edge guard's ioqueue-key budget: a reason to refuse a new outbound leg, or None."
        self.leg_ended: Callable[[], None] | None = None
        "Tells that budget a call's media is closing."
        self.stopping = False
        self.probes: dict[str, DeadEndProbe] = {}
        "Outbound legs whose UDP destination may be dead (see :mod:`.probe`), by call_id."
        self._emit = emit
        self._accepting = accepting
        self._logger = logger

    def _new_leg(
        self,
        account: SipAccount,
        call_id: str,
        *,
        outbound: bool,
        pj_call_id: int = pj.PJSUA_INVALID_ID,
        silent: bool = False,
    ) -> Leg:
        leg = Leg(
            account,
            call_id=call_id,
            outbound=outbound,
            emit=self._emit,
            forget=self._forget,
            logger=self._logger,
            pj_call_id=pj_call_id,
            silent=silent,
            media=self.media,
            subscriptions=self.signalling.subscriptions if self.signalling else None,
        )
        self.legs[call_id] = leg
        return leg

    def _forget(self, leg: Leg) -> None:
        if self.legs.get(leg.call_id) is leg:
            del self.legs[leg.call_id]
            if self.leg_ended is not None:
                self.leg_ended()

    # -- inbound ---------------------------------------------------------------------------

    def on_incoming(self, account: SipAccount, prm: Any) -> None:
        """A new INVITE: hold a leg for it and tell the runtime (or refuse it with 503)."""
        message = str(prm.rdata.wholeMsg)
        call_id = uuid.uuid4().hex
        if self.stopping or not self._accepting():
            # The leg must exist to answer; it stays silent because the runtime never sees it.
            leg = self._new_leg(
                account, call_id, outbound=False, pj_call_id=prm.callId, silent=True
            )
            leg.hangup(call_op(503))
            return
        incoming = parse_invite(message, call_id=call_id)
        self._new_leg(account, call_id, outbound=False, pj_call_id=prm.callId)
        self._emit(incoming)

    # -- commands --------------------------------------------------------------------------

    def handle(self, command: Command) -> None:
        """Carry out one command; every failure becomes a signal."""
        try:
            if isinstance(command, Dial):
                self._dial(command)
            elif isinstance(command, Provisional | Answer | Reject | Cancel | Bye):
                self._on_leg(command)
            elif isinstance(command, ReportRx):
                self._report_rx(command)
            elif isinstance(command, MEDIA_COMMANDS) and self.media is not None:
                self.media.handle(command)
            elif isinstance(command, SIGNALLING_COMMANDS) and self.signalling is not None:
                self.signalling.handle(command)
            else:
                self._failed(command, f"unsupported command {type(command).__name__}")
        except InvalidArgumentError as exc:
            self._failed(command, str(exc))
        except pj.Error as exc:
            self._failed(command, reason_of(exc), status_of(exc))

    def _failed(self, command: Command, message: str, status: int | None = None) -> None:
        self._emit(
            CommandFailed(
                call_id=command.call_id, op=type(command).__name__, message=message, status=status
            )
        )

    def _dial(self, cmd: Dial) -> None:
        if cmd.call_id in self.legs:
            self._failed(cmd, "call_id already in use")
            return
        if self.stopping or self.accounts is None:
            self._emit(refusal(cmd, "backend is stopping"))
            return
        try:
            headers = outgoing_headers(cmd.headers)
            account = self.accounts.for_dial(cmd.auth_user, cmd.password, cmd.uri, self._busy)
        except InvalidArgumentError as exc:
            self._emit(Ended(call_id=cmd.call_id, code=400, reason=str(exc)))
            return
        except BackendError as exc:
            self._emit(Ended(call_id=cmd.call_id, code=503, reason=str(exc)))
            return
        refused = self.admit_dial() if self.admit_dial is not None else None
        if refused is not None:
            self._logger.warning("dial_refused", call_id=cmd.call_id, reason=refused)
            self._emit(Ended(call_id=cmd.call_id, code=503, reason=refused))
            return
        op = call_op(0, headers)
        if cmd.callerid or cmd.display_name:
            host = (
                self.contact_host
                if account is self.accounts.main
                else host_part(cmd.uri).split(":", 1)[0]
            )
            op.txOption.localUri = local_uri(
                cmd.callerid, cmd.display_name, self.options.user, host
            )
        # Registered only now: anything above that raises is reported once by the owner.
        leg = self._new_leg(account, cmd.call_id, outbound=True)
        try:
            leg.makeCall(cmd.uri, op)
        except pj.Error as exc:
            code, reason = dial_failure(exc)
            self._logger.info(
                "dial_failed", call_id=cmd.call_id, uri=cmd.uri, code=code, error=reason
            )
            leg.finish(code, reason)
        except Exception as exc:
            # e.g. a non-string URI from the wire; the registered leg must still end once.
            self._logger.exception("dial_failed", call_id=cmd.call_id)
            leg.finish(400, f"cannot dial {cmd.uri!r}: {exc}")
        else:
            target = udp_target(cmd.uri, self.options.outbound_proxy)
            if target is not None and leg.dialog.unanswered_invite and not leg.ended:
                probe = DeadEndProbe(target)
                if probe.open:
                    self.probes[cmd.call_id] = probe

    def _poll_probes(self) -> None:
        """End the INVITE of a leg whose UDP destination refused our probe (503)."""
        now = time.monotonic()
        for call_id, probe in list(self.probes.items()):
            leg = self.legs.get(call_id)
            tsx = leg.dialog.unanswered_invite if leg is not None and not leg.ended else 0
            if not tsx or now > probe.expires:
                probe.close()
            elif probe.refused():
                self._logger.info("dial_destination_unreachable", call_id=call_id)
                # pjsip reports the transaction's code as the call's: Ended 503, slot free.
                native().tsx_terminate(tsx, 503)
            if not probe.open:
                del self.probes[call_id]

    def _report_rx(self, cmd: ReportRx) -> None:
        leg = self.legs.get(cmd.call_id)
        if leg is None or leg.ended or leg.silent:
            self._failed(cmd, NO_SUCH_CALL)
            return
        self._emit(RxReport(call_id=leg.call_id, packets_received=rx_packets(leg)))

    def _busy(self, account: SipAccount) -> bool:
        return any(leg.account is account for leg in self.legs.values())

    def _on_leg(self, cmd: Provisional | Answer | Reject | Cancel | Bye) -> None:
        leg = self.legs.get(cmd.call_id)
        if leg is None or leg.ended or leg.silent:
            self._failed(cmd, NO_SUCH_CALL)
            return
        headers = outgoing_headers(cmd.headers)
        if isinstance(cmd, Cancel | Bye):
            code = cmd.code if isinstance(cmd, Cancel) else 0
            leg.hangup(call_op(self._hangup_code(leg, code), headers))
            return
        if leg.outbound:
            self._failed(cmd, "only possible on an inbound call")
            return
        if leg.final_sent:
            self._failed(cmd, "a final response was already sent on this call")
            return
        if isinstance(cmd, Provisional):
            if not 101 <= cmd.code <= 199:
                raise InvalidArgumentError(f"provisional code must be 101-199, got {cmd.code}")
            leg.answer(call_op(cmd.code, headers))
            ci = leg.getInfo()
            reason = str(ci.lastReason)
            del ci
            # The runtime learns that its 18x went out from this echo.
            self._emit(Progress(call_id=leg.call_id, code=cmd.code, reason=reason))
            if cmd.code == 183:  # pjsua puts SDP in 183 only: early media starts
                self._sdp_sent(leg)
        elif isinstance(cmd, Answer):
            leg.answer(call_op(200, headers))
            leg.final_sent = True
            self._sdp_sent(leg)
        else:
            if not 300 <= cmd.code <= 699:
                raise InvalidArgumentError(f"reject code must be 300-699, got {cmd.code}")
            op = call_op(cmd.code, headers)
            if cmd.contact is not None and cmd.code < 400:
                add_contact(op.txOption, redirect_target(cmd.code, cmd.contact) or "")
            leg.hangup(op)
            leg.final_sent = True  # only once it went out: a pj.Error leaves the leg answerable

    def _sdp_sent(self, leg: Leg) -> None:
        if not leg.sdp_sent:
            leg.sdp_sent = True
            if self.media is not None:
                self.media.media_changed(leg)  # deferred playbacks start now

    @staticmethod
    def _hangup_code(leg: Leg, code: int) -> int:
        # Which of CANCEL, BYE or a reject code is the call machine's decision (core/state.py);
        # this is pjsua's quirk: it reports the code passed to hangup() as the leg's final
        # status even for a BYE, so a leg that is established by now (a 200 that crossed our
        # CANCEL) gets 0 to end with 200; an inbound leg with no final response needs one.
        if leg.connected or (leg.final_sent and not leg.outbound):
            return 0
        if 300 <= code <= 699:
            return code
        return 0 if leg.outbound else 603

    # -- shutdown --------------------------------------------------------------------------

    def hangup_all(self) -> None:
        """BYE/CANCEL/503 every live leg; their Ended signals follow from pjsua."""
        self.stopping = True
        for leg in list(self.legs.values()):
            if leg.ended:
                continue
            try:
                leg.hangup(call_op(self._hangup_code(leg, 487 if leg.outbound else 503)))
            except pj.Error as exc:
                self._logger.debug(
                    "hangup_at_stop_failed", call_id=leg.call_id, error=reason_of(exc)
                )

    def abandon_all(self, reason: str) -> None:
        """Report Ended for legs pjsua never finished, so each leg still ends exactly once."""
        for leg in list(self.legs.values()):
            leg.finish(500, reason)
        self.legs.clear()

    def poll(self) -> None:
        """Owner loop, between polls: deferred work of the media and signalling registries."""
        if self.probes:
            self._poll_probes()
        for leg in list(self.legs.values()):
            bye, leg.dialog.doomed_bye = leg.dialog.doomed_bye, 0
            if bye:  # still pending: its final state would have cleared it
                native().tsx_terminate(bye, 408)  # the leg ends (ack_timeout), slot freed
        if self.media is not None:
            self.media.poll()  # playbacks that ended, objects due for destruction
        if self.signalling is not None:
            self.signalling.poll()

    def release(self) -> None:
        """Drop every pj object this registry holds (before libDestroy): media, calls, accounts."""
        signalling, self.signalling = self.signalling, None
        if signalling is not None:
            signalling.release()  # subscriptions end while their dialogs still exist
        media, self.media = self.media, None
        if media is not None:
            media.release()
        self.legs.clear()
        for probe in self.probes.values():
            probe.close()
        self.probes.clear()
        accounts, self.accounts = self.accounts, None
        if accounts is not None:
            accounts.shutdown()

"""In-dialog signalling of one leg: REFER both ways, INFO, MESSAGE, re-INVITE, hold, redirect.

A :class:`LegDialog` belongs to one :class:`~.call.Leg`, which forwards its pjsua2 callbacks
here. Owner thread only (every callback used here runs inside ``libHandleEvents``).

How requests pjsua2 cannot answer are answered: ``onCallTsxState`` runs for an incoming
request while its transaction is still TRYING, and pjsua only acts on the request (INFO: 500
"Unhandled by dialog usages"; REFER: 202 and then *dialling the Refer-To target itself*) if the
transaction is still TRYING once the callback returns. So a generic INFO is answered 200 and a
REFER is answered 603, or 202 with a subscription of our own (:mod:`.native`), right here, and
pjsua never sees them. ``application/dtmf-relay`` INFO is left to pjsua (DtmfReceived).

Outcomes of our own requests: pjsua2 gives no handle for an INFO or re-INVITE it sends, but
their client transaction reaches CALLING synchronously inside the sending call, so the command
"expects" it (:meth:`expect`) and a failure (>= 300) later becomes CommandFailed for that op.
"""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import pjsua2 as pj

from voxpy.backends.pjsua2 import pjtypes as pjt
from voxpy.backends.pjsua2 import sipmsg
from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.native import PJ_EINVAL, native
from voxpy.backends.pjsua2.pjmsg import received_message
from voxpy.core.signals import (
    CommandFailed,
    HoldChanged,
    MessageDelivered,
    Redirected,
    Signal,
    SipInfoReceived,
    SipMessageReceived,
    SipReInviteReceived,
    TransferRequested,
    TransferStatus,
)

DTMF_RELAY = "application/dtmf-relay"
_FINAL_STATES = frozenset({pj.PJSIP_TSX_STATE_COMPLETED, pj.PJSIP_TSX_STATE_TERMINATED})


class DialogLeg(Protocol):
    """What a LegDialog needs from its leg (a pj.Call subclass)."""

    call_id: str
    outbound: bool
    ended: bool
    silent: bool
    hung_up: bool
    confirmed: bool

    def getInfo(self) -> pjt.CallInfo: ...  # pjsua2's name


class SubscriptionHooks(Protocol):
    """The registry of REFER subscriptions we serve (see :mod:`.signalling`)."""

    def subscribed(self, dialog: LegDialog, sub: int) -> None: ...
    def closed(self, dialog: LegDialog) -> None: ...


class LegDialog:
    """Per-leg signalling state and the handlers of the leg's pjsua2 callbacks."""

    def __init__(
        self,
        leg: DialogLeg,
        emit: Callable[[Signal], None],
        logger: Logger,
        subscriptions: SubscriptionHooks | None = None,
    ) -> None:
        # Weak: the leg owns its dialog. A strong back-reference made every leg a reference
        # cycle, freed by Python's GC on whatever thread ran it, and pjsua2 objects freed off
        # the owner thread abort the process.
        self.leg: DialogLeg = weakref.proxy(leg)
        self.handle_transfers = False
        "HandleTransfers: accept incoming REFERs (off: 603)."
        self.xfer_sub = 0
        "The REFER subscription we serve (pjsip_evsub*), 0 when none is waiting for NotifyTransfer."
        self.transfer_pending = False
        "A REFER we sent has not had its final TransferStatus yet."
        self.remote_hold = False
        self.queued_holds: deque[Any] = deque()
        "Hold commands waiting for the INVITE transaction in flight (see Signalling._hold)."
        self.invite_settled = False
        "An INVITE transaction of this dialog ended since the queued holds were last tried."
        self.doomed_bye = 0
        "A BYE pjsua sent on its own: its transaction ends at the owner loop's next turn."
        self.unanswered_invite = 0
        "Outbound: our initial INVITE's transaction while it has had no response at all."
        self.codec_order_set = False
        "Inbound: our codec order applies to the caller's offer (see :meth:`on_tsx_state`)."
        self._emit = emit
        self._logger = logger
        self._subscriptions = subscriptions
        self._expected: dict[str, deque[str]] = {}
        self._ops: dict[int, str] = {}

    @property
    def live(self) -> bool:
        """Signals may be emitted: the runtime knows the leg and it has not ended."""
        return not self.leg.ended and not self.leg.silent

    def close(self) -> None:
        """The leg ended: a REFER still waiting for NotifyTransfer will never get it."""
        self.transfer_pending = False
        if self._subscriptions is not None:
            self._subscriptions.closed(self)

    # -- our own requests ------------------------------------------------------------------

    def expect(self, method: str, op: str) -> None:
        """The next client transaction of ``method`` belongs to command ``op``."""
        self._expected.setdefault(method, deque()).append(op)

    def unexpect(self, method: str) -> None:
        """Sending failed before any transaction existed: forget the last :meth:`expect`."""
        pending = self._expected.get(method)
        if pending:
            pending.pop()

    # -- callbacks -------------------------------------------------------------------------

    def on_tsx_state(self, prm: pjt.HasEvent) -> None:
        """``Call.onCallTsxState``: requests we answer ourselves; results of our requests."""
        event = prm.e
        if event.type != pj.PJSIP_EVENT_TSX_STATE:
            return
        tsx_state = event.body.tsxState
        tsx = tsx_state.tsx
        method, state = str(tsx.method), tsx.state
        if method == "BYE" and tsx.role == pj.PJSIP_ROLE_UAC:
            self._watch_own_bye(int(tsx.pjTransaction), state)
        elif method == "INVITE" and state in _FINAL_STATES:
            self.invite_settled = True
        inbound_invite = method == "INVITE" and not self.leg.outbound
        if inbound_invite and tsx.role == pj.PJSIP_ROLE_UAS and not self.codec_order_set:
            self.codec_order_set = True
            self._prefer_our_codecs(int(tsx.pjTransaction))
        if method == "INVITE" and tsx.role == pj.PJSIP_ROLE_UAC:
            # Any response, or the end of the transaction, and it is no longer unanswered.
            calling = state == pj.PJSIP_TSX_STATE_CALLING and not self.leg.confirmed
            self.unanswered_invite = int(tsx.pjTransaction) if calling else 0
        if tsx.role == pj.PJSIP_ROLE_UAS:
            if state == pj.PJSIP_TSX_STATE_TRYING and method in ("REFER", "INFO"):
                rdata = tsx_state.src.rdata
                pointers = int(tsx.pjTransaction), int(rdata.pjRxData)
                if method == "REFER":
                    self._incoming_refer(*pointers, str(rdata.wholeMsg))
                else:
                    self._incoming_info(*pointers, str(rdata.wholeMsg))
            return
        if state == pj.PJSIP_TSX_STATE_CALLING:
            pending = self._expected.get(method)
            if pending:
                self._ops[int(tsx.pjTransaction)] = pending.popleft()
        elif state in _FINAL_STATES and tsx.statusCode >= 200:
            self._outcome(method, int(tsx.pjTransaction), int(tsx.statusCode), str(tsx.statusText))

    def _prefer_our_codecs(self, tsx: int) -> None:
        """Answer with the first codec of sip.codecs that the caller offered, not with the
        caller's favourite (pjmedia's default). Our 100 Trying is the first time the INVITE
        transaction reaches us; the answer is chosen when our 183/200 goes out."""
        status = native().prefer_local_codec_order(tsx)
        if status not in (0, PJ_EINVAL):  # PJ_EINVAL: an INVITE without an offer
            self._logger.warning("codec_order_not_applied", call_id=self.leg.call_id, status=status)

    def _watch_own_bye(self, pointer: int, state: int) -> None:
        """pjsua sends BYE by itself only for a far end it considers gone: our 200 OK went
        unACKed for 64*T1 (32 s), or the session timer expired unrefreshed. It would then
        wait up to another 32 s for that BYE's answer before freeing the call slot, so the
        BYE is sent once and its transaction ended at once (see ``Calls.poll``)."""
        if state == pj.PJSIP_TSX_STATE_CALLING and not self.leg.hung_up:
            self.doomed_bye = pointer
        elif state in _FINAL_STATES and pointer == self.doomed_bye:
            self.doomed_bye = 0  # answered after all: nothing left to end (or to point at)

    def _outcome(self, method: str, tsx: int, code: int, reason: str) -> None:
        op = self._ops.pop(tsx, None)
        if not self.live:
            return
        if op is not None and code >= 300:
            self._emit(
                CommandFailed(
                    call_id=self.leg.call_id, op=op, message=f"{code} {reason}".strip(), status=code
                )
            )
        elif method == "REFER" and code >= 300:
            # The far end refused the REFER itself. pjsua reports it too (after this
            # callback); the first report wins, see on_transfer_status.
            self.on_transfer_status(code, reason, final=True)

    def _incoming_refer(self, tsx: int, rdata: int, message: str) -> None:
        lib = native()
        if not self.live or not self.handle_transfers:
            lib.respond(tsx, rdata, 603)
            return
        if self.xfer_sub:
            lib.respond(tsx, rdata, 491, "Request Pending")  # one transfer at a time
            return
        status, sub = lib.xfer_accept(tsx, rdata)
        if status != 0:
            self._logger.warning("refer_not_accepted", call_id=self.leg.call_id, status=status)
            if not sub:
                lib.respond(tsx, rdata, 500)
            return
        self.xfer_sub = sub
        if self._subscriptions is not None:
            self._subscriptions.subscribed(self, sub)
        self._emit(
            TransferRequested(
                call_id=self.leg.call_id,
                to=sipmsg.refer_to(message),
                headers=sipmsg.message_headers(message),
            )
        )

    def _incoming_info(self, tsx: int, rdata: int, message: str) -> None:
        mime_type = sipmsg.content_type(message)
        if not self.live or mime_type.lower().startswith(DTMF_RELAY):
            return  # pjsua answers DTMF INFO itself and reports the digit (DtmfReceived)
        status = native().respond(tsx, rdata, 200)
        if status != 0:
            self._logger.warning("info_not_answered", call_id=self.leg.call_id, status=status)
        self._emit(
            SipInfoReceived(
                call_id=self.leg.call_id,
                mime_type=mime_type,
                body=sipmsg.body_of(message),
                headers=sipmsg.message_headers(message),
            )
        )

    def on_transfer_status(self, code: int, reason: str, *, final: bool) -> None:
        """Progress of the REFER we sent (``Call.onCallTransferStatus`` or a refusal)."""
        if not self.transfer_pending or not self.live:
            return  # a second report of a refusal, or a transfer nobody waits for
        if final:
            self.transfer_pending = False
        self._emit(TransferStatus(call_id=self.leg.call_id, code=code, reason=reason, final=final))

    def on_redirected(self, prm: pjt.RedirectedParam) -> int:
        """``Call.onCallRedirected``: report the 3xx and follow it."""
        message = _event_message(prm.e)
        code, _ = sipmsg.status_line(message)
        target = sipmsg.name_addr(str(prm.targetUri))[1]
        # pjsua2 prints the target without its port (From/To style): use the Contact itself.
        contact = next(
            (uri for uri in sipmsg.contact_uris(message) if _same_target(uri, target)), target
        )
        if self.live:
            self._emit(Redirected(call_id=self.leg.call_id, code=code or 302, contact=contact))
        return int(pj.PJSIP_REDIRECT_ACCEPT)

    def on_instant_message(self, prm: pjt.InstantMessageParam) -> None:
        """``Call.onInstantMessage``: an in-dialog MESSAGE (pjsua already answered 200)."""
        if self.live:
            self._emit(
                SipMessageReceived(
                    call_id=self.leg.call_id,
                    text=str(prm.msgBody),
                    headers=sipmsg.message_headers(str(prm.rdata.wholeMsg)),
                )
            )

    def on_instant_message_status(self, prm: pjt.InstantMessageStatusParam) -> None:
        """``Call.onInstantMessageStatus``: the outcome of a SendMessage."""
        code = int(prm.code)
        if 200 <= code < 300 and self.live:
            self._emit(MessageDelivered(call_id=self.leg.call_id, text=str(prm.msgBody), code=code))
        elif code >= 300 and self.live:
            self._emit(
                CommandFailed(
                    call_id=self.leg.call_id,
                    op="SendMessage",
                    message=f"{code} {prm.reason}".strip(),
                    status=code,
                )
            )

    def on_rx_reinvite(self, prm: pjt.RxReinviteParam) -> None:
        """``Call.onCallRxReinvite``: a re-INVITE with an SDP offer (answered by pjsua)."""
        if not self.live:
            return
        message = str(prm.rdata.wholeMsg)
        self._emit(
            SipReInviteReceived(
                call_id=self.leg.call_id,
                mime_type=sipmsg.content_type(message) or "application/sdp",
                body=sipmsg.body_of(message) or str(prm.offer.wholeSdp),
                headers=sipmsg.message_headers(message),
            )
        )

    def on_media_state(self) -> None:
        """After ``Call.onCallMediaState``: did the far end put us on hold or take us off?"""
        if not self.live:
            return
        ci = self.leg.getInfo()
        audio = [(mi.status, mi.dir) for mi in ci.media if mi.type == pj.PJMEDIA_TYPE_AUDIO]
        del ci
        if not audio:
            return
        status, direction = audio[0]
        if status == pj.PJSUA_CALL_MEDIA_REMOTE_HOLD:  # the far end's sendonly or inactive
            held = True
        elif status == pj.PJSUA_CALL_MEDIA_ACTIVE:
            # pjsua calls a far end's a=recvonly ACTIVE, yet it sends us nothing either: it
            # is a hold too (and no RTP-timeout hangup must take it for a vanished caller).
            held = not direction & pj.PJMEDIA_DIR_DECODING
        else:
            return  # our own hold, or no media: says nothing about the far end
        if held != self.remote_hold:
            self.remote_hold = held
            self._emit(HoldChanged(call_id=self.leg.call_id, on_hold=held))


def _event_message(event: pjt.SipEvent) -> str:
    return received_message(event) or ""


def _same_target(contact: str, target: str) -> bool:
    """``sip:u@h:5070;x`` matches the port-less ``sip:u@h``."""
    bare = contact.split(";", 1)[0].split("?", 1)[0]
    scheme, _, rest = bare.partition(":")
    user, at, hostport = rest.rpartition("@")
    host = hostport.split(":", 1)[0]
    return f"{scheme}:{user}{at}{host}".lower() == target.split(";", 1)[0].lower()

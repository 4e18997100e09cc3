"""One call leg: a ``pj.Call`` subclass that turns pjsua call states into voxpy signals.

Inbound legs report ``Progress`` from the command that sent the provisional response (see
``dispatch``); outbound legs report each new provisional code they receive. ``Answered`` comes
on CONFIRMED, ``Ended`` exactly once, on DISCONNECTED or when a dial fails before any SIP.
Media state changes and the end of the leg are passed on to the media registry (``media``);
DTMF digits become ``DtmfReceived``. In-dialog signalling callbacks (REFER, INFO, MESSAGE,
re-INVITE, redirect, stream life) are handed to the leg's :class:`~.dialog.LegDialog`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import pjsua2 as pj

from voxpy.backends.pjsua2 import pjtypes as pjt
from voxpy.backends.pjsua2.dialog import LegDialog, SubscriptionHooks
from voxpy.backends.pjsua2.dtmf import received_method
from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.pjmsg import received_message
from voxpy.backends.pjsua2.sipmsg import message_headers
from voxpy.backends.pjsua2.stats import StreamState
from voxpy.core.guards import EndCause
from voxpy.core.headers import Headers
from voxpy.core.signals import Answered, DtmfReceived, Ended, Progress, Signal

Emit = Callable[[Signal], None]


class MediaHooks(Protocol):
    """What the media registry needs to hear from a leg (see :mod:`.media`)."""

    def media_changed(self, leg: Leg) -> None: ...
    def leg_ended(self, leg: Leg) -> None: ...


class Leg(pj.Call):  # type: ignore[misc]
    """A call leg known to the runtime by ``call_id``.

    ``silent`` legs (INVITEs refused with 503 while not accepting) emit nothing: the runtime
    never heard of them. ``forget`` removes the leg from the owner's registry; that drops the
    last reference, which pjsua2 allows even inside the DISCONNECTED callback.
    """

    def __init__(
        self,
        account: Any,
        *,
        call_id: str,
        outbound: bool,
        emit: Emit,
        forget: Callable[[Leg], None],
        logger: Logger,
        pj_call_id: int = pj.PJSUA_INVALID_ID,
        silent: bool = False,
        media: MediaHooks | None = None,
        subscriptions: SubscriptionHooks | None = None,
    ) -> None:
        super().__init__(account, pj_call_id)
        self.account = account
        self.call_id = call_id
        self.outbound = outbound
        self.silent = silent
        self.final_sent = False
        "Inbound: a final response (200 or an error) has been sent."
        self.connected = False
        "A 2xx went out or came in: a hangup is a BYE and must not carry a status code."
        self.ended = False
        self.confirmed = False
        "The INVITE transaction was ACKed (CONFIRMED)."
        self.hung_up = False
        "We asked pjsua to end the leg (Cancel, Bye, Reject, stop)."
        self.sdp_sent = False
        "Inbound: a 183 or 200 carried our SDP answer, so the caller can hear us."
        self._media = None if silent else media
        self._emit = emit
        self._forget = forget
        self._logger = logger
        self._last_progress = 0
        self._answer_headers = Headers()
        self.dialog = LegDialog(self, emit, logger, subscriptions)
        self.streams = StreamState()

    def _guarded(self, what: str, handler: Callable[[], object]) -> None:
        # An exception in a director callback would only be printed (and swallowed) by SWIG.
        try:
            handler()
        except Exception:
            self._logger.exception(f"{what} handler failed", call_id=self.call_id)

    def onCallState(self, prm: pjt.HasEvent) -> None:  # name fixed by pjsua2
        try:
            self._on_state(prm)
        except Exception:  # SWIG would print and swallow it
            self._logger.exception("call_state_handler_failed", call_id=self.call_id)

    @property
    def may_send_audio(self) -> bool:
        """Audio sent now is heard: outbound legs once media is up, inbound after 183/200."""
        return self.outbound or self.sdp_sent

    def onCallMediaState(self, prm: object) -> None:  # name fixed by pjsua2
        media = self._media
        if media is None or self.ended:
            return
        self._guarded("media state", lambda: media.media_changed(self))
        self._guarded("hold state", self.dialog.on_media_state)

    # -- in-dialog signalling (names fixed by pjsua2; all run on the owner thread) ---------

    def onCallTsxState(self, prm: pjt.HasEvent) -> None:
        self._guarded("transaction", lambda: self.dialog.on_tsx_state(prm))

    def onCallTransferRequest(self, prm: pjt.TransferRequestParam) -> None:
        # Only reached if LegDialog left a REFER unanswered (a failure): pjsua would accept it
        # and dial the target itself, which voxpy never wants.
        self._logger.warning("refer_declined_native_unavailable", call_id=self.call_id)
        prm.statusCode = 603

    def onCallTransferStatus(self, prm: pjt.TransferStatusParam) -> None:
        self._guarded(
            "transfer status",
            lambda: self.dialog.on_transfer_status(
                int(prm.statusCode), str(prm.reason), final=bool(prm.finalNotify)
            ),
        )

    def onCallRedirected(self, prm: pjt.RedirectedParam) -> int:
        try:
            return self.dialog.on_redirected(prm)
        except Exception:
            self._logger.exception("redirect_handler_failed", call_id=self.call_id)
            return int(pj.PJSIP_REDIRECT_STOP)

    def onInstantMessage(self, prm: pjt.InstantMessageParam) -> None:
        self._guarded("MESSAGE", lambda: self.dialog.on_instant_message(prm))

    def onInstantMessageStatus(self, prm: pjt.InstantMessageStatusParam) -> None:
        self._guarded("MESSAGE status", lambda: self.dialog.on_instant_message_status(prm))

    def onCallRxReinvite(self, prm: pjt.RxReinviteParam) -> None:
        self._guarded("re-INVITE", lambda: self.dialog.on_rx_reinvite(prm))

    def onStreamCreated(self, prm: pjt.StreamParam) -> None:
        if int(prm.streamIdx) == 0:  # our one audio stream
            self._guarded("stream", lambda: self.streams.created(int(prm.stream)))

    def onStreamDestroyed(self, prm: pjt.StreamParam) -> None:
        # The stream still answers getStreamStat here: its totals are carried over.
        index, stream = int(prm.streamIdx), int(prm.stream)
        self._guarded("stream", lambda: self.streams.destroyed(self, stream, index))

    def onDtmfDigit(self, prm: pjt.DtmfDigitParam) -> None:  # name fixed by pjsua2; owner thread
        # Once per digit for RFC 2833 (at its start) and SIP INFO alike; onDtmfEvent would
        # repeat RFC 2833 digits every 20 ms.
        if self.silent or self.ended:
            return
        try:
            self._emit(
                DtmfReceived(
                    call_id=self.call_id,
                    tone=str(prm.digit),
                    method=received_method(int(prm.method)),
                )
            )
        except Exception:  # SWIG would print and swallow it
            self._logger.exception("dtmf_handler_failed", call_id=self.call_id)

    def _on_state(self, prm: pjt.HasEvent) -> None:
        ci = self.getInfo()
        state, code, reason = ci.state, int(ci.lastStatusCode), str(ci.lastReason)
        del ci
        if state in (pj.PJSIP_INV_STATE_CONNECTING, pj.PJSIP_INV_STATE_CONFIRMED):
            self.connected = True
        if state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.confirmed = True
        if state == pj.PJSIP_INV_STATE_DISCONNECTED:
            reason = self._stack_cause(code, reason) or reason
            self.finish(code, reason, message_headers(received_message(prm.e)))
        elif self.ended or self.silent:
            return
        elif state == pj.PJSIP_INV_STATE_EARLY and self.outbound:
            if code != self._last_progress:
                self._last_progress = code
                headers = message_headers(received_message(prm.e))
                self._emit(
                    Progress(call_id=self.call_id, code=code, reason=reason, headers=headers)
                )
        elif state == pj.PJSIP_INV_STATE_CONNECTING and self.outbound:
            # The 200 OK arrives here; CONFIRMED only carries our own ACK.
            self._answer_headers = message_headers(received_message(prm.e))
        elif state == pj.PJSIP_INV_STATE_CONFIRMED:
            headers = (
                self._answer_headers if self.outbound else message_headers(received_message(prm.e))
            )
            self._emit(Answered(call_id=self.call_id, headers=headers))

    def hangup(self, prm: Any) -> None:  # pjsua2's name; every hangup of ours passes here
        self.hung_up = True
        super().hangup(prm)

    def _stack_cause(self, code: int, reason: str) -> str | None:
        """Why pjsua ended a dialog on its own, as a voxpy EndCause (None: someone hung up).

        Session timer: as refreshee pjsua ends the session with 408 "No session refresh
        received." (pjsip timer.c). ACK timeout: our 200 OK was retransmitted for 64*T1
        (32 s) without an ACK and pjsua gave up on the INVITE session."""
        if self.hung_up:
            return None
        if code == 408 and reason.lower().startswith("no session refresh"):
            return EndCause.SESSION_TIMER.value
        unacked = self.final_sent and self.sdp_sent and not self.confirmed
        if code == 408 and unacked and not self.outbound:  # not a BYE that overtook the ACK
            return EndCause.ACK_TIMEOUT.value
        return None

    def finish(self, code: int, reason: str, headers: Headers | None = None) -> None:
        """Report Ended (once) and drop the leg from the registry."""
        if self.ended:
            return
        self.ended = True
        self.dialog.close()
        media, self._media = self._media, None
        if media is not None:
            try:
                media.leg_ended(self)  # players and ports go before the Call object does
            except Exception:  # Ended must still be reported
                self._logger.exception("media_teardown_failed", call_id=self.call_id)
        if not code:
            code, reason = 500, reason or "No final status from pjsua"
        if not self.silent:
            self._emit(
                Ended(call_id=self.call_id, code=code, reason=reason, headers=headers or Headers())
            )
        self._forget(self)

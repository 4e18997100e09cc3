"""pjsip/pjmedia C calls that pjsua2 does not wrap, made through ctypes. Owner thread only.

The wheel links pjproject statically and exports most of its C symbols, so they can be called
on the already loaded extension module. Four gaps of pjsua2 are filled here:

* answering an in-dialog request pjsua would otherwise answer itself (generic INFO gets
  "500 Unhandled by dialog usages"; REFER would be accepted *and dialled by pjsua*),
* the server side of a REFER subscription (RFC 3515): 202, NOTIFY with a sipfrag, terminate,
* per-transport RTP loss (``medConfig.txDropPct`` is global and fixed at libInit),
* ending a transaction early (the BYE pjsua sends a caller that never ACKed, see dialog).

It also sets what pjsua2 leaves at pjsip's compile-time defaults: ports kept in From/To,
G.722's PCM level, and our codec order when we answer an offer (see the README's "What
other SIP agents see").

Pointers are plain ints: ``SipTransaction.pjTransaction`` and ``SipRxData.pjRxData`` convert
with ``int()``. Every function returns the pj status (0 = success) rather than raising, and
never passes a value pjsip would ``assert`` on (asserts abort this build).

Each gap is a *feature* bound on its own (:data:`FEATURES`): a symbol this build lacks, or a
wheel other than the verified one for a feature that reads pjsip memory at a fixed offset,
disables that feature only (its functions return ``PJ_ENOTSUP``), and :meth:`Native.report`
says which and why at start-up. Without a feature voxpy degrades instead of crashing: a
REFER or INFO goes back to pjsua's own answer (603 by :class:`~.call.Leg`, 500), an unanswered
BYE runs its course, SetRtpLoss fails with CommandFailed.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable
from typing import Any

import pjsua2 as pj

from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.pjsip_abi import VERIFIED_WHEEL, wheel, wheel_verified

_VP = ctypes.c_void_p
_INT = ctypes.c_int
PJ_SUCCESS = 0
PJ_EINVAL = 70004
PJ_ENOTSUP = 70012
"pjlib's 'not supported': what the functions of a disabled feature return."
TRANSPORT_OP_SIMULATE_LOST = 10
"""Index of ``simulate_lost`` in pjmedia_transport_op (get_info, attach, detach, send_rtp,
send_rtcp, send_rtcp2, media_create, encode_sdp, media_start, media_stop, simulate_lost...).
Checked against the wheel's (unstripped) symbol table: a call's transport is pjsua's SRTP
adapter even with SRTP off, and entry 10 of its op table is transport_srtp.c's
``transport_simulate_lost``, which hands the setting to the UDP transport underneath."""
TRANSPORT_OP_OFFSET = 40
"struct pjmedia_transport { char name[32]; int type; (pad) pjmedia_transport_op *op; ... }"
INV_DLG_OFFSET = 120
INV_ROLE_OFFSET = 128
INV_NEG_OFFSET = 136
"""struct pjsip_inv_session (sip_inv.h, 2.15.1, x86_64): obj_name[32], pool, pool_prov,
pool_active (32..56), state, cancelling, pending_cancel, (pad) pending_bye (72), cause, (pad)
cause_text (88), notify, sdp_done_early_rel, cb_called, (pad) dlg (120), role (128), options,
neg (136). ``dlg`` and ``role`` are read to check the layout before ``neg`` is used."""
PJSIP_ROLE_UAS = 1
SDP_NEG_REMOTE_OFFER, SDP_NEG_WAIT_NEGO = 2, 3
"pjmedia_sdp_neg_state: an offer received, and our answer set but not yet negotiated."

_Sig = tuple[str, Any, list[Any]]
INFO, REFER, TSX_END, RTP_LOSS = "info", "refer", "tsx_end", "rtp_loss"
FROMTO_PORT, G722_LEVEL, ANSWER_ORDER = "fromto_port", "g722_level", "answer_order"
FEATURES: dict[str, tuple[_Sig, ...]] = {
    # Answering an in-dialog request ourselves: INFO 200, and REFER refusals (603, 491).
    INFO: (
        ("pjsip_tsx_get_dlg", _VP, [_VP]),
        ("pjsip_dlg_create_response", _INT, [_VP, _VP, _INT, _VP, _VP]),
        ("pjsip_dlg_send_response", _INT, [_VP, _VP, _VP]),
    ),
    REFER: (
        ("pjsip_tsx_get_dlg", _VP, [_VP]),
        ("pjsip_xfer_create_uas", _INT, [_VP, _VP, _VP, _VP]),
        ("pjsip_xfer_accept", _INT, [_VP, _VP, _INT, _VP]),
        ("pjsip_xfer_notify", _INT, [_VP, _INT, _INT, _VP, _VP]),
        ("pjsip_xfer_send_request", _INT, [_VP, _VP]),
        ("pjsip_evsub_terminate", _INT, [_VP, _INT]),
        ("pjsip_evsub_get_state", _INT, [_VP]),
    ),
    TSX_END: (("pjsip_tsx_terminate", _INT, [_VP, _INT]),),
    RTP_LOSS: (("pjmedia_stream_get_transport", _VP, [_VP]),),
    # pjsip_cfg()->endpt.allow_port_in_fromto_hdr (pjsip_cfg() is inline over this variable).
    FROMTO_PORT: (("pjsip_sip_cfg_var", None, []),),
    G722_LEVEL: (("pjmedia_codec_g722_set_pcm_shift", _INT, [ctypes.c_uint]),),
    # Our codec order, not the offerer's, when we answer (see prefer_local_codec_order).
    ANSWER_ORDER: (
        ("pjsip_tsx_get_dlg", _VP, [_VP]),
        ("pjsip_dlg_get_inv_session", _VP, [_VP]),
        ("pjmedia_sdp_neg_get_state", _INT, [_VP]),
        ("pjmedia_sdp_neg_set_prefer_remote_codec_order", _INT, [_VP, _INT]),
    ),
}
"Each feature and the C functions it calls (name, restype, argtypes)."
LAYOUT_FEATURES = frozenset({RTP_LOSS, ANSWER_ORDER})
"""Features that read a struct offset or vtable slot (TRANSPORT_OP_*): only safe on the
verified wheel. The others call exported functions whose signatures pjsip keeps stable."""

EvsubStateHandler = Callable[[int, int], None]
"``handler(sub, state)``: a REFER subscription we serve changed state."


class PjStr(ctypes.Structure):
    """pj_str_t: pointer and length, not NUL-terminated."""

    _fields_ = [("ptr", ctypes.c_char_p), ("slen", ctypes.c_long)]


def pj_str(text: str) -> PjStr:
    """A pj_str_t over a copy of ``text`` (kept alive by the returned object)."""
    raw = text.encode()
    return PjStr(raw, len(raw))


class EvsubUser(ctypes.Structure):
    """pjsip_evsub_user: six callbacks; pjsip copies the struct, NULL means default."""

    _fields_ = [
        (name, _VP)
        for name in (
            "on_evsub_state",
            "on_tsx_state",
            "on_rx_refresh",
            "on_rx_notify",
            "on_client_refresh",
            "on_server_timeout",
        )
    ]


_EVSUB_STATE_CB = ctypes.CFUNCTYPE(None, _VP, _VP)
_SIMULATE_LOST = ctypes.CFUNCTYPE(_INT, _VP, _INT, ctypes.c_uint)


class Native:
    """The C functions, typed. One per process (see :func:`native`)."""

    def __init__(self) -> None:
        self.disabled: dict[str, str] = {}
        "Feature -> why it is off (see :data:`FEATURES`)."
        self._lib: Any = None
        try:
            self._lib = ctypes.CDLL(pj._pjsua2.__file__)
        except OSError as exc:
            self.disabled = dict.fromkeys(FEATURES, f"cannot load the pjsua2 library: {exc}")
        else:
            for feature, signatures in FEATURES.items():
                why = self._bind(signatures)
                if why is None and feature in LAYOUT_FEATURES and not wheel_verified():
                    why = f"pjsua2 {wheel()} is not the verified {VERIFIED_WHEEL}"
                if why is not None:
                    self.disabled[feature] = why
        self.on_evsub_state: EvsubStateHandler | None = None
        self.failures = 0
        "Exceptions in the subscription-state callback (nothing may propagate into C)."
        # pjsip keeps calling this pointer for as long as a subscription lives: the ctypes
        # thunk must never be collected, so it lives as long as this (process-wide) object.
        self._state_cb = _EVSUB_STATE_CB(self._evsub_state)
        self._evsub_user = EvsubUser(on_evsub_state=ctypes.cast(self._state_cb, _VP))

    def _bind(self, signatures: tuple[_Sig, ...]) -> str | None:
        """Type the functions of one feature; the reason it cannot be used, or None."""
        for name, restype, argtypes in signatures:
            try:
                fn = getattr(self._lib, name)
            except AttributeError:
                return f"this pjsua2 build does not export {name}"
            fn.restype = restype
            fn.argtypes = argtypes
        return None

    def available(self, feature: str) -> bool:
        """Whether ``feature`` (a key of :data:`FEATURES`) was bound."""
        return feature not in self.disabled

    def report(self, logger: Logger) -> None:
        """At start-up: one line per disabled feature, so an operator sees what is missing."""
        if not wheel_verified():
            logger.warning("pjsua2_wheel_unverified", wheel=wheel(), verified=VERIFIED_WHEEL)
        for feature, why in self.disabled.items():
            logger.warning("native_feature_disabled", feature=feature, why=why)

    def _evsub_state(self, sub: int | None, _event: int | None) -> None:
        # Runs inside pjsip (owner thread); an exception would only be printed by ctypes.
        try:
            handler = self.on_evsub_state
            if handler is not None and sub:
                handler(sub, int(self._lib.pjsip_evsub_get_state(sub)))
        except Exception:  # noqa: BLE001 - nothing may propagate into C
            # Counted, not logged: this runs inside pjsip. Subscriptions.poll reports it.
            self.failures += 1

    # -- answering a request ourselves -------------------------------------------------------

    def respond(self, tsx: int, rdata: int, code: int, reason: str = "") -> int:
        """Send a final response on the UAS transaction ``tsx`` of an in-dialog request.

        Called inside ``onCallTsxState`` (state TRYING), this also keeps pjsua from handling
        the request itself: pjsua checks the transaction is still TRYING after the callback.
        """
        if not self.available(INFO):
            return PJ_ENOTSUP
        dlg = self._lib.pjsip_tsx_get_dlg(tsx)
        if not dlg:
            return PJ_EINVAL
        tdata = _VP()
        text = pj_str(reason) if reason else None
        status = int(
            self._lib.pjsip_dlg_create_response(
                dlg,
                rdata,
                code,
                ctypes.byref(text) if text is not None else None,
                ctypes.byref(tdata),
            )
        )
        if status != PJ_SUCCESS:
            return status
        return int(self._lib.pjsip_dlg_send_response(dlg, tsx, tdata))

    # -- REFER subscription, notifier side -------------------------------------------------------

    def xfer_accept(self, tsx: int, rdata: int) -> tuple[int, int]:
        """Create the REFER subscription, answer 202 and NOTIFY "100 Trying": (status, sub)."""
        if not self.available(REFER):
            return PJ_ENOTSUP, 0
        dlg = self._lib.pjsip_tsx_get_dlg(tsx)
        if not dlg:
            return PJ_EINVAL, 0
        sub = _VP()
        status = int(
            self._lib.pjsip_xfer_create_uas(
                dlg, ctypes.byref(self._evsub_user), rdata, ctypes.byref(sub)
            )
        )
        if status != PJ_SUCCESS or not sub.value:
            return status or PJ_EINVAL, 0
        status = int(self._lib.pjsip_xfer_accept(sub, rdata, 202, None))
        if status != PJ_SUCCESS:
            self._lib.pjsip_evsub_terminate(sub, 0)
            return status, 0
        # RFC 3515 wants an immediate NOTIFY; the sender's pjsua reports it as 100 Trying.
        self.xfer_notify(sub.value, 100, "", final=False)
        return PJ_SUCCESS, sub.value

    def xfer_notify(self, sub: int, code: int, reason: str, *, final: bool) -> int:
        """NOTIFY ``SIP/2.0 <code> <reason>``; ``final`` terminates the subscription."""
        if not self.available(REFER):
            return PJ_ENOTSUP
        state = pj.PJSIP_EVSUB_STATE_TERMINATED if final else pj.PJSIP_EVSUB_STATE_ACTIVE
        tdata = _VP()
        text = pj_str(reason) if reason else None  # NULL: pjsip's standard reason phrase
        status = int(
            self._lib.pjsip_xfer_notify(
                sub,
                state,
                code,
                ctypes.byref(text) if text is not None else None,
                ctypes.byref(tdata),
            )
        )
        if status != PJ_SUCCESS:
            return status
        return int(self._lib.pjsip_xfer_send_request(sub, tdata))

    def evsub_terminate(self, sub: int) -> int:
        """Drop a subscription without a NOTIFY (its dialog is going away)."""
        if not self.available(REFER):
            return PJ_ENOTSUP
        return int(self._lib.pjsip_evsub_terminate(sub, 1))

    def tsx_terminate(self, tsx: int, code: int) -> int:
        """End transaction ``tsx`` now with ``code`` (no more retransmissions)."""
        if not self.available(TSX_END):
            return PJ_ENOTSUP
        if not tsx or code < 200:  # pjsip asserts both
            return PJ_EINVAL
        return int(self._lib.pjsip_tsx_terminate(tsx, code))

    # -- stack settings --------------------------------------------------------------------------

    def allow_port_in_fromto(self) -> int:
        """Print URI ports in From and To (pjsip drops them unless told otherwise).

        pjsip's URI printer leaves the port out of From/To (RFC 3261 Table 1), so a response
        did not carry the From/To of its request verbatim (RFC 3261 8.2.6.2) when the caller
        put a port there. ``allow_port_in_fromto_hdr`` is the first member of pjsip_cfg_t.
        """
        if not self.available(FROMTO_PORT):
            return PJ_ENOTSUP
        _INT.in_dll(self._lib, "pjsip_sip_cfg_var").value = 1
        return PJ_SUCCESS

    def set_g722_pcm_shift(self, shift: int) -> int:
        """How many bits pjmedia's G.722 shifts PCM (right before encoding, left after)."""
        if not self.available(G722_LEVEL):
            return PJ_ENOTSUP
        if not 0 <= shift <= 4:
            return PJ_EINVAL
        return int(self._lib.pjmedia_codec_g722_set_pcm_shift(shift))

    def prefer_local_codec_order(self, tsx: int) -> int:
        """Answer the INVITE of server transaction ``tsx`` with our first codec it offers.

        pjmedia's negotiator keeps the offerer's order by default
        (PJMEDIA_SDP_NEG_PREFER_REMOTE_CODEC_ORDER, compile time), but each negotiator has a
        run-time switch; pjsua2 exposes neither it nor the INVITE session, so the session is
        found from the request's dialog and its ``neg`` read at its offset (checked through
        the session's ``dlg`` and ``role`` first). Call from the INVITE transaction's first
        ``onCallTsxState`` (our 100 Trying): the offer is in, the answer is negotiated only
        when our 183/200 goes out. (``onIncomingCall`` is too early: pjsua2 runs it with a
        clone of the request that knows neither transaction nor dialog.) The setting lasts
        for the dialog, so re-INVITE offers are answered the same way.
        """
        if not self.available(ANSWER_ORDER):
            return PJ_ENOTSUP
        neg = self._offer_negotiator(tsx)
        if neg <= 0:
            return -neg
        return int(self._lib.pjmedia_sdp_neg_set_prefer_remote_codec_order(neg, 0))

    def _offer_negotiator(self, tsx: int) -> int:
        """The pjmedia_sdp_neg of the INVITE session of ``tsx``, holding its offer; or minus
        the status that says why not."""
        dlg = self._lib.pjsip_tsx_get_dlg(tsx) if tsx else None
        inv = self._lib.pjsip_dlg_get_inv_session(dlg) if dlg else None
        if not inv:
            return -PJ_EINVAL
        if (
            _VP.from_address(inv + INV_DLG_OFFSET).value != dlg
            or _INT.from_address(inv + INV_ROLE_OFFSET).value != PJSIP_ROLE_UAS
        ):
            return -PJ_ENOTSUP  # not the layout we know: leave pjmedia's default alone
        neg = _VP.from_address(inv + INV_NEG_OFFSET).value
        # No negotiator or no offer in it: an INVITE without SDP gets our offer, our order.
        if not neg or int(self._lib.pjmedia_sdp_neg_get_state(neg)) not in (
            SDP_NEG_REMOTE_OFFER,
            SDP_NEG_WAIT_NEGO,
        ):
            return -PJ_EINVAL
        return int(neg)

    # -- RTP loss --------------------------------------------------------------------------------

    def simulate_tx_loss(self, stream: int, pct: int) -> int:
        """Make the stream's media transport drop ``pct`` of its outgoing RTP (0 = none).

        ``pjmedia_transport_simulate_lost`` is an inline wrapper around the transport's
        ``op->simulate_lost``, which works for every transport kind (UDP, ICE, SRTP passes
        it to its member). Its UDP version asserts ``pct <= 100``: checked first.
        """
        if not self.available(RTP_LOSS):
            return PJ_ENOTSUP
        if not 0 <= pct <= 100 or not stream:
            return PJ_EINVAL
        tp = self._lib.pjmedia_stream_get_transport(stream)
        if not tp:
            return PJ_EINVAL
        op = _VP.from_address(tp + TRANSPORT_OP_OFFSET).value
        if not op:
            return PJ_EINVAL
        entry = _VP.from_address(op + TRANSPORT_OP_SIMULATE_LOST * ctypes.sizeof(_VP)).value
        if not entry:
            return PJ_EINVAL
        return int(_SIMULATE_LOST(entry)(tp, pj.PJMEDIA_DIR_ENCODING, pct))


@functools.cache
def native() -> Native:
    """The process-wide :class:`Native` (created on first use, on the owner thread)."""
    return Native()

"""The edge guard: a pjsip module ahead of the transaction layer that refuses hostile requests.

pjsua2's asserts are compiled in, so input that would reach one must never reach pjsua. This
module is registered through ctypes at priority 12 (after the transport layer's 8, before the
transaction layer's 16): it sees every parsed request first, asks the pure policy
(:func:`voxpy.core.edge.inspect_request`), the overload gate (:mod:`voxpy.core.overload`: 503
+ Retry-After while the CPU or the media clock is late) and the key budget
(:class:`voxpy.core.admission.KeyBudget`), and refuses statelessly so nothing is kept. On the
way out it renames pjsua's ``User-Agent`` to ``Server``, drops ``Warning`` (pjmedia's error
names, our host name) and logs every error response pjsua sends, which pjsua never does.

The struct offsets (``pjsip_abi.py``) are those of this wheel. They are checked on every
message against what pjsip reports through its own accessors (``pjsip_rx_data_get_info``,
``pjsip_tx_data_get_info``); one mismatch disables the guard with an error line rather than
reading memory it does not understand.
"""

from __future__ import annotations

import ctypes
import time
from collections import OrderedDict
from typing import Any

from voxpy.backends.pjsua2.loadsample import OverloadWatch
from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.pjsip_abi import (
    CID_VALUE,
    DROP_CB,
    HDR_NAME,
    HDR_SNAME,
    INT,
    MSG_HDR_LIST,
    MSG_STATUS_CODE,
    PJSIP_RESPONSE_MSG,
    PRIORITY,
    RX_CB,
    RX_MSG_BUF,
    RX_MSG_LEN,
    RX_PACKET,
    RX_PKT_LEN,
    RX_POOL,
    RX_SRC_PORT,
    RX_TRANSPORT,
    TX_CB,
    TX_MSG,
    TX_POOL,
    VERIFIED_WHEEL,
    VP,
    PjsipHdr,
    PjsipModule,
    PjStr,
    c_string,
    hdr_name,
    load,
    rx_source,
    wheel,
    wheel_verified,
)
from voxpy.backends.pjsua2.tcpgate import TcpWatch
from voxpy.backends.pjsua2.unparsed import Unparsed
from voxpy.core.admission import IOQUEUE_KEYS, TCP_KEYS, KeyBudget
from voxpy.core.edge import MAX_PKT_LEN, TAG, Refusal, inspect_request
from voxpy.core.overload import OverloadThresholds
from voxpy.core.ratelimit import LogBudget
from voxpy.core.sipraw import raw_header, to_params, top_branch

_RETRANSMIT_MEMORY = 512
"Admitted INVITE branches remembered, so a retransmission is not counted (or refused) again."


class EdgeGuard:
    """Registers itself on the endpoint; lives (with its C thunks) until the process ends."""

    def __init__(
        self,
        *,
        user_agent: str,
        logger: Logger,
        budget: KeyBudget | None = None,
        overload: OverloadThresholds | None = None,
    ) -> None:
        self._log = logger
        self.overload = None if overload is None else OverloadWatch(overload, logger)
        # Calls get the keys TCP does not: the UDP transport and the listener are in reserve.
        self.budget = budget or KeyBudget(total=IOQUEUE_KEYS - TCP_KEYS, reserve=4)
        self.tcp: TcpWatch | None = None
        self.enabled = False
        self.refused = 0
        self._lines = LogBudget(rate=20.0, burst=200)
        self._error_lines = LogBudget()  # apart: pjsua's own errors must not mute refusals
        self._retransmits: OrderedDict[tuple[bytes, bytes], None] = OrderedDict()
        lib = load()
        self._lib = lib
        self._server_raw, self._server = c_string("Server")
        self._ua_raw, self._ua_name = c_string("User-Agent")
        self._warn_raw, self._warn_name = c_string("Warning")
        self._cid_raw, self._cid_name = c_string("Call-ID")
        self._agent_raw, self._agent = c_string(user_agent)
        self._name_raw, module_name = c_string("mod-voxpy-edge-guard")
        # The module struct and its thunks must outlive every pjsip call into them.
        self._on_rx = RX_CB(self._rx_request)
        self._on_tx = TX_CB(self._tx_response)
        self.unparsed = Unparsed(
            lib, server=user_agent, report=self._refused, tpmgr=self._tpmgr, logger=logger
        )
        self._on_drop = DROP_CB(self._dropped)
        self._module = PjsipModule(
            name=module_name,
            id=-1,
            priority=PRIORITY,
            on_rx_request=self._on_rx,
            on_tx_response=self._on_tx,
        )
        self._endpt: int = 0
        self._own_response = False

    def install(self, *, tcp_port: int = 0) -> None:
        """Register the module and the TCP gate (owner thread, after libStart)."""
        if not wheel_verified():
            # Reading rx_data at the wrong offsets could crash; an unguarded worker only can.
            self._log.error(
                "edge_guard_disabled", why=f"pjsua2 {wheel()} is not the verified {VERIFIED_WHEEL}"
            )
            return
        self._endpt = int(self._lib.pjsua_get_pjsip_endpt() or 0)
        status = self._lib.pjsip_endpt_register_module(self._endpt, ctypes.byref(self._module))
        if status != 0:
            self._log.error("edge_guard_disabled", why=f"module registration failed ({status})")
            return
        self.enabled = True
        if self.overload is not None:
            self.overload.start(time.monotonic())
        tpmgr = self._tpmgr()
        self._lib.pjsip_tpmgr_set_drop_data_cb(tpmgr, self._on_drop)
        if tcp_port:
            self.tcp = TcpWatch.install(self._lib, tpmgr, tcp_port, self._log)
        self._log.info("edge_guard_installed", priority=PRIORITY, keys=self.budget.total)

    # -- requests --------------------------------------------------------------------------

    def _rx_request(self, rdata: int | None) -> int:
        if not self.enabled or not rdata:
            return 0
        try:
            return self._inspect(rdata)
        except Exception:  # noqa: BLE001 - nothing may propagate into C
            # Fail closed: a request the guard could not judge never reaches pjsua.
            self._log.exception("edge_guard_failed")
            return 1

    def _inspect(self, rdata: int) -> int:
        raw = self._raw(rdata)
        if raw is None:
            return 0
        pkt_len = ctypes.c_ssize_t.from_address(rdata + RX_PKT_LEN).value
        # The transport that received it (not the sender's Via, which a sender may write as
        # it likes): on TCP pjsip frames by Content-Length itself and nothing is truncated.
        transport = VP.from_address(rdata + RX_TRANSPORT).value
        datagram = not transport or ctypes.string_at(transport, 3) != b"tcp"
        refusal = inspect_request(
            raw, datagram=datagram, truncated=datagram and pkt_len >= MAX_PKT_LEN
        )
        if (
            refusal is None
            and raw.startswith(b"INVITE ")
            and not TAG.search(to_params(raw).decode("latin-1"))
        ):
            refusal = self._admit(raw)
        if refusal is None:
            return 0
        source = rx_source(rdata)
        method = raw.split(b" ", 1)[0][:32].decode("ascii", "replace")
        if refusal.code != 200:
            self.refused += 1
            self._refusal_line(refusal, source, method)
        if method != "ACK":
            self._respond(rdata, refusal)
        return 1

    def _raw(self, rdata: int) -> bytes | None:
        """The request's bytes, after checking the layout against pjsip's own description."""
        buf = VP.from_address(rdata + RX_MSG_BUF).value or 0
        length = INT.from_address(rdata + RX_MSG_LEN).value
        packet = rdata + RX_PACKET
        port = INT.from_address(rdata + RX_SRC_PORT).value
        info = self._lib.pjsip_rx_data_get_info(rdata) or b""
        if not (
            packet <= buf < packet + MAX_PKT_LEN and 0 < length <= MAX_PKT_LEN and 0 <= port < 65536
        ):
            self._layout_mismatch(f"rx_data fields out of range ({info!r})")
            return None
        raw = ctypes.string_at(buf, length)
        method = raw.split(b" ", 1)[0]
        if not info.startswith(b"Request msg " + method + b"/"):
            self._layout_mismatch(f"request {method[:32]!r} but pjsip says {info[:64]!r}")
            return None
        return raw

    def _layout_mismatch(self, why: str) -> None:
        self.enabled = False
        self._log.error("edge_guard_disabled", why=f"struct layout mismatch: {why}")

    def _dropped(self, dd_ptr: int | None) -> None:
        if self.enabled and dd_ptr:
            self.unparsed.on_dropped(dd_ptr)

    def _refused(self, refusal: Refusal, source: str, method: str) -> None:
        self.refused += 1
        self._refusal_line(refusal, source, method)

    def _admit(self, raw: bytes) -> Refusal | None:
        call_id = raw_header(raw, b"call-id", b"i")
        if (call_id, top_branch(raw)) in self._retransmits:
            return None  # a retransmission of a request already let in
        if self.overload is not None:
            # Before the key budget: a refused INVITE must not hold a pending slot there.
            refusal = self.overload.refusal(time.monotonic())
            if refusal is not None:
                return refusal
        use = self.budget.admit(
            time.monotonic(),
            calls=int(self._lib.pjsua_call_get_count()),
            transports=1,  # TCP connections have keys of their own (TCP_KEYS)
            key=call_id,
        )
        if not use.admitted:
            return Refusal(
                code=503,
                reason="Service Unavailable",
                why=f"ioqueue key budget spent ({use} of {self.budget.total})",
                headers=(("Retry-After", "1"),),
            )
        self._retransmits[(call_id, top_branch(raw))] = None
        if len(self._retransmits) > _RETRANSMIT_MEMORY:
            self._retransmits.popitem(last=False)
        return None

    def admit_dial(self) -> str | None:
        """An outbound leg opens RTP/RTCP sockets too: the same budget decides (owner thread)."""
        if not self.enabled:
            return None
        use = self.budget.admit(
            time.monotonic(), calls=int(self._lib.pjsua_call_get_count()), transports=1
        )
        return None if use.admitted else f"ioqueue key budget spent ({use} of {self.budget.total})"

    def leg_ended(self) -> None:
        """A call ended (owner thread): its RTP/RTCP keys close now."""
        self.budget.call_ended(time.monotonic())

    def _tpmgr(self) -> int:
        return int(self._lib.pjsip_endpt_get_tpmgr(self._endpt) or 0)

    def _respond(self, rdata: int, refusal: Refusal) -> None:
        pool = VP.from_address(rdata + RX_POOL).value
        sentinel = PjsipHdr()
        address = ctypes.addressof(sentinel)
        sentinel.prev = sentinel.next = address
        keep: list[Any] = []
        for name, value in (("Server", None), *refusal.headers):
            name_raw, name_str = c_string(name)
            if value is None:
                value_str = self._agent
            else:
                value_raw, value_str = c_string(value)
                keep.append(value_raw)
            keep.append(name_raw)
            hdr = self._lib.pjsip_generic_string_hdr_create(
                pool, ctypes.byref(name_str), ctypes.byref(value_str)
            )
            if hdr:
                self._lib.pj_list_insert_before(address, hdr)
        reason_raw, reason = c_string(refusal.reason)
        self._own_response = True  # logged already, as edge_refused
        try:
            status = self._lib.pjsip_endpt_respond_stateless(
                self._endpt, rdata, refusal.code, ctypes.byref(reason), address, None
            )
        finally:
            self._own_response = False
        del keep, reason_raw
        if status != 0:
            self._log.warning("edge_response_failed", code=refusal.code, status=status)

    def _refusal_line(self, refusal: Refusal, source: str, method: str) -> None:
        skipped = self._lines.take(time.monotonic())
        if skipped is None:
            return
        extra = {"suppressed": skipped} if skipped else {}
        self._log.warning("edge_refused", code=refusal.code, reason=refusal.why, source=source,
                          method=method, **extra)  # fmt: skip

    # -- TCP connections -----------------------------------------------------------------------

    def poll(self, now: float) -> None:
        """Close or reopen the TCP gate (the owner thread calls this every poll)."""
        if self.tcp is not None:
            self.tcp.poll(now)
        if self.overload is not None and self.enabled:
            self.overload.poll(now, self._lib.pjsua_call_get_count)

    @property
    def gate_closed(self) -> bool:
        """Only :meth:`poll` reopens the TCP gate (closed connections age out), so the
        owner keeps its short poll meanwhile."""
        return self.tcp is not None and self.tcp.gate.closed

    def release(self) -> None:
        """Before libDestroy: no more kernel filtering once pjsip stops reading."""
        if self.tcp is not None:
            # The watch itself stays: pjsip calls its state callback until libDestroy is done.
            self.tcp.release()

    # -- responses -------------------------------------------------------------------------

    def _tx_response(self, tdata: int | None) -> int:
        if not self.enabled or not tdata:
            return 0
        try:
            self._rewrite(tdata)
        except Exception:  # noqa: BLE001 - nothing may propagate into C
            self._log.exception("edge_guard_failed")
        return 0

    def _rewrite(self, tdata: int) -> None:
        info = self._lib.pjsip_tx_data_get_info(tdata) or b""
        parts = info.split(b" ", 3)
        if len(parts) < 3 or parts[0] != b"Response":
            return
        code_text, _, rest = parts[2].partition(b"/")  # "486/INVITE/cseq=1"
        method = rest.partition(b"/")[0]
        msg = VP.from_address(tdata + TX_MSG).value
        if not msg or not code_text.isdigit():
            return
        code = int(code_text)
        if INT.from_address(msg).value != PJSIP_RESPONSE_MSG or (
            INT.from_address(msg + MSG_STATUS_CODE).value != code
        ):
            self._layout_mismatch(f"tx_data message does not match {info[:64]!r}")
            return
        if method == b"INVITE" and code >= 200:
            self._settle(msg, code)
        changed = False
        ua = self._lib.pjsip_msg_find_hdr_by_name(msg, ctypes.byref(self._ua_name), None)
        if ua and hdr_name(ua).lower() == b"user-agent":
            for offset in (HDR_NAME, HDR_SNAME):
                ctypes.memmove(ua + offset, ctypes.byref(self._server), ctypes.sizeof(PjStr))
            changed = True
        elif not self._lib.pjsip_msg_find_hdr_by_name(msg, ctypes.byref(self._server), None):
            changed = self._add_server(tdata, msg) or changed
        while warning := self._lib.pjsip_msg_find_hdr_by_name(
            msg, ctypes.byref(self._warn_name), None
        ):
            self._lib.pj_list_erase(warning)
            changed = True
        if changed:
            self._lib.pjsip_tx_data_invalidate_msg(tdata)
        if code >= 400 and code not in (401, 407, 487) and not self._own_response:
            skipped = self._error_lines.take(time.monotonic())
            if skipped is not None:
                self._log.info(
                    "sip_error_sent",
                    code=code,
                    method=method.decode("ascii", "replace"),
                    **({"suppressed": skipped} if skipped else {}),
                )

    def _add_server(self, tdata: int, msg: int) -> bool:
        """Append ``Server`` to a response pjsua built without ``User-Agent`` (100, most 200s).

        The header list head is checked first: a circular list's head is its next's prev.
        """
        head = msg + MSG_HDR_LIST
        first = VP.from_address(head + 8).value
        if not first or VP.from_address(first).value != head:
            self._layout_mismatch("tx_data message header list is not where expected")
            return False
        pool = VP.from_address(tdata + TX_POOL).value
        hdr = self._lib.pjsip_generic_string_hdr_create(
            pool, ctypes.byref(self._server), ctypes.byref(self._agent)
        )
        if not hdr:
            return False
        self._lib.pj_list_insert_before(head, hdr)
        return True

    def _settle(self, msg: int, code: int) -> None:
        """A final response to an INVITE: its media is a call now (2xx) or closes (others)."""
        hdr = self._lib.pjsip_msg_find_hdr_by_name(msg, ctypes.byref(self._cid_name), None)
        if not hdr or hdr_name(hdr).lower() not in (b"call-id", b"i"):
            return
        value = PjStr.from_address(hdr + CID_VALUE)
        if value.ptr and 0 < value.slen <= MAX_PKT_LEN:
            call_id = ctypes.string_at(value.ptr, value.slen)
            self.budget.settle(time.monotonic(), call_id, answered=200 <= code < 300)

"""The edge guard: a pjsip module ahead of the transaction layer that refuses hostile requests.

pjsua2's asserts are compiled in, so input that would reach one must never reach pjsua. This
module is registered through ctypes at priority 12 (after the transport layer's 8, before the
transaction layer's 16): it sees every parsed request first, asks the pure policy
(:func:`voxpy.core.edge.inspect_request`) and :class:`voxpy.core.admission.KeyBudget`, and
answers a refusal statelessly so nothing of it is kept. On the way out it renames pjsua's
``User-Agent`` in responses to ``Server`` and drops ``Warning`` (pjsua puts pjmedia's error
names and our host name there), and logs every error response pjsua sends, which pjsua itself
never does.

The struct offsets below are those of this wheel (pjsua2-python 2.15.1, x86_64, PJSIP_MAX_PKT_LEN
4000). They are checked on every message against what pjsip reports through its own accessors
(``pjsip_rx_data_get_info``, ``pjsip_tx_data_get_info``); one mismatch disables the guard with
an error line rather than reading memory it does not understand.
"""

from __future__ import annotations

import ctypes
import time
from collections import OrderedDict
from typing import Any

import pjsua2 as pj

from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.tcpgate import TcpGate, find_listener
from voxpy.core.admission import IOQUEUE_KEYS, TCP_KEYS, ConnectionCount, KeyBudget
from voxpy.core.edge import MAX_PKT_LEN, Refusal, inspect_request, stateless_response
from voxpy.core.ratelimit import LogBudget

_VP = ctypes.c_void_p
_INT = ctypes.c_int
PRIORITY = 12

# pjsip_rx_data (sip_transport.h): tp_info {pool, transport, tp_data, op_key[34 ptrs + rdata]}
# = 304 bytes; pkt_info {timestamp 16, packet[4000], zero u32, len ssize_t, src_addr 28,
# src_addr_len, src_name[46], src_port}; then msg_info {msg_buf, len, msg, ...}.
RX_POOL = 0
RX_PACKET = 320
RX_PKT_LEN = 4328
RX_SRC_ADDR = 4336
RX_SRC_ADDR_LEN = 4364
RX_SRC_NAME = 4368
RX_SRC_PORT = 4416
RX_MSG_BUF = 4424
RX_MSG_LEN = 4432
# pjsip_tx_data: list 16, pool 8, obj_name[32], info, rx_timestamp 16, mgr, op_key 296, lock,
# msg. pjsip_msg: type (int), line.status.code at 8. pjsip_hdr: prev, next, type, name at 24.
TX_MSG = 392
MSG_STATUS_CODE = 8
HDR_NAME = 24
HDR_SNAME = 40
PJSIP_RESPONSE_MSG = 1
_RETRANSMIT_MEMORY = 512
"Admitted INVITE branches remembered, so a retransmission is not counted (or refused) again."


class PjStr(ctypes.Structure):
    _fields_ = [("ptr", _VP), ("slen", ctypes.c_long)]


class PjsipHdr(ctypes.Structure):
    """The generic part of pjsip_hdr, used as a list sentinel."""

    _fields_ = [
        ("prev", _VP),
        ("next", _VP),
        ("type", _INT),
        ("name", PjStr),
        ("sname", PjStr),
        ("vptr", _VP),
    ]


class DroppedData(ctypes.Structure):
    """pjsip_tp_dropped_data: what the transport manager drops, and why."""

    _fields_ = [("tp", _VP), ("data", _VP), ("len", ctypes.c_size_t), ("status", _INT)]


PJ_EIGNORED = 70020
PJSIP_ERXOVERFLOW = 171062
"A TCP message that does not fit the 4000-byte buffer (PJSIP_ERRNO_START_PJSIP + 62)."
_TRANSPORT_UDP = 1
_DROP = ctypes.CFUNCTYPE(None, _VP)
_TP_STATE = ctypes.CFUNCTYPE(None, _VP, _INT, _VP)
PJSIP_TP_STATE_CONNECTED = 0
_RX = ctypes.CFUNCTYPE(_INT, _VP)
_TX = ctypes.CFUNCTYPE(_INT, _VP)


class PjsipModule(ctypes.Structure):
    _fields_ = [
        ("prev", _VP),
        ("next", _VP),
        ("name", PjStr),
        ("id", _INT),
        ("priority", _INT),
        ("load", _VP),
        ("start", _VP),
        ("stop", _VP),
        ("unload", _VP),
        ("on_rx_request", _RX),
        ("on_rx_response", _VP),
        ("on_tx_request", _VP),
        ("on_tx_response", _TX),
        ("on_tsx_state", _VP),
    ]


def _buffer(text: str) -> tuple[ctypes.Array[ctypes.c_char], PjStr]:
    raw = ctypes.create_string_buffer(text.encode())
    return raw, PjStr(ctypes.cast(raw, _VP), len(text))


class EdgeGuard:
    """Registers itself on the endpoint; lives (with its C thunks) until the process ends."""

    def __init__(self, *, user_agent: str, logger: Logger, budget: KeyBudget | None = None) -> None:
        self._log = logger
        # Calls get the keys TCP does not: the UDP transport and the listener are in reserve.
        self.budget = budget or KeyBudget(total=IOQUEUE_KEYS - TCP_KEYS, reserve=4)
        self.connections = ConnectionCount()
        self.gate: TcpGate | None = None
        self._prev_state_cb: Any = None
        self.enabled = False
        self.refused = 0
        self._lines = LogBudget()
        self._admitted: OrderedDict[tuple[bytes, bytes], None] = OrderedDict()
        lib = ctypes.CDLL(pj._pjsua2.__file__)
        self._lib = lib
        for name, restype, argtypes in (
            ("pjsua_get_pjsip_endpt", _VP, []),
            ("pjsip_endpt_register_module", _INT, [_VP, _VP]),
            ("pjsip_endpt_respond_stateless", _INT, [_VP, _VP, _INT, _VP, _VP, _VP]),
            ("pjsip_generic_string_hdr_create", _VP, [_VP, _VP, _VP]),
            ("pj_list_insert_before", None, [_VP, _VP]),
            ("pj_list_erase", None, [_VP]),
            ("pjsip_rx_data_get_info", ctypes.c_char_p, [_VP]),
            ("pjsip_tx_data_get_info", ctypes.c_char_p, [_VP]),
            ("pjsip_msg_find_hdr_by_name", _VP, [_VP, _VP, _VP]),
            ("pjsip_tx_data_invalidate_msg", None, [_VP]),
            ("pjsua_call_get_count", ctypes.c_uint, []),
            ("pjsip_endpt_get_tpmgr", _VP, [_VP]),
            ("pjsip_tpmgr_set_drop_data_cb", _INT, [_VP, _DROP]),
            ("pjsip_tpmgr_get_state_cb", _VP, [_VP]),
            ("pjsip_tpmgr_set_state_cb", _INT, [_VP, _TP_STATE]),
            (
                "pjsip_tpmgr_send_raw",
                _INT,
                [_VP, _INT, _VP, _VP, _VP, ctypes.c_size_t, _VP, _INT, _VP, _VP],
            ),
        ):
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        self._server_raw, self._server = _buffer("Server")
        self._ua_raw, self._ua_name = _buffer("User-Agent")
        self._warn_raw, self._warn_name = _buffer("Warning")
        self._agent_raw, self._agent = _buffer(user_agent)
        self._name_raw, module_name = _buffer("mod-voxpy-edge-guard")
        # The module struct and its thunks must outlive every pjsip call into them.
        self._on_rx = _RX(self._rx_request)
        self._on_tx = _TX(self._tx_response)
        self._on_drop = _DROP(self._dropped)
        self._on_state = _TP_STATE(self._tp_state)
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
        self._endpt = int(self._lib.pjsua_get_pjsip_endpt() or 0)
        status = self._lib.pjsip_endpt_register_module(self._endpt, ctypes.byref(self._module))
        if status != 0:
            self._log.error("edge_guard_disabled", why=f"module registration failed ({status})")
            return
        self.enabled = True
        tpmgr = self._tpmgr()
        self._lib.pjsip_tpmgr_set_drop_data_cb(tpmgr, self._on_drop)
        if tcp_port:
            listener = find_listener(tcp_port)
            if listener is None:
                self._log.error("tcp_gate_disabled", why=f"no TCP listener on port {tcp_port}")
            else:
                self.gate = TcpGate(listener, self._log)
                # pjsua reports transport states through this callback too: chain to it.
                previous = self._lib.pjsip_tpmgr_get_state_cb(tpmgr)
                self._prev_state_cb = _TP_STATE(previous) if previous else None
                self._lib.pjsip_tpmgr_set_state_cb(tpmgr, self._on_state)
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
        # The top Via names the transport; on TCP pjsip frames by Content-Length itself.
        datagram = b"/TCP" not in _header(raw, b"via", b"v")[:16].upper()
        refusal = inspect_request(
            raw, datagram=datagram, truncated=datagram and pkt_len >= MAX_PKT_LEN
        )
        if (
            refusal is None
            and raw.startswith(b"INVITE ")
            and b";tag=" not in _to_header(raw).lower()
        ):
            refusal = self._admit(raw)
        if refusal is None:
            return 0
        source = self._source(rdata)
        method = raw.split(b" ", 1)[0][:32].decode("ascii", "replace")
        self.refused += refusal.code != 200
        if refusal.code != 200:
            self._refusal_line(refusal, source, method)
        if method != "ACK":
            self._respond(rdata, refusal)
        return 1

    def _raw(self, rdata: int) -> bytes | None:
        """The request's bytes, after checking the layout against pjsip's own description."""
        buf = _VP.from_address(rdata + RX_MSG_BUF).value or 0
        length = _INT.from_address(rdata + RX_MSG_LEN).value
        packet = rdata + RX_PACKET
        port = _INT.from_address(rdata + RX_SRC_PORT).value
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

    def _source(self, rdata: int) -> str:
        name = ctypes.string_at(rdata + RX_SRC_NAME).decode("ascii", "replace")
        return f"{name}:{_INT.from_address(rdata + RX_SRC_PORT).value}"

    def _admit(self, raw: bytes) -> Refusal | None:
        key = (_header(raw, b"call-id", b"i"), _branch(raw))
        if key in self._admitted:
            return None  # a retransmission of a request already let in
        # TCP connections have keys of their own (TCP_KEYS): only the UDP transport counts.
        use = self.budget.admit(
            time.monotonic(), calls=int(self._lib.pjsua_call_get_count()), transports=1
        )
        if not use.admitted:
            return Refusal(
                code=503,
                reason="Service Unavailable",
                why=f"ioqueue key budget spent ({use.keys} of {self.budget.total})",
                headers=(("Retry-After", "1"),),
            )
        self._admitted[key] = None
        if len(self._admitted) > _RETRANSMIT_MEMORY:
            self._admitted.popitem(last=False)
        return None

    def admit_dial(self) -> str | None:
        """An outbound leg opens RTP/RTCP sockets too: the same budget decides (owner thread)."""
        if not self.enabled:
            return None
        use = self.budget.admit(
            time.monotonic(), calls=int(self._lib.pjsua_call_get_count()), transports=1
        )
        return (
            None
            if use.admitted
            else f"ioqueue key budget spent ({use.keys} of {self.budget.total})"
        )

    def _tpmgr(self) -> int:
        return int(self._lib.pjsip_endpt_get_tpmgr(self._endpt) or 0)

    def _respond(self, rdata: int, refusal: Refusal) -> None:
        pool = _VP.from_address(rdata + RX_POOL).value
        sentinel = PjsipHdr()
        address = ctypes.addressof(sentinel)
        sentinel.prev = sentinel.next = address
        keep: list[Any] = []
        for name, value in (("Server", None), *refusal.headers):
            name_raw, name_str = _buffer(name)
            if value is None:
                value_str = self._agent
            else:
                value_raw, value_str = _buffer(value)
                keep.append(value_raw)
            keep.append(name_raw)
            hdr = self._lib.pjsip_generic_string_hdr_create(
                pool, ctypes.byref(name_str), ctypes.byref(value_str)
            )
            if hdr:
                self._lib.pj_list_insert_before(address, hdr)
        reason_raw, reason = _buffer(refusal.reason)
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
        self._log.warning(
            "edge_refused",
            code=refusal.code,
            reason=refusal.why,
            source=source,
            method=method,
            **({"suppressed": skipped} if skipped else {}),
        )

    # -- TCP connections -----------------------------------------------------------------------

    def _tp_state(self, tp: int | None, state: int, info: int | None) -> None:
        try:
            if tp and ctypes.string_at(tp, 3) == b"tcp":
                now = time.monotonic()
                if state == PJSIP_TP_STATE_CONNECTED:
                    self.connections.opened(tp)
                else:
                    self.connections.closed(now, tp)
                self.poll(now)
        except Exception:  # noqa: BLE001 - nothing may propagate into C
            self._log.exception("edge_guard_failed")
        if self._prev_state_cb is not None:
            self._prev_state_cb(tp, state, info)

    def poll(self, now: float) -> None:
        """Close or reopen the TCP gate (owner thread; every poll and every TCP state change)."""
        gate = self.gate
        if gate is None:
            return
        if self.connections.should_accept(now):
            gate.open()
        else:
            gate.close(now, f"{self.connections.keys(now)} TCP connections hold ioqueue keys")

    def release(self) -> None:
        """Before libDestroy: no more kernel filtering once pjsip stops reading."""
        if self.gate is not None:
            self.gate.release()
            self.gate = None

    # -- requests pjsip could not parse -------------------------------------------------------

    def _dropped(self, dd_ptr: int | None) -> None:
        if not self.enabled or not dd_ptr:
            return
        try:
            self._answer_dropped(DroppedData.from_address(dd_ptr))
        except Exception:  # noqa: BLE001 - nothing may propagate into C
            self._log.exception("edge_guard_failed")

    def _answer_dropped(self, dd: DroppedData) -> None:
        """pjsip drops a request it cannot parse without a word: answer it 400 (UDP), or log.

        The source address lives in the rx_data, which this callback is not given. A UDP
        transport reads each datagram into the start of its rx_data's packet buffer (after
        any CR/LF it skips), so the rx_data is found from the data pointer and confirmed by
        its msg_buf. A TCP buffer can hold several messages at any offset: there the request
        is only logged (behind ``voxpy serve``, Kamailio answers those before a worker).
        """
        if dd.status == PJ_EIGNORED or not dd.data or not dd.len or not dd.tp:
            return  # CRLF keep-alives, our own wake-ups among them
        raw = ctypes.string_at(dd.data, min(dd.len, MAX_PKT_LEN))
        if raw.startswith(b"SIP/"):
            return  # a response pjsip could not parse: nothing to answer
        method = raw.split(b" ", 1)[0][:32].decode("ascii", "replace")
        transport = ctypes.string_at(dd.tp, 32).split(b"\0", 1)[0]
        rdata = self._rdata_of(dd.data) if transport.startswith(b"udp") else None
        source = self._source(rdata) if rdata else transport.decode("ascii", "replace")
        code, reason = (
            (513, "Message Too Large")
            if dd.status == PJSIP_ERXOVERFLOW
            else (
                400,
                "Bad Request",
            )
        )
        why = f"pjsip could not parse it (pj status {dd.status})"
        self.refused += 1
        self._refusal_line(Refusal(code=code, reason=reason, why=why), source, method)
        if rdata is None:
            return
        response = stateless_response(
            raw, code=code, reason=reason, server=self._agent_raw.value.decode()
        )
        if response is None:
            return
        self._lib.pjsip_tpmgr_send_raw(
            self._tpmgr(),
            _TRANSPORT_UDP,
            None,
            None,
            response,
            len(response),
            rdata + RX_SRC_ADDR,
            _INT.from_address(rdata + RX_SRC_ADDR_LEN).value,
            None,
            None,
        )

    def _rdata_of(self, data: int) -> int | None:
        """The UDP rx_data whose packet buffer starts (after CR/LF) at ``data``."""
        for skipped in range(8):
            rdata = data - RX_PACKET - skipped
            if _VP.from_address(rdata + RX_MSG_BUF).value == data:
                return rdata
        return None

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
        code_text, _, method = parts[2].partition(b"/")
        msg = _VP.from_address(tdata + TX_MSG).value
        if not msg or not code_text.isdigit():
            return
        code = int(code_text)
        if _INT.from_address(msg).value != PJSIP_RESPONSE_MSG or (
            _INT.from_address(msg + MSG_STATUS_CODE).value != code
        ):
            self._layout_mismatch(f"tx_data message does not match {info[:64]!r}")
            return
        changed = False
        ua = self._lib.pjsip_msg_find_hdr_by_name(msg, ctypes.byref(self._ua_name), None)
        if ua and _hdr_name(ua).lower() == b"user-agent":
            for offset in (HDR_NAME, HDR_SNAME):
                ctypes.memmove(ua + offset, ctypes.byref(self._server), ctypes.sizeof(PjStr))
            changed = True
        while warning := self._lib.pjsip_msg_find_hdr_by_name(
            msg, ctypes.byref(self._warn_name), None
        ):
            self._lib.pj_list_erase(warning)
            changed = True
        if changed:
            self._lib.pjsip_tx_data_invalidate_msg(tdata)
        if code >= 400 and code not in (401, 407, 487) and not self._own_response:
            skipped = self._lines.take(time.monotonic())
            if skipped is not None:
                self._log.info(
                    "sip_error_sent",
                    code=code,
                    method=method.decode("ascii", "replace"),
                    **({"suppressed": skipped} if skipped else {}),
                )


def _hdr_name(hdr: int) -> bytes:
    name = PjStr.from_address(hdr + HDR_NAME)
    if not name.ptr or not 0 < name.slen < 64:
        return b""
    return ctypes.string_at(name.ptr, name.slen)


def _header(raw: bytes, name: bytes, compact: bytes) -> bytes:
    for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\n")[1:]:
        key, colon, value = line.partition(b":")
        if colon and key.strip().lower() in (name, compact):
            return value.strip()
    return b""


def _to_header(raw: bytes) -> bytes:
    value = _header(raw, b"to", b"t")
    return value.rpartition(b">")[2] if b">" in value else value


def _branch(raw: bytes) -> bytes:
    via = _header(raw, b"via", b"v")
    _, _, rest = via.partition(b"branch=")
    return rest.split(b";", 1)[0].split(b",", 1)[0].strip()

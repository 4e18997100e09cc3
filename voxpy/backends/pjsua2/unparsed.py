"""Requests pjsip could not parse, which it drops without a word: answered 400, or logged.

pjsip reports them through the transport manager's drop-data callback, with the bytes but not
the rx_data that holds the sender's address; see :meth:`Unparsed._answer_dropped` for how the
rx_data is found (UDP) and why TCP is only logged.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.pjsip_abi import (
    INT,
    PJ_EIGNORED,
    PJSIP_ERXOVERFLOW,
    RX_MSG_BUF,
    RX_PACKET,
    RX_SRC_ADDR,
    RX_SRC_ADDR_LEN,
    TRANSPORT_UDP,
    VP,
    DroppedData,
    rx_source,
)
from voxpy.core.edge import MAX_PKT_LEN, Refusal
from voxpy.core.sipraw import stateless_response

Report = Callable[[Refusal, str, str], None]
"``report(refusal, source, method)``: count and log one refusal."


class Unparsed:
    """Answers what pjsip's parser refused (owner thread, inside pjsip's callback)."""

    def __init__(
        self, lib: Any, *, server: str, report: Report, tpmgr: Callable[[], int], logger: Logger
    ) -> None:
        self._lib = lib
        self._server = server
        self._report = report
        self._tpmgr = tpmgr
        self._log = logger

    def on_dropped(self, dd_ptr: int) -> None:
        try:
            self._answer_dropped(DroppedData.from_address(dd_ptr))
        except Exception:  # noqa: BLE001 - nothing may propagate into C
            self._log.exception("edge_guard_failed")

    def _answer_dropped(self, dd: DroppedData) -> None:
        """pjsip drops a request it cannot parse without a word: answer it 400 (UDP), or log.

        The source address lives in the rx_data, which this callback is not given. A UDP
        transport reads each datagram into the start of its rx_data's packet buffer (after
        any CR/LF it skips), so the rx_data is found from the data pointer and confirmed by
        its msg_buf. On TCP the request is only logged: answering it through
        ``pjsip_tpmgr_send_raw`` made pjsip try to open a new connection, which asserted
        (``lis_create_transport``, seen here); behind ``voxpy serve`` Kamailio answers 400/513.
        """
        if dd.status == PJ_EIGNORED or not dd.data or not dd.len or not dd.tp:
            return  # CRLF keep-alives, our own wake-ups among them
        raw = ctypes.string_at(dd.data, min(dd.len, MAX_PKT_LEN))
        if raw.startswith(b"SIP/"):
            return  # a response pjsip could not parse: nothing to answer
        method = raw.split(b" ", 1)[0][:32].decode("ascii", "replace")
        transport = ctypes.string_at(dd.tp, 32).split(b"\0", 1)[0]
        rdata = self._rdata_of(dd.data) if transport.startswith(b"udp") else None
        source = rx_source(rdata) if rdata else transport.decode("ascii", "replace")
        code, reason = 400, "Bad Request"
        if dd.status == PJSIP_ERXOVERFLOW:
            code, reason = 513, "Message Too Large"
        why = f"pjsip could not parse it (pj status {dd.status})"
        self._report(Refusal(code=code, reason=reason, why=why), source, method)
        if rdata is None:
            return
        response = stateless_response(raw, code=code, reason=reason, server=self._server)
        if response is None:
            return
        self._lib.pjsip_tpmgr_send_raw(
            self._tpmgr(),
            TRANSPORT_UDP,
            None,
            None,
            response,
            len(response),
            rdata + RX_SRC_ADDR,
            INT.from_address(rdata + RX_SRC_ADDR_LEN).value,
            None,
            None,
        )

    def _rdata_of(self, data: int) -> int | None:
        """The UDP rx_data whose packet buffer starts (after CR/LF) at ``data``."""
        for skipped in range(8):
            rdata = data - RX_PACKET - skipped
            if VP.from_address(rdata + RX_MSG_BUF).value == data:
                return rdata
        return None

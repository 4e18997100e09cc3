"""The pjsip ABI of this wheel that the edge guard reads: offsets, structs, C signatures.

Offsets are those of pjsua2-python 2.15.1 on x86_64 (PJSIP_MAX_PKT_LEN 4000), read from
pjsip's headers (sip_transport.h, sip_msg.h, sip_module.h). ``guard.py`` checks them against
pjsip's own accessors on every message and refuses to run on another wheel or machine.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.metadata
import platform
from typing import Any

VP = ctypes.c_void_p
INT = ctypes.c_int
PRIORITY = 12

# pjsip_rx_data (sip_transport.h): tp_info {pool, transport, tp_data, op_key[34 ptrs + rdata]}
# = 304 bytes; pkt_info {timestamp 16, packet[4000], zero u32, len ssize_t, src_addr 28,
# src_addr_len, src_name[46], src_port}; then msg_info {msg_buf, len, msg, ...}.
RX_POOL = 0
RX_TRANSPORT = 8
"rx_data.tp_info.transport: the pjsip_transport, whose object name starts udp/tcp."
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
TX_POOL = 16
"pjsip_tx_data: after its list links, the pool its message lives in."
MSG_HDR_LIST = 40
"pjsip_msg: type (int, padded), the request/status line union (32 bytes), then the hdr list."
MSG_STATUS_CODE = 8
HDR_NAME = 24
HDR_SNAME = 40
CID_VALUE = 64
"pjsip_cid_hdr: the generic header members (64 bytes, as PjsipHdr), then ``pj_str_t id``."
PJSIP_RESPONSE_MSG = 1
VERIFIED_WHEEL = ("2.15.1.post1", "x86_64")
"The pjsua2-python release and machine whose struct layout the offsets above were read from."


@functools.cache
def wheel() -> tuple[str, str]:
    """The installed pjsua2-python release and this machine, comparable to VERIFIED_WHEEL."""
    try:
        version = importlib.metadata.version("pjsua2-python")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return version, platform.machine()


def wheel_verified() -> bool:
    """Whether struct offsets and vtable slots read from this wheel's headers apply here.

    Everything that reads pjsip memory at a fixed offset (the edge guard, RTP loss, the fast
    frame read) asks this first: on another build the offsets may be wrong, and a wrong one
    segfaults or reads garbage instead of failing cleanly.
    """
    return wheel() == VERIFIED_WHEEL


class PjStr(ctypes.Structure):
    _fields_ = [("ptr", VP), ("slen", ctypes.c_long)]


class PjsipHdr(ctypes.Structure):
    """The generic part of pjsip_hdr, used as a list sentinel."""

    _fields_ = [
        ("prev", VP),
        ("next", VP),
        ("type", INT),
        ("name", PjStr),
        ("sname", PjStr),
        ("vptr", VP),
    ]


class DroppedData(ctypes.Structure):
    """pjsip_tp_dropped_data: what the transport manager drops, and why."""

    _fields_ = [("tp", VP), ("data", VP), ("len", ctypes.c_size_t), ("status", INT)]


PJ_EIGNORED = 70020
PJSIP_ERXOVERFLOW = 171062
"A TCP message that does not fit the 4000-byte buffer (PJSIP_ERRNO_START_PJSIP + 62)."
TRANSPORT_UDP = 1
DROP_CB = ctypes.CFUNCTYPE(None, VP)
TP_STATE_CB = ctypes.CFUNCTYPE(None, VP, INT, VP)
PJSIP_TP_STATE_CONNECTED = 0
RX_CB = ctypes.CFUNCTYPE(INT, VP)
TX_CB = ctypes.CFUNCTYPE(INT, VP)


class PjsipModule(ctypes.Structure):
    _fields_ = [
        ("prev", VP),
        ("next", VP),
        ("name", PjStr),
        ("id", INT),
        ("priority", INT),
        ("load", VP),
        ("start", VP),
        ("stop", VP),
        ("unload", VP),
        ("on_rx_request", RX_CB),
        ("on_rx_response", VP),
        ("on_tx_request", VP),
        ("on_tx_response", TX_CB),
        ("on_tsx_state", VP),
    ]


def c_string(text: str) -> tuple[ctypes.Array[ctypes.c_char], PjStr]:
    encoded = text.encode()
    raw = ctypes.create_string_buffer(encoded)
    return raw, PjStr(ctypes.cast(raw, VP), len(encoded))  # bytes, not characters


def hdr_name(hdr: int) -> bytes:
    name = PjStr.from_address(hdr + HDR_NAME)
    if not name.ptr or not 0 < name.slen < 64:
        return b""
    return ctypes.string_at(name.ptr, name.slen)


def load() -> Any:
    """The extension module as a C library, with the signatures the guard calls."""
    import pjsua2 as pj  # here: importing this module must not load pjsua2 (tcpgate's tests)

    lib = ctypes.CDLL(pj._pjsua2.__file__)
    for name, restype, argtypes in (
        ("pjsua_get_pjsip_endpt", VP, []),
        ("pjsip_endpt_register_module", INT, [VP, VP]),
        ("pjsip_endpt_respond_stateless", INT, [VP, VP, INT, VP, VP, VP]),
        ("pjsip_generic_string_hdr_create", VP, [VP, VP, VP]),
        ("pj_list_insert_before", None, [VP, VP]),
        ("pj_list_erase", None, [VP]),
        ("pjsip_rx_data_get_info", ctypes.c_char_p, [VP]),
        ("pjsip_tx_data_get_info", ctypes.c_char_p, [VP]),
        ("pjsip_msg_find_hdr_by_name", VP, [VP, VP, VP]),
        ("pjsip_tx_data_invalidate_msg", None, [VP]),
        ("pjsua_call_get_count", ctypes.c_uint, []),
        ("pjsip_endpt_get_tpmgr", VP, [VP]),
        ("pjsip_tpmgr_set_drop_data_cb", INT, [VP, DROP_CB]),
        ("pjsip_tpmgr_get_state_cb", VP, [VP]),
        ("pjsip_tpmgr_set_state_cb", INT, [VP, TP_STATE_CB]),
        (
            "pjsip_tpmgr_send_raw",
            INT,
            [VP, INT, VP, VP, VP, ctypes.c_size_t, VP, INT, VP, VP],
        ),
    ):
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


def rx_source(rdata: int) -> str:
    """``host:port`` the rx_data came from."""
    name = ctypes.string_at(rdata + RX_SRC_NAME).decode("ascii", "replace")
    return f"{name}:{INT.from_address(rdata + RX_SRC_PORT).value}"

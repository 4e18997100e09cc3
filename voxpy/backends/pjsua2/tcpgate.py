"""Stops the kernel from completing new TCP connections to pjsip's listener, and lets it again.

pjsip accepts every connection the kernel completes and registers each with the ioqueue; 70
connections opened and closed within a second exhausted the wheel's 64 keys and the
compiled-in assert aborted the worker (measured here before this gate). pjsip has no
connection limit and no way to pause its listener, so the gate works below it: a classic BPF
program that drops every packet is attached to the listening socket (the kernel runs a
listener's filter on SYNs and on handshake ACKs), and detached to open again. Refused clients
see SYN retransmissions, as from a full backlog, and connect once the gate opens.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import stat
import time
from typing import Any

from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.backends.pjsua2.pjsip_abi import PJSIP_TP_STATE_CONNECTED, TP_STATE_CB
from voxpy.core.admission import ConnectionCount
from voxpy.core.ratelimit import LogBudget

SO_ATTACH_FILTER = 26
SO_DETACH_FILTER = 27
_BPF_RET_K = 0x06


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def find_listener(port: int) -> socket.socket | None:
    """A duplicate of this process's listening TCP socket on ``port`` (or ``None``).

    Only sockets are duplicated, and every duplicate but the one returned is closed: an
    earlier version leaked a descriptor per open file at every start, and once a process's
    descriptors passed 1023 pjlib's select() ioqueue refused new RTP sockets (pjsua then
    answered every INVITE 500; seen in the test suite, which starts many endpoints).
    """
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            copy = os.dup(fd)
        except OSError:
            continue
        try:
            sock = socket.socket(fileno=copy)
        except OSError:
            os.close(copy)
            continue
        try:
            if (
                sock.type == socket.SOCK_STREAM
                and sock.family in (socket.AF_INET, socket.AF_INET6)
                and sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
                and sock.getsockname()[1] == port
            ):
                return sock
        except OSError:
            pass
        sock.close()
    return None


class TcpGate:
    """Open or closed; ``closed`` drops every new connection attempt at the kernel."""

    def __init__(self, listener: socket.socket, logger: Logger) -> None:
        self._sock = listener
        self._log = logger
        self.closed = False
        self.times_closed = 0
        self._lines = LogBudget(rate=1.0, burst=3)  # a flood toggles the gate many times
        self._drop_all = (_SockFilter * 1)(_SockFilter(_BPF_RET_K, 0, 0, 0))
        self._prog = _SockFprog(1, self._drop_all)

    def close(self, now: float, why: str) -> None:
        if self.closed:
            return
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, bytes(self._prog))
        except OSError as exc:
            self._log.error("tcp_gate_failed", error=str(exc))
            return
        self.closed = True
        self.times_closed += 1
        skipped = self._lines.take(now)
        if skipped is not None:
            self._log.warning(
                "tcp_gate_closed", reason=why, **({"suppressed": skipped} if skipped else {})
            )

    def open(self) -> None:
        if not self.closed:
            return
        with contextlib.suppress(OSError):
            self._sock.setsockopt(socket.SOL_SOCKET, SO_DETACH_FILTER, 0)
        self.closed = False

    def release(self) -> None:
        self.open()
        self._sock.close()


class TcpWatch:
    """Counts pjsip's TCP connections from its transport-state callback and works the gate."""

    def __init__(self, gate: TcpGate, logger: Logger) -> None:
        self.gate = gate
        self.connections = ConnectionCount()
        self._log = logger
        self._previous: Any = None
        self._released = False
        self._on_state = TP_STATE_CB(self._state)

    @classmethod
    def install(cls, lib: Any, tpmgr: int, port: int, logger: Logger) -> TcpWatch | None:
        listener = find_listener(port)
        if listener is None:
            logger.error("tcp_gate_disabled", why=f"no TCP listener on port {port}")
            return None
        watch = cls(TcpGate(listener, logger), logger)
        # pjsua reports transport states through this same callback: chain to it.
        previous = lib.pjsip_tpmgr_get_state_cb(tpmgr)
        watch._previous = TP_STATE_CB(previous) if previous else None
        lib.pjsip_tpmgr_set_state_cb(tpmgr, watch._on_state)
        return watch

    def _state(self, tp: int | None, state: int, info: int | None) -> None:
        try:
            # pjsip_transport starts with its object name: "tcps..."/"tcpc..." for TCP.
            if tp and ctypes.string_at(tp, 3) == b"tcp":
                now = time.monotonic()
                if state == PJSIP_TP_STATE_CONNECTED:
                    self.connections.opened(tp)
                else:
                    self.connections.closed(now, tp)
                self.poll(now)
        except Exception:  # noqa: BLE001 - nothing may propagate into C
            self._log.exception("edge_guard_failed")
        if self._previous is not None:
            self._previous(tp, state, info)

    def poll(self, now: float) -> None:
        if self._released:
            return
        keys = self.connections.keys(now)
        if keys < self.connections.gate_at:
            self.gate.open()
        else:
            self.gate.close(now, f"{keys} TCP connections hold ioqueue keys")

    def release(self) -> None:
        """Open the gate and close our copy of the listener; callbacks still come, ignored."""
        if not self._released:
            self._released = True
            self.gate.release()

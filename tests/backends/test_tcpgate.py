"""The TCP gate's kernel filter, on real sockets (descriptor hygiene: tests/runtime/test_fds.py)."""

from __future__ import annotations

import errno
import select
import socket
import struct
import time

from voxpy.backends.pjsua2.tcpgate import TcpGate, find_listener
from voxpy.log import get_logger

SO_MEMINFO = 55  # Linux: the socket's sk_meminfo counters, nine u32
SK_MEMINFO_DROPS = 8


def drops(sock: socket.socket) -> int:
    """Packets the kernel dropped on ``sock``; a listener's filter dropping a SYN counts one."""
    counters = struct.unpack("9I", sock.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 36))
    return int(counters[SK_MEMINFO_DROPS])


def test_closed_gate_refuses_connections_and_an_open_one_accepts() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        found = find_listener(port)
        assert found is not None
        gate = TcpGate(found, get_logger("test"))
        gate.close(0.0, "test")
        with socket.socket() as client:
            before = drops(listener)
            client.setblocking(False)
            assert client.connect_ex(("127.0.0.1", port)) == errno.EINPROGRESS
            # The end of the window is the listener counting our SYN as dropped (no SYN-ACK
            # can follow), not a connect() timeout; a reset or a refusal would not count.
            deadline = time.monotonic() + 5
            while drops(listener) == before:
                assert time.monotonic() < deadline, "the listener never dropped the SYN"
                time.sleep(0.01)
            assert select.select([], [client], [], 0)[1] == []  # still not connected
            assert client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        gate.open()
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        gate.release()

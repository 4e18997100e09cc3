"""The TCP gate's kernel filter and its listener lookup, on real sockets."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from voxpy.backends.pjsua2.tcpgate import TcpGate, find_listener
from voxpy.log import get_logger


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_find_listener_leaks_no_descriptor(tmp_path: Path) -> None:
    files = [(tmp_path / f"f{i}").open("w") for i in range(10)]  # not sockets
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        before = open_fds()
        for _ in range(20):
            found = find_listener(listener.getsockname()[1])
            assert found is not None
            found.close()
        # A leak here once pushed the suite's descriptors past select()'s 1024 (pjsua: 500).
        assert open_fds() == before
    for f in files:
        f.close()


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
            client.settimeout(0.3)  # the SYN is dropped: connect() can only time out
            try:
                client.connect(("127.0.0.1", port))
                connected = True
            except (TimeoutError, OSError):
                connected = False
        assert not connected
        gate.open()
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        gate.release()

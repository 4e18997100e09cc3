"""The TCP gate's kernel filter, on real sockets (descriptor hygiene: tests/runtime/test_fds.py)."""

from __future__ import annotations

import socket

from voxpy.backends.pjsua2.tcpgate import TcpGate, find_listener
from voxpy.log import get_logger


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
            except TimeoutError:  # a reset or a refusal would be another gate than ours
                connected = False
        assert not connected
        gate.open()
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        gate.release()

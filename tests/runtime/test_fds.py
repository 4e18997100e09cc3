"""An engine on pjsua2 leaves no file descriptors behind in its process.

pjlib's select() ioqueue refuses a socket whose fd is above 1023 (PJ_ETOOBIG), and pjsua then
answers an INVITE with 500 before the scenario sees it. The edge guard's TCP gate once leaked
a duplicate of every non-socket fd each time an engine started, so a test process that starts
many engines (the sip-mode harness) drifted past 1023 and failed calls at random.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import TEST_SCENARIOS
from voxpy.testing import ScenarioHarness

pytestmark = pytest.mark.voxpy_backend("sip")


def open_fds() -> set[int]:
    listed = [int(name) for name in os.listdir("/proc/self/fd")]
    return {fd for fd in listed if _is_open(fd)}  # not the listing's own, closed by now


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


@contextmanager
def non_sockets() -> Iterator[None]:
    """A pipe and a file open meanwhile: the kinds of fd a dup-everything scan leaked."""
    read, write = os.pipe()
    with tempfile.TemporaryFile() as file:
        try:
            yield
        finally:
            os.close(read)
            os.close(write)
        assert file.fileno() >= 0


def test_find_listener_duplicates_only_the_listener() -> None:
    from voxpy.backends.pjsua2.tcpgate import find_listener

    with (
        non_sockets(),
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener,
    ):
        udp.bind(("127.0.0.1", 0))
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        before = open_fds()
        assert find_listener(udp.getsockname()[1]) is None  # UDP is not a listener
        assert open_fds() == before
        found = find_listener(port)
        assert found is not None
        try:
            assert found.getsockname() == listener.getsockname()
            assert open_fds() - before == {found.fileno()}
        finally:
            found.close()
        assert open_fds() == before


async def test_engines_started_in_turn_leave_no_fds_behind(voxpy_backend: str) -> None:
    async def one_call() -> None:
        async with ScenarioHarness(TEST_SCENARIOS / "answer_and_wait.py", backend="sip") as h:
            call = await h.dial()
            await call.wait_answered()
            call.hangup()
            await h.wait_event("Call.Disconnected", call)

    with non_sockets():
        await one_call()  # the first start may open what lives for the process (a selector)
        settled = open_fds()
        for _ in range(3):
            await one_call()
        assert open_fds() - settled == set()

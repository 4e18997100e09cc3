"""Memory mode needs no sockets, threads or pjsua2: checked in a fresh interpreter."""

from __future__ import annotations

from tests.conftest import run_probe

PROBE = """
import asyncio, socket, sys, threading
opened = []
real_socket = socket.socket
class Spy(real_socket):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        if self.family in (socket.AF_INET, socket.AF_INET6):  # not asyncio's AF_UNIX self-pipe
            opened.append(self)
socket.socket = Spy
from voxpy.testing import ScenarioHarness

async def main():
    async with ScenarioHarness("scenarios/hello_hangup.py", backend="memory") as h:
        call = await h.dial()
        assert await call.wait_hangup() == 200
    print(sorted(m for m in sys.modules if m.startswith("pjsua2")), threading.active_count(),
          len(opened))
asyncio.run(main())
"""


def test_memory_mode_loads_no_pjsua2_and_starts_no_threads_or_sockets() -> None:
    result = run_probe(PROBE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[] 1 0"

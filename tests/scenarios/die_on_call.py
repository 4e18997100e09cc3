"""Ring (180), then die (SIGKILL) a moment later: a poison INVITE that killed its worker
after a provisional reply, so Kamailio stopped retransmitting it."""

import asyncio
import os
import signal

from voxpy import AppEvents, VoxEngine


def on_alerting(e):
    e.call.ring()
    asyncio.get_running_loop().call_later(0.3, os.kill, os.getpid(), signal.SIGKILL)


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)

"""Die (SIGKILL) on the first INVITE, after pjsua sent 100 Trying: a poison INVITE."""

import os
import signal

from voxpy import AppEvents, VoxEngine


def on_alerting(e):
    os.kill(os.getpid(), signal.SIGKILL)


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)

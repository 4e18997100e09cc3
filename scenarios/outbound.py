"""Dial the SIP URI given as custom data, hang up once it answers, then end the session.

voxpy call scenarios/outbound.py --custom-data sip:100@127.0.0.1:5070
"""

import structlog

from voxpy import AppEvents, CallEvents, VoxEngine

log = structlog.get_logger("scenario.outbound")


def on_started(e):
    destination = VoxEngine.custom_data()
    if not destination:
        log.error("no destination: pass a SIP URI as custom data")
        VoxEngine.terminate()
        return
    call = VoxEngine.call_sip(destination, callerid="voxpy", headers={"X-Campaign": "demo"})
    call.add_event_listener(CallEvents.Connected, lambda ev: ev.call.hangup())
    call.add_event_listener(CallEvents.Disconnected, lambda ev: VoxEngine.terminate())
    call.add_event_listener(CallEvents.Failed, on_failed)


def on_failed(e):
    log.info("call failed", code=e.code, reason=e.reason)
    VoxEngine.terminate()


VoxEngine.add_event_listener(AppEvents.Started, on_started)

"""One signalling feature per dialled number, for the runtime signalling tests."""

from voxpy import AppEvents, CallEvents, VoxEngine


def transfer_out(e):
    # a moment after connecting, as a real scenario would (after a prompt, say)
    VoxEngine.set_timeout(
        lambda: e.call.transfer_to("sip:agent@example.com", headers={"X-Why": "escalation"}), 1.0
    )


def on_refer(e):
    if "busy" in e.transfer_to:
        e.call.notify_blind_transfer_failed(486, "Busy Here")
    else:
        e.call.notify_blind_transfer_success()


def on_info(e):
    e.call.send_info("application/json", '{"ack": true}', headers={"X-Seq": "2"})


def on_message(e):
    e.call.send_message(f"pong:{e.text}")


def quality(e):
    e.call.monitor_media_statistics(True, interval=1.0)


def mute_lab(e):
    e.call.start_playback(VoxEngine.custom_data(), loop=True)


def on_alerting(e):
    call, what = e.call, e.destination
    if what == "xfer":
        call.add_event_listener(CallEvents.Connected, transfer_out)
    elif what == "refer-in":
        call.handle_blind_transfer(True)
        call.add_event_listener(CallEvents.BlindTransferRequested, on_refer)
    elif what == "info":
        call.add_event_listener(CallEvents.InfoReceived, on_info)
        call.add_event_listener(CallEvents.MessageReceived, on_message)
        call.handle_tones(True)
    elif what == "quality":
        call.add_event_listener(CallEvents.Connected, quality)
        call.add_event_listener(CallEvents.Warning, lambda ev: None)
        call.add_event_listener(CallEvents.RtpStopped, lambda ev: None)
    elif what == "mute":
        call.add_event_listener(CallEvents.Connected, mute_lab)
    call.answer()


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)

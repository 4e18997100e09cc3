"""Hand every caller to a voice bot over a WebSocket, audio both ways.

Custom data is the bot's URL (``ws://127.0.0.1:9000/bot``), or JSON for more:
``{"url": "ws://...", "dialect": "twilio", "encoding": "ULAW"}`` (dialect ``voxengine`` by
default, encoding PCM8 by default; a Twilio stream is always ULAW). The caller's audio goes to
the bot from the answer on; what the bot sends plays to the caller; a key the caller presses
reaches the bot too. If the bot cannot be reached, or leaves, the caller is told and the call
stays up until the caller hangs up. Try it with ``examples/echo_bot.py`` (see the README).
"""

import json

from voxpy import AppEvents, CallEvents, VoxEngine, WebSocketEvents


def bot_settings():
    data = (VoxEngine.custom_data() or "").strip()
    settings = json.loads(data) if data.startswith("{") else {"url": data}
    settings.setdefault("dialect", "voxengine")
    settings.setdefault("encoding", "PCM8")
    return settings


def on_alerting(e):
    call = e.call
    call.add_event_listener(CallEvents.Connected, lambda _e: connect_bot(call))
    call.add_event_listener(CallEvents.Disconnected, lambda _e: VoxEngine.terminate())
    call.answer()


def connect_bot(call):
    bot = bot_settings()
    ws = VoxEngine.create_websocket(bot["url"], dialect=bot["dialect"])
    call.handle_tones(True)  # ToneReceived still fires; the digits reach the bot either way

    def gone(e):
        call.log.warning("voice_bot_gone", code=e.code, reason=e.reason)
        if call.live:
            call.say("Sorry, the assistant is not available.")

    ws.add_event_listener(WebSocketEvents.CLOSE, gone)
    call.send_media_to(
        ws,
        encoding=bot["encoding"],
        tag="caller",
        custom_parameters={"callerid": call.callerid(), "number": call.number()},
    )
    ws.send_media_to(call)


VoxEngine.add_event_listener(AppEvents.CallAlerting, on_alerting)

"""A tiny voice bot server: it echoes what the caller says, a second later, and sends marks.

It speaks both media stream dialects voxpy offers - Twilio Media Streams and VoxEngine's
format - telling them apart by the first message (Twilio's ``connected``, VoxEngine's
``start``), and answers in the same one. Only aiohttp (which voxpy already uses) is needed.

    python examples/echo_bot.py --port 9000           # ws://127.0.0.1:9000/bot
    voxpy run scenarios/voice_bot.py --custom-data ws://127.0.0.1:9000/bot
    voxpy run scenarios/voice_bot.py \
        --custom-data '{"url": "ws://127.0.0.1:9000/bot", "dialect": "twilio"}'

Every 50 frames echoed (a second of audio) it sends a ``mark``; voxpy echoes each mark back
once the audio before it has played to the caller, and the bot logs how long that took. Press
``#`` during the call and the bot sends ``clear``: the echo stops at once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from typing import Any

from aiohttp import web

ECHO_DELAY = 1.0
"seconds between hearing a frame and sending it back"
MARK_EVERY = 50
"frames (of 20 ms) between marks"

log = logging.getLogger("echo_bot")


class Echo:
    """One call's socket: the dialect, the stream id, the marks in flight."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.dialect = "voxengine"
        self.stream_sid = ""
        self.sent = 0
        self.marks: dict[str, float] = {}
        self.pending: set[asyncio.Task[None]] = set()

    async def handle(self, message: dict[str, Any]) -> None:
        event = message.get("event")
        if event == "connected":
            self.dialect = "twilio"
        elif event == "start":
            start = message.get("start", {})
            self.stream_sid = message.get("streamSid") or start.get("streamSid", "")
            log.info("stream started (%s): %s", self.dialect, json.dumps(start))
        elif event == "media":
            payload = message["media"]["payload"]
            task = asyncio.create_task(self.echo_later(payload))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)
        elif event == "mark":
            name = message["mark"]["name"]
            took = time.monotonic() - self.marks.pop(name, time.monotonic())
            log.info("mark %s played %.2f s after it was sent", name, took)
        elif event == "dtmf":
            digit = message["dtmf"]["digit"]
            log.info("caller pressed %s", digit)
            if digit == "#":
                for task in self.pending:
                    task.cancel()
                await self.send({"event": "clear"})
        elif event == "stop":
            log.info("stream stopped")

    async def echo_later(self, payload: str) -> None:
        await asyncio.sleep(ECHO_DELAY)
        await self.send({"event": "media", "media": {"payload": payload}})
        self.sent += 1
        if self.sent % MARK_EVERY == 0:
            name = f"echo-{self.sent // MARK_EVERY}"
            self.marks[name] = time.monotonic()
            await self.send({"event": "mark", "mark": {"name": name}})

    async def send(self, message: dict[str, Any]) -> None:
        if self.dialect == "twilio":
            message["streamSid"] = self.stream_sid
        if not self.ws.closed:
            await self.ws.send_str(json.dumps(message))


async def bot(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    echo = Echo(ws)
    log.info("call connected from %s", request.remote)
    try:
        async for msg in ws:
            if msg.type == web.WSMsgType.TEXT:
                await echo.handle(json.loads(msg.data))
    finally:
        for task in echo.pending:
            task.cancel()
    log.info("call gone")
    return ws


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/bot", bot)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    web.run_app(make_app(), host=options.host, port=options.port)


if __name__ == "__main__":
    main()

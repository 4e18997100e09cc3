"""A bot that connects to a session (``/sessions/{id}/websocket``, with the token) gets the
caller's audio and plays its own into the call, as a socket the scenario opened would."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import tempfile
from pathlib import Path

import aiohttp
import pytest

from tests.backends.test_pjsua2_streams import frames_of, sine
from tests.conftest import TEST_SCENARIOS, Harness
from tests.runtime.test_call_streams import frame_frequency, loud_frames, until
from voxpy.core.audio import Decoder, Encoder, Encoding
from voxpy.log import get_logger
from voxpy.server.control import WorkerControl

TOKEN = "control-token"
pytestmark = pytest.mark.voxpy_backend("memory")


async def test_an_incoming_socket_streams_a_call(voxpy_harness: Harness) -> None:
    h = await voxpy_harness(TEST_SCENARIOS / "stream_incoming.py")
    directory = Path(tempfile.mkdtemp(prefix="vx-ws-", dir="/tmp"))
    worker = WorkerControl(h.engine, TOKEN, get_logger("voxpy.worker"))
    await worker.start(directory / "w0.sock")
    try:
        peer = await h.dial()
        await peer.wait_answered()
        peer.listen(8000)
        session = next(iter(h.engine.sessions.values()))
        connector = aiohttp.UnixConnector(path=str(worker.path))
        async with aiohttp.ClientSession(connector=connector) as http:
            ws = await http.ws_connect(
                f"http://worker/sessions/{session.id}/websocket",
                headers={"Authorization": f"Bearer {TOKEN}"},
            )
            start = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
            assert start["start"]["mediaFormat"] == {"encoding": "PCM16", "sampleRate": 16000}
            peer.send_audio(sine(440, 0.6, 8000))
            await h.advance(0.7)
            media = []
            while len(media) < 30:
                message = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
                if message["event"] == "media":
                    media.append(base64.b64decode(message["media"]["payload"]))
            pcm = Decoder(Encoding.PCM16, 16000).decode(b"".join(media))
            assert abs(frame_frequency(frames_of(pcm, 16000), 16000) - 440) < 15
            tone = Encoder(Encoding.PCM16, 16000).encode(sine(1000, 0.6, 16000))
            for i in range(0, len(tone), 640):
                payload = base64.b64encode(tone[i : i + 640]).decode()
                await ws.send_str(json.dumps({"event": "media", "media": {"payload": payload}}))
            await until(lambda: len(h.recorder.of("WebSocket.Message")) >= 30, what="bot audio")
            await h.advance(0.8)
            assert loud_frames(peer) >= 25
            heard = frames_of(peer.heard_pcm(), 8000)
            assert abs(frame_frequency(heard, 8000) - 1000) < 20
            await ws.close()
    finally:
        await worker.stop()
        shutil.rmtree(directory, ignore_errors=True)

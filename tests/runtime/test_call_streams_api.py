"""The streams API of a Call in memory mode: misuse raises and changes nothing, sources replace
each other silently, everything stops with the call."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.backends.test_pjsua2_streams import sine
from tests.conftest import TEST_SCENARIOS, Harness
from tests.runtime.test_call_streams import Inbox, loud_frames, send_tone, until
from tests.runtime.wsbot import Bot, bot_server
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.runtime.call import Call
from voxpy.runtime.session import Session
from voxpy.runtime.websocket import WebSocket
from voxpy.testing import ScenarioHarness
from voxpy.testing.peer import PeerCall

pytestmark = pytest.mark.voxpy_backend("memory")


async def answered(voxpy_harness: Harness) -> tuple[ScenarioHarness, PeerCall, Call, Session]:
    h = await voxpy_harness(TEST_SCENARIOS / "answer_and_wait.py")
    peer = await h.dial()
    await peer.wait_answered()
    call = (await h.wait_event("Call.Connected", peer)).call
    session = next(iter(h.engine.sessions.values()))
    return h, peer, call, session


async def opened(session: Session, bot: Bot, **kwargs: Any) -> WebSocket:
    ws = session.create_websocket(bot.url, **kwargs)
    await until(lambda: ws.ready_state == "OPEN", what="open socket")
    return ws


async def test_misuse_raises_and_changes_nothing(voxpy_harness: Harness) -> None:
    async with bot_server(Bot()) as bot:
        h, peer, call, session = await answered(voxpy_harness)
        ws = await opened(session, bot)
        with pytest.raises(InvalidArgumentError):
            call.send_media_to("ws://127.0.0.1:1/")  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError):
            call.send_media_to(ws, encoding="OPUS")
        with pytest.raises(InvalidArgumentError):
            call.send_media_to(ws, custom_parameters={"a": ["b"]})  # type: ignore[dict-item]
        with pytest.raises(InvalidArgumentError):
            ws.send_media_to("call")  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError):
            call.listen(sample_rate=44100)
        with pytest.raises(InvalidArgumentError):
            call.audio_output(sample_rate=8000.0)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgumentError):
            ws.clear_media_buffer(tag=3)  # type: ignore[arg-type]
        ws.clear_media_buffer()  # no stream: nothing to clear
        call.stop_media_to(ws)  # nothing sent: nothing to stop
        assert bot.received.empty()
        call.send_media_to(ws, encoding="PCM16")
        with pytest.raises(InvalidStateError):
            call.send_media_to(ws, encoding="PCM16")  # already sent
        ws.send_media_to(call)
        with pytest.raises(InvalidStateError):
            call.send_media_to(ws, encoding="ULAW")  # the stream is PCM16 both ways
        inbox = Inbox(bot)
        await until(lambda: bool(inbox.of("start")), what="start")
        assert inbox.of("start")[0]["start"]["mediaFormat"]["sampleRate"] == 16000
        call.stop_media_to(ws)
        await until(lambda: bool(inbox.of("stop")), what="stop")
        assert not h.recorder.of("Call.Error")


async def test_before_the_answer_nothing_streams(voxpy_harness: Harness) -> None:
    async with bot_server(Bot()) as bot:
        h = await voxpy_harness(TEST_SCENARIOS / "ignore_call.py")
        await h.dial()
        call = (await h.wait_event("Application.CallAlerting")).call
        session = next(iter(h.engine.sessions.values()))
        ws = await opened(session, bot)
        for attempt in (
            lambda: call.send_media_to(ws),
            lambda: ws.send_media_to(call),
            call.listen,
            call.audio_output,
        ):
            with pytest.raises(InvalidStateError):
                attempt()
        assert ws.ready_state == "OPEN"


async def test_say_replaces_the_sockets_audio_and_an_output(voxpy_harness: Harness) -> None:
    async with bot_server(Bot()) as bot:
        h, peer, call, session = await answered(voxpy_harness)
        ws = await opened(session, bot, dialect="twilio")
        peer.listen(8000)
        ws.send_media_to(call)
        await send_tone(bot, "twilio", 1000, 2.0)
        await until(lambda: len(h.recorder.of("WebSocket.Message")) >= 100, what="bot audio")
        await h.advance(0.5)
        assert loud_frames(peer) >= 20
        call.say("Hello.")
        await h.wait_event("WebSocket.MediaEventEnded", timeout=3)
        heard = loud_frames(peer)
        await h.advance(1.0)
        assert loud_frames(peer) <= heard + 1  # the socket's audio no longer plays
        out = call.audio_output(8000)
        await out.write(sine(440, 0.2, 8000))
        call.say("Again.")
        assert out.closed
        with pytest.raises(InvalidStateError):
            await out.write(sine(440, 0.2, 8000))
        await out.drain()  # closed: returns at once
        assert not h.recorder.of("Call.Error")


async def test_output_write_waits_drain_and_clear(voxpy_harness: Harness) -> None:
    h, peer, call, _ = await answered(voxpy_harness)
    peer.listen(8000)
    out = call.audio_output(8000)
    writing = asyncio.ensure_future(out.write(sine(1000, 3.0, 8000)))
    await asyncio.sleep(0)
    assert not writing.done()  # 3 s is more than the 2 s it takes ahead of play
    await h.advance(1.2)
    await asyncio.wait_for(writing, 1)
    draining = asyncio.ensure_future(out.drain())
    await h.advance(1.0)
    assert not draining.done()
    out.clear()
    at_clear = loud_frames(peer)
    await h.advance(0.3)
    await asyncio.wait_for(draining, 1)
    assert loud_frames(peer) - at_clear <= 1
    assert out.pending_bytes == 0


async def test_listen_ends_with_the_call_and_drops_oldest(voxpy_harness: Harness) -> None:
    h, peer, call, _ = await answered(voxpy_harness)
    frames = call.listen(16000)
    peer.send_audio(sine(440, 3.0, 8000))
    await h.advance(3.0)  # nobody reads: 150 frames for a queue of 100
    peer.hangup()
    await h.wait_event("Call.Disconnected", peer)
    got = [frame async for frame in frames]
    assert len(got) == 100 and {len(f) for f in got} == {640}
    assert frames.dropped >= 49  # 3 s of taps, less the 20 ms the hang-up overtakes


async def test_leaving_the_loop_stops_the_tap(voxpy_harness: Harness) -> None:
    h, peer, call, _ = await answered(voxpy_harness)
    peer.send_audio(sine(440, 1.0, 8000))

    async def first() -> bytes:
        async for frame in call.listen(8000):
            return frame
        raise AssertionError("no frame")

    reading = asyncio.ensure_future(first())
    await h.advance(0.1)
    assert len(await asyncio.wait_for(reading, 1)) == 320
    await asyncio.sleep(0)
    assert not call._streams.taps  # the iterator was finalized: StopTap went out

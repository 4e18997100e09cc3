"""Media-unit commands on a pjsua2 peer process (issue 14), driven over the wire: a player
unit heard through a mix, a recorder unit of a leg, misuse answered without harm, and
nothing left behind (every capture port back in the pool; a player still looping at
shutdown is destroyed in order: the peer exits 0)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.backends.conftest import PeerFactory, connect
from tests.backends.test_pjsua2_media import tone_wav
from tests.backends.test_pjsua2_streams import RELEASED
from voxpy.core.commands import Bye
from voxpy.core.signals import (
    CommandFailed,
    Ended,
    PlayEnded,
    PlayStarted,
    RecordingStarted,
    RecordingStopped,
)
from voxpy.core.units import Mix, StartPlayer, StartRecorder, StopPlayer, StopRecorder
from voxpy.core.wire import from_wire, to_wire

pytestmark = pytest.mark.realtime


def test_unit_commands_cross_the_wire() -> None:
    mix = Mix(call_id="rec", sources=("a", "b"))
    assert from_wire(to_wire(mix)) == mix


async def test_player_and_recorder_units(make_peer: PeerFactory, tmp_path: Path) -> None:
    a, b = await asyncio.gather(make_peer(), make_peer(measure_audio=True))
    b_id = await connect(a, b, "u1")
    rec = str(tmp_path / "unit.mp3")
    a.send(StartRecorder(call_id="rec", path=rec))
    await a.wait(RecordingStarted, call_id="rec")
    a.send(StartRecorder(call_id="rec", path=rec))  # the same id again: refused
    await a.wait(CommandFailed, call_id="rec", op="StartRecorder")
    a.send(Mix(call_id="rec", sources=("u1", "nobody")))  # an unknown source is skipped
    a.send(StartPlayer(call_id="pl", path=tone_wav(tmp_path / "t.wav", 1.0)))
    await a.wait(PlayStarted, call_id="pl", playback_id="pl")
    a.send(Mix(call_id="u1", sources=("pl", "u1")))  # the leg itself is skipped
    a.send(Mix(call_id="ghost", sources=("pl",)))  # no such sink: ignored
    await a.wait(PlayEnded, call_id="pl", timeout=3.0)  # the 1 s tone played out
    assert await b.heard(b_id) >= 0.7
    a.send(StopPlayer(call_id="pl"))  # already finished: nothing
    a.send(StartPlayer(call_id="loop", path=tone_wav(tmp_path / "l.wav", 0.5), loop=True))
    await a.wait(PlayStarted, call_id="loop")
    a.send(StopRecorder(call_id="rec"))
    stopped = await a.wait(RecordingStopped, call_id="rec", timeout=10)
    assert stopped.path == rec and Path(rec).stat().st_size > 0
    a.send(Bye(call_id="u1"))
    await a.wait(Ended, call_id="u1")
    deadline = time.monotonic() + 2.0  # stderr is read by a task of its own
    while not (released := RELEASED.findall(a.backend.stderr_tail)):
        assert time.monotonic() < deadline, a.backend.stderr_tail[-2000:]
        await asyncio.sleep(0.02)
    assert released[-1] == "0", a.backend.stderr_tail[-2000:]
    assert not a.taken(CommandFailed, op="Mix") and not a.taken(CommandFailed, op="StopPlayer")
    # "loop" still plays: the peer's shutdown must destroy it in order (exit code 0).

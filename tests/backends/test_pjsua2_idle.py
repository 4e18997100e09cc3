"""The owner thread's long poll while idle (``PjsuaOptions.idle_poll_ms``): work that arrives
meanwhile is still done at once, and pjsip's own timers still fire.

The peers here block up to 10 s per poll when idle, and every timeout below is shorter than
that: anything that waited for the poll to end by itself would fail, without the tests
measuring latency.
"""

from __future__ import annotations

import gc
import math
import wave
from array import array
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import structlog

from tests.backends.conftest import Peer, PeerFactory, connect
from tests.backends.rawsip import RawUac
from voxpy.core.commands import Answer, Bye, Dial, Play
from voxpy.core.signals import CommandFailed, Ended, IncomingCall, PlayEnded, PlayStarted

pytestmark = pytest.mark.realtime  # real SIP/processes: deselect with -m 'not realtime'

LONG_POLL = ("--idle-poll-ms", "10000")
"Longer than every wait below."
PROMPT_S = 5.0


async def long_poll_peer(make_peer: PeerFactory) -> Peer:
    return await make_peer(extra_args=LONG_POLL)


def test_poll_is_long_only_while_nothing_is_due() -> None:
    from voxpy.backends.pjsua2.options import PjsuaOptions
    from voxpy.backends.pjsua2.owner import Owner

    owner = Owner(PjsuaOptions(port=0, idle_poll_ms=5000), lambda _: None, structlog.get_logger())
    quiet_media = SimpleNamespace(quiet=True)
    calls: Any = SimpleNamespace(legs={}, probes={}, media=quiet_media)
    try:
        assert owner._poll_ms() == 20  # not booted yet
        owner._calls = calls
        assert owner._poll_ms() == 5000
        for busy in (
            {"legs": {"c1": object()}},  # pending DTMF and media events need the short poll
            {"probes": {"c1": object()}},
            {"media": SimpleNamespace(quiet=False)},  # players, buried objects
        ):
            owner._calls = SimpleNamespace(**{**vars(calls), **busy})
            assert owner._poll_ms() == 20, busy
        owner._calls = calls
        owner.guard = SimpleNamespace(gate_closed=True)  # type: ignore[assignment]
        assert owner._poll_ms() == 20  # only a poll reopens the TCP gate
    finally:
        owner._wake_sock.close()


async def test_commands_wake_the_long_poll(make_peer: PeerFactory) -> None:
    a, b = await long_poll_peer(make_peer), await long_poll_peer(make_peer)
    for round_ in range(2):  # the second time after a call: the poll is long again
        a.send(Dial(call_id=f"d{round_}", uri=b.uri()))
        incoming = await b.wait(IncomingCall, timeout=PROMPT_S)  # SIP wakes b
        b.send(Answer(call_id=incoming.call_id))
        a.send(Bye(call_id=f"d{round_}"))
        await a.wait(Ended, timeout=PROMPT_S, call_id=f"d{round_}")
        await b.wait(Ended, timeout=PROMPT_S, call_id=incoming.call_id)
    a.send(Answer(call_id="nothing"))  # refused on the owner thread: it ran
    await a.wait(CommandFailed, timeout=PROMPT_S, call_id="nothing")
    # The fixture's stop() then wakes both: each exits 0 (asserted there).


async def test_pjsip_timers_fire_during_the_long_poll(make_peer: PeerFactory) -> None:
    """A 503 to an INVITE nobody ACKs is resent by pjsip's Timer G (RFC 3261 17.2.1: after
    0.5, 1 and 2 s), on the owner thread, long after the refused leg is gone."""
    peer = await long_poll_peer(make_peer)
    peer.backend.stop_accepting()
    peer.send(Answer(call_id="barrier"))  # stdin is read in order: StopAccepting is applied
    await peer.wait(CommandFailed, timeout=PROMPT_S, call_id="barrier")
    host, _, port = peer.uri().split("@", 1)[1].partition(":")
    uac = RawUac((host, int(port)))
    try:
        uac.invite()
        for _ in range(4):  # the first 503 and three resent: 3.5 s, all of it idle
            await uac.wait_for("SIP/2.0 503", 8)
    finally:
        uac.close()


def _tone(path: Path, seconds: float) -> str:
    rate = 8000
    samples = array(
        "h",
        (int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(rate * seconds))),
    )
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    return str(path)


async def test_playback_end_is_reported_with_the_long_poll(
    make_peer: PeerFactory, tmp_path: Path
) -> None:
    a, b = await long_poll_peer(make_peer), await long_poll_peer(make_peer)
    await connect(a, b, "p1")
    a.send(Play(call_id="p1", playback_id="tone", path=_tone(tmp_path / "t.wav", 0.5)))
    await a.wait(PlayStarted, timeout=PROMPT_S, playback_id="tone")
    await a.wait(PlayEnded, timeout=PROMPT_S, playback_id="tone")
    a.send(Bye(call_id="p1"))
    await a.wait(Ended, timeout=PROMPT_S, call_id="p1")


@pytest.mark.parametrize("value", [0, 19, 10001, True, 1.5])
def test_idle_poll_ms_is_checked(value: object) -> None:
    from voxpy.backends.pjsua2.options import PjsuaOptions
    from voxpy.errors import ConfigError

    with pytest.raises(ConfigError, match="idle_poll_ms"):
        PjsuaOptions(poll_ms=20, idle_poll_ms=value)  # type: ignore[arg-type]


@pytest.mark.voxpy_backend("sip")
async def test_a_library_endpoint_leaves_the_heap_unfrozen(voxpy_harness: Any) -> None:
    """Only `voxpy run`, which ends by os._exit, freezes its boot heap: a test process or a
    peer that starts endpoints would otherwise never free a cycle that existed at a start."""
    before = gc.get_freeze_count()
    h = await voxpy_harness("scenarios/hello_hangup.py")
    call = await h.dial()
    await call.wait_answered()
    assert gc.get_freeze_count() == before

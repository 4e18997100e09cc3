"""Supervisor modes (issue 14) through a conference: listen, whisper, barge; on both
backends (memory: the modelled mix; SIP: tones through pjsua2, numpy FFT)."""

from __future__ import annotations

import pytest

from tests.conftest import Harness
from tests.runtime.test_units import (
    LAB,
    TONES,
    engine_calls,
    heard,
    levels,
    placed,
    speak_and_listen,
)
from voxpy import InvalidArgumentError, InvalidStateError
from voxpy.runtime.session import Session

CUSTOMER, AGENT, SUPERVISOR = TONES


@pytest.mark.parametrize(
    ("mode", "customer_hears", "agent_hears"),
    [
        ("listen", {AGENT}, {CUSTOMER}),
        ("whisper", {AGENT}, {CUSTOMER, SUPERVISOR}),
        ("barge", {AGENT, SUPERVISOR}, {CUSTOMER, SUPERVISOR}),
    ],
)
async def test_modes(
    voxpy_harness: Harness, mode: str, customer_hears: set[float], agent_hears: set[float]
) -> None:
    """The supervisor hears both in every mode; who hears the supervisor depends on it."""
    h = await voxpy_harness(LAB)
    peers = await placed(h, "legs", 3)
    await h.wait_until(lambda: len(h.recorder.of("Call.Connected")) == 3, 5, "3 legs")
    calls = await engine_calls(h, peers)
    session: Session = next(iter(h.engine.sessions.values()))
    supervision = session.supervise(calls[0], calls[1], calls[2], mode="listen")
    supervision.set_mode(mode)
    assert supervision.mode == mode
    await speak_and_listen(h, peers, peers)
    assert heard(levels(peers[0].heard_pcm())) == customer_hears
    assert heard(levels(peers[1].heard_pcm())) == agent_hears
    assert heard(levels(peers[2].heard_pcm())) == {CUSTOMER, AGENT}


async def test_misuse_and_leaving(voxpy_harness: Harness) -> None:
    h = await voxpy_harness(LAB)
    peers = await placed(h, "legs", 3)
    await h.wait_until(lambda: len(h.recorder.of("Call.Connected")) == 3, 5, "3 legs")
    a, b, c = await engine_calls(h, peers)
    session: Session = next(iter(h.engine.sessions.values()))
    with pytest.raises(InvalidArgumentError):
        session.supervise(a, b, c, mode="spy")
    with pytest.raises(InvalidArgumentError):
        session.supervise(a, b, b)
    assert not h.recorder.of("Conference.Started")  # nothing was made
    supervision = session.supervise(a, b, c, mode="barge")
    with pytest.raises(InvalidArgumentError):
        supervision.set_mode("shout")
    supervision.stop()
    with pytest.raises(InvalidStateError):
        supervision.set_mode("listen")
    if h.backend == "memory":
        assert h.heard_from(peers[0]) == {peers[1]} and h.heard_from(peers[1]) == {peers[0]}
        assert h.heard_from(peers[2]) == set()

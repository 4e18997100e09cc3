"""What the API-usage tests share: a connected call, a bounded look, "nothing reached the peer"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import TEST_SCENARIOS
from voxpy.core.signals import SipInfoReceived, SipMessageReceived, TransferRequested
from voxpy.testing import PeerCall, ScenarioHarness

WAIT = TEST_SCENARIOS / "answer_and_wait.py"


async def connected(h: ScenarioHarness) -> tuple[PeerCall, Any]:
    call = await h.dial()
    await call.wait_answered()
    return call, (await h.wait_event("Call.Connected", call)).call


async def ticking(h: ScenarioHarness, done: Callable[[], bool], seconds: float) -> bool:
    """Whether ``done()`` holds within ``seconds``, looking every half second."""
    for _ in range(int(seconds * 2)):
        if done():
            return True
        await h.advance(0.5)
    return done()


def nothing_sent(call: PeerCall) -> bool:
    kinds = (TransferRequested, SipInfoReceived, SipMessageReceived)
    return not any(call.received(kind) for kind in kinds) and call.code is None

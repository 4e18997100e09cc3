"""Slot guards through the test kit, on both backends: a caller that goes silent is hung up
(hold is not silence), a call that runs too long is hung up, and each ends with a
Disconnected whose reason says why. The short settings make the SIP runs a few seconds."""

from __future__ import annotations

from tests.conftest import TEST_SCENARIOS, Harness
from voxpy.core.signals import HoldChanged
from voxpy.testing import PeerCall, ScenarioHarness

LAB = TEST_SCENARIOS / "signalling_lab.py"
SILENCE = {"quality.rtp_timeout_hangup": 2, "sip.max_calls": 1}
"One slot only: a second call is accepted only if the first one's slot was freed."


async def connected(h: ScenarioHarness) -> tuple[PeerCall, object]:
    call = await h.dial(to="plain")
    await call.wait_answered()
    return call, (await h.wait_event("Call.Connected", call)).call


async def test_silent_caller_is_hung_up_and_its_slot_freed(voxpy_harness: Harness) -> None:
    h = await voxpy_harness(LAB, config=SILENCE)
    call, engine_call = await connected(h)
    await h.advance(1)
    call.set_rtp_loss(100)  # the caller vanishes: no more RTP, no BYE
    silent_from = h.engine.clock.now()
    assert await call.wait_hangup(timeout=15) == 200  # our BYE
    elapsed = h.engine.clock.now() - silent_from
    assert 2 <= elapsed < 2 + 0.5 + 1.5  # the timeout, one poll interval, slack for SIP
    ended = await h.wait_event("Call.Disconnected", call)
    assert ended.reason == "rtp_timeout" and ended.code == 200
    again = await h.dial(to="plain")
    await again.wait_answered()  # the one slot is free again


async def test_hold_is_not_silence(voxpy_harness: Harness) -> None:
    h = await voxpy_harness(LAB, config=SILENCE)
    call, _ = await connected(h)
    call.hold()
    await h.wait_event("Call.OnHold", call, timeout=10)
    call.set_rtp_loss(100)  # on hold, a far end may well stop sending
    await h.advance(4)
    assert call.code is None  # still up, twice the timeout later
    call.unhold()
    await h.wait_event("Call.OffHold", call, timeout=10)
    unheld_at = h.engine.clock.now()
    assert await call.wait_hangup(timeout=15) == 200
    assert h.engine.clock.now() - unheld_at >= 2 - 0.5  # counted afresh from unhold
    assert (await h.wait_event("Call.Disconnected", call)).reason == "rtp_timeout"


async def test_our_hold_is_not_silence_and_back_to_back_reinvites_queue(
    voxpy_harness: Harness,
) -> None:
    """hold(); unhold() in one breath: the second re-INVITE waits for the first one's
    transaction instead of failing; meanwhile the held far end's silence does not count."""
    h = await voxpy_harness(LAB, config=SILENCE)
    call, engine_call = await connected(h)
    engine_call.hold()  # type: ignore[attr-defined]
    call.set_rtp_loss(100)
    await h.advance(4)
    assert call.code is None
    engine_call.unhold()  # type: ignore[attr-defined]
    engine_call.hold()  # type: ignore[attr-defined]
    engine_call.unhold()  # type: ignore[attr-defined]
    await h.wait_until(lambda: len(call.received(HoldChanged)) >= 4, 15, "four re-INVITEs")
    assert [s.on_hold for s in call.received(HoldChanged)] == [True, False, True, False]
    assert h.recorder.of("Call.Error") == []
    assert (await h.wait_event("Call.Disconnected", call, timeout=15)).reason == "rtp_timeout"


async def test_max_call_duration(voxpy_harness: Harness) -> None:
    h = await voxpy_harness(LAB, config={"timeouts.max_call_duration": 2})
    call, _ = await connected(h)
    assert await call.wait_hangup(timeout=10) == 200
    ended = await h.wait_event("Call.Disconnected", call)
    assert ended.reason == "max_duration"
    assert 1.9 <= ended.duration < 3.5

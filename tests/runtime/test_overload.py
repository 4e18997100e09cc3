"""Overload admission through the test kit, both backends: an overloaded worker answers a new
INVITE 503 (pjsua2: stateless, with Retry-After, from the edge guard), starts no session,
holds no slot, and counts the refusal; with overload admission off the same call is answered.

"Overloaded" is real configuration, not a test hook: thresholds at 0 with no window make any
load, even an idle machine's, count as overload (media thresholds at 1 keep the reason the CPU).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.backends.rawsip import RawUac, header
from tests.conftest import Harness
from voxpy.server.metrics import overload_status

SCENARIO = "scenarios/hello_hangup.py"

OVERLOADED: dict[str, Any] = {
    "overload.cpu_enter": 0.0,
    "overload.cpu_leave": 0.0,
    "overload.media_enter": 1.0,
    "overload.media_leave": 1.0,
    "overload.window": 0.0,
    "overload.min_interval": 0.0,
    "server.retry_after": 7,
}


async def test_overloaded_worker_refuses_with_503(voxpy_harness: Harness) -> None:
    h = await voxpy_harness(SCENARIO, config=OVERLOADED)
    call = await h.dial()
    assert await call.wait_hangup() == 503
    assert h.engine.live_legs() == 0 and not h.engine.sessions
    assert not h.session_events()
    status = overload_status(h.engine.backend)
    assert status == {"enabled": True, "overloaded": True, "refused_total": {"overload_cpu": 1}}


async def test_overload_is_refused_first_even_when_draining(voxpy_harness: Harness) -> None:
    """Both backends put the overload gate ahead of the draining/full refusals (pjsua2's edge
    guard answers before pjsua or the engine see the INVITE), so the refusal is counted."""
    h = await voxpy_harness(SCENARIO, config=OVERLOADED)
    h.engine.backend.stop_accepting()
    call = await h.dial()
    assert await call.wait_hangup() == 503
    assert overload_status(h.engine.backend)["refused_total"] == {"overload_cpu": 1}


async def test_overload_off_answers(voxpy_harness: Harness) -> None:
    h = await voxpy_harness(SCENARIO, config={**OVERLOADED, "overload.enabled": False})
    call = await h.dial()
    await call.wait_answered()
    assert await call.wait_hangup() == 200
    assert overload_status(h.engine.backend)["refused_total"] == {}


@pytest.mark.voxpy_backend("sip")  # memory mode has no wire; the 503 itself is checked above
async def test_refusal_carries_retry_after_on_the_wire(voxpy_harness: Harness) -> None:
    """The raw 503 a SIP caller (Kamailio) sees: Retry-After from server.retry_after."""
    h = await voxpy_harness(SCENARIO, config=OVERLOADED)
    host, _, port = h.engine.backend.contact_uri.split("@", 1)[1].partition(":")
    uac = RawUac((host, int(port)))
    try:
        uac.invite()
        refused = await uac.wait_for("SIP/2.0 503", 5)
        assert header(refused, "Retry-After") == "7"
    finally:
        uac.close()
    assert overload_status(h.engine.backend)["refused_total"] == {"overload_cpu": 1}

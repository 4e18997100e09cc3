"""Every shipped scenario survives the caller hanging up at any step: no error log line, no
handler_failed (issue 11). In memory the hangup comes after each event of the script's whole
history in turn; over SIP at one chosen step per script."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.shipped.history import CONFIG
from tests.shipped.scripts import SHIPPED, Run, Shipped, path
from voxpy.testing import PeerCall, ScenarioHarness

Trigger = Callable[[int, Any], bool]
"(number of events so far, the event) -> hang up now?"

SIP_STEPS: dict[str, tuple[str, str | None]] = {
    "hello_hangup": ("Call.Connected", None),
    "reject_busy": ("Application.CallAlerting", None),
    "outbound": ("Call.Ringing", None),
    "ivr_sales": ("Call.PlaybackStarted", "tone:US"),
    "ivr_message": ("Call.RecordStarted", None),
    "ivr_wrong_keys": ("Call.PlaybackStarted", "Goodbye."),
    "forward": ("Call.Connected", None),
    "voicemail": ("Call.PlaybackStarted", "Thank you. Goodbye."),
    "agent_or_voicemail": ("Call.PlaybackStarted", "tone:beep"),
    "voice_bot_unreachable": ("WebSocket.Close", None),
}
"Over SIP, the caller hangs up when this event (with this text or source) fires."


def _hang_up(call: PeerCall) -> None:
    if call.code is None:
        call.hangup()


async def run_and_hang_up(
    shipped: Shipped, backend: str, trigger: Trigger
) -> tuple[int, list[Any], bool]:
    """Run the script, hanging the caller up when ``trigger`` says; returns how many events
    the engine dispatched, the error log lines, and whether the caller was hung up."""
    with capture_logs() as logs:
        async with ScenarioHarness(
            path(shipped),
            backend=backend,  # type: ignore[arg-type]
            custom_data=shipped.custom_data,
            config=CONFIG,
            raise_handler_errors=False,
        ) as h:
            run = Run(h)
            fired = asyncio.Event()
            seen = 0

            def observe(_session: Any, event: Any) -> None:
                nonlocal seen
                seen += 1
                if not fired.is_set() and run.caller is not None and trigger(seen, event):
                    fired.set()
                    asyncio.get_running_loop().call_soon(_hang_up, run.caller)

            h.engine.observers.append(observe)
            script = asyncio.create_task(shipped.script(run))
            hung = asyncio.create_task(fired.wait())
            await asyncio.wait({script, hung}, return_when=asyncio.FIRST_COMPLETED)
            if fired.is_set():
                script.cancel()  # its next steps need a caller who has gone
            hung.cancel()
            await asyncio.gather(script, hung, return_exceptions=True)
            if not fired.is_set() and script.exception() is not None:
                raise script.exception()  # type: ignore[misc]
            await h.wait_until(lambda: not h.engine.sessions, 30, "every session to end")
            events = len(h.recorder.log)
    errors = [
        e
        for e in logs
        if e.get("log_level") in ("error", "critical") or e.get("event") == "handler_failed"
    ]
    return events, errors, fired.is_set()


@pytest.mark.parametrize("shipped", SHIPPED, ids=[s.name for s in SHIPPED])
async def test_hang_up_after_every_event_in_memory(shipped: Shipped) -> None:
    total, errors, _ = await run_and_hang_up(shipped, "memory", lambda _n, _e: False)
    assert errors == []
    for step in range(1, total + 1):
        _, errors, _ = await run_and_hang_up(shipped, "memory", lambda n, _e, k=step: n == k)
        assert errors == [], f"hung up after event {step} of {total}"


@pytest.mark.realtime
@pytest.mark.parametrize("shipped", SHIPPED, ids=[s.name for s in SHIPPED])
async def test_hang_up_at_one_step_over_sip(shipped: Shipped) -> None:
    name, what = SIP_STEPS[shipped.name]

    def at_step(_n: int, event: Any) -> bool:
        played = getattr(event, "text", None) or getattr(event, "source", None)
        return str(event.name) == name and (what is None or played == what)

    _, errors, hung_up = await run_and_hang_up(shipped, "sip", at_step)
    assert hung_up, f"{name} {what or ''} never fired"
    assert errors == []

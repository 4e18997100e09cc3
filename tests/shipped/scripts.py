"""One happy-path script per shipped scenario, shared by the parity and the hang-up tests.

A script drives the peer through a scenario with the test kit's public API only. It sets
``run.caller`` to the peer's side of the call a caller would hang up (the inbound call, or
the one the engine placed), as soon as it has it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import SCENARIOS
from voxpy.testing import PeerCall, ScenarioHarness

MENU = "Welcome to voxpy. Press 1 for sales. Press 2 to leave a message."


@dataclass
class Run:
    h: ScenarioHarness
    caller: PeerCall | None = None
    agent: PeerCall | None = None
    notes: dict[str, Any] = field(default_factory=dict)


Script = Callable[[Run], Awaitable[None]]


async def hello_hangup(run: Run) -> None:
    run.caller = call = await run.h.dial()
    await call.wait_answered()
    await call.wait_hangup()


async def reject_busy(run: Run) -> None:
    run.caller = call = await run.h.dial()
    await call.wait_hangup()


async def outbound(run: Run) -> None:
    await run.h.start(custom_data="sip:alice@example.com")
    run.caller = call = await run.h.expect_call()
    call.ring()
    await run.h.advance(0.5)
    call.answer()
    await call.wait_hangup()


async def ivr_sales(run: Run) -> None:
    h = run.h
    run.caller = call = await h.dial(from_="+15550123")
    await call.wait_said("Press 1", timeout=10)
    call.send_dtmf("1")
    run.agent = agent = await h.expect_call(timeout=20)
    await h.wait_until(lambda: call.played == ["tone:US"], 10, "ringback tone")
    agent.answer()
    await h.wait_event("Call.Connected", agent, timeout=10)
    await h.advance(1)
    agent.hangup()
    await call.wait_hangup(timeout=10)


async def ivr_message(run: Run) -> None:
    h = run.h
    run.caller = call = await h.dial()
    await call.wait_said("Press 1", timeout=10)
    call.send_dtmf("2")
    await h.wait_event("Call.RecordStarted", call, timeout=20)
    await h.advance(1.5)
    call.send_dtmf("#")
    await call.wait_said("Thank you", timeout=10)
    await call.wait_hangup(timeout=15)
    await h.wait_event("Call.RecordStopped", call, timeout=10)


async def ivr_wrong_keys(run: Run) -> None:
    h = run.h
    run.caller = call = await h.dial()
    await call.wait_said("Press 1", timeout=10)
    call.send_dtmf("9")
    await call.wait_said("Sorry", timeout=10)
    call.send_dtmf("*")
    await h.wait_until(lambda: call.said.count(MENU) == 2, 15, "second menu")
    call.send_dtmf("7")
    await call.wait_hangup(timeout=60)


async def forward(run: Run) -> None:
    h = run.h
    run.caller = call = await h.dial(from_="+15550142")
    run.agent = agent = await h.expect_call()
    agent.answer()
    await call.wait_answered()
    await h.advance(1)
    call.hangup()
    await agent.wait_hangup()


async def voicemail(run: Run) -> None:
    h = run.h
    run.caller = call = await h.dial()
    await call.wait_said("Leave a message", timeout=10)
    await h.wait_event("Call.RecordStarted", call, timeout=20)
    await h.advance(1.5)
    call.send_dtmf("#")
    await call.wait_said("Thank you", timeout=10)
    await call.wait_hangup(timeout=15)
    await h.wait_event("Call.RecordStopped", call, timeout=10)


async def agent_or_voicemail(run: Run) -> None:
    h = run.h
    run.caller = call = await h.dial(from_="+15550177")
    run.agent = agent = await h.expect_call()
    agent.ring()
    await call.wait_progress(180)
    agent.reject(486)
    await call.wait_said("leave a message", timeout=10)
    await h.wait_event("Call.RecordStarted", call, timeout=20)
    await h.advance(1.5)
    call.hangup()
    await h.wait_event("Call.RecordStopped", call, timeout=10)


async def voice_bot_unreachable(run: Run) -> None:
    # The bot's port refuses (nothing listens on port 1): the caller is told and stays up.
    run.caller = call = await run.h.dial()
    await call.wait_answered()
    await call.wait_said("assistant is not available", timeout=15)
    call.hangup()
    await run.h.wait_event("Call.Disconnected", timeout=10)


@dataclass(frozen=True, slots=True, kw_only=True)
class Shipped:
    name: str
    scenario: str
    script: Script
    custom_data: str | None = None


SHIPPED = [
    Shipped(
        name="voice_bot_unreachable",
        scenario="voice_bot.py",
        script=voice_bot_unreachable,
        custom_data="ws://127.0.0.1:1/bot",
    ),
    Shipped(name="hello_hangup", scenario="hello_hangup.py", script=hello_hangup),
    Shipped(name="reject_busy", scenario="reject_busy.py", script=reject_busy),
    Shipped(name="outbound", scenario="outbound.py", script=outbound),
    Shipped(
        name="ivr_sales",
        scenario="ivr.py",
        script=ivr_sales,
        custom_data="sip:sales@example.com",
    ),
    Shipped(name="ivr_message", scenario="ivr.py", script=ivr_message),
    Shipped(name="ivr_wrong_keys", scenario="ivr.py", script=ivr_wrong_keys),
    Shipped(
        name="forward", scenario="forward.py", script=forward, custom_data="sip:desk@example.com"
    ),
    Shipped(name="voicemail", scenario="voicemail.py", script=voicemail),
    Shipped(
        name="agent_or_voicemail",
        scenario="agent_or_voicemail.py",
        script=agent_or_voicemail,
        custom_data="sip:agent@example.com",
    ),
]
"Every scenario in scenarios/ is here at least once (a test checks it)."


def path(shipped: Shipped) -> Any:
    return SCENARIOS / shipped.scenario

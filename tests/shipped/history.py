"""Run a shipped scenario's script on one backend and return its whole event history in a
form both backends must agree on: names, legs (by order of appearance), codes, reasons,
what played, errors; no timings, ids, paths or URLs."""

from __future__ import annotations

from typing import Any

from tests.shipped.scripts import Run, Shipped, path
from voxpy.testing import ScenarioHarness

COMPARED = ("code", "reason", "text", "source", "error", "tone", "new_state", "old_state")
CONFIG = {"timeouts.session_grace": 1}


def normalize(log: list[tuple[Any, Any]]) -> list[str]:
    legs: dict[str, str] = {}
    rows = []
    for _session, event in log:
        call = getattr(event, "call", None)
        leg = ""
        if call is not None:
            leg = legs.setdefault(call.id(), f"leg{len(legs)}")
        fields = []
        for name in COMPARED:
            value = getattr(event, name, None)
            if value not in (None, ""):
                fields.append(f"{name}={value!s}")
        rows.append(" ".join([str(event.name), leg, *fields]).strip())
    return rows


async def history(shipped: Shipped, backend: str) -> list[str]:
    async with ScenarioHarness(
        path(shipped), backend=backend, custom_data=shipped.custom_data, config=CONFIG
    ) as h:  # type: ignore[arg-type]
        await shipped.script(Run(h))
        await h.wait_until(lambda: not h.engine.sessions, 30, "every session to end")
        return normalize(h.recorder.log)

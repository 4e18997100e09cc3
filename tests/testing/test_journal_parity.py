"""Journals are recorded at the engine's seam to its backend, so memory mode and real SIP draw
the same ladder: every shipped scenario's script gives the same arrows and notes on both
(names, lanes by order of appearance, custom headers and codes; no times, ids, hosts or paths).
"""

from __future__ import annotations

import difflib
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import SCENARIOS
from tests.shipped.scripts import SHIPPED, Run, Shipped, path
from voxpy.core.journal import Entry, flow_svg
from voxpy.testing import ScenarioHarness

CONFIG = {"timeouts.session_grace": 1}
KEPT = ("X-", "code", "reason", "Refer-To", "a", "text")
"Fields compared: the ones that say the same on both backends (no URIs with ports, no paths)."


def normalize(entries: list[Entry]) -> list[str]:
    names: dict[str, str] = {}

    def lane(lane_id: str) -> str:
        role, _, call_id = lane_id.partition(":")
        if not call_id:
            return role
        return f"{role}{names.setdefault(call_id, str(len(names)))}"

    rows = []
    for e in entries:
        if e.kind == "session":
            continue
        where = f"{lane(e.src)}>{lane(e.dst)}" if e.dst else lane(e.src)
        label = e.label
        if e.kind == "party" or e.field("url"):  # caller / callee / leg; a recording's file
            label = e.label.split(" ")[0]
        fields = [f"{k}={v}" for k, v in e.fields if k.startswith(KEPT) and k != "fields"]
        rows.append(" ".join([e.kind, label, where, *fields]))
    return rows


async def journals(shipped: Shipped, backend: str) -> list[list[str]]:
    async with ScenarioHarness(
        path(shipped), backend=backend, custom_data=shipped.custom_data, config=CONFIG
    ) as h:  # type: ignore[arg-type]
        await shipped.script(Run(h))
        await h.wait_until(lambda: not h.engine.sessions, 30, "every session to end")
        ids = h.journals.session_ids()
        drawn = [h.journal(i) for i in ids]
    for entries in drawn:
        ET.fromstring(flow_svg(entries).encode())  # every one draws as valid SVG
    return [normalize(entries) for entries in drawn]


@pytest.mark.realtime
@pytest.mark.parametrize("shipped", SHIPPED, ids=[s.name for s in SHIPPED])
async def test_memory_and_sip_journals_match(shipped: Shipped) -> None:
    memory = await journals(shipped, "memory")
    sip = await journals(shipped, "sip")
    assert memory and len(memory) == len(sip), (len(memory), len(sip))  # not vacuous
    for one, other in zip(memory, sip, strict=True):
        diff = "\n".join(difflib.unified_diff(one, other, "memory", "sip", lineterm=""))
        assert other == one, f"the journals differ:\n{diff}"


HELLO = [
    "party leg leg0",
    "party caller far0",
    "sip INVITE far0>leg0 X-Tenant=acme",
    "event Application.Started session",
    "event Application.CallAlerting leg0",
    "sip 200 OK leg0>far0",
    "sip ACK far0>leg0",
    "event Call.Connected leg0",
    "sip BYE leg0>far0",
    "sip 200 OK far0>leg0",
    "event Call.Disconnected 200 leg0 code=200 reason=OK",
]


async def test_hello_hangup_journal(voxpy_harness, voxpy_backend: str) -> None:
    """The test kit keeps a journal of each session on either backend: the whole ladder of
    hello_hangup, the caller's X- header on its INVITE."""
    h = await voxpy_harness(SCENARIOS / "hello_hangup.py")
    call = await h.dial(headers={"X-Tenant": "acme"})
    assert await call.wait_hangup() == 200
    await h.wait_event("Call.Disconnected")
    assert normalize(h.journal()) == HELLO

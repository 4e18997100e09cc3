"""One behaviour in both test-kit modes: every shipped scenario gives the same whole event
history in memory and over real SIP (issue 11)."""

from __future__ import annotations

import difflib

import pytest

from tests.conftest import SCENARIOS
from tests.shipped.history import history
from tests.shipped.scripts import SHIPPED, Shipped


def test_every_shipped_scenario_has_a_script() -> None:
    assert {p.name for p in SCENARIOS.glob("*.py")} == {s.scenario for s in SHIPPED}


@pytest.mark.realtime
@pytest.mark.parametrize("shipped", SHIPPED, ids=[s.name for s in SHIPPED])
async def test_memory_and_sip_histories_match(shipped: Shipped) -> None:
    memory = await history(shipped, "memory")
    sip = await history(shipped, "sip")
    diff = "\n".join(difflib.unified_diff(memory, sip, "memory", "sip", lineterm=""))
    assert sip == memory, f"the histories differ:\n{diff}"

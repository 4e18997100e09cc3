"""Finished sessions' results: outcome, calls with codes and durations, events; kept within a
size cap and a TTL. The engine runs the real outbound scenario with the harness's peer."""

from __future__ import annotations

import pytest

from tests.conftest import SCENARIOS, Harness
from voxpy.errors import InvalidArgumentError
from voxpy.server.results import MAX_EVENTS, ResultLimits, SessionResults
from voxpy.testing import ScenarioHarness

OUTBOUND = SCENARIOS / "outbound.py"  # dials custom_data, hangs up on answer, then terminates


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def harness_with(voxpy_harness: Harness, results: SessionResults) -> ScenarioHarness:
    h = await voxpy_harness(OUTBOUND)
    h.engine.observers.append(results.observe)
    return h


async def run_session(
    h: ScenarioHarness, results: SessionResults, answer: int | None
) -> dict[str, object]:
    """One outbound session whose leg is answered (200), rejected (code) or never placed."""
    session = await h.start(custom_data=h.peer_uri if answer is not None else None)
    if answer is not None:
        call = await h.expect_call(timeout=5)
        if answer == 200:
            call.answer()
        else:
            call.reject(answer)
        await call.wait_hangup(timeout=10)
    await h.wait_until(session.terminated.is_set, 10, "the session's end")
    record = results.get(session.id)
    assert record is not None, results.finished()
    return record


async def test_connected_call_is_kept_with_code_duration_and_events(
    voxpy_harness: Harness,
) -> None:
    """The dialer's view: outcome, the leg's final code and state, and the event history."""
    results = SessionResults()
    record = await run_session(await harness_with(voxpy_harness, results), results, answer=200)
    assert record["outcome"] == "connected" and record["state"] == "finished"
    [call] = record["calls"]  # type: ignore[misc]
    assert call["incoming"] is False and call["callerid"] == "voxpy"
    assert (call["code"], call["connected"], call["state"]) == (200, True, "TERMINATED")
    assert call["duration"] >= 0
    names = [e["name"] for e in record["events"]]  # type: ignore[attr-defined]
    assert names[0] == "Application.Started" and names[-1] == "Application.Terminated"
    assert names.index("Call.Connected") < names.index("Call.Disconnected")
    assert record["handler_errors"] == 0 and record["events_dropped"] == 0


@pytest.mark.parametrize(("answer", "outcome"), [(486, "failed"), (None, "no_calls")])
async def test_outcome_of_sessions_that_connected_nothing(
    voxpy_harness: Harness, answer: int | None, outcome: str
) -> None:
    """A rejected leg is "failed" with its code; a session that dialled nothing "no_calls"."""
    results = SessionResults()
    record = await run_session(await harness_with(voxpy_harness, results), results, answer)
    assert record["outcome"] == outcome
    assert [c["code"] for c in record["calls"]] == ([] if answer is None else [answer])  # type: ignore[attr-defined]


async def test_records_expire_after_the_ttl_and_beyond_the_cap(voxpy_harness: Harness) -> None:
    """At most max_sessions records, oldest dropped first; none outlives the TTL."""
    clock = FakeClock()
    results = SessionResults(ResultLimits(ttl=60, max_sessions=2), clock=clock)
    h = await harness_with(voxpy_harness, results)
    ids = []
    for _ in range(3):
        ids.append(str((await run_session(h, results, answer=None))["session_id"]))
        clock.now += 10
    assert results.get(ids[0]) is None
    assert [r["session_id"] for r in results.finished()] == ids[1:]
    assert "events" not in results.finished()[0]  # the listing is a summary
    clock.now += 40  # ids[1] ended 50 s before this, ids[2] 40 s
    assert results.get(ids[1]) is None and results.get(ids[2]) is not None
    clock.now += 20
    assert results.finished() == []


async def test_zero_keeps_nothing(voxpy_harness: Harness) -> None:
    """ttl = 0 or max_sessions = 0 turns the results off."""
    off = [SessionResults(ResultLimits(ttl=0)), SessionResults(ResultLimits(max_sessions=0))]
    h = await voxpy_harness(OUTBOUND)
    for results in off:
        h.engine.observers.append(results.observe)
    session = await h.start(custom_data=None)
    await h.wait_until(session.terminated.is_set, 10, "the session's end")
    for results in off:
        assert results.get(session.id) is None and results.finished() == []


def test_event_list_is_capped() -> None:
    """A chatty session keeps its first MAX_EVENTS events and counts the rest."""
    from voxpy.core.events import AppEvents
    from voxpy.runtime.events import Started, Terminated

    class _Session:
        id = "s1"

        def custom_data(self) -> str:
            return "x"

    results = SessionResults()
    started = Started(name=AppEvents.Started, session_id="s1", custom_data="x")
    for _ in range(MAX_EVENTS + 5):
        results.observe(_Session(), started)
    results.observe(_Session(), Terminated(name=AppEvents.Terminated, session_id="s1"))
    record = results.get("s1")
    assert record is not None
    assert len(record["events"]) == MAX_EVENTS and record["events_dropped"] == 6


@pytest.mark.parametrize(
    "limits", [{"ttl": -1}, {"ttl": float("nan")}, {"max_sessions": -1}], ids=str
)
def test_negative_limits_refused(limits: dict[str, float]) -> None:
    with pytest.raises(InvalidArgumentError):
        ResultLimits(**limits)  # type: ignore[arg-type]

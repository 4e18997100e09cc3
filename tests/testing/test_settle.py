"""settle() runs the loop until it is idle, however long the chain of callbacks is."""

from __future__ import annotations

import asyncio

import pytest

from voxpy.testing import clock
from voxpy.testing.clock import VirtualClock, settle


async def test_settle_runs_a_chain_longer_than_a_fixed_count() -> None:
    # Each hop schedules the next: 200 hops did not fit in the old fixed 20 iterations.
    seen: list[int] = []

    def hop(n: int) -> None:
        seen.append(n)
        if n < 200:
            asyncio.get_running_loop().call_soon(hop, n + 1)

    asyncio.get_running_loop().call_soon(hop, 1)
    await settle()
    assert seen == list(range(1, 201))


async def test_settle_waits_for_tasks_woken_by_tasks() -> None:
    done = asyncio.Event()
    order: list[str] = []

    async def waiter() -> None:
        await done.wait()
        order.append("woken")

    async def setter() -> None:
        for _ in range(30):
            await asyncio.sleep(0)
        done.set()

    tasks = [asyncio.create_task(waiter()), asyncio.create_task(setter())]
    await settle()
    assert order == ["woken"]
    assert all(t.done() for t in tasks)


async def test_settle_fails_on_a_loop_that_never_goes_idle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(clock, "SETTLE_LIMIT", 50)
    spinning = True

    async def spin() -> None:
        while spinning:
            await asyncio.sleep(0)

    task = asyncio.create_task(spin())
    with pytest.raises(RuntimeError, match="still busy"):
        await settle()
    spinning = False
    await task


async def test_advance_settles_after_each_timer() -> None:
    virtual = VirtualClock()
    fired: list[float] = []

    def later() -> None:
        asyncio.get_running_loop().call_soon(lambda: fired.append(virtual.now()))

    virtual.call_later(1.0, later)
    virtual.call_later(2.0, later)
    await virtual.advance(5.0)
    assert fired == [1.0, 2.0]
    assert virtual.now() == 5.0

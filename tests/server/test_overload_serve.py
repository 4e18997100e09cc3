"""``voxpy serve`` with overloaded workers: each refuses the INVITE with 503 + Retry-After,
Kamailio fails over to the next worker on that 503, and /metrics counts every refusal."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest

from tests.conftest import TEST_SCENARIOS
from tests.server.conftest import ServeFactory
from tests.server.test_pool_sip import live_calls
from tests.sip.conftest import Peer
from voxpy.core.signals import Ended

pytestmark = pytest.mark.realtime  # real SIP/processes: deselect with -m 'not realtime'

# Real configuration: thresholds at 0 with no window make any load count as overload.
OVERLOADED = {
    "VOXPY_OVERLOAD__ENABLED": "true",  # the suite turns it off by default (tests/conftest.py)
    "VOXPY_OVERLOAD__CPU_ENTER": "0",
    "VOXPY_OVERLOAD__CPU_LEAVE": "0",
    "VOXPY_OVERLOAD__MEDIA_ENTER": "1",
    "VOXPY_OVERLOAD__MEDIA_LEAVE": "1",
    "VOXPY_OVERLOAD__WINDOW": "0",
    "VOXPY_OVERLOAD__MIN_INTERVAL": "0",
}


async def test_overloaded_workers_refuse_and_kamailio_tries_each(
    serve_factory: ServeFactory, peer_factory: Callable[[], Awaitable[Peer]]
) -> None:
    server = await serve_factory(TEST_SCENARIOS / "answer_and_wait.py", workers=2, env=OVERLOADED)
    peer = await peer_factory()
    leg = peer.dial(server.uri("100"))
    refused = await peer.next(Ended, leg)
    assert (refused.code, refused.reason) == (503, "All Workers Busy")  # each worker said 503
    metrics = await server.metrics()
    counted = re.findall(
        r'^voxpy_invites_refused_total\{worker="(\d)",reason="overload_cpu"\} (\d+)$',
        metrics,
        re.M,
    )
    assert sorted(counted) == [("0", "1"), ("1", "1")]  # the 503 of one moved the call on
    assert re.findall(r'^voxpy_overloaded\{worker="\d"\} (\d)$', metrics, re.M) == ["1", "1"]
    assert await live_calls(server) == {"0": 0, "1": 0}


async def test_at_most_three_busy_workers_per_invite_and_no_load_left(
    serve_factory: ServeFactory, peer_factory: Callable[[], Awaitable[Peer]]
) -> None:
    """CPU overload is machine-wide, so every worker refuses: Kamailio stops after three (each
    try is a branch on a machine already full) and releases every load it counted."""
    server = await serve_factory(TEST_SCENARIOS / "answer_and_wait.py", workers=4, env=OVERLOADED)
    peer = await peer_factory()
    leg = peer.dial(server.uri("100"))
    refused = await peer.next(Ended, leg)
    assert (refused.code, refused.reason) == (503, "All Workers Busy")
    counted = re.findall(
        r'^voxpy_invites_refused_total\{worker="\d",reason="overload_cpu"\} (\d+)$',
        await server.metrics(),
        re.M,
    )
    assert sum(int(n) for n in counted) == 3, counted
    loads = [d["load"] for d in (await server.rpc().destinations()).values()]
    assert loads == [0, 0, 0, 0], loads

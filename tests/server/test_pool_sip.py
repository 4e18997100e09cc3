"""``voxpy serve`` over real SIP: Kamailio spreads calls over the workers, survives a killed
worker and drains on SIGTERM. Callers are pjsua2 peer processes (4 calls each at most)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.conftest import SCENARIOS, TEST_SCENARIOS
from tests.server.conftest import ServeFactory
from tests.server.serve_process import ServeProcess
from tests.sip.conftest import Peer
from voxpy.core import commands as cmd
from voxpy.core.signals import Answered, Ended, IncomingCall

pytestmark = pytest.mark.realtime  # real SIP/processes: deselect with -m 'not realtime'

PeerFactory = Callable[[], Awaitable[Peer]]
ANSWER_AND_WAIT = TEST_SCENARIOS / "answer_and_wait.py"


async def live_calls(server: ServeProcess) -> dict[str, int]:
    """``voxpy_live_calls`` per worker index, from /metrics."""
    text = await server.metrics()
    found = re.findall(r'^voxpy_live_calls\{worker="(\d+)"\} (\d+)$', text, re.M)
    return {worker: int(value) for worker, value in found}


async def wait_live_calls(
    server: ServeProcess, expected: dict[str, int], timeout: float = 5
) -> None:
    """Poll /metrics until the live calls per worker are ``expected`` (BYEs take a moment)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (seen := await live_calls(server)) != expected:
        assert loop.time() < deadline, f"live calls {seen}, expected {expected}"
        await asyncio.sleep(0.05)


async def hang_up_all(peer: Peer, legs: list[str]) -> None:
    for leg in legs:
        peer.send(cmd.Bye(call_id=leg))
    for leg in legs:
        await peer.next(Ended, leg)


class TestCapacity:
    """Two workers of 4 calls each behind Kamailio's call-load dispatcher."""

    async def test_eight_calls_answered_ninth_gets_503(
        self, serve_factory: ServeFactory, peer_factory: PeerFactory
    ) -> None:
        server = await serve_factory(ANSWER_AND_WAIT, workers=2)
        peers = [await peer_factory() for _ in range(3)]
        legs = [(peers[i // 4], peers[i // 4].dial(server.uri(str(100 + i)))) for i in range(8)]
        for peer, leg in legs:
            await peer.next(Answered, leg)
        assert await live_calls(server) == {"0": 4, "1": 4}
        extra = peers[2].dial(server.uri("109"))
        refused = await peers[2].next(Ended, extra)
        assert (refused.code, refused.reason) == (503, "All Workers Busy")  # Kamailio's own
        for peer, leg in legs:  # each answers a request sent after the 503: none was ended
            await peer.still_up(leg)
        assert not [s for p in peers[:2] for s in p.signals if isinstance(s, Ended)]
        for peer in peers[:2]:
            await hang_up_all(peer, [leg for p, leg in legs if p is peer])
        await wait_live_calls(server, {"0": 0, "1": 0})


class TestSpread:
    """Each call goes to a worker with the fewest calls (algorithm 10): one per worker first."""

    async def test_calls_land_one_per_worker(
        self, serve_factory: ServeFactory, peer_factory: PeerFactory
    ) -> None:
        server = await serve_factory(ANSWER_AND_WAIT, workers=3)
        peer = await peer_factory()
        legs = []
        for i in range(3):  # one after the other: each sees the loads the previous left
            legs.append(peer.dial(server.uri(str(100 + i))))
            await peer.next(Answered, legs[-1])
        await wait_live_calls(server, {"0": 1, "1": 1, "2": 1})
        loads = {d["duid"]: d["load"] for d in (await server.rpc().destinations()).values()}
        assert loads == {"w0": 1, "w1": 1, "w2": 1}
        await hang_up_all(peer, legs)
        await wait_live_calls(server, {"0": 0, "1": 0, "2": 0})


class TestFailover:
    """A worker that is fuller than Kamailio believes answers 486; the call moves on."""

    async def test_486_from_a_full_worker_fails_over(
        self, serve_factory: ServeFactory, peer_factory: PeerFactory
    ) -> None:
        server = await serve_factory(ANSWER_AND_WAIT, workers=2)
        direct, caller = await peer_factory(), await peer_factory()
        worker0 = (await server.workers_info())[0]["sip_uri"].replace("sip:", "sip:300@")
        hidden = [direct.dial(worker0) for _ in range(4)]  # behind Kamailio's back
        for leg in hidden:
            await direct.next(Answered, leg)
        legs = [caller.dial(server.uri(str(100 + i))) for i in range(2)]
        for leg in legs:
            await caller.next(Answered, leg)
        await wait_live_calls(server, {"0": 4, "1": 2})
        loads = {d["duid"]: d["load"] for d in (await server.rpc().destinations()).values()}
        assert loads == {"w0": 0, "w1": 2}
        await hang_up_all(caller, legs)
        await hang_up_all(direct, hidden)
        loads = {d["duid"]: d["load"] for d in (await server.rpc().destinations()).values()}
        assert loads == {"w0": 0, "w1": 0}  # the BYEs released what the failover moved


class TestWorkerCrash:
    """kill -9 of a worker with a live call."""

    async def test_new_calls_go_to_the_other_worker_and_the_dead_one_restarts(
        self, serve_factory: ServeFactory, peer_factory: PeerFactory
    ) -> None:
        server = await serve_factory(ANSWER_AND_WAIT, workers=2)
        peer = await peer_factory()
        first = peer.dial(server.uri("100"))
        await peer.next(Answered, first)
        loaded = [k for k, v in (await live_calls(server)).items() if v == 1]
        assert len(loaded) == 1
        victim = next(w for w in await server.workers_info() if str(w["worker"]) == loaded[0])
        loop = asyncio.get_running_loop()
        os.kill(victim["pid"], signal.SIGKILL)
        killed_at = loop.time()
        second = peer.dial(server.uri("101"))
        await peer.next(Answered, second, timeout=5)
        assert loop.time() - killed_at < 5
        survivor = str(1 - victim["worker"])
        assert (await live_calls(server)).get(survivor) == 1
        exited = await server.wait_log(lambda line: line.get("event") == "worker_exited")
        assert exited["worker"] == victim["worker"] and exited["signal"] == "SIGKILL"
        await server.wait_healthy(2, timeout=10)
        info = {w["worker"]: w for w in await server.workers_info()}
        assert info[victim["worker"]]["pid"] != victim["pid"]
        assert info[victim["worker"]]["restarts"] == 1
        # Its port came from the OS at the first start; Kamailio's dispatcher list names it.
        assert info[victim["worker"]]["sip_uri"] == victim["sip_uri"]
        assert f'voxpy_worker_restarts_total{{worker="{victim["worker"]}"}} 1' in (
            await server.metrics()
        )
        peer.send(cmd.Bye(call_id=second))
        assert (await peer.next(Ended, second)).code == 200


class TestKamailioCrash:
    """kill -9 of Kamailio: the supervisor restarts it and calls flow again."""

    async def test_kamailio_restarted(
        self, serve_factory: ServeFactory, peer_factory: PeerFactory
    ) -> None:
        server = await serve_factory(ANSWER_AND_WAIT, workers=1)
        first = server.find_all("kamailio_started")[0]["pid"]
        os.kill(first, signal.SIGKILL)
        exited = await server.wait_log(lambda line: line.get("event") == "kamailio_exited")
        assert exited["signal"] == "SIGKILL"
        await server.wait_log(
            lambda line: line.get("event") == "kamailio_started" and line["pid"] != first
        )
        await server.wait_healthy(1, timeout=10)
        peer = await peer_factory()
        leg = peer.dial(server.uri())
        await peer.next(Answered, leg, timeout=10)
        await hang_up_all(peer, [leg])


class TestDrain:
    """SIGTERM: no new calls, live calls finish, everything exits 0."""

    async def test_sigterm_drains_then_exits_0(
        self, serve_factory: ServeFactory, peer_factory: PeerFactory
    ) -> None:
        server = await serve_factory(ANSWER_AND_WAIT, workers=2)
        peer = await peer_factory()
        legs = [peer.dial(server.uri(str(100 + i))) for i in range(2)]
        for leg in legs:
            await peer.next(Answered, leg)
        await server.signal(signal.SIGTERM)
        await server.wait_log(lambda line: line.get("event") == "drain_started")
        await server.wait_log(
            lambda line: line.get("event") == "worker_draining" and line.get("worker") == 1
        )
        incoming_before = len(server.find_all("call_incoming"))
        late = peer.dial(server.uri("200"))
        assert (await peer.next(Ended, late)).code == 503
        assert len(server.find_all("call_incoming")) == incoming_before
        for leg in legs:  # the draining workers (and Kamailio) still answer in these dialogs
            await peer.still_up(leg)
        assert not [s for s in peer.signals if isinstance(s, Ended) and s.call_id in legs]
        assert server.proc is not None and server.proc.returncode is None
        await hang_up_all(peer, legs)
        assert await server.wait(timeout=20) == 0
        assert server.find_all("drain_done") and not server.find_all("drain_timeout")
        stopped = server.find_all("worker_stopped")
        assert sorted(line["worker"] for line in stopped) == [0, 1]
        assert all(line.get("exit_code") == 0 for line in stopped)
        assert server.find_all("kamailio_stopped")[0].get("exit_code") == 0


class TestOutboundSession:
    """POST /sessions starts scenarios/outbound.py, which dials the URI in its custom data."""

    @pytest.mark.parametrize("via_front", [False, True], ids=["direct", "via-kamailio"])
    async def test_api_session_calls_the_peer(
        self, serve_factory: ServeFactory, peer_factory: PeerFactory, via_front: bool
    ) -> None:
        server = await serve_factory(SCENARIOS / "outbound.py", outbound_via_front=via_front)
        peer = await peer_factory()
        status, created = await server.api(
            "POST", "/sessions", json_body={"scenario": "outbound", "custom_data": peer.uri}
        )
        assert status == 201, created
        path = f"/sessions/{created['session_id']}"
        incoming = await peer.next(IncomingCall)
        assert incoming.headers.get("X-Campaign") == "demo"
        peer.send(cmd.Provisional(call_id=incoming.call_id, code=180))
        calls = await wait_for_calls(server, path, lambda calls: calls[0]["status"] == "ringing")
        assert calls[0]["incoming"] is False and calls[0]["state"] == "PROGRESSING"
        status, body = await server.api("POST", f"{path}/request", data="status?")
        assert (status, body) == (
            501,
            {"error": "the scenario has no AppEvents.HttpRequest handler"},
        )
        peer.send(cmd.Answer(call_id=incoming.call_id))
        assert (await peer.next(Ended, incoming.call_id)).code == 200  # the scenario hangs up
        result = await wait_until_finished(server, path)  # what a dialer collects
        assert result["outcome"] == "connected" and result["custom_data"] == peer.uri
        [call] = result["calls"]
        assert (call["code"], call["state"], call["incoming"]) == (200, "TERMINATED", False)
        names = [e["name"] for e in result["events"]]
        assert names.index("Call.Ringing") < names.index("Call.Connected")
        assert names.index("Call.Connected") < names.index("Call.Disconnected")
        metrics = await server.metrics()
        worker = created["worker"]
        assert f'voxpy_calls_started_total{{worker="{worker}"}} 1' in metrics


async def wait_for_calls(
    server: ServeProcess, path: str, predicate: Callable[[list[dict[str, str]]], bool]
) -> list[dict[str, str]]:
    """Poll GET ``path`` until the session's live calls satisfy ``predicate``."""
    for _ in range(100):
        status, body = await server.api("GET", path)
        assert status == 200, body
        if body["calls"] and predicate(body["calls"]):
            return list(body["calls"])
        await asyncio.sleep(0.05)
    raise AssertionError(f"session calls never matched: {body}")


NO_HANDLER = "the scenario has no AppEvents.HttpRequest handler"


async def wait_until_finished(server: ServeProcess, path: str) -> dict[str, Any]:
    """Poll GET ``path`` until the session is finished; its result."""
    for _ in range(100):
        status, body = await server.api("GET", path)
        assert status == 200, body
        if body["state"] == "finished":
            return dict(body)
        await asyncio.sleep(0.05)
    raise AssertionError(f"GET {path} never finished: {body}")


class TestDrainTimeout:
    """Calls still up after server.drain_timeout are hung up by their worker; exit 0."""

    async def test_leftover_calls_get_bye(
        self, serve_factory: ServeFactory, peer_factory: PeerFactory
    ) -> None:
        server = await serve_factory(
            ANSWER_AND_WAIT, workers=1, env={"VOXPY_SERVER__DRAIN_TIMEOUT": "1"}
        )
        peer = await peer_factory()
        leg = peer.dial(server.uri())
        await peer.next(Answered, leg)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await server.signal(signal.SIGTERM)
        assert (await peer.next(Ended, leg, timeout=10)).code == 200
        assert await server.wait(timeout=15) == 0
        assert 1 <= loop.time() - started < 8
        assert server.find_all("drain_timeout")[0]["live_calls"] == 1

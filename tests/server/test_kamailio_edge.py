"""The Kamailio front on the open internet: malformed, oversized and flooding traffic is
refused before it reaches a worker, and what the workers fail on leaves no phantom load.

Real Kamailio and workers over loopback; hand-made requests from raw UDP sockets (see
sip_udp.py), real calls from pjsua2 peers."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable

import pytest

from tests.conftest import TEST_SCENARIOS
from tests.server.conftest import ServeFactory
from tests.server.serve_process import ServeProcess
from tests.server.sip_udp import SipUdp, sdp
from tests.sip.conftest import Peer
from voxpy.core import commands as cmd
from voxpy.core.signals import Answered, Ended

pytestmark = pytest.mark.realtime  # real SIP/processes: deselect with -m 'not realtime'

LOG = logging.getLogger(__name__)
PeerFactory = Callable[[], Awaitable[Peer]]
ANSWER_AND_WAIT = TEST_SCENARIOS / "answer_and_wait.py"
POISON_CSEQ = "4294967296"
"Kamailio relays it; pjsua cannot parse it and drops the INVITE without a word."


def kamailio_lines(server: ServeProcess, text: str) -> list[str]:
    return [
        str(line["line"])
        for line in server.find_all("kamailio")
        if text in str(line.get("line", ""))
    ]


async def loads(server: ServeProcess) -> dict[str, tuple[str, int]]:
    """duid -> (dispatcher flags, call load)."""
    found = await server.rpc().destinations()
    return {str(d["duid"]): (str(d["flags"]), int(d["load"])) for d in found.values()}


async def wait_loads(
    server: ServeProcess, expected: dict[str, tuple[str, int]], timeout: float = 5
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (seen := await loads(server)) != expected:
        assert loop.time() < deadline, f"dispatcher {seen}, expected {expected}"
        await asyncio.sleep(0.1)


async def answered_calls(
    peers: list[Peer], server: ServeProcess, count: int
) -> list[tuple[Peer, str]]:
    """``count`` concurrent calls (4 per peer), all answered."""
    legs = [(peers[i // 4], peers[i // 4].dial(server.uri(str(100 + i)))) for i in range(count)]
    for peer, leg in legs:
        await peer.next(Answered, leg, timeout=10)
    return legs


async def hang_up(legs: list[tuple[Peer, str]]) -> None:
    for peer, leg in legs:
        peer.send(cmd.Bye(call_id=leg))
    for peer, leg in legs:
        await peer.next(Ended, leg)


class TestFrontChecks:
    """What Kamailio answers itself, with Server: sip.user_agent, each refusal logged."""

    async def test_refusals(self, serve_factory: ServeFactory) -> None:
        server = await serve_factory(
            ANSWER_AND_WAIT,
            workers=1,
            env={"VOXPY_SIP__USER_AGENT": "edge-ua", "VOXPY_SERVER__INVITE_RATE": "3"},
        )
        udp = await SipUdp.open(server.sip_port)
        try:
            cases = [
                ("INVITE", {"body": sdp(), "extra": "X-Pad: " + "x" * 4000 + "\r\n"}, 513),
                ("INVITE", {"body": sdp("h" * 254 + ".example")}, 488),
                ("INVITE", {"body": sdp(origin="o" * 300)}, 488),
                ("INVITE", {"body": sdp("2001:db8::1", ip="IP6")}, 488),
                ("INVITE", {"body": sdp(), "cseq": "abc"}, 400),
                ("REGISTER", {}, 405),
                ("MESSAGE", {}, 405),
                ("SUBSCRIBE", {"extra": "Event: presence\r\n"}, 489),
                ("FROBNICATE", {}, 501),
            ]
            for method, kwargs, code in cases:
                call_id = udp.request(method, **kwargs)  # type: ignore[arg-type]
                response = await udp.final(call_id, timeout=5)
                assert response.code == code, (method, kwargs.keys(), response.text)
                assert response.headers["server"] == "edge-ua"
                if code in (405, 501):
                    assert "INVITE" in response.headers["allow"]
            await server.wait_log(lambda line: "refused FROBNICATE" in str(line.get("line")))
            logged = kamailio_lines(server, "voxpy-lb: refused")
            assert any("513 Message Too Large" in line for line in logged)
            assert any("IPv6 address in SDP" in line for line in logged)
            assert any("c= address over 253" in line for line in logged)
            assert any("o= address over 253" in line for line in logged)
            assert any("405" in line and "REGISTER from 127.0.0.1" in line for line in logged)
            assert not server.find_all("call_incoming")  # none of it reached the worker

            # Global INVITE rate (3/s here), whatever the User-Agent: poison INVITEs that
            # pass it reach the worker, whose edge guard answers 400 (pjsua would drop them).
            ids = [
                udp.request("INVITE", body=sdp(), cseq=POISON_CSEQ, user_agent=f"ua{i}")
                for i in range(8)
            ]
            finals = [await udp.final(call_id, timeout=10) for call_id in ids]
            limited = [r for r in finals if r.reason == "Rate Limited"]
            assert 8 - 3 * 2 <= len(limited) <= 8 - 3  # the 8 may straddle a second
            assert all(r.code == 503 and r.headers["retry-after"] for r in limited)
            assert {r.reason for r in finals} <= {"Rate Limited", "Bad Request"}
            await wait_loads(server, {"w0": ("AP", 0)})
        finally:
            udp.close()


class TestPhantomLoad:
    """Malformed INVITEs neither mark a worker down nor hold its capacity.

    pjsua drops an INVITE with CSeq 2^32 without a word; the worker's edge guard now answers
    it 400, and Kamailio releases the load of every non-2xx final at once.
    """

    async def test_nine_unanswered_invites_then_eight_calls(
        self, serve_factory: ServeFactory, peer_factory: PeerFactory
    ) -> None:
        server = await serve_factory(ANSWER_AND_WAIT, workers=2)
        udp = await SipUdp.open(server.sip_port)
        loop = asyncio.get_running_loop()
        try:
            sent = loop.time()
            ids = [udp.request("INVITE", body=sdp(), cseq=POISON_CSEQ) for _ in range(9)]
            finals = [await udp.final(call_id, timeout=15) for call_id in ids]
            # Sent at once, 8 fill both workers' load (4 each) until their 400s come back, so
            # the ninth may find no room at that instant: 503 All Workers Busy.
            codes = sorted(r.code for r in finals)
            assert codes in ([400] * 9, [400] * 8 + [503]), codes
            await wait_loads(server, {"w0": ("AP", 0), "w1": ("AP", 0)}, timeout=2)
            LOG.info(f"9 malformed INVITEs: load 0 {loop.time() - sent:.1f} s after sending")
        finally:
            udp.close()
        peers = [await peer_factory() for _ in range(2)]
        legs = await answered_calls(peers, server, 8)
        await wait_loads(server, {"w0": ("AP", 4), "w1": ("AP", 4)})
        await hang_up(legs)
        await wait_loads(server, {"w0": ("AP", 0), "w1": ("AP", 0)})


class TestDeadWorkerLoad:
    """kill -9 of a full worker: its restart comes back as a new duid with no load."""

    async def test_capacity_back_after_restart(
        self, serve_factory: ServeFactory, peer_factory: PeerFactory
    ) -> None:
        server = await serve_factory(ANSWER_AND_WAIT, workers=2)
        peers = [await peer_factory() for _ in range(3)]
        legs = await answered_calls(peers[:2], server, 8)
        await wait_loads(server, {"w0": ("AP", 4), "w1": ("AP", 4)})
        victim = next(w for w in await server.workers_info() if w["worker"] == 0)
        loop = asyncio.get_running_loop()
        os.kill(victim["pid"], signal.SIGKILL)
        ready = await server.wait_log(
            lambda line: (
                line.get("event") == "worker_ready"
                and line.get("pid") != victim["pid"]
                and line.get("worker") == 0
            ),
            timeout=10,
        )
        restarted = loop.time()
        await server.wait_log(lambda line: line.get("event") == "dispatcher_renewed")
        fresh = [(peers[2], peers[2].dial(server.uri(str(200 + i)))) for i in range(4)]
        for peer, leg in fresh:
            await peer.next(Answered, leg, timeout=10)
        assert loop.time() - restarted < 10
        LOG.info(
            f"worker {ready['pid']} ready; 4 calls answered {loop.time() - restarted:.1f} s later"
        )
        assert await loads(server) == {"w0.1": ("AP", 4), "w1": ("AP", 4)}
        await hang_up(fresh)  # the BYEs release the new duid's load, not w1's
        await wait_loads(server, {"w0.1": ("AP", 0), "w1": ("AP", 4)})
        assert len(legs) == 8  # the calls of the killed worker are left to time out


class TestPike:
    """With server.pike_loopback, a flooding loopback source is banned; a new UA does not help."""

    async def test_flood_is_dropped(self, serve_factory: ServeFactory) -> None:
        server = await serve_factory(
            ANSWER_AND_WAIT,
            workers=1,
            env={"VOXPY_SERVER__PIKE_LOOPBACK": "true", "VOXPY_SERVER__PIKE_DENSITY": "5"},
        )
        udp = await SipUdp.open(server.sip_port)
        try:
            ids = [udp.request("OPTIONS", user_agent=f"flood{i}") for i in range(40)]
            answered = 0
            for call_id in ids:
                try:
                    await udp.final(call_id, timeout=0.5 if answered else 5)
                    answered += 1
                except TimeoutError:
                    pass
            assert 1 <= answered < 20
            await server.wait_log(lambda line: "pike flood" in str(line.get("line")))
            # Wall-clock on purpose: a banned source is dropped with no answer and no log
            # line (the ban check exits first), so nothing but time ends this window.
            late = udp.request("OPTIONS", user_agent="someone-else")
            try:
                await udp.final(late, timeout=1)
                raise AssertionError("a banned source got an answer with a new User-Agent")
            except TimeoutError:
                pass
        finally:
            udp.close()


class TestWorkerDiesOnInvite:
    """A worker that dies on an INVITE after 100 Trying: the caller gets 500, no failover."""

    async def test_500_and_no_second_victim(self, serve_factory: ServeFactory) -> None:
        server = await serve_factory(
            TEST_SCENARIOS / "die_on_call.py", workers=2, env={"VOXPY_TIMEOUTS__NO_ANSWER": "1"}
        )
        udp = await SipUdp.open(server.sip_port)
        loop = asyncio.get_running_loop()
        try:
            sent = loop.time()
            call_id = udp.request("INVITE", body=sdp())
            response = await udp.final(call_id, timeout=20)
            assert (response.code, response.reason) == (500, "Worker Failed")
            LOG.info(f"500 {loop.time() - sent:.1f} s after the INVITE")
        finally:
            udp.close()
        exited = server.find_all("worker_exited")
        assert len(exited) == 1 and exited[0]["signal"] == "SIGKILL"
        assert len(server.find_all("call_incoming")) == 1
        await server.wait_healthy(2, timeout=10)

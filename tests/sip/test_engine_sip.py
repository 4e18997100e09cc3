"""The engine over real SIP on loopback: ``voxpy run``/``call`` against a pjsua2 peer process."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

import pytest

from tests.conftest import SCENARIOS, TEST_SCENARIOS
from tests.sip.conftest import Peer
from tests.sip.engine_process import EngineProcess
from voxpy.core import commands as cmd
from voxpy.core.headers import Headers
from voxpy.core.signals import Answered, Ended, IncomingCall, Progress

pytestmark = pytest.mark.realtime  # real SIP/processes: deselect with -m 'not realtime'

EngineFactory = Callable[..., Awaitable[EngineProcess]]


class TestInbound:
    """Calls from the peer into ``voxpy run``."""

    async def test_answer_then_engine_hangs_up(
        self, engine_factory: EngineFactory, peer: Peer
    ) -> None:
        """The peer sees 200 then BYE; the engine logs Started, CallAlerting, Connected,
        Disconnected(200) with the caller's number, the dialled number and X- header."""
        engine = await engine_factory(SCENARIOS / "hello_hangup.py")
        leg = peer.dial(engine.uri("100"), headers={"X-Tenant": "acme"})
        await peer.next(Answered, leg)
        ended = await peer.next(Ended, leg)
        assert ended.code == 200
        assert peer.of(leg) == ["Answered", "Ended"]
        disconnected = await engine.wait_event("Call.Disconnected")
        call_id = disconnected["call_id"]
        assert engine.events(call_id) == ["Call.Connected", "Call.Disconnected"]
        assert disconnected["code"] == 200
        assert engine.session_events()[:2] == ["Application.Started", "Application.CallAlerting"]
        incoming = engine.find(lambda line: line.get("event") == "call_incoming")
        assert incoming["destination"] == "100"
        assert incoming["session_id"] == disconnected["session_id"]

    async def test_reject_486_with_custom_header(
        self, engine_factory: EngineFactory, peer: Peer
    ) -> None:
        engine = await engine_factory(SCENARIOS / "reject_busy.py")
        leg = peer.dial(engine.uri())
        ended = await peer.next(Ended, leg)
        assert ended.code == 486
        assert ended.headers.get("X-Reason") == "all-agents-busy"
        event = await engine.wait_event("Call.Disconnected")
        assert event["code"] == 486

    async def test_caller_hangs_up_first(self, engine_factory: EngineFactory, peer: Peer) -> None:
        """Disconnected fires with code 200 and the connected duration."""
        engine = await engine_factory(TEST_SCENARIOS / "answer_and_wait.py")
        leg = peer.dial(engine.uri())
        await peer.next(Answered, leg)
        await asyncio.sleep(0.5)  # wall-clock on purpose: the duration below measures it
        peer.send(cmd.Bye(call_id=leg, headers=Headers({"X-Bye-Reason": "done"})))
        event = await engine.wait_event("Call.Disconnected")
        assert event["code"] == 200
        assert 0.4 <= event["duration"] < 5
        assert engine.events(event["call_id"]) == ["Call.Connected", "Call.Disconnected"]

    async def test_fifth_call_gets_486_while_four_stay_up(
        self, engine_factory: EngineFactory, peer_factory: Callable[[], Awaitable[Peer]]
    ) -> None:
        engine = await engine_factory(TEST_SCENARIOS / "answer_and_wait.py")
        first, second = await peer_factory(), await peer_factory()
        legs = [first.dial(engine.uri(str(100 + i))) for i in range(4)]
        for leg in legs:
            await first.next(Answered, leg)
        extra = second.dial(engine.uri("105"))
        assert (await second.next(Ended, extra)).code == 486
        for leg in legs:  # each answers a request sent after the 486: none was ended by it
            await first.still_up(leg)
        assert not [s for s in first.signals if isinstance(s, Ended)]
        for leg in legs:
            first.send(cmd.Bye(call_id=leg))
        for leg in legs:
            assert (await first.next(Ended, leg)).code == 200
        for call_id in engine.call_ids():
            await engine.wait_event("Call.Disconnected", call_id)
        assert len(engine.call_ids()) == 4

    async def test_raising_handler_breaks_neither_call_nor_next(
        self, engine_factory: EngineFactory, peer: Peer
    ) -> None:
        engine = await engine_factory(TEST_SCENARIOS / "raising_handler.py")
        for _ in range(2):
            leg = peer.dial(engine.uri())
            await peer.next(Answered, leg)
            assert (await peer.next(Ended, leg)).code == 200
        failures = [line for line in engine.lines if line.get("event") == "handler_failed"]
        assert len(failures) == 2
        assert all(
            f["session_id"] and f["call_id"] and "ZeroDivisionError" in str(f["exception"])
            for f in failures
        )
        assert failures[0]["session_id"] != failures[1]["session_id"]

    async def test_sigterm_hangs_up_live_calls_and_exits_0(
        self, engine_factory: EngineFactory, peer: Peer
    ) -> None:
        engine = await engine_factory(TEST_SCENARIOS / "answer_and_wait.py")
        legs = [peer.dial(engine.uri()) for _ in range(2)]
        for leg in legs:
            await peer.next(Answered, leg)
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await engine.signal(signal.SIGTERM, timeout=10) == 0
        assert loop.time() - started < 5
        for leg in legs:
            assert (await peer.next(Ended, leg, timeout=2)).code == 200
        assert engine.session_events().count("Application.Terminated") == 2


class TestOutbound:
    """``voxpy call scenarios/outbound.py`` dials the peer given as custom data."""

    async def test_peer_answers(self, engine_factory: EngineFactory, peer: Peer) -> None:
        engine = await engine_factory(
            SCENARIOS / "outbound.py", "--custom-data", peer.uri, command="call"
        )
        incoming = await peer.next(IncomingCall)
        assert incoming.headers.get("X-Campaign") == "demo"
        peer.send(cmd.Provisional(call_id=incoming.call_id, code=180))
        await engine.wait_event("Call.Ringing")  # the 180 is in before the 200 goes out
        peer.send(cmd.Answer(call_id=incoming.call_id, headers=Headers({"X-Agent": "7"})))
        assert (await peer.next(Ended, incoming.call_id)).code == 200
        assert await engine.wait(10) == 0
        call_id = engine.call_ids()[0]
        assert engine.events(call_id) == [
            "Call.Ringing",
            "Call.AudioStarted",
            "Call.Connected",
            "Call.Disconnected",
        ]
        assert engine.session_events() == [
            "Application.Started",
            "Application.Terminating",
            "Application.Terminated",
        ]

    async def test_peer_busy(self, engine_factory: EngineFactory, peer: Peer) -> None:
        engine = await engine_factory(
            SCENARIOS / "outbound.py", "--custom-data", peer.uri, command="call"
        )
        incoming = await peer.next(IncomingCall)
        peer.send(cmd.Reject(call_id=incoming.call_id, code=486))
        failed = await engine.wait_event("Call.Failed")
        assert failed["code"] == 486
        assert await engine.wait(10) == 0

    async def test_no_answer_fails_408(self, engine_factory: EngineFactory, peer: Peer) -> None:
        engine = await engine_factory(
            SCENARIOS / "outbound.py",
            "--custom-data",
            peer.uri,
            command="call",
            env={"VOXPY_TIMEOUTS__DIAL": "1"},
        )
        incoming = await peer.next(IncomingCall)
        peer.send(cmd.Provisional(call_id=incoming.call_id, code=180))
        failed = await engine.wait_event("Call.Failed", timeout=10)
        assert failed["code"] == 408
        assert (await peer.next(Ended, incoming.call_id)).code == 487
        assert engine.events(failed["call_id"]) == ["Call.Ringing", "Call.Failed"]
        assert await engine.wait(10) == 0
        assert [type(s) for s in peer.signals if s.call_id == incoming.call_id][-1] is Ended
        assert not [
            s for s in peer.signals if isinstance(s, Progress) and s.call_id != incoming.call_id
        ]

"""The pjsua2 backend over real SIP: two (or three) peer processes on loopback.

pjsua2 allows one endpoint per process, so both ends run ``voxpy.backends.pjsua2.peer`` under a
ProcessBackend and pjsua2 never loads into the pytest process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import pytest

from tests.conftest import run_probe
from voxpy.backends.process import ProcessBackend
from voxpy.core.commands import Answer, Bye, Cancel, Dial, Provisional, Reject
from voxpy.core.headers import Headers
from voxpy.core.signals import (
    Answered,
    CommandFailed,
    Ended,
    IncomingCall,
    Progress,
    Signal,
)

pytestmark = pytest.mark.realtime  # real SIP/processes: deselect with -m 'not realtime'

S = TypeVar("S", bound=Signal)


class Peer:
    """A ProcessBackend whose signals land in a queue."""

    def __init__(self, **kwargs: object) -> None:
        self.backend = ProcessBackend(**kwargs)  # type: ignore[arg-type]
        self.queue: asyncio.Queue[Signal] = asyncio.Queue()

    async def start(self) -> None:
        await self.backend.start(self.queue.put_nowait)

    def send(self, command: object) -> None:
        self.backend.send(command)  # type: ignore[arg-type]

    def uri(self, user: str = "bob") -> str:
        return f"sip:{user}@{self.backend.contact_uri.split('@', 1)[1]}"


async def next_signal(
    queue: asyncio.Queue[Signal], kind: type[S], timeout: float = 5.0, call_id: str | None = None
) -> S:
    """The next signal in ``queue``, which must be a ``kind`` (for ``call_id`` if given)."""
    try:
        signal = await asyncio.wait_for(queue.get(), timeout)
    except TimeoutError:
        raise AssertionError(f"no {kind.__name__} within {timeout} s") from None
    assert isinstance(signal, kind), f"expected {kind.__name__}, got {signal!r}"
    if call_id is not None:
        assert signal.call_id == call_id, signal
    return signal


async def assert_quiet(*peers: Peer) -> None:
    """No signal beyond those the test took. A peer handles commands in order and reports in
    order, so a command that must fail is a barrier: its failure has to be the next signal."""
    for peer in peers:
        peer.send(Answer(call_id="quiet-barrier"))
    for peer in peers:
        await next_signal(peer.queue, CommandFailed, call_id="quiet-barrier")


PeerFactory = Callable[..., Awaitable[Peer]]


@pytest.fixture
async def make_peer() -> AsyncIterator[PeerFactory]:
    started: list[Peer] = []

    async def make(**kwargs: object) -> Peer:
        peer = Peer(**kwargs)
        started.append(peer)
        await peer.start()
        return peer

    yield make
    await asyncio.gather(*(p.backend.stop() for p in started), return_exceptions=True)
    for peer in started:
        # A pj object outliving libDestroy would SIGABRT the peer: rc 0 proves clean teardown.
        assert peer.backend.returncode == 0, peer.backend.stderr_tail


@pytest.fixture
async def ab(make_peer: PeerFactory) -> tuple[Peer, Peer]:
    a, b = await asyncio.gather(make_peer(), make_peer())
    return a, b


async def dial_and_answer(a: Peer, b: Peer, call_id: str) -> IncomingCall:
    a.send(Dial(call_id=call_id, uri=b.uri()))
    inc = await next_signal(b.queue, IncomingCall)
    b.send(Answer(call_id=inc.call_id))
    await next_signal(a.queue, Answered, call_id=call_id)
    await next_signal(b.queue, Answered, call_id=inc.call_id)
    return inc


STAYS_OUT = """
import sys
from voxpy.backends.pjsua2 import PjsuaBackend, PjsuaOptions
from voxpy.errors import ConfigError
assert PjsuaOptions(port=0).max_calls == 4
try:
    PjsuaOptions(max_calls=5)
except ConfigError as exc:
    assert "max_calls" in str(exc)
else:
    raise AssertionError("max_calls=5 accepted")
assert PjsuaBackend(PjsuaOptions(port=0)).max_calls == 4
assert "pjsua2" not in sys.modules, "building the backend imported pjsua2"
"""


def test_pjsua2_stays_out_of_the_test_process() -> None:
    # A fresh interpreter: a SIP-mode test earlier in this process may have loaded pjsua2.
    result = run_probe(STAYS_OUT)
    assert result.returncode == 0, result.stderr


def test_invite_parsing() -> None:
    from voxpy.backends.pjsua2.sipmsg import local_uri, parse_invite

    raw = (
        "INVITE sip:300@10.0.0.1:5060 SIP/2.0\r\n"
        'f: "Ann \\"A\\"" <sip:1001@pbx.example;user=phone>;tag=1\r\n'
        "t: <sip:200@10.0.0.1>\r\ni: abc@host\r\nX-Long: one\r\n two\r\n"
        "User-to-User: 04ff;encoding=hex\r\nContent-Length: 0\r\n\r\n"
    )
    info = parse_invite(raw)
    assert (info.callerid, info.destination, info.display_name) == ("1001", "200", 'Ann "A"')
    assert info.from_uri == "sip:1001@pbx.example;user=phone"
    assert info.sip_call_id == "abc@host"
    assert info.headers == {"X-Long": "one two", "User-to-User": "04ff;encoding=hex"}
    assert local_uri("+1 555", 'A "b"', "voxpy", "h") == '"A \\"b\\"" <sip:+1%20555@h>'


async def test_answer_then_hangup_with_headers(ab: tuple[Peer, Peer]) -> None:
    a, b = ab
    a.send(
        Dial(
            call_id="c1",
            uri=b.uri("bob"),
            callerid="1001",
            display_name="Alice",
            headers=Headers({"X-Test": "hello"}),
        )
    )
    inc = await next_signal(b.queue, IncomingCall)
    assert inc.headers == {"X-Test": "hello"}
    assert (inc.callerid, inc.destination, inc.display_name) == ("1001", "bob", "Alice")
    assert inc.from_uri.startswith("sip:1001@") and inc.to_uri.startswith("sip:bob@")
    assert inc.sip_call_id

    b.send(Provisional(call_id=inc.call_id, code=180))
    assert (await next_signal(b.queue, Progress, call_id=inc.call_id)).code == 180
    ringing = await next_signal(a.queue, Progress, call_id="c1")
    assert (ringing.code, ringing.reason) == (180, "Ringing")

    b.send(Answer(call_id=inc.call_id, headers=Headers({"X-Answer": "yes"})))
    answered = await next_signal(a.queue, Answered, call_id="c1")
    assert answered.headers == {"X-Answer": "yes"}
    await next_signal(b.queue, Answered, call_id=inc.call_id)

    a.send(Bye(call_id="c1", headers=Headers({"X-Bye": "bye"})))
    assert (await next_signal(a.queue, Ended, call_id="c1")).code == 200
    ended = await next_signal(b.queue, Ended, call_id=inc.call_id)
    assert (ended.code, dict(ended.headers)) == (200, {"X-Bye": "bye"})
    await assert_quiet(a, b)


async def test_reject_and_unanswered_hangup(ab: tuple[Peer, Peer]) -> None:
    a, b = ab
    a.send(Dial(call_id="r1", uri=b.uri()))
    inc = await next_signal(b.queue, IncomingCall)
    b.send(Reject(call_id=inc.call_id, code=486, headers=Headers({"X-Why": "busy"})))
    ended = await next_signal(a.queue, Ended, call_id="r1")
    assert (ended.code, ended.reason) == (486, "Busy Here")
    assert dict(ended.headers) == {"X-Why": "busy"}
    assert (await next_signal(b.queue, Ended, call_id=inc.call_id)).code == 486

    # Reject (the call machine's hangup of an alerting leg) sends its code as the final response.
    a.send(Dial(call_id="r2", uri=b.uri()))
    inc = await next_signal(b.queue, IncomingCall)
    b.send(Reject(call_id=inc.call_id, code=480))
    assert (await next_signal(a.queue, Ended, call_id="r2")).code == 480
    assert (await next_signal(b.queue, Ended, call_id=inc.call_id)).code == 480
    b.send(Answer(call_id=inc.call_id))
    failed = await next_signal(b.queue, CommandFailed, call_id=inc.call_id)
    assert failed.op == "Answer"
    await assert_quiet(a, b)


async def test_cancel_reports_local_code(ab: tuple[Peer, Peer]) -> None:
    a, b = ab
    a.send(Dial(call_id="x1", uri=b.uri()))
    inc = await next_signal(b.queue, IncomingCall)
    b.send(Provisional(call_id=inc.call_id, code=183))
    assert (await next_signal(b.queue, Progress, call_id=inc.call_id)).code == 183
    assert (await next_signal(a.queue, Progress, call_id="x1")).code == 183
    a.send(Cancel(call_id="x1", code=408))
    ended = await next_signal(a.queue, Ended, call_id="x1")
    assert ended.code == 408
    assert (await next_signal(b.queue, Ended, call_id=inc.call_id)).code == 487
    await assert_quiet(a, b)


async def test_four_calls_then_busy(make_peer: PeerFactory) -> None:
    a, b, c = await asyncio.gather(make_peer(), make_peer(), make_peer())
    legs = [await dial_and_answer(a, b, f"m{i}") for i in range(4)]

    # A is full itself: its 5th makeCall fails locally.
    a.send(Dial(call_id="m4", uri=b.uri()))
    local = await next_signal(a.queue, Ended, call_id="m4")
    assert (local.code, local.reason) == (486, "Too many calls in this process")
    # B is full: pjsua answers a 5th INVITE with 486 before the backend sees it.
    c.send(Dial(call_id="c5", uri=b.uri()))
    assert (await next_signal(c.queue, Ended, call_id="c5")).code == 486
    await assert_quiet(a, b)

    for i, inc in enumerate(legs):
        a.send(Bye(call_id=f"m{i}"))
        assert (await next_signal(a.queue, Ended, call_id=f"m{i}")).code == 200
        assert (await next_signal(b.queue, Ended, call_id=inc.call_id)).code == 200
    await dial_and_answer(a, b, "again")  # the slots are free again


async def test_stop_accepting_refuses_with_503(ab: tuple[Peer, Peer]) -> None:
    a, b = ab
    b.backend.stop_accepting()
    # B handles stdin in order: once this fails, StopAccepting has been applied.
    b.send(Answer(call_id="barrier"))
    await next_signal(b.queue, CommandFailed, call_id="barrier")
    a.send(Dial(call_id="s1", uri=b.uri()))
    assert (await next_signal(a.queue, Ended, call_id="s1")).code == 503
    await assert_quiet(b)


async def test_bad_uris_end_the_leg(ab: tuple[Peer, Peer]) -> None:
    a, _ = ab
    a.send(Dial(call_id="u1", uri="not a uri"))
    bad = await next_signal(a.queue, Ended, call_id="u1")
    assert bad.code == 400 and "URI" in bad.reason
    a.send(Dial(call_id="u2", uri="sip:x@127.0.0.1:5999;transport=tls"))
    unsupported = await next_signal(a.queue, Ended, call_id="u2")
    assert unsupported.code == 503 and unsupported.reason
    a.send(Dial(call_id="u2", uri="sip:x@127.0.0.1", headers=Headers({"Via": "x"})))
    assert (await next_signal(a.queue, Ended, call_id="u2")).code == 400
    a.backend.send_raw('{"type": "Dial", "call_id": "u3", "uri": 42}')  # wrong type on the wire
    assert (await next_signal(a.queue, Ended, call_id="u3")).code == 400
    await assert_quiet(a)


async def test_malformed_lines_get_errors(ab: tuple[Peer, Peer]) -> None:
    a, b = ab
    a.backend.send_raw("{oops")
    a.backend.send_raw('{"type": "Ended", "call_id": "x", "code": 200}')
    a.backend.send_raw('{"type": "Answer", "call_id": "x", "bogus": 1}')
    a.send(Answer(call_id="nope"))
    failed = await next_signal(a.queue, CommandFailed, call_id="nope")
    assert (failed.op, failed.message) == ("Answer", "no live call with this call_id")
    assert len(a.backend.errors) == 3, a.backend.errors
    assert "invalid JSON" in a.backend.errors[0]
    assert "not a command" in a.backend.errors[1]
    assert "bogus" in a.backend.errors[2]
    await dial_and_answer(a, b, "still-works")


async def test_credentials_and_stop_ends_live_legs(ab: tuple[Peer, Peer]) -> None:
    a, b = ab
    a.send(Dial(call_id="k1", uri=b.uri(), auth_user="alice", password="secret"))
    inc = await next_signal(b.queue, IncomingCall)
    assert inc.callerid == "alice"  # From is the credential account's identity
    b.send(Answer(call_id=inc.call_id))
    await next_signal(a.queue, Answered, call_id="k1")
    await next_signal(b.queue, Answered, call_id=inc.call_id)

    await b.backend.stop()
    assert (await next_signal(b.queue, Ended, call_id=inc.call_id)).code == 200
    assert (await next_signal(a.queue, Ended, call_id="k1")).code == 200
    assert b.backend.returncode == 0
    b.send(Answer(call_id=inc.call_id))
    assert (await next_signal(b.queue, CommandFailed)).message == "SIP peer is not running"

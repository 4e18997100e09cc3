"""The hostile-input corpus against one real ``voxpy run scenarios/hello_hangup.py`` worker.

One worker serves the whole module (UDP and TCP on an OS-chosen port). Each corpus message is
sent from a fresh socket; the test asserts the answer is one the edge-guard policy allows, that a
guard refusal carries ``Server:`` and no ``Warning:`` and was logged once (``edge_refused`` with
code, reason, source and method), and that the worker is alive and still answers OPTIONS. After
each group a pjsua2 peer makes a normal call that must be answered and hung up.

A message that kills the worker fails its own test (``aborted``, with the log tail); the next test
starts a fresh worker, so one abort does not hide the rest of the corpus.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.conftest import SCENARIOS
from tests.edge import corpus
from tests.edge.corpus import Case
from tests.edge.rawsip import send
from tests.edge.sipwire import DROPPED, Exchange
from tests.sip.conftest import Peer
from tests.sip.engine_process import EngineProcess
from voxpy.core.signals import Answered, Ended

pytestmark = pytest.mark.asyncio(loop_scope="module")

USER_AGENT = "voxpy-edge-test"
GUARD_LOG_LEVELS = {"info", "warning"}


class Target:
    """The module's worker (restarted after an abort) and a pjsua2 peer for normal calls."""

    def __init__(self) -> None:
        self.engine: EngineProcess | None = None
        self.peer: Peer | None = None
        self.started = 0
        self.env = {
            "VOXPY_SIP__USER_AGENT": USER_AGENT,
            "VOXPY_TIMEOUTS__SESSION_GRACE": "0",
            # Other suites on this machine use RTP from 10000: keep out of their way.
            "VOXPY_RTP__PORT": str(random.randrange(20000, 50000, 1000)),
            "VOXPY_RTP__PORT_RANGE": "200",
        }

    async def ensure(self) -> EngineProcess:
        if self.engine is not None and self.alive():
            return self.engine
        if self.engine is not None:
            await self.engine.close()
        self.engine = EngineProcess("run", SCENARIOS / "hello_hangup.py", env=self.env)
        await self.engine.start()
        self.started += 1
        return self.engine

    def alive(self) -> bool:
        assert self.engine is not None and self.engine.proc is not None
        return self.engine.proc.returncode is None and not (
            self.engine._reader is not None and self.engine._reader.done()
        )

    @property
    def address(self) -> tuple[str, int]:
        assert self.engine is not None
        match = re.search(r"@([\d.]+):(\d+)", self.engine.contact_uri)
        assert match, self.engine.contact_uri
        return match.group(1), int(match.group(2))

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.close()
        if self.peer is not None:
            await self.peer.backend.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def target() -> AsyncIterator[Target]:
    t = Target()
    await t.ensure()
    yield t
    await t.close()


def _params(group: list[Case]) -> list[object]:
    return [
        pytest.param(c, transport, id=f"{c.name}-{transport}")
        for c in group
        for transport in c.transports
    ]


def describe(exchange: Exchange) -> str:
    final = exchange.final
    shown = final.raw.decode(errors="replace") if final is not None else "(no final answer)"
    return f"sent:\n{exchange.request[:1500]!r}\nanswer:\n{shown[:1500]}"


async def send_retrying(
    engine: EngineProcess, item: Case, host: str, port: int, transport: str
) -> tuple[int, Exchange]:
    """Send the case; a 503 + Retry-After is sent again after that second, as a client would.

    A new INVITE may meet the guard's ioqueue budget still counting the calls the corpus
    just ended (policy: 503 + Retry-After). Returns the log position before the last send.
    """
    for _ in range(3):
        before = len(engine.lines)
        exchange = await send(
            item.template, host, port, transport=transport, timeout=item.timeout,
            reinvite=item.reinvite,
        )  # fmt: skip
        final = exchange.final
        if not (exchange.outcome == 503 and final is not None and final.has("retry-after")):
            break
        await asyncio.sleep(1.0)
    return before, exchange


async def check_case(target: Target, item: Case, transport: str) -> None:
    engine = await target.ensure()
    host, port = target.address
    before, exchange = await send_retrying(engine, item, host, port, transport)
    outcome = exchange.outcome
    if not target.alive():
        code = engine.proc.returncode if engine.proc is not None else None
        pytest.fail(
            f"ABORT: worker died (exit {code}) on {item.name}/{transport}\n"
            f"{describe(exchange)}\nlog tail:\n{engine.tail(25)}"
        )
    problems: list[str] = []
    if outcome not in item.expect:
        problems.append(f"answer {outcome}, expected one of {sorted(map(str, item.expect))}")
    final = exchange.final
    if final is not None and isinstance(outcome, int):
        from_guard = outcome in item.guard
        if from_guard or (item.server_header and outcome not in (400, 505)):
            if final.get("server") != USER_AGENT:
                problems.append(f"Server header {final.get('server')!r}, not {USER_AGENT!r}")
            if final.has("warning"):
                problems.append(f"Warning header {final.get('warning')!r}")
        if item.allow_header and outcome in (200, 405) and not final.has("allow"):
            problems.append("no Allow header")
    if item.reinvite is not None and outcome == 200:
        again = exchange.reinvite.status if exchange.reinvite is not None else DROPPED
        if again not in item.reinvite_expect:
            problems.append(
                f"re-INVITE answer {again}, expected {sorted(map(str, item.reinvite_expect))}"
            )
    try:  # first: the worker lives and answers (and has logged anything about our message)
        await check_still_answers(target, engine)
    except AssertionError as exc:
        problems.append(str(exc))
    if final is not None and isinstance(outcome, int) and outcome in item.guard:
        problems += await refusal_log_problems(engine, exchange, outcome, before)
    assert not problems, (
        f"{item.name}/{transport}: " + "; ".join(problems) + (f"\n{describe(exchange)}")
    )


async def refusal_log_problems(
    engine: EngineProcess, exchange: Exchange, code: int, before: int
) -> list[str]:
    """One ``edge_refused`` line at info/warning, with the code, a reason and our address."""
    host, port = exchange.source.rsplit(":", 1)

    def ours(line: dict[str, object]) -> bool:
        source = str(line.get("source", ""))
        return line.get("event") == "edge_refused" and source.endswith(port) and host in source

    try:
        await engine.wait_log(ours, timeout=0.5)  # logged before the OPTIONS ping was answered
    except AssertionError:
        return [f"no edge_refused log line with source {exchange.source}"]
    lines = [line for line in engine.lines[before:] if ours(line)]
    problems = []
    if len(lines) != 1:
        problems.append(f"{len(lines)} edge_refused lines, expected 1: {lines}")
    line = lines[0]
    if line.get("level") not in GUARD_LOG_LEVELS:
        problems.append(f"edge_refused at level {line.get('level')}")
    if str(line.get("code")) != str(code):
        problems.append(f"edge_refused code {line.get('code')}, answer {code}")
    if not line.get("reason") or "method" not in line:
        problems.append(f"edge_refused without reason/method: {line}")
    return problems


async def check_still_answers(target: Target, engine: EngineProcess) -> None:
    host, port = target.address
    ping = await send(corpus.request("OPTIONS"), host, port, timeout=3)
    assert target.alive(), f"worker died after the message; log tail:\n{engine.tail(25)}"
    assert ping.outcome == 200, f"OPTIONS after the message: {ping.outcome}\n{describe(ping)}"


async def normal_call(target: Target) -> None:
    """A real pjsua2 peer calls the worker: answered, then the scenario hangs up (200)."""
    engine = await target.ensure()
    if target.peer is None:
        target.peer = await Peer().start()
    for _ in range(3):
        # Right after a group the worker may still count the keys of the calls it just
        # ended and answer 503 + Retry-After: 1 (its edge guard); a SIP client retries.
        leg = target.peer.dial(engine.uri("100"))
        first = await target.peer.next((Answered, Ended), leg, timeout=10)
        if not (isinstance(first, Ended) and first.code == 503):
            break
        await asyncio.sleep(1.0)  # the Retry-After the worker gave
    assert isinstance(first, Answered), first
    ended = await target.peer.next(Ended, leg, timeout=10)
    assert ended.code == 200, ended
    assert target.alive()


@pytest.mark.parametrize(("item", "transport"), _params(corpus.RFC4475))
async def test_rfc4475(target: Target, item: Case, transport: str) -> None:
    await check_case(target, item, transport)


async def test_call_after_rfc4475(target: Target) -> None:
    await normal_call(target)


@pytest.mark.parametrize(("item", "transport"), _params(corpus.RFC5118))
async def test_rfc5118(target: Target, item: Case, transport: str) -> None:
    await check_case(target, item, transport)


async def test_call_after_rfc5118(target: Target) -> None:
    await normal_call(target)


@pytest.mark.parametrize(("item", "transport"), _params(corpus.POLICY))
async def test_policy(target: Target, item: Case, transport: str) -> None:
    await check_case(target, item, transport)


async def test_call_after_policy(target: Target) -> None:
    await normal_call(target)


@pytest.mark.parametrize(("item", "transport"), _params(corpus.MUTATIONS))
async def test_mutation(target: Target, item: Case, transport: str) -> None:
    await check_case(target, item, transport)


async def test_call_after_mutations(target: Target) -> None:
    await normal_call(target)


@pytest.mark.parametrize(("item", "transport"), _params(corpus.SPECIALS))
async def test_special(target: Target, item: Case, transport: str) -> None:
    await check_case(target, item, transport)


async def test_call_after_specials(target: Target) -> None:
    await normal_call(target)


async def test_worker_never_restarted(target: Target) -> None:
    """Last: the whole corpus ran against one worker (every restart means an abort above)."""
    assert target.started == 1, f"worker restarted {target.started - 1} time(s): aborts above"


async def test_corpus_is_well_formed() -> None:
    """Unique names; every template reaches only us (top Via on $LHOST:$LPORT) or is a
    response; guard codes are among the expected answers."""
    names = [c.name for c in corpus.ALL]
    assert len(names) == len(set(names))
    for c in corpus.ALL:
        assert c.guard <= c.expect, c.name
        if not c.template.startswith(b"SIP/2.0 "):
            assert b"$LHOST:$LPORT" in c.template, c.name
        assert DROPPED not in c.guard, c.name

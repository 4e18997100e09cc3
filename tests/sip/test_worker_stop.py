"""A `voxpy serve` worker (``voxpy run --control-socket``) given SIGTERM: it hangs up its calls,
tears the stack down in order and exits 0 without the interpreter's teardown, its log complete."""

from __future__ import annotations

import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.conftest import TEST_SCENARIOS
from tests.sip.conftest import Peer
from tests.sip.engine_process import EngineProcess
from voxpy.core.signals import Answered, Ended

pytestmark = pytest.mark.realtime  # real SIP/processes: deselect with -m 'not realtime'

EngineFactory = Callable[..., Awaitable[EngineProcess]]
EXIT_TIMEOUT_S = 5.0
"Generous: an idle worker exits in about 0.02 s, one with a call in about 0.1 s."


async def worker(engine_factory: EngineFactory, tmp_path: Path) -> EngineProcess:
    engine = await engine_factory(
        TEST_SCENARIOS / "answer_and_wait.py", "--control-socket", str(tmp_path / "w.sock")
    )
    await engine.wait_log(lambda line: line.get("event") == "control_started", timeout=15)
    return engine


def assert_orderly_end(engine: EngineProcess) -> None:
    """The stack was destroyed before the engine said it stopped, and both lines were flushed
    before the process left."""
    events = [line.get("event") for line in engine.lines]
    assert "pjsua2_stopped" in events, engine.tail()
    assert events.index("pjsua2_stopped") < events.index("engine_stopped"), events


async def test_idle_worker_exits_0_on_sigterm(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    engine = await worker(engine_factory, tmp_path)
    assert await engine.signal(signal.SIGTERM, timeout=EXIT_TIMEOUT_S) == 0
    assert_orderly_end(engine)


async def test_worker_hangs_up_its_call_and_exits_0_on_sigterm(
    engine_factory: EngineFactory, peer: Peer, tmp_path: Path
) -> None:
    engine = await worker(engine_factory, tmp_path)
    leg = peer.dial(engine.uri())
    await peer.next(Answered, leg)
    assert await engine.signal(signal.SIGTERM, timeout=EXIT_TIMEOUT_S) == 0
    assert (await peer.next(Ended, leg)).code == 200  # the worker's BYE, answered
    assert engine.session_events().count("Application.Terminated") == 1
    assert_orderly_end(engine)

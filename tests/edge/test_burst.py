"""SIPp bursts against one worker, then through ``voxpy serve --workers 2``.

A worker holds 4 calls and 64 ioqueue keys (2 a call, returned 500 ms after close), so a burst of
short calls outruns it. The edge guard's promise: the process never dies, and every INVITE gets a
final answer that is 200 (answered, then hung up by hello_hangup) or 503 + Retry-After.
``uac_200_or_503.xml`` fails any call answered otherwise (e.g. 486 or no answer).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from tests.conftest import SCENARIOS
from tests.edge.sippburst import Burst, burst
from tests.server.serve_process import ServeProcess
from tests.sip.engine_process import EngineProcess


@pytest.fixture(autouse=True, scope="module")
def _sipp_installed() -> None:
    if shutil.which("sipp") is None:
        pytest.fail(
            "sipp is not installed: run scripts/install-system-deps.sh as root "
            "(it installs sip-tester)",
            pytrace=False,
        )


def rtp_env() -> dict[str, str]:
    # Other suites on this machine use RTP from 10000: keep out of their way.
    return {
        "VOXPY_RTP__PORT": str(random.randrange(20000, 50000, 1000)),
        "VOXPY_RTP__PORT_RANGE": "200",
        "VOXPY_TIMEOUTS__SESSION_GRACE": "0",
    }


def check(result: Burst, calls: int) -> None:
    assert result.received(200) + result.received(503) == calls, result.summary()
    assert result.failed == 0 and result.successful == calls, result.summary()
    assert result.returncode == 0, result.summary()


def native_aborts(lines: list[str]) -> list[str]:
    """The lines a C assertion (pjlib's compiled-in asserts) printed before abort()."""
    return [line for line in lines if "Assertion" in line and "failed" in line]


async def _alive_after(engine: EngineProcess) -> None:
    assert engine.proc is not None and engine.proc.returncode is None, (
        f"worker died: exit {engine.proc and engine.proc.returncode}: "
        f"{native_aborts(engine.raw) or engine.tail(5)}"
    )


class TestWorkerBurst:
    """``voxpy run scenarios/hello_hangup.py`` on an OS-chosen port, SIPp over UDP."""

    @pytest.mark.parametrize(
        ("rate", "calls"), [(100, 100), (100, 300)], ids=["100-in-1s", "300-at-100cps"]
    )
    async def test_burst_answers_200_or_503(self, tmp_path: Path, rate: int, calls: int) -> None:
        engine = EngineProcess("run", SCENARIOS / "hello_hangup.py", env=rtp_env())
        try:
            await engine.start()
            # Without the guard (an unverified wheel disables it) this test would prove nothing.
            assert any(line.get("event") == "edge_guard_installed" for line in engine.lines)
            target = engine.contact_uri.split("@", 1)[1]
            result = await burst(target, tmp_path, rate=rate, calls=calls, timeout=40)
            await _alive_after(engine)
            refused = [line for line in engine.lines if line.get("event") == "edge_refused"]
            check(result, calls)
            if result.received(503):
                # The guard says why; its lines are rate-limited, and the next line that gets
                # through counts the ones it held back (a retransmission may log again).
                logged = [r for r in refused if str(r.get("code")) == "503"]
                told = len(logged) + sum(int(r.get("suppressed", 0)) for r in refused)
                assert told >= result.received(503), refused[:5]
            # and a call right after the burst is answered (slots and keys came back)
            after = await burst(target, tmp_path / "after", rate=1, calls=1, timeout=15)
            assert after.received(200) == 1, after.summary()
            await _alive_after(engine)
        finally:
            await engine.close()


class TestServeBurst:
    """The same 100-call burst through Kamailio to two workers."""

    async def test_burst_through_serve(self, tmp_path: Path) -> None:
        if shutil.which("kamailio") is None:
            pytest.fail("kamailio is not installed: run scripts/install-system-deps.sh")
        # pike would ban one source sending 100 INVITEs a second: this test is about the
        # workers, so lift the flood limit for it.
        env = {**rtp_env(), "VOXPY_SERVER__PIKE_DENSITY": "100000"}
        server = ServeProcess(SCENARIOS / "hello_hangup.py", workers=2, env=env)
        try:
            await server.start()
            target = f"127.0.0.1:{server.sip_port}"
            result = await burst(target, tmp_path, rate=100, calls=100, timeout=40)
            check(result, 100)
            await server.wait_healthy(2, timeout=10)
            died = [line for line in server.lines if line.get("event") == "worker_exited"]
            assert not died, [
                (line.get("worker"), native_aborts(list(line.get("stderr_tail", []))))
                for line in died
            ]
        finally:
            await server.close()

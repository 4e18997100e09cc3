"""``voxpy serve`` starts its workers from a warm zygote: many at once, forked (their parent
is the zygote), restarted when killed, stopped by SIGTERM without kills; ``--workers auto``
is resolved and logged, and a pool the machine cannot hold is refused in one line."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_SCENARIOS
from tests.server.conftest import ServeFactory
from tests.server.serve_process import ServeProcess

pytestmark = pytest.mark.realtime  # real processes: deselect with -m 'not realtime'

ANSWER_AND_WAIT = TEST_SCENARIOS / "answer_and_wait.py"
ROOT = Path(__file__).resolve().parents[2]


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def zygote_pid(server: ServeProcess) -> int:
    return int(server.find_all("zygote_started")[-1]["pid"])


async def test_many_workers_are_forked_restarted_and_stopped(serve_factory: ServeFactory) -> None:
    server = await serve_factory(ANSWER_AND_WAIT, workers=24)
    zygote = zygote_pid(server)
    workers = await server.workers_info()
    assert len(workers) == 24 and all(w["ready"] for w in workers)
    assert {parent_of(int(w["pid"])) for w in workers} == {zygote}
    assert Path(f"/proc/{workers[3]['pid']}/comm").read_text() == "voxpy-w3\n"
    ready = server.find_all("worker_ready")
    assert len(ready) == 24 and all(line["forked"] for line in ready)

    victim = next(w for w in workers if w["worker"] == 7)
    os.kill(int(victim["pid"]), signal.SIGKILL)
    await server.wait_log(
        lambda line: line.get("event") == "worker_exited" and line.get("worker") == 7
    )
    again = await server.wait_log(
        lambda line: (
            line.get("event") == "worker_ready"
            and line.get("worker") == 7
            and line.get("pid") != victim["pid"]
        ),
        timeout=20,
    )
    assert parent_of(int(again["pid"])) == zygote
    await server.wait_healthy(24)

    assert await server.signal(signal.SIGTERM, timeout=60) == 0
    assert not server.find_all("worker_kill")
    assert len(server.find_all("worker_stopped")) == 24


async def test_a_dead_zygote_is_replaced(serve_factory: ServeFactory) -> None:
    """Its workers die with it (PDEATHSIG) and come back forked by a new one."""
    server = await serve_factory(ANSWER_AND_WAIT, workers=2)
    first = zygote_pid(server)
    os.kill(first, signal.SIGKILL)
    await server.wait_log(
        lambda line: line.get("event") == "zygote_started" and line.get("pid") != first,
        timeout=30,
    )
    await server.wait_healthy(2, timeout=30)
    second = zygote_pid(server)
    assert {parent_of(int(w["pid"])) for w in await server.workers_info()} == {second}
    assert await server.signal(signal.SIGTERM, timeout=60) == 0
    assert not server.find_all("worker_kill")


async def test_exec_is_still_there(serve_factory: ServeFactory) -> None:
    server = await serve_factory(ANSWER_AND_WAIT, workers=2, env={"VOXPY_SERVER__SPAWN": "exec"})
    assert not server.find_all("zygote_started")
    supervisor = server.proc.pid if server.proc else 0
    assert {parent_of(int(w["pid"])) for w in await server.workers_info()} == {supervisor}
    assert not any(line["forked"] for line in server.find_all("worker_ready"))
    assert await server.signal(signal.SIGTERM, timeout=60) == 0


async def test_workers_auto_is_resolved_and_reported() -> None:
    # 80 RTP ports hold 10 workers of 8: auto can be no more, whatever the CPU says.
    server = ServeProcess(ANSWER_AND_WAIT, env={"VOXPY_RTP__PORT_RANGE": "80"})
    server.argv[server.argv.index("--workers") + 1] = "auto"
    try:
        await server.spawn(start_new_session=True)
        sized = await server.wait_log(lambda line: line.get("event") == "workers_sized")
        assert sized["auto"] is True
        assert (sized["workers"], sized["limited_by"]) == (10, "rtp.port_range")
        assert sized["cores"] >= 1 and sized["by_cpu"] >= 1
        ready = await server.wait_log(lambda line: line.get("event") == "serve_ready", 60)
        assert ready["workers"] == 10
        assert await server.signal(signal.SIGTERM, timeout=60) == 0
    finally:
        await server.close()


def test_too_many_workers_are_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "voxpy", "serve", str(ANSWER_AND_WAIT), "--workers", "100"],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        env={**os.environ, "VOXPY_RTP__PORT_RANGE": "200"},
    )
    assert result.returncode == 2
    assert result.stderr == (
        "voxpy: config error: server.workers: 100 workers cannot run here: rtp.port_range "
        "allows at most 25 (raise it, or use --workers auto)\n"
    )


async def test_bad_workers_value_is_refused() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voxpy", "serve", str(ANSWER_AND_WAIT), "--workers", "many",
        stderr=asyncio.subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    _, stderr = await process.communicate()
    assert process.returncode == 2
    assert b"argument --workers: expected a number of workers or auto, got 'many'" in stderr

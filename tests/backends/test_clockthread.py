"""pjmedia's clock thread at real-time priority (``clockthread.py``): found again each time
pjsua starts a new one, refused once and logged without CAP_SYS_NICE, and granted for real on
a pjsua2 peer's call."""

from __future__ import annotations

import asyncio
import os
import resource
import time
from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs

from tests.backends.conftest import PeerFactory, connect
from voxpy.backends.pjsua2.clockthread import RESCAN_S, ClockPriority, find_clock_thread
from voxpy.backends.pjsua2.options import PjsuaOptions
from voxpy.config import load_settings
from voxpy.core.commands import Bye
from voxpy.core.signals import Ended
from voxpy.errors import ConfigError


def tasks(proc: Path, **comms: str) -> Path:
    """A fake ``/proc`` whose ``self/task`` holds threads ``tid=comm``."""
    root = proc / "self" / "task"
    for old in root.glob("*/comm") if root.exists() else ():
        old.unlink()
        old.parent.rmdir()
    for tid, comm in comms.items():
        (root / tid.lstrip("t")).mkdir(parents=True)
        (root / tid.lstrip("t") / "comm").write_text(comm + "\n")
    return proc


class Recorder:
    def __init__(self, error: OSError | None = None) -> None:
        self.calls: list[tuple[int, int, int]] = []
        self.error = error

    def __call__(self, tid: int, policy: int, param: os.sched_param) -> None:
        self.calls.append((tid, policy, param.sched_priority))
        if self.error is not None:
            raise self.error


def test_each_new_clock_thread_is_given_the_priority_once(tmp_path: Path) -> None:
    proc = tasks(tmp_path, t1="python", t7="media")
    setter = Recorder()
    keeper = ClockPriority(10, structlog.get_logger(), proc, setter)
    keeper.keep(0.0)
    assert setter.calls == [] and keeper.task is None  # no media yet: no clock thread
    tasks(proc, t1="python", t7="media", t9="clock")
    keeper.keep(0.1)  # searches at most every RESCAN_S
    assert setter.calls == []
    keeper.keep(RESCAN_S)
    assert setter.calls == [(9, os.SCHED_RR, 10)] and keeper.task == proc / "self/task/9"
    for t in (1.0, 2.0):
        keeper.keep(t)  # still running: one stat, nothing set again
    assert len(setter.calls) == 1
    tasks(proc, t1="python", t12="clock")  # pjsua closed its sound device and opened another
    keeper.keep(3.0)
    assert setter.calls[-1] == (12, os.SCHED_RR, 10)


def test_a_refusal_is_logged_once_and_ends_the_attempts(tmp_path: Path) -> None:
    proc = tasks(tmp_path, t1="python", t9="clock")
    setter = Recorder(PermissionError(1, "Operation not permitted"))
    keeper = ClockPriority(10, structlog.get_logger(), proc, setter)
    with capture_logs() as logs:
        for t in range(5):
            keeper.keep(float(t))
    assert len(setter.calls) == 1 and keeper.refused and keeper.task is None
    assert [e["event"] for e in logs] == ["clock_priority_refused"]
    assert "CAP_SYS_NICE" in logs[0]["hint"] and logs[0]["error"] == "Operation not permitted"


def test_a_thread_gone_before_it_is_set_is_looked_for_again(tmp_path: Path) -> None:
    proc = tasks(tmp_path, t9="clock")
    setter = Recorder(ProcessLookupError(3, "No such process"))
    keeper = ClockPriority(10, structlog.get_logger(), proc, setter)
    keeper.keep(0.0)
    setter.error = None
    keeper.keep(RESCAN_S)
    assert len(setter.calls) == 2 and keeper.task is not None and not keeper.refused


def test_priority_zero_touches_nothing(tmp_path: Path) -> None:
    setter = Recorder()
    ClockPriority(0, structlog.get_logger(), tasks(tmp_path, t9="clock"), setter).keep(0.0)
    assert setter.calls == []
    assert find_clock_thread(tmp_path / "missing") is None


@pytest.mark.parametrize("bad", [-1, 100, True, 1.5])
def test_out_of_range_priorities_are_refused(bad: object) -> None:
    with pytest.raises(ConfigError, match="clock_priority"):
        PjsuaOptions(clock_priority=bad)  # type: ignore[arg-type]


def _may_use_realtime(priority: int) -> bool:
    if os.geteuid() == 0:
        return True
    soft, _ = resource.getrlimit(resource.RLIMIT_RTPRIO)
    return soft == resource.RLIM_INFINITY or soft >= priority


def _clock_policy(pid: int) -> tuple[int, int] | None:
    """(policy, priority) of the peer's clock thread, None while it has none."""
    root = Path(f"/proc/{pid}/task")
    for task in root.iterdir():
        try:
            if (task / "comm").read_text().strip() == "clock":
                tid = int(task.name)
                return os.sched_getscheduler(tid), os.sched_getparam(tid).sched_priority
        except OSError:
            continue
    return None


async def _policy_soon(pid: int, want: tuple[int, int], timeout: float = 5.0) -> tuple[int, int]:
    """Waits for the owner thread's next polls to set it (they run every 20 ms with a call)."""
    deadline = time.monotonic() + timeout
    while (policy := _clock_policy(pid)) != want and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert policy == want, f"clock thread policy {policy}, wanted {want}"
    return policy


@pytest.mark.realtime
@pytest.mark.skipif(not _may_use_realtime(5), reason="needs root, CAP_SYS_NICE or RLIMIT_RTPRIO")
async def test_a_real_call_s_clock_thread_runs_round_robin(make_peer: PeerFactory) -> None:
    a = await make_peer()
    b = await make_peer(extra_args=("--clock-priority", "5"))
    assert b.backend.pid is not None and a.backend.pid is not None
    callee = await connect(a, b, "c1")
    await _policy_soon(b.backend.pid, (os.SCHED_RR, 5))
    assert _clock_policy(a.backend.pid) == (os.SCHED_OTHER, 0)  # the default leaves it alone
    a.send(Bye(call_id="c1"))
    await b.wait(Ended, call_id=callee)
    # pjsua closes the sound device ~1 s after the last media and opens a new clock thread
    # with the next call: that one gets the priority too.
    deadline = time.monotonic() + 5.0
    while _clock_policy(b.backend.pid) is not None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert _clock_policy(b.backend.pid) is None, "the clock thread outlived the call"
    callee = await connect(a, b, "c2")
    await _policy_soon(b.backend.pid, (os.SCHED_RR, 5))
    a.send(Bye(call_id="c2"))
    await b.wait(Ended, call_id=callee)


def test_the_setting_reaches_the_endpoint_options() -> None:
    assert load_settings(env={}).pjsua_options().clock_priority == 10  # a server's default
    assert PjsuaOptions().clock_priority == 0  # a library endpoint (test peers) leaves it
    env = {"VOXPY_MEDIA__CLOCK_PRIORITY": "0"}
    assert load_settings(env=env).pjsua_options().clock_priority == 0
    for bad in ("100", "-1", "high"):
        with pytest.raises(ConfigError, match=r"media\.clock_priority"):
            load_settings(env={"VOXPY_MEDIA__CLOCK_PRIORITY": bad})

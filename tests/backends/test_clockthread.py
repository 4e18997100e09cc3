"""pjmedia's clock thread at real-time priority (``clockthread.py``): found again each time
pjsua starts a new one, refused once and logged without CAP_SYS_NICE, and granted for real on
a pjsua2 peer's call."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs

from tests.backends.conftest import PeerFactory, connect
from voxpy.backends.pjsua2.clockthread import (
    RESCAN_S,
    ClockPriority,
    find_clock_thread,
    realtime_refusal,
)
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


class Kernel:
    """sched_setscheduler/sched_getscheduler of a fake kernel: records what was set."""

    def __init__(self, error: OSError | None = None) -> None:
        self.calls: list[tuple[int, int, int]] = []
        self.policies: dict[int, int] = {}
        self.error = error

    def set(self, tid: int, policy: int, param: os.sched_param) -> None:
        self.calls.append((tid, policy, param.sched_priority))
        if self.error is not None:
            raise self.error
        self.policies[tid] = policy

    def get(self, tid: int) -> int:
        if tid not in self.policies:
            raise ProcessLookupError(3, "No such process")
        return self.policies[tid]

    def keeper(self, proc: Path, priority: int = 10) -> ClockPriority:
        return ClockPriority(
            priority, structlog.get_logger(), proc=proc, set_scheduler=self.set,
            get_scheduler=self.get,
        )  # fmt: skip


RR = os.SCHED_RR | os.SCHED_RESET_ON_FORK


def test_each_new_clock_thread_is_given_the_priority_once(tmp_path: Path) -> None:
    proc = tasks(tmp_path, t1="python", t7="media")
    kernel = Kernel()
    keeper = kernel.keeper(proc)
    keeper.poll(0.0)
    assert kernel.calls == [] and keeper.tid is None  # no media yet: no clock thread
    tasks(proc, t1="python", t7="media", t9="clock")
    keeper.poll(0.1)  # searches at most every RESCAN_S
    assert kernel.calls == []
    keeper.poll(RESCAN_S)
    # Round-robin, and threads it would start begin at normal scheduling
    assert kernel.calls == [(9, RR, 10)] and keeper.tid == 9
    for t in (1.0, 2.0):
        keeper.poll(t)  # still ours: one sched_getscheduler, nothing set again
    assert len(kernel.calls) == 1
    del kernel.policies[9]  # pjsua closed its sound device and opened another
    tasks(proc, t1="python", t12="clock")
    keeper.poll(3.0)
    assert kernel.calls[-1] == (12, RR, 10) and keeper.tid == 12


def test_a_reused_thread_id_is_not_taken_for_the_clock(tmp_path: Path) -> None:
    kernel = Kernel()
    keeper = kernel.keeper(tasks(tmp_path, t9="clock"))
    keeper.poll(0.0)
    kernel.policies[9] = os.SCHED_OTHER  # tid 9 ended and went to another thread
    tasks(tmp_path, t9="mp3-writer", t14="clock")
    keeper.poll(1.0)
    assert kernel.calls[-1] == (14, RR, 10) and keeper.tid == 14


def test_a_refusal_is_logged_once_and_ends_the_attempts(tmp_path: Path) -> None:
    kernel = Kernel(PermissionError(1, "Operation not permitted"))
    keeper = kernel.keeper(tasks(tmp_path, t1="python", t9="clock"))
    with capture_logs() as logs:
        for t in range(5):
            keeper.poll(float(t))
    assert len(kernel.calls) == 1 and keeper.given_up and keeper.tid is None
    assert [e["event"] for e in logs] == ["clock_priority_refused"]
    assert "--ulimit rtprio" in logs[0]["hint"] and logs[0]["error"] == "Operation not permitted"
    assert logs[0]["rtprio_limit"]  # what the process may have, beside what it asked


def test_any_other_failure_is_logged_once_and_never_reaches_the_owner_loop(
    tmp_path: Path,
) -> None:
    kernel = Kernel(OSError(22, "Invalid argument"))
    keeper = kernel.keeper(tasks(tmp_path, t9="clock"))
    with capture_logs() as logs:
        for t in range(3):
            keeper.poll(float(t))
    assert keeper.given_up and [e["event"] for e in logs] == ["clock_priority_failed"]


def test_thread_names_that_are_not_utf8_are_skipped(tmp_path: Path) -> None:
    proc = tasks(tmp_path, t9="clock")
    odd = proc / "self" / "task" / "3"
    odd.mkdir()
    (odd / "comm").write_bytes(b"\xff\xfe\n")
    assert find_clock_thread(proc) == proc / "self" / "task" / "9"


def test_a_thread_gone_before_it_is_set_is_looked_for_again(tmp_path: Path) -> None:
    kernel = Kernel(ProcessLookupError(3, "No such process"))
    keeper = kernel.keeper(tasks(tmp_path, t9="clock"))
    keeper.poll(0.0)
    kernel.error = None
    keeper.poll(RESCAN_S)
    assert len(kernel.calls) == 2 and keeper.tid == 9 and not keeper.given_up


def test_priority_zero_touches_nothing(tmp_path: Path) -> None:
    kernel = Kernel()
    kernel.keeper(tasks(tmp_path, t9="clock"), priority=0).poll(0.0)
    assert kernel.calls == []
    assert find_clock_thread(tmp_path / "missing") is None


@pytest.mark.parametrize("bad", [-1, 50, True, 1.5])
def test_out_of_range_priorities_are_refused(bad: object) -> None:
    with pytest.raises(ConfigError, match="clock_priority"):
        PjsuaOptions(clock_priority=bad)  # type: ignore[arg-type]


def _clock_policy(pid: int) -> tuple[int, int] | None:
    """(policy, priority) of the peer's clock thread, None while it has none."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            if (task / "comm").read_bytes() == b"clock\n":
                tid = int(task.name)
                policy = os.sched_getscheduler(tid) & ~os.SCHED_RESET_ON_FORK
                return policy, os.sched_getparam(tid).sched_priority
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
@pytest.mark.skipif(
    realtime_refusal(5) is not None, reason="needs CAP_SYS_NICE or RLIMIT_RTPRIO >= 5"
)
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
    for bad in ("50", "-1", "high"):
        with pytest.raises(ConfigError, match=r"media\.clock_priority"):
            load_settings(env={"VOXPY_MEDIA__CLOCK_PRIORITY": bad})


UNPRIVILEGED = ("prlimit", "--rtprio=0", "setpriv", "--bounding-set", "-sys_nice", "--inh-caps",
                "-sys_nice")  # fmt: skip
"No RLIMIT_RTPRIO and no CAP_SYS_NICE, even for root: what a default container gives."


def _can_drop_privileges() -> bool:
    return os.geteuid() == 0 and all(shutil.which(t) for t in ("prlimit", "setpriv"))


def test_realtime_refusal_leaves_the_caller_as_it_was() -> None:
    before = os.sched_getscheduler(0), os.sched_getparam(0).sched_priority
    realtime_refusal(5)  # tried on a throwaway thread
    assert (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority) == before


@pytest.mark.skipif(not _can_drop_privileges(), reason="needs root, prlimit and setpriv")
def test_realtime_refusal_says_why() -> None:
    code = "from voxpy.backends.pjsua2 import clockthread as c; print(c.realtime_refusal(5))"
    out = subprocess.run([*UNPRIVILEGED, sys.executable, "-c", code],
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert out.stdout.strip() == "Operation not permitted"


@pytest.mark.realtime
@pytest.mark.skipif(not _can_drop_privileges(), reason="needs root, prlimit and setpriv")
async def test_without_the_privilege_a_real_peer_logs_once_and_runs_normally(
    make_peer: PeerFactory,
) -> None:
    a = await make_peer()
    b = await make_peer(
        argv=[*UNPRIVILEGED, sys.executable, "-m", "voxpy.backends.pjsua2.peer",
              "--clock-priority", "5"],
    )  # fmt: skip
    assert b.backend.pid is not None
    for call_id in ("c1", "c2"):
        callee = await connect(a, b, call_id)
        deadline = time.monotonic() + 5.0
        while "clock_priority_refused" not in b.backend.stderr_tail:
            assert time.monotonic() < deadline, b.backend.stderr_tail
            await asyncio.sleep(0.02)
        assert _clock_policy(b.backend.pid) in (None, (os.SCHED_OTHER, 0))
        a.send(Bye(call_id=call_id))
        await b.wait(Ended, call_id=callee)
    assert b.backend.stderr_tail.count("clock_priority_refused") == 1  # two calls, one line


def test_serve_asks_once_and_starts_its_workers_without_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from voxpy.backends.pjsua2 import clockthread
    from voxpy.server import supervisor

    monkeypatch.delenv("VOXPY_MEDIA__CLOCK_PRIORITY", raising=False)
    monkeypatch.setattr(clockthread, "realtime_refusal", lambda _: "Operation not permitted")
    overrides = {"server.workers": 2, "server.run_dir": str(tmp_path)}
    settings = load_settings(env={}, overrides=overrides)
    serve = supervisor.Supervisor(settings, Path("scenarios/hello_hangup.py"))
    with capture_logs() as logs:
        specs = serve._specs()
    assert [s.env["VOXPY_MEDIA__CLOCK_PRIORITY"] for s in specs] == ["0", "0"]
    assert [e["event"] for e in logs] == ["clock_priority_refused"]
    monkeypatch.setattr(clockthread, "realtime_refusal", lambda _: None)
    assert "VOXPY_MEDIA__CLOCK_PRIORITY" not in serve._specs()[0].env  # workers set it

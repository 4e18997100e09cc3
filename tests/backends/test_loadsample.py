"""The overload gate's /proc sampler: deltas, the clock thread coming and going, no /proc."""

from __future__ import annotations

from pathlib import Path

import structlog

from voxpy.backends.pjsua2.clockthread import find_clock_thread
from voxpy.backends.pjsua2.loadsample import LoadSampler, OverloadWatch
from voxpy.core.overload import OverloadThresholds


def fake_proc(
    tmp_path: Path, *, busy: int, idle: int, clock_wait: int | None, tid: str = "7"
) -> Path:
    (tmp_path / "stat").write_text(f"cpu  {busy} 0 0 {idle} 0 0 0 0 0 0\ncpu0 1 2 3 4\n")
    tasks = tmp_path / "self" / "task"
    tasks.mkdir(parents=True, exist_ok=True)
    for old in tasks.iterdir():
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
    (tasks / "1").mkdir()
    (tasks / "1" / "comm").write_text("python\n")
    (tasks / "1" / "schedstat").write_text("1 999999999 1\n")
    if clock_wait is not None:
        (tasks / tid).mkdir()
        (tasks / tid / "comm").write_text("clock\n")
        (tasks / tid / "schedstat").write_text(f"5 {clock_wait} 9\n")
    return tmp_path


def test_shares_are_deltas_over_the_interval(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, busy=100, idle=100, clock_wait=1_000_000)
    sampler = LoadSampler(proc)
    assert sampler.sample(1.0) is None  # not started
    sampler.start(10.0)
    fake_proc(tmp_path, busy=190, idle=110, clock_wait=201_000_000)
    sample = sampler.sample(12.0)
    assert sample is not None
    assert (sample.start, sample.end) == (10.0, 12.0)
    assert sample.cpu == 0.9  # 90 busy of 100 jiffies
    assert sample.media == 0.1  # 200 ms waiting in 2 s


def test_a_new_clock_thread_gives_no_media_share_once(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, busy=0, idle=100, clock_wait=None)
    sampler = LoadSampler(proc)
    sampler.start(0.0)
    fake_proc(tmp_path, busy=0, idle=200, clock_wait=50, tid="8")
    first = sampler.sample(1.0)
    assert first is not None and first.media is None and first.cpu == 0.0
    fake_proc(tmp_path, busy=0, idle=300, clock_wait=50 + 10_000_000, tid="8")
    second = sampler.sample(2.0)
    assert second is not None and second.media == 0.01
    fake_proc(tmp_path, busy=0, idle=400, clock_wait=0, tid="9")  # restarted under a new tid
    third = sampler.sample(3.0)
    assert third is not None and third.media is None


def test_no_proc_means_no_samples(tmp_path: Path) -> None:
    sampler = LoadSampler(tmp_path / "missing")
    sampler.start(0.0)
    assert sampler.sample(1.0) is None
    assert find_clock_thread(tmp_path / "missing") is None


def test_real_proc_reads() -> None:
    sampler = LoadSampler()
    sampler.start(0.0)
    sample = sampler.sample(1.0)
    assert sample is not None and 0.0 <= sample.cpu <= 1.0


def test_an_overloaded_worker_without_calls_still_samples_until_it_recovers(tmp_path: Path) -> None:
    """Calls end, no INVITE comes: the poll keeps sampling while overloaded, so the gauge falls
    when the load does; once recovered (and idle) it reads nothing again."""
    thresholds = OverloadThresholds(
        cpu_enter=0.5, cpu_leave=0.4, media_enter=1.0, media_leave=1.0, window_s=0.0
    )
    watch = OverloadWatch(thresholds, structlog.get_logger())
    watch._sampler = LoadSampler(fake_proc(tmp_path, busy=0, idle=0, clock_wait=None))
    watch.start(0.0)
    fake_proc(tmp_path, busy=90, idle=10, clock_wait=None)
    watch.poll(1.0, lambda: 1)
    assert watch.gate.overloaded
    fake_proc(tmp_path, busy=91, idle=109, clock_wait=None)  # the load is gone, so are the calls
    watch.poll(2.0, lambda: 0)
    assert not watch.gate.overloaded
    fake_proc(tmp_path, busy=191, idle=109, clock_wait=None)
    watch.poll(3.0, lambda: 0)  # idle and not overloaded: no reading
    assert not watch.gate.overloaded

"""Load samples for the overload gate, read from /proc on demand: no timer, no thread.

A sample is the delta since the previous one: the machine's busy share from ``/proc/stat``
and the share of wall time pjmedia's clock thread waited to run (the 2nd field of
``/proc/self/task/<tid>/schedstat``, ns spent runnable on a run queue). Reading both costs
~80 us, ~175 us when the clock thread must be looked for again (2 000 samples, measured on a
2-core machine at load average 13), so the guard takes one when an INVITE arrives and, while
calls are up, when the owner thread polls anyway, at most every ``min_interval`` (0.25 s: at
most 0.03 % of a core); an idle worker reads nothing.

The clock thread is the one pjmedia names ``clock`` (the null sound device's master port in
this wheel: ``/proc/self/task/*/comm`` of a running worker lists python, media, ev_thread and
clock). Without /proc (or without that thread) the media share is None and the CPU share is
all the gate gets; without /proc/stat the gate gets no samples and admits.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from voxpy.backends.pjsua2.clockthread import PROC, find_clock_thread
from voxpy.backends.pjsua2.logsupport import Logger
from voxpy.core.edge import Refusal
from voxpy.core.overload import OverloadGate, OverloadThresholds, Sample


def _cpu_jiffies(proc: Path) -> tuple[int, int] | None:
    """(busy, total) jiffies of all cores since boot."""
    try:
        with open(proc / "stat", "rb") as stat:
            fields = stat.readline().split()
    except OSError:
        return None
    if len(fields) < 5 or fields[0] != b"cpu":
        return None
    values = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values)
    return total - idle, total


def _run_queue_wait(schedstat: Path) -> int | None:
    """ns the thread spent runnable but waiting for a CPU; None once it has ended."""
    try:
        return int(schedstat.read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None


class LoadSampler:
    """Turns successive /proc readings into :class:`Sample` s (one caller thread)."""

    def __init__(self, proc: Path = PROC) -> None:
        self._proc = proc
        self._clock: Path | None = None
        self._last: tuple[float, tuple[int, int] | None, tuple[Path, int] | None] | None = None

    def start(self, now: float) -> None:
        """The first reading (after libStart)."""
        self._last = (now, _cpu_jiffies(self._proc), self._clock_wait())

    def _clock_wait(self) -> tuple[Path, int] | None:
        """The clock thread's run-queue wait so far. pjsua stops that thread after 1 s
        without media (its sound device auto-close) and starts a new one with the next call,
        so a missing thread is looked for again (7 threads' comm)."""
        if self._clock is not None and (wait := _run_queue_wait(self._clock)) is not None:
            return self._clock, wait
        task = find_clock_thread(self._proc)
        self._clock = None if task is None else task / "schedstat"
        if self._clock is None or (wait := _run_queue_wait(self._clock)) is None:
            return None
        return self._clock, wait

    def sample(self, now: float) -> Sample | None:
        """The load since the previous reading; None before :meth:`start` or without /proc."""
        if self._last is None:
            return None
        then, cpu0, wait0 = self._last
        cpu1, wait1 = _cpu_jiffies(self._proc), self._clock_wait()
        self._last = (now, cpu1, wait1)
        if cpu0 is None or cpu1 is None or now <= then:
            return None
        busy, total = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
        # No jiffy ticked (samples < 10 ms apart): an idle share, not a division by zero.
        cpu = busy / total if total > 0 else 0.0
        media = None  # no clock thread (no media), or a new one: no lateness known
        if wait0 is not None and wait1 is not None and wait0[0] == wait1[0]:
            media = max(0, wait1[1] - wait0[1]) / 1e9 / (now - then)
        return Sample(start=then, end=now, cpu=cpu, media=media)


class OverloadWatch:
    """The gate fed from this process's /proc, with a log line when the state changes."""

    def __init__(self, thresholds: OverloadThresholds, logger: Logger) -> None:
        self.gate = OverloadGate(thresholds)
        self._sampler = LoadSampler()
        self._log = logger

    def start(self, now: float) -> None:
        self._sampler.start(now)

    def sample(self, now: float) -> None:
        """Feed the gate a sample if one is due (owner thread)."""
        gate = self.gate
        if not gate.due(now):
            return
        sample = self._sampler.sample(now)
        if sample is None:
            return
        was = gate.overloaded
        gate.feed(sample)
        if gate.overloaded != was:
            self._log.warning(
                "overload_entered" if gate.overloaded else "overload_left",
                cpu=round(sample.cpu, 3),
                media=None if sample.media is None else round(sample.media, 4),
                over_s=round(sample.end - sample.start, 3),
            )

    def poll(self, now: float, calls: Callable[[], int]) -> None:
        """Sample while calls are up (a burst of INVITEs after a busy spell then meets a recent
        sample, not one averaged since the last call) or while overloaded (so a worker whose
        calls ended says when it has recovered: ``voxpy_overloaded`` falls without waiting for
        an INVITE); an idle worker that is not overloaded reads nothing."""
        if self.gate.due(now) and (self.gate.overloaded or calls()):
            self.sample(now)

    def refusal(self, now: float) -> Refusal | None:
        """For one new INVITE: sample if due, then admit (None) or refuse (counted)."""
        self.sample(now)
        decision = self.gate.decide()
        if decision.admitted:
            return None
        return Refusal(
            code=503,
            reason="Service Unavailable",
            why=decision.why(),
            headers=(("Retry-After", str(decision.retry_after)),),
        )

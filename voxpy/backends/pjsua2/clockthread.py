"""pjmedia's clock thread: found by its name, and given real-time priority while it runs.

The clock thread sends every call's RTP: each 20 ms tick it mixes the conference bridge and
encodes a frame per call. Under load it is one of hundreds of threads waking every 20 ms
(125 workers, SIPp and Kamailio on 2 cores), and a tick that waits for a CPU sends late.
Measured with ``bench/scale.py`` at 500 calls (125 workers, 8 kHz bridge, the machine 71-78 %
busy, same day): RTP leaving voxpy at p99 24 ms / max 40 ms with normal scheduling, p99 20 ms
/ max 21 ms with the clock threads at SCHED_RR. That is what FreeSWITCH (``-rp``) and
Asterisk (``-p``) do for their timing threads; the thread's work per tick is bounded and it
never waits on Python (media callbacks only queue), so it cannot starve the machine, and the
kernel keeps 5 % of each second for other work whatever real-time threads want
(``kernel.sched_rt_runtime_us``).

It needs CAP_SYS_NICE (root, ``docker run --cap-add SYS_NICE``) or an RLIMIT_RTPRIO at least
the priority (systemd's ``LimitRTPRIO=``); without either it is refused once, logged, and the
thread keeps normal scheduling.

pjsua starts the thread with the first media connection and stops it ~1 s after the last
(its sound device auto-close), so each new one is found again: the owner thread asks
:meth:`ClockPriority.keep` on each poll while calls are up; a known thread costs one stat
(~2 us), a search reads the comm of the process's ~7 threads (~100 us) and runs at most every
``RESCAN_S``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from voxpy.backends.pjsua2.logsupport import Logger

PROC = Path("/proc")
CLOCK_THREAD = "clock"
"pjmedia names it so (a worker's threads: python, media, ev_thread, clock)."
RESCAN_S = 0.25

SetScheduler = Callable[[int, int, os.sched_param], None]


def find_clock_thread(proc: Path = PROC) -> Path | None:
    """The ``/proc/self/task/<tid>`` directory of this process's clock thread, if one runs."""
    tasks = proc / "self" / "task"
    try:
        tids = sorted(os.listdir(tasks))
    except OSError:
        return None
    for tid in tids:
        try:
            comm = (tasks / tid / "comm").read_text().strip()
        except OSError:
            continue
        if comm == CLOCK_THREAD:
            return tasks / tid
    return None


class ClockPriority:
    """Gives each clock thread pjsua starts SCHED_RR at ``priority`` (0: leaves it alone).

    One caller thread (the owner). A refusal (EPERM) is logged once and ends the attempts.
    """

    def __init__(
        self,
        priority: int,
        logger: Logger,
        proc: Path = PROC,
        set_scheduler: SetScheduler = os.sched_setscheduler,
    ) -> None:
        self.priority = priority
        self._log = logger
        self._proc = proc
        self._set = set_scheduler
        self._task: Path | None = None
        self._next_search = 0.0
        self.refused = False
        "Set once the kernel said no: no more attempts in this process."

    @property
    def task(self) -> Path | None:
        """The clock thread last given the priority (its /proc task directory)."""
        return self._task

    def keep(self, now: float) -> None:
        """Give a clock thread that started since the last call the priority (owner thread)."""
        if not self.priority or self.refused or (self._task is not None and self._task.exists()):
            return
        self._task = None
        if now < self._next_search:
            return
        self._next_search = now + RESCAN_S
        task = find_clock_thread(self._proc)
        if task is None:
            return
        try:
            self._set(int(task.name), os.SCHED_RR, os.sched_param(self.priority))
        except PermissionError as error:
            self.refused = True
            self._log.warning(
                "clock_priority_refused",
                priority=self.priority,
                error=error.strerror,
                hint="needs CAP_SYS_NICE (docker: --cap-add SYS_NICE) or LimitRTPRIO; "
                "media.clock_priority = 0 turns this off",
            )
        except OSError:  # the thread ended meanwhile (ESRCH): the next one is looked for
            return
        else:
            self._task = task
            self._log.debug("clock_priority_set", tid=int(task.name), priority=self.priority)

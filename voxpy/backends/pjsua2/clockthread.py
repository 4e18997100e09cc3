"""pjmedia's clock thread: found by its name, and given real-time priority while it runs.

The clock thread sends every call's RTP: each 20 ms tick it mixes the conference bridge and
encodes a frame per call. Under load it is one of hundreds of threads waking every 20 ms
(125 workers, SIPp and Kamailio on 2 cores), and a tick that waits for a CPU sends late.
Measured with ``bench/scale.py`` at 500 calls (125 workers, 8 kHz bridge, a looping prompt
per call, the machine 70-86 % busy, same day): RTP leaving voxpy at p99 24-25 ms / max 37-40
ms with normal scheduling (two runs), p99 20 ms / max 21 ms with the clock threads at SCHED_RR
(three runs). FreeSWITCH (``-rp``) and Asterisk (``-p``) do the same for their timing.

What it does not fix: Python media ports (recordings, taps, level meters, WebSocket feeds,
and a play-once prompt's end) are called on this thread, and the bridge calls every
registered port each tick, idle pooled ones too (``ports.py``). Such a tick waits for the GIL
held by a normal-priority thread, which real-time priority cannot shorten (priority
inversion: up to the 5 ms switch interval plus that thread's own wait for a CPU). The figures
above are for the workload without Python ports.

What it costs the rest: the clocks together may take up to 95 % of every CPU before the
kernel throttles them (``kernel.sched_rt_runtime_us``); everything at normal priority (owner
threads, Kamailio) shares what they leave. The overload gate's CPU measure refuses new calls
at 0.99 busy, well before; its media measure then counts waits behind the other workers'
clocks only.

It needs CAP_SYS_NICE (root) or an RLIMIT_RTPRIO at least the priority (``docker run
--ulimit rtprio=10``, systemd's ``LimitRTPRIO=``, ``/etc/security/limits.d``); without either
it is refused once, logged, and the thread keeps normal scheduling. ``voxpy serve`` asks once
at start (:func:`realtime_refusal`) and then starts its workers without it.

pjsua starts the thread with the first media connection and stops it ~1 s after the last
(its sound device auto-close), so each new one is found again: the owner thread calls
:meth:`ClockPriority.poll` while media is up. Linux only (``/proc``, ``sched_setscheduler``).
"""

from __future__ import annotations

import os
import resource
import threading
from collections.abc import Callable
from pathlib import Path

from voxpy.backends.pjsua2.logsupport import Logger

PROC = Path("/proc")
CLOCK_COMM = b"clock\n"
"""pjmedia names it so (a worker's threads: python, media, ev_thread, clock). Compared as
bytes: a thread name need not be UTF-8."""
RESCAN_S = 0.25
"""How often a missing clock thread is looked for: a search reads the comm of the process's
~7 threads (~40-100 us), so at most 0.04 % of a core, and a new thread waits at most this
long (plus a 20 ms poll) for its priority."""
POLICY = os.SCHED_RR | os.SCHED_RESET_ON_FORK
"Round-robin; a thread or process it starts begins at normal scheduling."
HINT = (
    "needs an RLIMIT_RTPRIO of at least the priority (docker run --ulimit rtprio=N, systemd "
    "LimitRTPRIO=N, limits.d rtprio) or CAP_SYS_NICE as root; media.clock_priority = 0 turns "
    "this off"
)

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
            if (tasks / tid / "comm").read_bytes() == CLOCK_COMM:
                return tasks / tid
        except OSError:
            continue
    return None


def rtprio_limit() -> str:
    """This process's soft RLIMIT_RTPRIO, for log lines."""
    soft, _ = resource.getrlimit(resource.RLIMIT_RTPRIO)
    return "unlimited" if soft == resource.RLIM_INFINITY else str(soft)


def realtime_refusal(priority: int) -> str | None:
    """Why a thread of this process may not run at SCHED_RR ``priority``; None if it may.

    Tried on a throwaway thread, so the caller's own scheduling is untouched."""
    refusal: list[str] = []

    def attempt() -> None:
        try:
            os.sched_setscheduler(threading.get_native_id(), POLICY, os.sched_param(priority))
        except OSError as error:
            refusal.append(error.strerror or str(error))

    probe = threading.Thread(target=attempt, name="voxpy-rt-probe")
    probe.start()
    probe.join()
    return refusal[0] if refusal else None


def clock_refusal(priority: int) -> dict[str, object] | None:
    """The fields of a ``clock_priority_refused`` log line when this process, and the workers
    it starts, may not run a clock at ``priority``; None when they may (or for 0). ``voxpy
    serve`` asks once, so a refusal is one line, not one per worker at its first call."""
    if not priority or (error := realtime_refusal(priority)) is None:
        return None
    return {"priority": priority, "error": error, "rtprio_limit": rtprio_limit(), "hint": HINT}


class ClockPriority:
    """Gives each clock thread pjsua starts SCHED_RR at ``priority`` (0: leaves it alone).

    Owner thread only. A refusal (EPERM) or any other error is logged once and ends the
    attempts: nothing here may break the owner's loop.
    """

    def __init__(
        self,
        priority: int,
        logger: Logger,
        *,
        proc: Path = PROC,
        set_scheduler: SetScheduler = os.sched_setscheduler,
        get_scheduler: Callable[[int], int] = os.sched_getscheduler,
    ) -> None:
        self.priority = priority
        self._log = logger
        self._proc = proc
        self._set = set_scheduler
        self._get = get_scheduler
        self._tid: int | None = None
        self._next_search = 0.0
        self._given_up = False

    @property
    def tid(self) -> int | None:
        """The clock thread last given the priority."""
        return self._tid

    @property
    def given_up(self) -> bool:
        """Refused by the kernel (or failed otherwise): no more attempts in this process."""
        return self._given_up

    def poll(self, now: float) -> None:
        """Give a clock thread that started since the last poll the priority."""
        if not self.priority or self._given_up or self._still_set():
            return
        self._tid = None
        if now < self._next_search:
            return
        self._next_search = now + RESCAN_S
        try:
            self._search()
        except Exception as error:  # noqa: BLE001 - the owner's loop must go on
            self._give_up("clock_priority_failed", error=repr(error))

    def _still_set(self) -> bool:
        """The known thread still runs at our policy (one syscall, ~0.2 us). A thread id the
        kernel gave to another thread since is not ours: its policy says so."""
        if self._tid is None:
            return False
        try:
            return self._get(self._tid) & ~os.SCHED_RESET_ON_FORK == os.SCHED_RR
        except OSError:  # ended
            return False

    def _search(self) -> None:
        task = find_clock_thread(self._proc)
        if task is None:
            return
        tid = int(task.name)
        try:
            self._set(tid, POLICY, os.sched_param(self.priority))
        except ProcessLookupError:  # it ended meanwhile: the next one is looked for
            return
        except PermissionError as error:
            self._give_up(
                "clock_priority_refused", error=error.strerror, rtprio_limit=rtprio_limit()
            )
            return
        self._tid = tid
        self._log.debug("clock_priority_set", tid=tid, priority=self.priority)

    def _give_up(self, event: str, **fields: object) -> None:
        self._given_up = True
        self._log.warning(event, priority=self.priority, hint=HINT, **fields)

"""The worker pool as the API sees it: ports, session placement, and finding a session.

Sessions live in workers and their ids are made there; the pool remembers which worker owns
each session it started or saw, and asks every worker when it does not know (inbound calls
start sessions the supervisor never hears about).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxpy.config import Settings
from voxpy.core.sizing import Costs, Machine, auto_workers, check_workers
from voxpy.errors import ConfigError, VoxpyError
from voxpy.server.kamailio import free_sip_port
from voxpy.server.workers import CONTROL_ERRORS, ControlError, Worker

MIN_RTP_PORTS = 8
"Four calls, an RTP and an RTCP port each."
NO_RANGE_RTP_PORTS = 100
"Without rtp.port_range, worker i starts at rtp.port + 100 i."
OWNERS_KEPT = 10_000


class NoFreeWorker(VoxpyError):
    """Every worker is full, draining or down."""


class SessionStartFailed(VoxpyError):
    """The scenario raised while its session started."""


class WorkersNotPlaced(VoxpyError):
    """Some worker never came up at start, so its SIP port is unknown to the dispatcher."""


@dataclass(frozen=True, slots=True)
class PortPlan:
    """The public SIP port and, per worker, (SIP, first RTP, RTP range).

    A worker SIP port of 0 means the worker binds one the OS picks and reports it; the control
    APIs are unix sockets and need no port.
    """

    sip: int
    workers: list[tuple[int, int, int]]


def plan_ports(settings: Settings, workers: int | None = None) -> PortPlan:
    """Fixed ports from the config; RTP split between workers.

    ``sip.port = 0`` picks a free port for Kamailio now, which cannot report one the OS chose
    (the supervisor retries with another if it is taken before Kamailio binds it);
    ``worker_port_base = 0`` stays 0 for the workers to bind and report.
    """
    server, rtp = settings.server, settings.rtp
    n = workers if workers is not None else server.workers
    if not isinstance(n, int):
        raise ConfigError("resolve auto first (resolve_workers)", field="server.workers")
    taken: set[int] = set()

    def pick(base: int, i: int) -> int:
        if not base:
            return 0
        port = base + i
        if port in taken or port > 65535:
            raise ConfigError(f"port {port} is given to two listeners", field="server")
        taken.add(port)
        return port

    sip = pick(settings.sip.port, 0) or free_sip_port(settings)
    sip_ports = [pick(server.worker_port_base, i) for i in range(n)]
    if rtp.port_range:
        share = rtp.port_range // n // 2 * 2  # even: RTP on even ports, RTCP next to it
        if share < MIN_RTP_PORTS:
            raise ConfigError(
                f"{rtp.port_range} ports cannot be split between {n} workers "
                f"(each needs {MIN_RTP_PORTS})",
                field="rtp.port_range",
            )
    else:
        share = NO_RANGE_RTP_PORTS  # no range: pjsua scans upwards from each worker's first
    plan = [(sip_ports[i], rtp.port + i * share, share if rtp.port_range else 0) for i in range(n)]
    return PortPlan(sip, plan)


def machine(settings: Settings) -> Machine:
    """This machine's figures for :mod:`voxpy.core.sizing`, after raising the soft limit of
    open files to the hard one (each worker costs the supervisor ~16 descriptors)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
    base, rtp = settings.server.worker_port_base, settings.rtp
    return Machine(
        cores=len(os.sched_getaffinity(0)),
        memory_available=_mem_available(),
        open_files=soft,
        rtp_ports=rtp.port_range or 65536 - rtp.port,
        rtp_ports_per_worker=MIN_RTP_PORTS if rtp.port_range else NO_RANGE_RTP_PORTS,
        sip_ports=65536 - base if base else 0,
    )


def _mem_available() -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")


def resolve_workers(settings: Settings) -> tuple[int, dict[str, Any]]:
    """``server.workers`` as a number (``auto`` sized here), and what decided it (logged);
    raises ConfigError for more workers than the ports or descriptors allow."""
    facts = machine(settings)
    wanted = settings.server.workers
    sizing = auto_workers(facts, Costs.for_bridge(settings.bridge_rate()))  # 8 kHz costs less
    why: dict[str, Any] = {
        "cores": facts.cores,
        "memory_available_mb": facts.memory_available >> 20,
        "open_files": facts.open_files,
        "most": sizing.most,
    }
    if wanted == "auto":
        why |= {"by_cpu": sizing.by_cpu, "by_memory": sizing.by_memory,
                "limited_by": sizing.limited_by}  # fmt: skip
        return sizing.workers, {"auto": True, **why}
    check_workers(wanted, facts)
    return wanted, {"auto": False, **why}


async def wait_placed(workers: list[Worker], stop: asyncio.Event, stall: float) -> bool:
    """Wait until every worker's SIP port is known (its first ready; a crash is retried by
    the worker's own loop). False if ``stop`` came first; raises WorkersNotPlaced when no
    worker came up for ``stall`` seconds: a big pool starting slowly but steadily (starts
    are bounded, :func:`~voxpy.server.spawn.start_slots`) never fails for its size."""
    pending = [w for w in workers if not w.placed.is_set()]
    while pending:
        waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(stop.wait())]
        waits += [asyncio.ensure_future(w.placed.wait()) for w in pending]
        done, _ = await asyncio.wait(waits, timeout=stall, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
        if stop.is_set():
            return False
        if not done:
            missing = [w.index for w in pending]
            raise WorkersNotPlaced(
                f"worker(s) {missing} did not come up, none for {stall:.0f} s (see their log)"
            )
        pending = [w for w in pending if not w.placed.is_set()]
    return True


def _takes_calls(worker: Worker, status: dict[str, Any]) -> bool:
    """Whether a worker with this status has a free call slot and is not draining."""
    draining = worker.draining or bool(status.get("draining"))
    return not draining and int(status["live_calls"]) < int(status["max_calls"])


class Pool:
    """The workers, and which of them owns which session."""

    def __init__(self, workers: list[Worker]) -> None:
        self.workers = workers
        self._owners: OrderedDict[str, Worker] = OrderedDict()

    def _remember(self, session_id: str, worker: Worker) -> None:
        self._owners[session_id] = worker
        self._owners.move_to_end(session_id)
        while len(self._owners) > OWNERS_KEPT:
            self._owners.popitem(last=False)

    async def _statuses(self, bound: float | None = None) -> list[tuple[Worker, dict[str, Any]]]:
        """Each ready worker's status; one that fails (or takes over ``bound`` seconds) is left
        out."""
        ready = [w for w in self.workers if w.ready]

        async def ask(worker: Worker) -> dict[str, Any]:
            return await asyncio.wait_for(worker.status(), bound)

        results = await asyncio.gather(*(ask(w) for w in ready), return_exceptions=True)
        return [(w, r) for w, r in zip(ready, results, strict=True) if isinstance(r, dict)]

    async def live_calls(self) -> int:
        return sum(int(status["live_calls"]) for _, status in await self._statuses())

    async def free_slots(self, bound: float) -> int:
        """Free call slots over the workers that take sessions (:func:`_takes_calls`); a
        worker that does not answer within ``bound`` seconds counts none."""
        free = 0
        for worker, status in await self._statuses(bound):
            with contextlib.suppress(KeyError, ValueError, TypeError):  # a malformed status: 0
                if _takes_calls(worker, status):
                    free += int(status["max_calls"]) - int(status["live_calls"])
        return free

    async def start_session(self, custom_data: str | None) -> tuple[Worker, str]:
        """Start a session on the worker with the fewest live legs that has a free one (ties:
        the fewest sessions, then the lowest index)."""
        candidates = sorted(
            (
                (int(st["live_calls"]), int(st["sessions"]), w.index, w)
                for w, st in await self._statuses()
                if _takes_calls(w, st)
            ),
            key=lambda item: item[:3],
        )
        for *_, worker in candidates:
            try:
                data = await worker.call_json("POST", "/sessions", {"custom_data": custom_data})
            except ControlError as exc:
                if exc.status == 500:
                    raise SessionStartFailed(str(exc)) from None
                continue  # it began draining meanwhile: try the next one
            except CONTROL_ERRORS:
                continue  # it died meanwhile
            session_id = str(data["session_id"])
            self._remember(session_id, worker)
            return worker, session_id
        raise NoFreeWorker("no worker has a free call slot")

    async def find(self, session_id: str) -> Worker | None:
        """The worker running ``session_id``, or None."""
        known = self._owners.get(session_id)
        if known is not None and known.ready:
            return known
        ready = [w for w in self.workers if w.ready]

        async def probe(worker: Worker) -> Worker | None:
            try:
                status, _, _ = await worker.call("GET", f"/sessions/{session_id}")
            except CONTROL_ERRORS:
                return None
            return worker if status == 200 else None

        for found in await asyncio.gather(*(probe(w) for w in ready)):
            if found is not None:
                self._remember(session_id, found)
                return found
        self._owners.pop(session_id, None)
        return None

    async def sessions(self) -> list[dict[str, Any]]:
        """Every session of every worker, running or finished (results still kept), each
        with its ``worker`` index."""
        ready = [w for w in self.workers if w.ready]
        lists = await asyncio.gather(
            *(w.call_json("GET", "/sessions") for w in ready), return_exceptions=True
        )
        found: list[dict[str, Any]] = []
        for worker, result in zip(ready, lists, strict=True):
            if not isinstance(result, dict):
                continue
            for session in result.get("sessions", []):
                self._remember(str(session["session_id"]), worker)
                found.append({**session, "worker": worker.index})
        return found

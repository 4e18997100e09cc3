"""How many workers ``voxpy serve`` may run here, and how many ``--workers auto`` starts.

Pure: the machine's figures come in (cores, available memory, file-descriptor limit, port
ranges), a :class:`Sizing` goes out; the server reads /proc and the limits. The costs are the
ones measured for issue 15 (sipp callers, 40 s G.711 calls with a looped prompt, 2 cores):
a call costs 0.42 % of a core whatever the pool size, an idle worker 0.4-0.6 %, a worker holds
4 calls and, forked from the zygote, 16 MB PSS at most. A quarter of the machine is kept free
(Kamailio, the supervisor, media timing falls late first when the CPU nears saturation).
"""

from __future__ import annotations

from dataclasses import dataclass

from voxpy.core.bridge_rate import NARROWBAND
from voxpy.errors import ConfigError

MIB = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Machine:
    cores: int
    memory_available: int
    "Bytes (MemAvailable)."
    open_files: int
    "The supervisor's RLIMIT_NOFILE after raising the soft limit to the hard one."
    rtp_ports: int
    """The RTP ports to split: rtp.port_range, or all above rtp.port when there is no range
    (then each worker takes :attr:`rtp_ports_per_worker` and scans upwards from its first)."""
    rtp_ports_per_worker: int = 8
    "Four calls, an RTP and an RTCP port each (100 when there is no range)."
    sip_ports: int
    "Worker SIP ports left above server.worker_port_base; 0: the OS picks (no bound)."


@dataclass(frozen=True, slots=True, kw_only=True)
class Costs:
    cpu_per_call: float = 0.0044
    """Share of one core per call on a 16 kHz bridge (the default codecs'). bench/scale.py on
    an 8 kHz bridge: 0.24-0.36 %, 0.30 % at 500 calls (a worker's own share included);
    bench/bridge_rate.py: 16 kHz costs ~1.45x that (0.51 vs 0.35 % in one run)."""
    cpu_idle_worker: float = 0.0015
    "Share of one core per idle worker (bench/idle.py: 0.15 %, the owner's long poll)."
    calls_per_worker: int = 4
    pss_per_worker: int = 16 * MIB
    headroom: float = 0.25
    fds_per_worker: int = 16
    """The supervisor's descriptors per worker: stderr, ready pipe, pidfd, zygote connection,
    control and WebSocket connections (aiohttp), with room."""
    fds_reserved: int = 256
    "Kamailio's RPC, the API's clients, logs."
    rtp_ports_per_worker: int = 8
    "The least RTP ports a worker needs: four calls, an RTP and an RTCP port each."


    @classmethod
    def for_bridge(cls, rate: int) -> Costs:
        """The costs at a bridge clock of ``rate`` Hz: 8 kHz resamples nothing for G.711."""
        return cls(cpu_per_call=0.0030) if rate <= NARROWBAND else cls()


@dataclass(frozen=True, slots=True, kw_only=True)
class Sizing:
    workers: int
    by_cpu: int
    by_memory: int
    most: int
    "The most this machine can run at all (ports and file descriptors)."
    limited_by: str


def most_workers(machine: Machine, costs: Costs) -> tuple[int, str]:
    """The largest pool the ports and descriptors allow, and what bounds it."""
    bounds = [
        ((machine.open_files - costs.fds_reserved) // costs.fds_per_worker, "open_files"),
    ]
    if machine.rtp_ports:
        ranged = machine.rtp_ports_per_worker <= costs.rtp_ports_per_worker
        bounds.append(
            (machine.rtp_ports // machine.rtp_ports_per_worker,
             "rtp.port_range" if ranged else "rtp.port (no rtp.port_range)")
        )  # fmt: skip
    if machine.sip_ports:
        bounds.append((machine.sip_ports, "server.worker_port_base"))
    most, why = min(bounds)
    return max(most, 0), why


def auto_workers(machine: Machine, costs: Costs | None = None) -> Sizing:
    """``--workers auto``: as many workers as the CPU and memory hold full, with headroom."""
    costs = costs or Costs()
    usable = 1.0 - costs.headroom
    full = costs.cpu_idle_worker + costs.calls_per_worker * costs.cpu_per_call
    by_cpu = int(machine.cores * usable / full)
    by_memory = int(machine.memory_available * usable / costs.pss_per_worker)
    most, bound = most_workers(machine, costs)
    workers, limited_by = min((by_cpu, "cpu"), (by_memory, "memory"), (most, bound))
    return Sizing(
        workers=max(workers, 1),
        by_cpu=by_cpu,
        by_memory=by_memory,
        most=most,
        limited_by=limited_by,
    )


def check_workers(workers: int, machine: Machine, costs: Costs | None = None) -> None:
    """Raise ConfigError when an explicit ``server.workers`` cannot run on this machine."""
    most, bound = most_workers(machine, costs or Costs())
    if workers > most:
        raise ConfigError(
            f"{workers} workers cannot run here: {bound} allows at most {most} "
            "(raise it, or use --workers auto)",
            field="server.workers",
        )


SHM_BASE_MB = 32
SHM_PER_CALL_KB = 16
"""Kamailio shared memory per concurrent call: its transaction, dialog-less load count and
dispatcher entry are a few kB (an estimate with a margin, not measured): 64 MB, the default,
covers ~2000 calls; bigger pools get more."""


def kamailio_shm_mb(configured: int, workers: int, calls_per_worker: int = 4) -> int:
    """Kamailio's ``-m``: the configured size, or more when the pool's calls need it."""
    needed = SHM_BASE_MB + workers * calls_per_worker * SHM_PER_CALL_KB // 1024
    return max(configured, needed)

"""``--workers auto`` and the bound on any N: pure arithmetic on the machine's figures."""

from __future__ import annotations

import pytest

from voxpy.core.sizing import (
    MIB,
    Costs,
    Machine,
    auto_workers,
    check_workers,
    kamailio_shm_mb,
    most_workers,
)
from voxpy.errors import ConfigError

GIB = 1024 * MIB


def machine(**changes: int) -> Machine:
    figures = {
        "cores": 2,
        "memory_available": 22 * GIB,
        "open_files": 20000,
        "rtp_ports": 0,
        "sip_ports": 0,
    }
    return Machine(**(figures | changes))


class TestAuto:
    def test_two_cores_are_bound_by_cpu(self) -> None:
        # 2 cores x 0.75 / (0.15 % idle + 4 x 0.44 %) = 78 workers, 312 calls (16 kHz bridge).
        sizing = auto_workers(machine())
        assert (sizing.workers, sizing.limited_by) == (78, "cpu")
        assert sizing.by_memory == int(22 * GIB * 0.75 / (16 * MIB))

    def test_little_memory_bounds_it(self) -> None:
        sizing = auto_workers(machine(cores=32, memory_available=1 * GIB))
        assert (sizing.workers, sizing.limited_by) == (48, "memory")

    def test_scales_with_cores(self) -> None:
        assert auto_workers(machine(cores=8)).workers == int(8 * 0.75 / (0.0015 + 4 * 0.0044))

    def test_an_8khz_bridge_holds_more(self) -> None:
        # 2 x 0.75 / (0.15 % + 4 x 0.30 %) = 111 workers: bench/scale.py kept 400 calls on time.
        assert auto_workers(machine(), Costs.for_bridge(8000)).workers == 111
        assert Costs.for_bridge(16000) == Costs() == Costs.for_bridge(48000)

    def test_port_range_bounds_it(self) -> None:
        sizing = auto_workers(machine(rtp_ports=200))
        assert (sizing.workers, sizing.limited_by, sizing.most) == (25, "rtp.port_range", 25)

    def test_at_least_one(self) -> None:
        assert auto_workers(machine(memory_available=1 * MIB)).workers == 1

    def test_costs_are_parameters(self) -> None:
        cheap = Costs(cpu_per_call=0.001, cpu_idle_worker=0.0)
        assert auto_workers(machine(), cheap).by_cpu == 375


class TestBound:
    def test_descriptors_bound_any_pool(self) -> None:
        # 1024 open files minus 256 reserved, 16 per worker: 48.
        assert most_workers(machine(open_files=1024), Costs()) == (48, "open_files")

    def test_no_rtp_range_gives_each_worker_100_ports(self) -> None:
        figures = machine(rtp_ports=65536 - 60000, rtp_ports_per_worker=100)
        assert most_workers(figures, Costs()) == (55, "rtp.port (no rtp.port_range)")

    def test_fixed_sip_ports(self) -> None:
        assert most_workers(machine(sip_ports=10), Costs()) == (10, "server.worker_port_base")

    def test_no_fixed_cap_of_64(self) -> None:
        check_workers(500, machine())

    def test_too_many_is_refused_naming_the_bound(self) -> None:
        with pytest.raises(ConfigError, match=r"server.workers: 30 workers cannot run here: "
                           r"rtp.port_range allows at most 25"):  # fmt: skip
            check_workers(30, machine(rtp_ports=200))


class TestKamailioShm:
    def test_the_default_covers_a_few_hundred_workers(self) -> None:
        assert kamailio_shm_mb(64, 100) == 64
        assert kamailio_shm_mb(64, 500) == 64

    def test_big_pools_get_more(self) -> None:
        assert kamailio_shm_mb(64, 1000) == 32 + 1000 * 4 * 16 // 1024
        assert kamailio_shm_mb(256, 1000) == 256

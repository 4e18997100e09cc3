"""The overload part of a worker's /status and of the supervisor's Prometheus text."""

from __future__ import annotations

from types import SimpleNamespace

from voxpy.core.overload import OverloadGate, OverloadThresholds, Sample
from voxpy.server.metrics import WorkerSample, exposition, overload_status


def status(overload: dict[str, object] | None) -> dict[str, object]:
    counters = {"calls_started_total": 0, "calls_failed_total": {}, "handler_errors_total": 0}
    found: dict[str, object] = {"live_calls": 0, "sessions": 0, "counters": counters}
    if overload is not None:
        found["overload"] = overload
    return found


def test_exposition_counts_refusals_by_reason_and_the_gauge() -> None:
    hot = {"enabled": True, "overloaded": True, "refused_total": {"overload_media": 3}}
    samples = [
        WorkerSample(index=0, up=True, restarts=0, status=status(hot)),
        WorkerSample(index=1, up=True, restarts=0, status=status(None)),  # an older worker
        WorkerSample(index=2, up=False, restarts=1, status=None),
    ]
    text = exposition(samples, kamailio_up=True)
    assert "# TYPE voxpy_invites_refused_total counter" in text
    assert 'voxpy_invites_refused_total{worker="0",reason="overload_media"} 3' in text
    assert 'worker="1",reason=' not in text
    assert "# TYPE voxpy_overloaded gauge" in text
    assert 'voxpy_overloaded{worker="0"} 1' in text
    assert 'voxpy_overloaded{worker="1"} 0' in text
    assert 'voxpy_overloaded{worker="2"}' not in text  # not answering: no value, not a 0


def test_status_reads_the_gate_through_a_wrapping_backend() -> None:
    gate = OverloadGate(OverloadThresholds(cpu_enter=0.0, cpu_leave=0.0, window_s=0.0))
    gate.feed(Sample(start=0.0, end=1.0, cpu=0.5))
    gate.decide()
    tap = SimpleNamespace(inner=SimpleNamespace(overload=gate))
    assert overload_status(tap) == {
        "enabled": True,
        "overloaded": True,
        "refused_total": {"overload_cpu": 1},
    }
    off = {"enabled": False, "overloaded": False, "refused_total": {}}
    assert overload_status(SimpleNamespace(overload=None)) == off
    assert overload_status(object()) == off

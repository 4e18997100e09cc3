"""The overload gate: hysteresis over sampled time, windows, refusals counted, disabled."""

from __future__ import annotations

import pytest

from voxpy.core.overload import OverloadGate, OverloadThresholds, Reason, Sample
from voxpy.errors import InvalidArgumentError

T = OverloadThresholds(
    cpu_enter=0.9, cpu_leave=0.7, media_enter=0.1, media_leave=0.05, window_s=2.0
)


def feed(gate: OverloadGate, *values: tuple[float, float | None], step: float = 0.5) -> None:
    """Consecutive samples of ``step`` seconds each: (cpu, media)."""
    start = gate.last.end if gate.last is not None else 0.0
    for cpu, media in values:
        gate.feed(Sample(start=start, end=start + step, cpu=cpu, media=media))
        start += step


def test_admits_until_the_cpu_stays_high_for_the_window() -> None:
    gate = OverloadGate(T)
    feed(gate, *[(0.95, 0.0)] * 3)  # 1.5 s above: not yet
    assert gate.decide().admitted
    feed(gate, (0.95, 0.0))  # 2.0 s
    decision = gate.decide()
    assert not decision.admitted
    assert decision.reason is Reason.CPU and decision.retry_after == T.retry_after
    assert decision.why() == "overload_cpu (cpu 0.95, media clock waiting 0.000)"
    assert gate.snapshot() == {
        "enabled": True,
        "overloaded": True,
        "refused_total": {"overload_cpu": 1},
    }


def test_a_dip_restarts_the_window() -> None:
    gate = OverloadGate(T)
    feed(gate, (0.95, None), (0.95, None), (0.95, None), (0.5, None), (0.95, None))
    assert not gate.overloaded
    feed(gate, (0.95, None), (0.95, None), (0.95, None))
    assert gate.overloaded


def test_leaves_only_below_the_lower_threshold_for_the_window() -> None:
    gate = OverloadGate(T)
    feed(gate, (1.0, None), step=2.0)
    assert gate.overloaded
    feed(gate, *[(0.8, None)] * 10)  # between leave and enter: stays overloaded, no flapping
    assert gate.overloaded
    feed(gate, (0.6, None), (0.6, None), (0.6, None))
    assert gate.overloaded
    feed(gate, (0.6, None))
    assert not gate.overloaded and gate.decide().admitted


def test_media_lateness_enters_on_its_own_and_is_the_reason() -> None:
    gate = OverloadGate(T)
    feed(gate, (0.3, 0.2), step=2.5)
    decision = gate.decide()
    assert not decision.admitted and decision.reason is Reason.MEDIA
    assert gate.snapshot()["refused_total"] == {"overload_media": 1}


def test_one_long_calm_sample_after_a_quiet_spell_admits() -> None:
    gate = OverloadGate(T)
    feed(gate, (0.05, 0.0), step=600.0)
    assert gate.decide().admitted


def test_zero_window_and_zero_threshold_refuse_at_once() -> None:
    gate = OverloadGate(OverloadThresholds(cpu_enter=0.0, cpu_leave=0.0, window_s=0.0))
    assert gate.decide().admitted  # no sample yet: nothing known, admitted
    gate.feed(Sample(start=1.0, end=1.0, cpu=0.0))
    assert not gate.decide().admitted


def test_due_respects_the_minimum_interval() -> None:
    gate = OverloadGate(OverloadThresholds(min_interval_s=0.25))
    assert gate.due(5.0)
    gate.feed(Sample(start=4.0, end=5.0, cpu=0.1))
    assert not gate.due(5.2)
    assert gate.due(5.25)


def test_disabled_admits_and_asks_for_no_samples() -> None:
    gate = OverloadGate(OverloadThresholds(enabled=False, cpu_enter=0.0, cpu_leave=0.0))
    assert not gate.due(1.0)
    gate.feed(Sample(start=0.0, end=10.0, cpu=1.0))
    assert not gate.overloaded and gate.decide().admitted
    assert gate.snapshot() == {"enabled": False, "overloaded": False, "refused_total": {}}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cpu_enter": 0.5, "cpu_leave": 0.6},
        {"media_leave": -0.1},
        {"window_s": -1.0},
        {"retry_after": 0},
    ],
)
def test_bad_thresholds_raise(kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidArgumentError):
        OverloadThresholds(**kwargs)  # type: ignore[arg-type]


def test_samples_going_back_in_time_raise_and_change_nothing() -> None:
    gate = OverloadGate(T)
    feed(gate, (0.95, None))
    last = gate.last
    with pytest.raises(InvalidArgumentError):
        gate.feed(Sample(start=0.0, end=0.1, cpu=1.0))
    with pytest.raises(InvalidArgumentError):
        gate.feed(Sample(start=2.0, end=1.0, cpu=1.0))
    assert gate.last is last


def test_media_overload_ends_when_the_clock_thread_is_gone() -> None:
    """A worker in media overload refuses every call; once its calls end pjsua stops the clock
    thread and samples carry no media figure. That must read as 'nothing late', or the worker
    would refuse for good (no clock thread ever comes back to report it is on time)."""
    gate = OverloadGate(T)
    feed(gate, (0.3, 0.2), step=3.0)
    assert not gate.decide().admitted
    feed(gate, *[(0.1, None)] * 4)  # 2 s with no clock thread
    assert gate.decide().admitted

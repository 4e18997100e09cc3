"""The slot guards' pure decisions: RTP silence with hold, the duration limit, poll pacing."""

from __future__ import annotations

import pytest

from voxpy.core.guards import EndCause, SilenceWatch, max_duration_due, rx_poll_interval
from voxpy.core.outcomes import LegDisconnected, Send
from voxpy.core.signals import Answered, Ended, RxReport
from voxpy.core.state import Act, CallMachine, Limits


def test_silence_counts_from_connect_when_nothing_ever_arrives() -> None:
    watch = SilenceWatch(timeout=10, started_at=100)
    assert not watch.feed(105, 0, held=False)
    assert watch.feed(110, 0, held=False)


def test_packets_restart_the_count() -> None:
    watch = SilenceWatch(timeout=10, started_at=0)
    assert not watch.feed(5, 250, held=False)
    assert not watch.feed(14, 250, held=False)
    assert watch.feed(15, 250, held=False)


def test_hold_pins_the_clock_and_unhold_restarts_it() -> None:
    watch = SilenceWatch(timeout=10, started_at=0)
    watch.feed(1, 50, held=False)
    for t in (5, 20, 60):
        assert not watch.feed(t, 50, held=True)  # silent, but on hold
    assert not watch.feed(69, 50, held=False)  # 9 s after the last held reading
    assert watch.feed(70, 50, held=False)


def test_zero_disables_the_watch() -> None:
    watch = SilenceWatch(timeout=0, started_at=0)
    assert not watch.enabled
    assert not watch.feed(10_000, 0, held=False)


def test_max_duration() -> None:
    assert max_duration_due(50.0, 14400) == 14450.0
    assert max_duration_due(50.0, 0) is None


@pytest.mark.parametrize(("timeout", "interval"), [(60, 5.0), (8, 2.0), (2, 0.5), (0.4, 0.5)])
def test_poll_interval(timeout: float, interval: float) -> None:
    assert rx_poll_interval(timeout) == interval


def test_cause_is_the_disconnected_reason() -> None:
    machine = CallMachine.inbound("c", 0)
    machine.command(Act.ANSWER)
    machine.handle(Answered(call_id="c"), 1)
    machine.hangup(cause=EndCause.RTP_TIMEOUT)
    (event,) = [
        e
        for e in machine.handle(Ended(call_id="c", code=200, reason="Normal call clearing"), 70)
        if isinstance(e, LegDisconnected)
    ]
    assert event.reason == "rtp_timeout"
    assert event.duration == 69


def test_machine_polls_rx_and_hangs_up_on_silence() -> None:
    """The machine owns the watch: it asks for counters, then ends a silent leg with BYE."""
    machine = CallMachine.inbound("c", 0, Limits(rtp_timeout=10))
    machine.command(Act.ANSWER)
    machine.handle(Answered(call_id="c"), 0)
    assert machine.next_deadline() == 2.5
    (poll,) = machine.handle_deadline(2.5)
    assert type(poll.command).__name__ == "ReportRx"
    assert machine.handle(RxReport(call_id="c", packets_received=0), 9) == []
    (bye,) = machine.handle(RxReport(call_id="c", packets_received=0), 10)
    assert isinstance(bye, Send) and type(bye.command).__name__ == "Bye"
    assert bye.why == "call_guard_hangup" and bye.detail["cause"] == "rtp_timeout"
    assert machine.next_deadline() is None


def test_machine_ends_a_call_at_max_duration() -> None:
    machine = CallMachine.outbound("c", 0, Limits(max_duration=100))
    machine.handle(Answered(call_id="c"), 5)
    assert machine.next_deadline() == 105
    (bye,) = machine.handle_deadline(105)
    assert bye.detail == {"cause": "max_duration", "limit": 100}
    assert machine.end_cause == "max_duration"

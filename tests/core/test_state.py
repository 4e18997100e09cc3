"""The call state table: legal paths, misuse that changes nothing, payloads from the core."""

from __future__ import annotations

import dataclasses

import pytest

from voxpy.core import commands as cmd
from voxpy.core.headers import Headers
from voxpy.core.outcomes import LegEvent, Outcome
from voxpy.core.signals import Answered, Ended, Progress, Signal
from voxpy.core.state import TRANSITIONS, Act, CallMachine, CallState, Limits
from voxpy.errors import InvalidStateError

SIGNALS: dict[type[Signal], Signal] = {
    Progress: Progress(call_id="c", code=180),
    Answered: Answered(call_id="c"),
    Ended: Ended(call_id="c", code=200),
}


def names(outs: list[Outcome]) -> list[str]:
    return [str(e.name) for e in outs if isinstance(e, LegEvent)]


def fields(event: Outcome) -> dict[str, object]:
    return {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}


def ring(code: int) -> Progress:
    return Progress(call_id="c", code=code)


def ended(code: int, reason: str = "", headers: Headers | None = None) -> Ended:
    return Ended(call_id="c", code=code, reason=reason, headers=headers or Headers())


class TestInbound:
    """Inbound legs: alerting -> answered -> connected -> ended."""

    def test_answer_then_bye(self) -> None:
        m = CallMachine.inbound("c", now=10.0)
        m.command(Act.ANSWER)
        assert (m.vox_state, m.status) == ("ALERTING", "connecting")
        assert names(m.handle(Answered(call_id="c"), now=11.0)) == [
            "Call.StateChanged",
            "Call.Connected",
        ]
        out = m.handle(ended(200, "Normal"), now=13.5)
        assert names(out) == ["Call.StateChanged", "Call.Disconnected"]
        assert fields(out[1]) == {
            "code": 200,
            "reason": "Normal",
            "duration": 2.5,
            "headers": Headers(),
        }
        assert (m.vox_state, m.status, m.live) == ("TERMINATED", "closed", False)

    def test_early_media_fires_audio_started_once(self) -> None:
        m = CallMachine.inbound("c", now=0)
        m.command(Act.EARLY_MEDIA)
        assert names(m.handle(ring(183), now=0)) == ["Call.AudioStarted"]
        assert m.handle(ring(183), now=0) == []

    def test_reject_ends_with_disconnected(self) -> None:
        m = CallMachine.inbound("c", now=0)
        m.command(Act.REJECT)
        out = m.handle(ended(486), now=1)
        assert names(out) == ["Call.StateChanged", "Call.Disconnected"]
        assert fields(out[1])["duration"] == 0.0

    def test_no_answer_rejects_with_408(self) -> None:
        m = CallMachine.inbound("c", now=5, limits=Limits(no_answer=60))
        assert m.next_deadline() == 65
        assert m.handle_deadline(64) == []
        (send,) = m.handle_deadline(65)
        assert send.command == cmd.Reject(call_id="c", code=408)
        assert send.why == "call_timeout" and m.next_deadline() is None


class TestOutbound:
    """Outbound legs fail with Failed, and a local cancel reports our own code."""

    def test_ring_answer(self) -> None:
        m = CallMachine.outbound("c", now=0)
        assert names(m.handle(ring(180), now=1)) == ["Call.Ringing"]
        assert names(m.handle(Answered(call_id="c"), now=2)) == [
            "Call.StateChanged",
            "Call.AudioStarted",
            "Call.Connected",
        ]

    def test_busy(self) -> None:
        m = CallMachine.outbound("c", now=0)
        out = m.handle(ended(486, "Busy Here"), now=1)
        assert names(out) == ["Call.StateChanged", "Call.Failed"]
        assert fields(out[1])["code"] == 486

    def test_timeout_reports_local_code(self) -> None:
        m = CallMachine.outbound("c", now=0, limits=Limits(dial=60))
        (send,) = m.handle_deadline(60)
        assert send.command == cmd.Cancel(call_id="c", code=408)
        out = m.handle(ended(487), now=60)
        assert fields(out[1]) == {"code": 408, "reason": "Request Timeout", "headers": Headers()}


class TestHangupRule:
    """One rule: which SIP action a hangup means in each state."""

    @pytest.mark.parametrize(
        ("machine", "expected"),
        [
            (CallMachine.inbound("c", 0), cmd.Reject(call_id="c", code=603)),
            (CallMachine.outbound("c", 0), cmd.Cancel(call_id="c", code=487)),
        ],
    )
    def test_unanswered(self, machine: CallMachine, expected: cmd.Command) -> None:
        assert machine.hangup() == expected

    def test_answering_and_connected_say_bye(self) -> None:
        m = CallMachine.inbound("c", 0)
        m.command(Act.ANSWER)
        assert m.hangup() == cmd.Bye(call_id="c")
        m = CallMachine.outbound("c", 0)
        m.handle(Answered(call_id="c"), 1)
        assert m.hangup(Headers({"X-A": "1"})) == cmd.Bye(
            call_id="c", headers=Headers({"X-A": "1"})
        )
        with pytest.raises(InvalidStateError):
            m.hangup()


TRIGGERS: list[Act | type[Signal]] = [*Act, *SIGNALS]


@pytest.mark.parametrize("state", list(CallState))
@pytest.mark.parametrize("trigger", TRIGGERS)
def test_misuse_raises_and_changes_nothing(state: CallState, trigger: Act | type[Signal]) -> None:
    """Every (state, trigger) pair missing from the table raises and changes nothing."""
    if trigger in TRANSITIONS[state]:
        return
    m = CallMachine("c", incoming=True, state=state, created_at=0)
    before = (m.state, m.connected_at, m.audio_started, m.local_code)
    with pytest.raises(InvalidStateError, match=m.vox_state):
        if isinstance(trigger, Act):
            m.command(trigger)
        else:
            m.handle(SIGNALS[trigger], now=1)
    assert (m.state, m.connected_at, m.audio_started, m.local_code) == before


def test_every_state_can_end_except_ended() -> None:
    """The far end may hang up at any time: Ended is accepted in every live state."""
    for state, row in TRANSITIONS.items():
        assert (Ended in row) is (state is not CallState.ENDED)
        assert all(target in CallState for target, _ in row.values())
        assert all(issubclass(e, LegEvent) for _, emitted in row.values() for e in emitted)

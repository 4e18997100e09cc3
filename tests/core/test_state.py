"""The call state table: legal paths, misuse that changes nothing, payloads from the core."""

from __future__ import annotations

import pytest

from voxpy.core.events import CallEvents as E
from voxpy.core.headers import Headers
from voxpy.core.state import TRANSITIONS, CallMachine, CallState, Input
from voxpy.errors import InvalidStateError

SIGNALS = {Input.RINGING, Input.MEDIA, Input.ANSWERED, Input.ENDED}


def names(emits: list) -> list[str]:
    return [str(e.name) for e in emits]


class TestInbound:
    """Inbound legs: alerting -> answered -> connected -> ended."""

    def test_answer_then_bye(self) -> None:
        m = CallMachine.inbound(now=10.0)
        m.command(Input.ANSWER)
        assert (m.vox_state, m.status) == ("ALERTING", "connecting")
        assert names(m.receive(Input.ANSWERED, now=11.0)) == ["Call.StateChanged", "Call.Connected"]
        out = m.receive(Input.ENDED, now=13.5, code=200, reason="Normal", headers=Headers())
        assert names(out) == ["Call.StateChanged", "Call.Disconnected"]
        assert out[1].fields == {
            "code": 200,
            "reason": "Normal",
            "duration": 2.5,
            "headers": Headers(),
        }
        assert (m.vox_state, m.status, m.live) == ("TERMINATED", "closed", False)

    def test_early_media_fires_audio_started_once(self) -> None:
        m = CallMachine.inbound(now=0)
        m.command(Input.EARLY_MEDIA)
        assert names(m.receive(Input.MEDIA, now=0)) == ["Call.AudioStarted"]
        assert m.receive(Input.MEDIA, now=0) == []

    def test_reject_ends_with_disconnected(self) -> None:
        m = CallMachine.inbound(now=0)
        m.command(Input.REJECT)
        out = m.receive(Input.ENDED, now=1, code=486)
        assert names(out) == ["Call.StateChanged", "Call.Disconnected"]
        assert out[1].fields["duration"] == 0.0


class TestOutbound:
    """Outbound legs fail with Failed, and a local cancel reports our own code."""

    def test_ring_answer(self) -> None:
        m = CallMachine.outbound(now=0)
        assert names(m.receive(Input.RINGING, now=1)) == ["Call.Ringing"]
        assert names(m.receive(Input.ANSWERED, now=2)) == [
            "Call.StateChanged",
            "Call.AudioStarted",
            "Call.Connected",
        ]

    def test_busy(self) -> None:
        m = CallMachine.outbound(now=0)
        out = m.receive(Input.ENDED, now=1, code=486, reason="Busy Here")
        assert names(out) == ["Call.StateChanged", "Call.Failed"]
        assert out[1].fields["code"] == 486

    def test_timeout_reports_local_code(self) -> None:
        m = CallMachine.outbound(now=0)
        m.command(Input.HANGUP, code=408)
        out = m.receive(Input.ENDED, now=60, code=487)
        assert out[1].fields == {"code": 408, "reason": "Request Timeout", "headers": None}


@pytest.mark.parametrize("state", list(CallState))
@pytest.mark.parametrize("inp", list(Input))
def test_misuse_raises_and_changes_nothing(state: CallState, inp: Input) -> None:
    """Every (state, input) pair missing from the table raises and leaves the machine as it was."""
    if inp in TRANSITIONS[state]:
        return
    m = CallMachine(incoming=True, state=state, created_at=0)
    before = (m.state, m.connected_at, m.audio_started, m.local_code)
    with pytest.raises(InvalidStateError, match=m.vox_state):
        if inp in SIGNALS:
            m.receive(inp, now=1, code=200)
        else:
            m.command(inp)
    assert (m.state, m.connected_at, m.audio_started, m.local_code) == before


def test_every_state_can_end_except_ended() -> None:
    """The far end may hang up at any time: ENDED is accepted in every live state."""
    for state, row in TRANSITIONS.items():
        assert (Input.ENDED in row) is (state is not CallState.ENDED)
        assert all(target in CallState for target, _ in row.values())
        assert all(isinstance(name, E) for _, emitted in row.values() for name in emitted)

"""The call-leg state machine. Every call-state decision lives in this file, in one table.

Inputs are the scenario's commands (answer, hangup, ...) and the backend's signals (ringing,
answered, ended). ``TRANSITIONS[state][input]`` gives the next state and the events to emit; a
missing entry is misuse (commands) or a confused peer (signals) and raises
:class:`~voxpy.errors.InvalidStateError`, leaving the machine unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from voxpy.core.events import CallEvents
from voxpy.errors import InvalidStateError


class CallState(Enum):
    """Internal leg states; ``vox_state`` and ``status`` map them to VoxEngine and Twilio names."""

    INCOMING = "incoming"  # inbound INVITE, no final response yet
    ANSWERING = "answering"  # inbound, 200 OK sent, waiting for the ACK
    REJECTING = "rejecting"  # inbound, final error response sent
    DIALING = "dialing"  # outbound INVITE sent
    EARLY = "early"  # outbound, a provisional response arrived
    CANCELLING = "cancelling"  # outbound, CANCEL sent before an answer
    CONNECTED = "connected"
    HANGING_UP = "hanging_up"  # BYE sent
    ENDED = "ended"


class Input(Enum):
    """What can happen to a leg: commands from the scenario, then signals from the backend."""

    RING = "ring()"
    EARLY_MEDIA = "start_early_media()"
    ANSWER = "answer()"
    REJECT = "reject()"
    HANGUP = "hangup()"
    RINGING = "18x received"
    MEDIA = "183 received"
    ANSWERED = "answered"
    ENDED = "ended"


S, In, E = CallState, Input, CallEvents
_Row = dict[Input, tuple[CallState, tuple[CallEvents, ...]]]
_END_IN = (S.ENDED, (E.Disconnected,))
_FAIL = (S.ENDED, (E.Failed,))

TRANSITIONS: dict[CallState, _Row] = {
    S.INCOMING: {
        In.RING: (S.INCOMING, ()),
        In.EARLY_MEDIA: (S.INCOMING, ()),
        In.ANSWER: (S.ANSWERING, ()),
        In.REJECT: (S.REJECTING, ()),
        In.HANGUP: (S.REJECTING, ()),
        In.RINGING: (S.INCOMING, ()),  # the backend confirms our 180
        In.MEDIA: (S.INCOMING, (E.AudioStarted,)),  # ... or our 183
        In.ENDED: _END_IN,  # caller cancelled
    },
    S.ANSWERING: {
        In.HANGUP: (S.HANGING_UP, ()),
        In.RINGING: (S.ANSWERING, ()),
        In.MEDIA: (S.ANSWERING, ()),
        In.ANSWERED: (S.CONNECTED, (E.Connected,)),
        In.ENDED: _END_IN,
    },
    S.REJECTING: {In.RINGING: (S.REJECTING, ()), In.MEDIA: (S.REJECTING, ()), In.ENDED: _END_IN},
    S.DIALING: {
        In.HANGUP: (S.CANCELLING, ()),
        In.RINGING: (S.EARLY, (E.Ringing,)),
        In.MEDIA: (S.EARLY, (E.AudioStarted,)),
        In.ANSWERED: (S.CONNECTED, (E.AudioStarted, E.Connected)),
        In.ENDED: _FAIL,
    },
    S.EARLY: {
        In.HANGUP: (S.CANCELLING, ()),
        In.RINGING: (S.EARLY, (E.Ringing,)),
        In.MEDIA: (S.EARLY, (E.AudioStarted,)),
        In.ANSWERED: (S.CONNECTED, (E.AudioStarted, E.Connected)),
        In.ENDED: _FAIL,
    },
    S.CANCELLING: {
        In.RINGING: (S.CANCELLING, ()),
        In.MEDIA: (S.CANCELLING, ()),
        In.ANSWERED: (S.CANCELLING, ()),  # 200 crossed our CANCEL; the stack sends BYE
        In.ENDED: _FAIL,
    },
    S.CONNECTED: {
        In.HANGUP: (S.HANGING_UP, ()),
        In.ENDED: (S.ENDED, (E.Disconnected,)),
    },
    S.HANGING_UP: {In.ANSWERED: (S.HANGING_UP, ()), In.ENDED: (S.ENDED, (E.Disconnected,))},
    S.ENDED: {},
}

VOX_STATE = {
    S.INCOMING: "ALERTING",
    S.ANSWERING: "ALERTING",
    S.REJECTING: "ALERTING",
    S.DIALING: "PROGRESSING",
    S.EARLY: "PROGRESSING",
    S.CANCELLING: "PROGRESSING",
    S.CONNECTED: "CONNECTED",
    S.HANGING_UP: "CONNECTED",
    S.ENDED: "TERMINATED",
}
STATUS = {
    S.INCOMING: "pending",
    S.ANSWERING: "connecting",
    S.REJECTING: "pending",
    S.DIALING: "connecting",
    S.EARLY: "ringing",
    S.CANCELLING: "ringing",
    S.CONNECTED: "open",
    S.HANGING_UP: "open",
    S.ENDED: "closed",
}


@dataclass(frozen=True, slots=True)
class Emit:
    """An event the runtime must dispatch, with its payload fields (``call`` is added later)."""

    name: CallEvents
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CallMachine:
    """One leg's state. ``now`` values are seconds on the runtime's clock."""

    incoming: bool
    state: CallState
    created_at: float
    connected_at: float | None = None
    audio_started: bool = False
    early_media: bool = False
    "start_early_media() was sent: audio may flow before the answer."
    local_code: int | None = None
    "Status we chose when cancelling an outbound leg; reported in Failed."
    end_cause: str | None = None
    "Why voxpy hung up by itself (a guards.EndCause); Disconnected's reason when set."

    @classmethod
    def inbound(cls, now: float) -> CallMachine:
        return cls(incoming=True, state=S.INCOMING, created_at=now)

    @classmethod
    def outbound(cls, now: float) -> CallMachine:
        return cls(incoming=False, state=S.DIALING, created_at=now)

    @property
    def vox_state(self) -> str:
        return VOX_STATE[self.state]

    @property
    def status(self) -> str:
        return STATUS[self.state]

    @property
    def live(self) -> bool:
        return self.state is not S.ENDED

    @property
    def media_ready(self) -> bool:
        """Audio can be sent: connected (or answering), or early media has started."""
        if self.state in (S.CONNECTED, S.ANSWERING):
            return True
        early = self.audio_started or self.early_media
        return early and self.state in (S.INCOMING, S.EARLY)

    def check(self, inp: Input) -> CallState:
        """Return the state ``inp`` leads to, or raise InvalidStateError; changes nothing."""
        row = TRANSITIONS[self.state]
        if inp not in row:
            direction = "inbound" if self.incoming else "outbound"
            raise InvalidStateError(
                f"cannot {inp.value} on an {direction} call in state {self.vox_state} "
                f"({self.state.value})"
            )
        return row[inp][0]

    def command(self, inp: Input, *, code: int | None = None, cause: str | None = None) -> None:
        """Apply a scenario command (after ``check``); commands emit nothing by themselves.

        ``cause``: a hangup voxpy decided itself (rtp_timeout, max_duration), reported as
        the reason of the Disconnected that follows."""
        self.check(inp)
        if inp is In.HANGUP and self.state in (S.DIALING, S.EARLY):
            self.local_code = code
        if inp is In.HANGUP and cause is not None:
            self.end_cause = cause
        if inp is In.EARLY_MEDIA:
            self.early_media = True
        self._move(inp, now=None, fields={})

    def receive(self, inp: Input, now: float, **fields: Any) -> list[Emit]:
        """Apply a backend signal and return the events it causes, in dispatch order."""
        self.check(inp)
        return self._move(inp, now=now, fields=fields)

    def _move(self, inp: Input, now: float | None, fields: dict[str, Any]) -> list[Emit]:
        old = self.state
        target, names = TRANSITIONS[old][inp]
        self.state = target
        out: list[Emit] = []
        if VOX_STATE[old] != VOX_STATE[target]:
            out.append(
                Emit(E.StateChanged, {"old_state": VOX_STATE[old], "new_state": VOX_STATE[target]})
            )
        for name in names:
            if name is E.AudioStarted:
                if self.audio_started:
                    continue
                self.audio_started = True
            out.append(Emit(name, self._payload(name, now, fields)))
        if target is S.CONNECTED and now is not None:
            self.connected_at = now
        return out

    def _payload(
        self, name: CallEvents, now: float | None, fields: dict[str, Any]
    ) -> dict[str, Any]:
        headers = fields.get("headers")
        if name is E.Failed:
            code = self.local_code or fields["code"]
            reason = fields.get("reason", "") if self.local_code is None else _REASONS.get(code, "")
            return {"code": code, "reason": reason, "headers": headers}
        if name is E.Disconnected:
            start = self.connected_at
            duration = 0.0 if start is None or now is None else max(0.0, now - start)
            return {
                "code": fields["code"],
                "reason": self.end_cause or fields.get("reason", ""),
                "duration": duration,
                "headers": headers,
            }
        return {"headers": headers} if headers is not None else {}


_REASONS = {408: "Request Timeout", 487: "Request Terminated", 480: "Temporarily Unavailable"}


def input_for(signal: object) -> Input | None:
    """The machine input a backend signal stands for (None: not a state transition)."""
    from voxpy.core.signals import Answered, Ended, Progress

    if isinstance(signal, Progress):
        return In.MEDIA if signal.code == 183 else In.RINGING
    if isinstance(signal, Answered):
        return In.ANSWERED
    if isinstance(signal, Ended):
        return In.ENDED
    return None

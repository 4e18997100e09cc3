"""The call-leg state machine. Every call-state decision lives in this file, in one table.

Triggers are the scenario's commands (:class:`Act`: answer, hangup, ...) and the backend's
signals, keyed by their type (Progress, Answered, Ended). ``TRANSITIONS[state][trigger]``
gives the next state and the events to emit; a missing entry is misuse (commands) or a
confused peer (signals) and raises :class:`~voxpy.errors.InvalidStateError`, leaving the
machine unchanged. The machine also owns the leg's timers (no answer, dial timeout, maximum
duration, RTP silence) and the one hangup rule (CANCEL, BYE or a reject code).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from voxpy.core.commands import Bye, Cancel, Command, Reject, ReportRx
from voxpy.core.guards import EndCause, SilenceWatch, max_duration_due, rx_poll_interval
from voxpy.core.headers import Headers
from voxpy.core.outcomes import (
    LegAudioStarted,
    LegConnected,
    LegDisconnected,
    LegEvent,
    LegFailed,
    LegRinging,
    LegStateChanged,
    Outcome,
    Send,
)
from voxpy.core.signals import Answered, Ended, Progress, RxReport, Signal
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


class Act(Enum):
    """The scenario's commands on a leg (backend signals are table keys by their type)."""

    RING = "ring()"
    EARLY_MEDIA = "start_early_media()"
    ANSWER = "answer()"
    REJECT = "reject()"
    HANGUP = "hangup()"


S, A = CallState, Act
Trigger = Act | type[Signal]
_Events = tuple[type[LegEvent], ...]
_Row = dict[Trigger, tuple[CallState, _Events]]
_END_IN: tuple[CallState, _Events] = (S.ENDED, (LegDisconnected,))
_FAIL: tuple[CallState, _Events] = (S.ENDED, (LegFailed,))
# A Progress yields Ringing for a 18x other than 183 and AudioStarted for a 183 (see _wanted).
_PROGRESS: _Events = (LegRinging, LegAudioStarted)

TRANSITIONS: dict[CallState, _Row] = {
    S.INCOMING: {
        A.RING: (S.INCOMING, ()),
        A.EARLY_MEDIA: (S.INCOMING, ()),
        A.ANSWER: (S.ANSWERING, ()),
        A.REJECT: (S.REJECTING, ()),
        A.HANGUP: (S.REJECTING, ()),
        Progress: (S.INCOMING, (LegAudioStarted,)),  # the backend confirms our 180/183
        Ended: _END_IN,  # caller cancelled
    },
    S.ANSWERING: {
        A.HANGUP: (S.HANGING_UP, ()),
        Progress: (S.ANSWERING, ()),
        Answered: (S.CONNECTED, (LegConnected,)),
        Ended: _END_IN,
    },
    S.REJECTING: {Progress: (S.REJECTING, ()), Ended: _END_IN},
    S.DIALING: {
        A.HANGUP: (S.CANCELLING, ()),
        Progress: (S.EARLY, _PROGRESS),
        Answered: (S.CONNECTED, (LegAudioStarted, LegConnected)),
        Ended: _FAIL,
    },
    S.EARLY: {
        A.HANGUP: (S.CANCELLING, ()),
        Progress: (S.EARLY, _PROGRESS),
        Answered: (S.CONNECTED, (LegAudioStarted, LegConnected)),
        Ended: _FAIL,
    },
    S.CANCELLING: {
        Progress: (S.CANCELLING, ()),
        Answered: (S.CANCELLING, ()),  # 200 crossed our CANCEL; the stack sends BYE
        Ended: _FAIL,
    },
    S.CONNECTED: {A.HANGUP: (S.HANGING_UP, ()), Ended: (S.ENDED, (LegDisconnected,))},
    S.HANGING_UP: {Answered: (S.HANGING_UP, ()), Ended: (S.ENDED, (LegDisconnected,))},
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """The leg's timers, in seconds (0 disables the last two); from config ``timeouts``
    and ``quality.rtp_timeout_hangup``."""

    no_answer: float = 60.0
    dial: float = 60.0
    max_duration: float = 0.0
    rtp_timeout: float = 0.0


@dataclass(slots=True)
class CallMachine:
    """One leg's state and timers. ``now`` values are seconds on the runtime's clock.

    Sans-IO, aioquic-style: signals go in through :meth:`handle`, time through
    :meth:`handle_deadline` (the runtime arms one timer at :meth:`next_deadline`), and what
    follows comes back as typed outcomes: ``Leg*`` events to dispatch, ``Send`` commands.
    """

    call_id: str
    incoming: bool
    state: CallState
    created_at: float
    limits: Limits = field(default_factory=Limits)
    connected_at: float | None = None
    audio_started: bool = False
    early_media: bool = False
    "start_early_media() was sent: audio may flow before the answer."
    local_code: int | None = None
    "Status we chose when cancelling an outbound leg; reported in Failed."
    end_cause: str | None = None
    "Why voxpy hung up by itself (a guards.EndCause); Disconnected's reason when set."
    local_hold: bool = False
    "hold() was the last of hold()/unhold() (the far end may stop sending meanwhile)."
    remote_hold: bool = False
    "The far end put us on hold (OnHold, until OffHold)."
    _silence: SilenceWatch | None = None
    _next_poll: float | None = None

    @classmethod
    def inbound(cls, call_id: str, now: float, limits: Limits | None = None) -> CallMachine:
        return cls(call_id, incoming=True, state=S.INCOMING, created_at=now, limits=_lim(limits))

    @classmethod
    def outbound(cls, call_id: str, now: float, limits: Limits | None = None) -> CallMachine:
        return cls(call_id, incoming=False, state=S.DIALING, created_at=now, limits=_lim(limits))

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

    # -- scenario commands ---------------------------------------------------------------------

    def check(self, trigger: Trigger) -> CallState:
        """Return the state ``trigger`` leads to, or raise InvalidStateError; changes nothing."""
        row = TRANSITIONS[self.state]
        if trigger not in row:
            direction = "inbound" if self.incoming else "outbound"
            what = trigger.value if isinstance(trigger, Act) else f"handle {trigger.__name__}"
            raise InvalidStateError(
                f"cannot {what} on an {direction} call in state {self.vox_state} "
                f"({self.state.value})"
            )
        return row[trigger][0]

    def command(self, act: Act) -> None:
        """Apply a scenario command (after ``check``); commands emit nothing by themselves."""
        self.check(act)
        if act is A.EARLY_MEDIA:
            self.early_media = True
        self.state = TRANSITIONS[self.state][act][0]

    def hangup(self, headers: Headers | None = None, cause: str | None = None) -> Command:
        """The one hangup rule: CANCEL (487) while dialling, a 603 final response while an
        inbound leg alerts, BYE otherwise. ``cause``: a hangup voxpy decided itself
        (rtp_timeout, max_duration), reported as the reason of the Disconnected that follows.
        Raises InvalidStateError (changing nothing) when the leg is already ending."""
        return self._hang_up(headers or Headers(), code=None, cause=cause)

    def _hang_up(self, headers: Headers, code: int | None, cause: str | None) -> Command:
        self.check(A.HANGUP)
        state, cid = self.state, self.call_id
        self.command(A.HANGUP)
        if cause is not None:
            self.end_cause = cause
        if state is S.INCOMING:
            return Reject(call_id=cid, code=code or 603, headers=headers)
        if state in (S.DIALING, S.EARLY):
            self.local_code = code or 487
            return Cancel(call_id=cid, code=self.local_code, headers=headers)
        return Bye(call_id=cid, headers=headers)

    # -- signals -------------------------------------------------------------------------------

    def handle(self, signal: Signal, now: float) -> list[Outcome]:
        """Apply a backend signal; return the events and commands it causes, in order."""
        if isinstance(signal, RxReport):
            return self._on_rx(signal, now)
        kind = type(signal)
        self.check(kind)
        old = self.state
        target, events = TRANSITIONS[old][kind]
        self.state = target
        out: list[Outcome] = []
        if VOX_STATE[old] != VOX_STATE[target]:
            out.append(LegStateChanged(old_state=VOX_STATE[old], new_state=VOX_STATE[target]))
        for event in events:
            if not _wanted(event, signal) or (event is LegAudioStarted and self.audio_started):
                continue
            if event is LegAudioStarted:
                self.audio_started = True
            out.append(self._event(event, signal, now))
        if target is S.CONNECTED:
            self._connected(now)
        return out

    def _event(self, event: type[LegEvent], signal: Signal, now: float) -> LegEvent:
        headers: Headers | None = getattr(signal, "headers", None)
        if isinstance(signal, Ended) and event is LegFailed:
            code = self.local_code or signal.code
            reason = signal.reason if self.local_code is None else _REASONS.get(code, "")
            return LegFailed(code=code, reason=reason, headers=headers)
        if isinstance(signal, Ended):
            start = self.connected_at
            return LegDisconnected(
                code=signal.code,
                reason=self.end_cause or signal.reason,
                duration=0.0 if start is None else max(0.0, now - start),
                headers=headers,
            )
        return event(headers=headers)

    # -- timers --------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When :meth:`handle_deadline` must next run (None: no timer is due)."""
        poll = self._next_poll if self.state is S.CONNECTED else None
        dues = [d for d in (self._answer_due(), self._max_due(), poll) if d is not None]
        return min(dues, default=None)

    def handle_deadline(self, now: float) -> list[Send]:
        """Carry out whatever timers are due at ``now``."""
        out: list[Send] = []
        due = self._answer_due()
        if due is not None and now >= due:
            why: dict[str, str | float] = {"state": self.vox_state, "code": 408}
            command = self._hang_up(Headers(), 408, None)
            out.append(Send(command=command, why="call_timeout", detail=why))
        due = self._max_due()
        if due is not None and now >= due:
            out.append(self._guard(EndCause.MAX_DURATION, limit=self.limits.max_duration))
        poll = self._next_poll if self.state is S.CONNECTED else None
        if poll is not None and now >= poll:
            self._next_poll = now + rx_poll_interval(self.limits.rtp_timeout)
            out.append(Send(command=ReportRx(call_id=self.call_id)))
        if self.state is not S.CONNECTED:
            self._next_poll = None  # ended or ending: the watch dies with the call
        return out

    def _answer_due(self) -> float | None:
        if self.state is S.INCOMING:
            return self.created_at + self.limits.no_answer
        if self.state in (S.DIALING, S.EARLY):
            return self.created_at + self.limits.dial
        return None

    def _max_due(self) -> float | None:
        if self.state is not S.CONNECTED or self.connected_at is None:
            return None
        return max_duration_due(self.connected_at, self.limits.max_duration)

    def _connected(self, now: float) -> None:
        """Start the RTP watch and the maximum-duration timer."""
        self.connected_at = now
        self._silence = SilenceWatch(timeout=self.limits.rtp_timeout, started_at=now)
        if self._silence.enabled:
            self._next_poll = now + rx_poll_interval(self.limits.rtp_timeout)

    def rtp_quiet_for(self) -> float:
        """Seconds the far end has sent no RTP, as of the silence watch's last reading (0
        when not connected, held, or unwatched)."""
        watch = self._silence
        return watch.quiet_for() if watch is not None and self.state is S.CONNECTED else 0.0

    def _on_rx(self, report: RxReport, now: float) -> list[Outcome]:
        watch = self._silence
        if watch is None or self.state is not S.CONNECTED:
            return []
        held = self.local_hold or self.remote_hold
        if watch.feed(now, report.packets_received, held=held):
            return [self._guard(EndCause.RTP_TIMEOUT, silent_for=watch.timeout)]
        return []

    def _guard(self, cause: EndCause, **detail: float) -> Send:
        self._next_poll = None
        command = self._hang_up(Headers(), None, cause)
        why: dict[str, str | float] = {"cause": str(cause), **detail}
        return Send(command=command, why="call_guard_hangup", detail=why)


def _lim(limits: Limits | None) -> Limits:
    return limits if limits is not None else Limits()


def _wanted(event: type[LegEvent], signal: Signal) -> bool:
    """A Progress 183 means audio, any other 18x ringing; other signals take every event."""
    if not isinstance(signal, Progress):
        return True
    return (event is LegAudioStarted) == (signal.code == 183)


_REASONS = {408: "Request Timeout", 487: "Request Terminated", 480: "Temporarily Unavailable"}

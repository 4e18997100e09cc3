"""The life of a call leg: the commands that change its state, and what the core decides.

The core's :class:`~voxpy.core.state.CallMachine` decides; this part carries the decisions
out. It feeds the machine the signals it consumes (Progress, Answered, Ended, RxReport) and
its deadlines, turns its outcomes into scenario events and backend commands, keeps one clock
timer at ``next_deadline()``, and tells the other parts when the leg connects and ends.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from voxpy.core import commands as cmd
from voxpy.core.clock import Timer
from voxpy.core.events import CallEvents
from voxpy.core.headers import Headers, redirect_target
from voxpy.core.outcomes import LegAudioStarted, LegConnected, Outcome, Send
from voxpy.core.signals import Answered, CommandFailed, Ended, Progress, RxReport, Signal
from voxpy.core.state import Act, CallState
from voxpy.runtime.leg import Handler, LegContext, Part

MACHINE_SIGNALS = (Progress, Answered, Ended, RxReport)
"The signals the call machine consumes."
OVER = frozenset({CallState.REJECTING, CallState.CANCELLING, CallState.HANGING_UP, CallState.ENDED})
"States in which the leg is over or ending: a hangup() there has nothing left to do."
BEST_EFFORT = frozenset({"ReportStats", "ReportRx"})
"Commands whose failure is expected (no stream yet) and not the scenario's business."


class Lifecycle:
    """Answer, reject, hang up; the machine's outcomes and timers (a :class:`Part`)."""

    def __init__(self, ctx: LegContext, parts: Sequence[Part], ended: Callable[[], None]) -> None:
        self._ctx = ctx
        self._parts = parts
        "The other parts: told when the leg connects and when it ends."
        self._ended = ended
        self._timer: Timer | None = None
        self._end_reported = False
        self._arm()

    # -- commands ----------------------------------------------------------------------------

    def answer(self, headers: Headers) -> None:
        self._command(Act.ANSWER, cmd.Answer(call_id=self._ctx.call_id, headers=headers))

    def reject(self, code: int, headers: Headers, contact: str | None = None) -> None:
        """A final 4xx-6xx, or a 3xx redirecting the caller to ``contact``."""
        target = redirect_target(code, contact)
        self._command(
            Act.REJECT,
            cmd.Reject(call_id=self._ctx.call_id, code=code, headers=headers, contact=target),
        )

    def hangup(self, headers: Headers) -> None:
        """BYE when connected, CANCEL (487) when dialling, 603 when still alerting. On a leg
        that is over, or already ending (our BYE/CANCEL sent), nothing: VoxEngine and Twilio
        both let "hang up the other leg" run without a check (answer/reject still raise)."""
        if self._ctx.machine.state in OVER:
            self._ctx.log.debug("hangup_ignored", state=self._ctx.machine.vox_state)
            return
        self._sent(self._ctx.machine.hangup(headers))

    def ring(self) -> None:
        self._command(Act.RING, cmd.Provisional(call_id=self._ctx.call_id, code=180))

    def start_early_media(self) -> None:
        self._command(Act.EARLY_MEDIA, cmd.Provisional(call_id=self._ctx.call_id, code=183))

    def _command(self, act: Act, command: cmd.Command) -> None:
        self._ctx.machine.command(act)  # raises, changing nothing, when the state forbids it
        self._sent(command)

    def _sent(self, command: cmd.Command) -> None:
        self._ctx.log.info("command", op=type(command).__name__.lower())
        self._ctx.send(command)
        self._arm()

    # -- Part --------------------------------------------------------------------------------

    def routes(self) -> Mapping[type[Signal], Handler]:
        return {
            CommandFailed: self._command_failed,
            **dict.fromkeys(MACHINE_SIGNALS, self._machine_signal),
        }

    def audio_started(self) -> None:
        pass

    def connected(self) -> None:
        pass

    def ended(self) -> None:
        pass

    def _machine_signal(self, signal: Signal) -> None:
        self._carry_out(self._ctx.machine.handle(signal, self._ctx.clock.now()))

    def _command_failed(self, signal: CommandFailed) -> None:
        log = self._ctx.log
        if not self._ctx.live:  # the far end hung up before the command ran: nothing to report
            log.debug("command_overtaken_by_hangup", op=signal.op)
            return
        if signal.op in BEST_EFFORT:
            log.debug("stats_unavailable", error=signal.message)
            return
        if signal.op == "Hold":
            # The re-INVITE did not go through, so the far end was not put on hold: let the
            # RTP-silence watch run again, or a caller who vanished would keep the slot.
            self._ctx.machine.local_hold = False
        log.warning("command_failed", op=signal.op, error=signal.message)
        self._ctx.fire(CallEvents.Error, op=signal.op, error=signal.message, status=signal.status)

    def _carry_out(self, outcomes: Sequence[Outcome]) -> None:
        for out in outcomes:
            if isinstance(out, Send):
                if out.why:
                    log = self._ctx.log.warning if out.why != "call_timeout" else self._ctx.log.info
                    log(out.why, **out.detail)
                self._ctx.send(out.command)
                continue
            fields = {f.name: getattr(out, f.name) for f in dataclasses.fields(out)}
            self._ctx.fire(out.name, **fields)
            if isinstance(out, LegAudioStarted):
                for part in self._parts:
                    part.audio_started()
            if isinstance(out, LegConnected):
                for part in self._parts:
                    part.connected()
        self._arm()
        if not self._ctx.live and not self._end_reported:
            self._end_reported = True  # late signals (an RxReport in flight) must not repeat it
            for part in self._parts:
                part.ended()
            self._ended()

    def _arm(self) -> None:
        """Keep one clock timer at the machine's next deadline (none once the leg ended)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        due = self._ctx.machine.next_deadline() if self._ctx.live else None
        if due is not None:
            self._timer = self._ctx.clock.call_later(due - self._ctx.clock.now(), self._deadline)

    def _deadline(self) -> None:
        self._timer = None
        self._carry_out(self._ctx.machine.handle_deadline(self._ctx.clock.now()))

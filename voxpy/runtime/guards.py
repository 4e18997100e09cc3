"""Slot guards on a leg (mixed into ``Call``): BYE on RTP silence and at the maximum duration.

A worker has 4 call slots; a caller that vanishes without BYE would hold one forever. From
Connected on, every connected leg (monitored or not) reads its received-packet counter every
few seconds (:class:`~voxpy.core.commands.ReportRx`, one stream-statistics read) and a
:class:`~voxpy.core.guards.SilenceWatch` decides when the silence is long enough; a timer
ends the call at ``timeouts.max_call_duration``. Session timers and the ACK timeout are the
SIP stack's own (the backend reports them as the Ended reason).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from voxpy.core import commands as cmd
from voxpy.core.guards import EndCause, SilenceWatch, max_duration_due, rx_poll_interval
from voxpy.core.state import CallState

if TYPE_CHECKING:
    from voxpy.core.signals import RxReport
    from voxpy.core.state import CallMachine
    from voxpy.runtime.call import Call
    from voxpy.runtime.session import Session


class CallGuards:
    """The guard half of :class:`~voxpy.runtime.call.Call`, which provides these members."""

    _id: str
    _session: Session
    _machine: CallMachine
    _log: Any

    def _guards_init(self) -> None:
        self._silence: SilenceWatch | None = None
        self.local_hold = False
        "hold() was the last of hold()/unhold() (the far end may stop sending meanwhile)."
        self.remote_hold = False
        "The far end put us on hold (OnHold, until OffHold)."

    def _guards_connected(self) -> None:
        """Connected: start the RTP watch and the maximum-duration timer."""
        now = self._session.clock.now()
        timeout = self._session.thresholds.rtp_timeout_hangup
        self._silence = SilenceWatch(timeout=timeout, started_at=now)
        if self._silence.enabled:
            self._session.after(rx_poll_interval(timeout), self._poll_rx)
        due = max_duration_due(now, self._session.timeouts.max_call_duration)
        if due is not None:
            self._session.deadline(self._id, due - now, self._max_duration)

    def _poll_rx(self) -> None:
        if self._machine.state is not CallState.CONNECTED or self._silence is None:
            return  # ended or ending: the watch dies with the call
        self._session.send(cmd.ReportRx(call_id=self._id))
        self._session.after(rx_poll_interval(self._silence.timeout), self._poll_rx)

    def _on_rx(self, report: RxReport) -> None:
        watch = self._silence
        if watch is None or self._machine.state is not CallState.CONNECTED:
            return
        held = self.local_hold or self.remote_hold
        now = self._session.clock.now()
        if watch.feed(now, report.packets_received, held=held):
            self._guard_hangup(EndCause.RTP_TIMEOUT, silent_for=watch.timeout)

    def _max_duration(self) -> None:
        if self._machine.state is CallState.CONNECTED:
            limit = self._session.timeouts.max_call_duration
            self._guard_hangup(EndCause.MAX_DURATION, limit=limit)

    def _guard_hangup(self, cause: EndCause, **why: float) -> None:
        self._log.warning("call_guard_hangup", cause=str(cause), **why)
        self._guarded_call._end(200, cause=cause)

    @property
    def _guarded_call(self) -> Call:
        return self  # type: ignore[return-value]  # only ever mixed into Call

"""How a session makes its call legs: one :class:`~voxpy.runtime.leg.LegHost` they all share,
and the limits their call machines run with (no answer, dial, duration, RTP silence)."""

from __future__ import annotations

import dataclasses
import uuid

from voxpy.core.signals import IncomingCall
from voxpy.core.state import CallMachine, Limits
from voxpy.core.timeouts import Timeouts
from voxpy.runtime.call import Call
from voxpy.runtime.leg import LegHost


class Legs:
    """Makes the Call objects of one session (it does not keep them: the session does)."""

    def __init__(self, host: LegHost, timeouts: Timeouts) -> None:
        self.host = host
        self._timeouts = timeouts

    def limits(self, dial: float | None = None) -> Limits:
        """The timers a new leg's call machine runs; ``dial`` overrides ``timeouts.dial``."""
        t = self._timeouts
        limits = Limits(
            no_answer=t.no_answer,
            dial=t.dial,
            max_duration=t.max_call_duration,
            rtp_timeout=self.host.thresholds.rtp_timeout_hangup,
        )
        return limits if dial is None else dataclasses.replace(limits, dial=dial)

    def outbound(
        self, to: str, *, callerid: str | None, display_name: str | None, dial: float | None
    ) -> Call:
        """A new outbound leg to the SIP URI ``to`` (not dialled yet: the caller sends Dial)."""
        call_id = uuid.uuid4().hex
        return Call(
            self.host,
            call_id,
            CallMachine.outbound(call_id, self.host.clock.now(), self.limits(dial)),
            callerid=callerid or "",
            number=to.split(":", 1)[1].split("@", 1)[0] if "@" in to else "",
            display_name=display_name or "",
        )

    def inbound(self, incoming: IncomingCall) -> Call:
        """The leg of an inbound INVITE (its call machine drops it with 408 if nobody
        answers)."""
        return Call(
            self.host,
            incoming.call_id,
            CallMachine.inbound(incoming.call_id, self.host.clock.now(), self.limits()),
            callerid=incoming.callerid,
            number=incoming.destination,
            display_name=incoming.display_name,
            headers=incoming.headers,
            from_uri=incoming.from_uri,
        )

"""An in-memory SIP network: two endpoints that call each other, with no sockets or threads.

Each endpoint is a :class:`MemoryBackend` implementing :class:`~voxpy.core.ports.Backend` exactly
as the pjsua2 backend does: the same signals in the same order, the same cap on legs (the 5th
INVITE gets 486), provisional responses echoed to the side that sent them, a draining endpoint
answering 503. One endpoint is the engine's; the other is the test peer's. Every ``Dial`` goes to
the other endpoint, whatever its URI, as if the peer were the engine's outbound proxy.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field

from voxpy.backends.memory_dialog import DialogSim
from voxpy.backends.memory_media import LegMedia, MediaSim
from voxpy.backends.memory_streams import StreamSim
from voxpy.backends.memory_units import UnitSim
from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core import units as u
from voxpy.core.bridge_rate import WIDEBAND
from voxpy.core.clock import Clock
from voxpy.core.headers import Headers
from voxpy.core.limits import MAX_CALLS
from voxpy.core.overload import OverloadGate, OverloadThresholds, Sample
from voxpy.core.ports import SignalSink
from voxpy.errors import BackendError, InvalidStateError

SIP_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    480: "Temporarily Unavailable",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    503: "Service Unavailable",
    600: "Busy Everywhere",
    603: "Decline",
}
"Reason phrases of final responses (RFC 3261), as pjsua2 reports them with the code."


@dataclass
class _Leg:
    """One side of a dialog: ``owner`` holds it under ``call_id``."""

    owner: MemoryBackend
    call_id: str
    caller: bool
    dialog: _Dialog
    media: LegMedia = field(init=False)

    def __post_init__(self) -> None:
        self.media = LegMedia(self.call_id, self.owner._emit)
        self.owner.network.media.legs[self.call_id] = self.media


@dataclass
class _Dialog:
    """An INVITE dialog between two endpoints."""

    state: str = "calling"  # calling -> early -> confirmed -> ended
    legs: list[_Leg] = field(default_factory=list)
    media_up: bool = False
    "True once a 183 or 200 carried SDP: audio can flow."
    invite: sig.IncomingCall | None = None
    "What the callee was told of the first INVITE; a followed redirect repeats it."
    targets: set[str] = field(default_factory=set)
    "URIs the caller has tried (pjsip's target set): a 3xx to one of them is not followed."

    def other(self, leg: _Leg) -> _Leg | None:
        return next((x for x in self.legs if x is not leg), None)


class MemoryNetwork:
    """Connects exactly two :class:`MemoryBackend` endpoints.

    ``clock`` (the test kit's virtual clock) times playbacks; without one they end at once.
    ``wire_rate`` is the rate fed audio travels at between legs (the harness: the bridge's).
    """

    def __init__(self, clock: Clock | None = None, wire_rate: int = WIDEBAND) -> None:
        self.endpoints: list[MemoryBackend] = []
        self.media = MediaSim(clock)
        self.streams = StreamSim(self.media, wire_rate)
        self.dialog = DialogSim(self.media)
        self.units = UnitSim(self.media)
        self._ids = itertools.count(1)

    def endpoint(
        self, user: str, max_calls: int = MAX_CALLS, overload: OverloadThresholds | None = None
    ) -> MemoryBackend:
        if len(self.endpoints) == 2:
            raise BackendError("a memory network connects two endpoints", op="memory")
        backend = MemoryBackend(self, user, max_calls, overload)
        self.endpoints.append(backend)
        return backend

    def next_id(self, user: str) -> str:
        return f"{user}-{next(self._ids)}"

    def far_end(self, backend: MemoryBackend) -> MemoryBackend:
        other = [e for e in self.endpoints if e is not backend]
        if not other:
            raise BackendError("nobody at the other end of the memory network", op="Dial")
        return other[0]


class MemoryBackend:
    """One endpoint of a :class:`MemoryNetwork`; see the module docstring."""

    def __init__(
        self,
        network: MemoryNetwork,
        user: str,
        max_calls: int = MAX_CALLS,
        overload: OverloadThresholds | None = None,
    ) -> None:
        self.network = network
        self.user = user
        self.max_calls = max_calls
        self.overload = None if overload is None else OverloadGate(overload)
        "Refuses INVITEs as the pjsua2 edge guard does; the memory machine is idle (load 0)."
        self.commands: list[cmd.Command] = []
        "Every command this endpoint was sent, in order (handy in tests)."
        self._legs: dict[str, _Leg] = {}
        self._sink: SignalSink | None = None
        self._accepting = True

    @property
    def contact_uri(self) -> str:
        return f"sip:{self.user}@memory.invalid"

    # -- Backend port ------------------------------------------------------------------------

    async def start(self, sink: SignalSink) -> None:
        self._sink = sink

    def stop_accepting(self) -> None:
        self._accepting = False

    async def stop(self) -> None:
        self._accepting = False
        for leg in list(self._legs.values()):
            self._hangup(leg, 487, Headers())
        self.network.units.stop_all(self._emit)

    def live_legs(self) -> int:
        return len(self._legs)

    def send(self, command: cmd.Command) -> None:
        self.commands.append(command)
        if self._not_for_a_leg(command):
            return
        leg = self._legs.get(command.call_id)
        if leg is None:
            self._emit(
                sig.CommandFailed(
                    call_id=command.call_id, op=type(command).__name__, message="no such live call"
                )
            )
            return
        dialog, state = leg.dialog, leg.dialog.state
        network = self.network
        if network.streams.handle(leg.media, command) or network.media.handle(
            leg.media, command, dialog.media_up
        ):
            return
        if self.network.dialog.handle(leg.media, command):
            return
        if isinstance(command, cmd.Cancel):
            self._hangup(leg, command.code, command.headers)
        elif isinstance(command, cmd.Bye):
            self._hangup(leg, 200, command.headers)
        elif leg.caller or state not in ("calling", "early"):
            self._emit(
                sig.CommandFailed(
                    call_id=leg.call_id,
                    op=type(command).__name__,
                    message=f"not allowed on this leg in state {state}",
                )
            )
        elif isinstance(command, cmd.Provisional):
            dialog.state = "early"
            self._emit(sig.Progress(call_id=leg.call_id, code=command.code))
            self._to_other(
                leg,
                lambda o: sig.Progress(
                    call_id=o.call_id, code=command.code, headers=command.headers
                ),
            )
            if command.code == 183:
                self._media_up(dialog)
        elif isinstance(command, cmd.Answer):
            dialog.state = "confirmed"
            self._to_other(leg, lambda o: sig.Answered(call_id=o.call_id, headers=command.headers))
            self._emit(sig.Answered(call_id=leg.call_id))  # the caller's ACK
            self._media_up(dialog)
        elif isinstance(command, cmd.Reject) and 300 <= command.code < 400:
            self._redirect(leg, command)
        elif isinstance(command, cmd.Reject):
            self._end(dialog, command.code, sent_by=leg, headers=command.headers)

    def _not_for_a_leg(self, command: cmd.Command) -> bool:
        """Carry out a Dial or a media unit's command (a unit id is no leg's)."""
        if isinstance(command, cmd.Dial):
            self._dial(command)
        elif isinstance(command, u.UNIT_COMMANDS):
            leg = self._legs.get(command.call_id)
            self.network.units.handle(command, self._emit, leg.media if leg else None)
        else:
            return False
        return True

    def _redirect(self, callee: _Leg, command: cmd.Reject) -> None:
        """A 3xx: the caller is told, and follows it to the contact (ours by default), as
        pjsua2 does. Every INVITE goes to the other endpoint, so the new one reaches this
        endpoint again. A contact tried before is not followed: the 3xx is final."""
        dialog, code = callee.dialog, command.code
        contact = command.contact or self.contact_uri
        if contact in dialog.targets:
            self._end(dialog, code, sent_by=callee, headers=command.headers)
            return
        dialog.targets.add(contact)
        caller = dialog.other(callee)
        self._legs.pop(callee.call_id, None)
        self.network.media.ended(callee.media)
        self._emit(sig.Ended(call_id=callee.call_id, code=code))
        if caller is None:
            return
        dialog.legs.remove(callee)
        caller.owner._emit(sig.Redirected(call_id=caller.call_id, code=code, contact=contact))
        follow = _Leg(self, self.network.next_id(self.user), False, dialog)
        dialog.legs.append(follow)
        self._legs[follow.call_id] = follow
        caller.media.far, follow.media.far = follow.media, caller.media
        if dialog.invite is not None:  # the first INVITE again (To, headers), as pjsip does
            self._emit(
                dataclasses.replace(
                    dialog.invite, call_id=follow.call_id, sip_call_id=f"mem-{follow.call_id}"
                )
            )

    # -- internals ---------------------------------------------------------------------------

    def _dial(self, command: cmd.Dial) -> None:
        dialog = _Dialog(targets={command.uri})
        leg = _Leg(self, command.call_id, True, dialog)
        dialog.legs.append(leg)
        self._legs[leg.call_id] = leg
        if len(self._legs) > self.max_calls:
            self._end(dialog, 486, reason="Too many calls in this process")
            return
        far = self.network.far_end(self)
        if far._overloaded():
            # First, as the pjsua2 edge guard answers (and counts) its stateless 503 before
            # pjsua or the engine see a draining or full worker; its Retry-After is not a
            # custom header, so neither backend's Ended carries it.
            self._end(dialog, 503)
            return
        if not far._accepting or far.live_legs() >= far.max_calls:
            self._end(dialog, 503 if not far._accepting else 486)
            return
        callee = _Leg(far, self.network.next_id(far.user), False, dialog)
        dialog.legs.append(callee)
        leg.media.far, callee.media.far = callee.media, leg.media
        far._legs[callee.call_id] = callee
        callerid = command.callerid or self.user
        to_user = command.uri.split(":", 1)[-1].split("@", 1)[0] if "@" in command.uri else ""
        dialog.invite = sig.IncomingCall(
            call_id=callee.call_id,
            from_uri=f"sip:{callerid}@memory.invalid",
            to_uri=command.uri,
            callerid=callerid,
            destination=to_user,
            display_name=command.display_name or "",
            headers=command.headers,
            sip_call_id=f"mem-{callee.call_id}",
        )
        far._emit(dialog.invite)

    def _hangup(self, leg: _Leg, code: int, headers: Headers) -> None:
        """Carry out Cancel/Bye (which the runtime's call machine chose) as the dialog allows:
        a CANCEL that crossed the 200 becomes a BYE, as in pjsua; ``code`` is what a
        cancelled caller reports, or the final response of an unanswered inbound leg."""
        dialog = leg.dialog
        if dialog.state == "confirmed":  # BYE: as pjsua, the sender's side reports the 200 OK
            self._end(
                dialog,
                200,
                sent_by=leg,
                headers=headers,
                reason="Normal call clearing",
                sender_reason="OK",
            )
        elif leg.caller:  # CANCEL: we report our code, the callee sees 487
            self._finish(leg, code, "")
            if (other := dialog.other(leg)) is not None:
                other.owner._finish(other, 487, "Request Terminated", headers)
            dialog.state = "ended"
        else:  # an unanswered inbound leg (a peer's BYE racing its answer): reject it
            self._end(dialog, code if 300 <= code <= 699 else 603, sent_by=leg, headers=headers)

    def _overloaded(self) -> bool:
        """Whether the overload gate refuses a new inbound call (counted), fed with an idle
        sample: the memory machine has no load, so only thresholds at 0 refuse."""
        gate = self.overload
        if gate is None:
            return False
        now = self.network.media.now()
        if gate.due(now):
            start = gate.last.end if gate.last is not None else now
            gate.feed(Sample(start=start, end=now, cpu=0.0, media=0.0))
        return not gate.decide().admitted

    def _end(
        self,
        dialog: _Dialog,
        code: int,
        *,
        sent_by: _Leg | None = None,
        headers: Headers | None = None,
        reason: str = "",
        sender_reason: str | None = None,
    ) -> None:
        dialog.state = "ended"
        reason = reason or SIP_REASONS.get(code, "")
        for leg in list(dialog.legs):
            received = headers if leg is not sent_by else None
            said = sender_reason if leg is sent_by and sender_reason is not None else reason
            leg.owner._finish(leg, code, said, received)

    def _finish(self, leg: _Leg, code: int, reason: str, headers: Headers | None = None) -> None:
        if self._legs.pop(leg.call_id, None) is not None:
            self._emit(
                sig.Ended(
                    call_id=leg.call_id, code=code, reason=reason, headers=headers or Headers()
                )
            )
            self.network.media.ended(leg.media)  # recordings complete after the call, as pjsua2

    def _media_up(self, dialog: _Dialog) -> None:
        if not dialog.media_up:
            dialog.media_up = True
            for leg in dialog.legs:
                self.network.media.media_up(leg.media)
                self.network.dialog.media_up(leg.media)

    def _to_other(self, leg: _Leg, make: object) -> None:
        other = leg.dialog.other(leg)
        if other is not None and callable(make):
            other.owner._emit(make(other))

    def _emit(self, signal: sig.Signal) -> None:
        if self._sink is None:
            raise InvalidStateError(f"memory endpoint {self.user!r} used before start()")
        self._sink(signal)

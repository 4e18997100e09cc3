"""``Call``: one SIP leg as a scenario sees it (VoxEngine's Call, snake_case names).

Methods check the core state table first (misuse raises InvalidStateError and changes nothing),
then hand a command to the backend. Backend signals come back through :meth:`Call.receive`,
which looks the signal's type up in one routing table:

* Progress, Answered, Ended and RxReport go to the core's
  :class:`~voxpy.core.state.CallMachine`, whose outcomes are carried out here: ``Leg*``
  events become the scenario's events (:data:`LEG_EVENTS`), ``Send`` commands go to the
  backend. The machine also owns the leg's timers; :meth:`Call._arm` keeps one clock
  timer at its ``next_deadline()``.
* Everything else belongs to a part of the leg (media: :mod:`voxpy.runtime.media`;
  signalling and quality: :mod:`voxpy.runtime.signalling`). A part plugs in by returning
  ``{signal type: handler}`` from its ``_*_routes()`` and by the hooks ``Call`` calls when
  the leg connects or ends; new units (WebSocket streams, conference, detectors) follow
  the same shape, each signal type owned by exactly one part.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from voxpy.core import commands as cmd
from voxpy.core.events import CallEvents
from voxpy.core.headers import Headers, outgoing_headers
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
from voxpy.core.signals import Answered, CommandFailed, Ended, Progress, RxReport, Signal
from voxpy.core.state import Act, CallMachine
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.runtime.dispatch import Emitter
from voxpy.runtime.events import (
    AudioStarted,
    CallError,
    CallEvent,
    Connected,
    Disconnected,
    Failed,
    Ringing,
    StateChanged,
)
from voxpy.runtime.media import CallMedia
from voxpy.runtime.signalling import QUALITY_EVENTS, CallSignalling
from voxpy.runtime.timers import Timer

if TYPE_CHECKING:
    from voxpy.runtime.session import Session

LEG_EVENTS: dict[type[LegEvent], type[CallEvent]] = {
    LegStateChanged: StateChanged,
    LegRinging: Ringing,
    LegAudioStarted: AudioStarted,
    LegConnected: Connected,
    LegDisconnected: Disconnected,
    LegFailed: Failed,
}
"The scenario-facing event for each of the call machine's events (which lack the Call)."
MACHINE_SIGNALS = (Progress, Answered, Ended, RxReport)

_UNSET: Any = object()


class Call(Emitter, CallMedia, CallSignalling):
    """A call leg. Create legs with ``VoxEngine.call_sip``; inbound legs arrive in CallAlerting."""

    def __init__(
        self,
        session: Session,
        call_id: str,
        machine: CallMachine,
        *,
        callerid: str,
        number: str,
        display_name: str = "",
        headers: Headers | None = None,
        from_uri: str = "",
    ) -> None:
        super().__init__(session, session.handler_failed, call_id)
        self._id = call_id
        self._machine = machine
        self._callerid = callerid
        self._number = number
        self._display_name = display_name
        self._headers = headers or Headers()
        self._custom_data: Any = None
        self._log = session.log.bind(call_id=call_id)
        self._from_uri = from_uri
        self._timer: Timer | None = None
        self._end_reported = False
        self._media_init()
        self._signalling_init()
        self._routes: dict[type[Signal], Callable[[Any], None]] = {
            CommandFailed: self._command_failed,
            **dict.fromkeys(MACHINE_SIGNALS, self._machine_signal),
            **self._media_routes(),
            **self._signalling_routes(),
        }
        "Every signal a leg handles, by exact type, to the one handler that owns it."
        self._arm()

    def add_event_listener(self, event: str, handler: Callable[..., Any]) -> None:
        """Run ``handler(e)`` each time ``event`` fires (VoxEngine ``addEventListener``)."""
        super().add_event_listener(event, handler)
        if event in QUALITY_EVENTS:
            self._start_polling()  # quality events need the leg's statistics

    # -- getters (VoxEngine: id(), state(), callerid(), ...) ---------------------------------

    def id(self) -> str:
        """This leg's id, unique in the process."""
        return self._id

    def state(self) -> str:
        """VoxEngine state: ALERTING, PROGRESSING, CONNECTED or TERMINATED."""
        return self._machine.vox_state

    @property
    def status(self) -> str:
        """Twilio status: pending, connecting, ringing, open or closed."""
        return self._machine.status

    def incoming(self) -> bool:
        return self._machine.incoming

    def callerid(self) -> str:
        """The caller's number (user part of From)."""
        return self._callerid

    def display_name(self) -> str:
        return self._display_name

    def number(self) -> str:
        """The dialled number: the To user of an inbound leg, the target of an outbound one."""
        return self._number

    def headers(self) -> Headers:
        """Custom headers (X-*, User-to-User) of the initial INVITE (inbound legs)."""
        return self._headers

    def custom_data(self, value: Any = _UNSET) -> Any:
        """Get this leg's custom data, or set it when ``value`` is given."""
        if value is not _UNSET:
            self._custom_data = value
        return self._custom_data

    @property
    def live(self) -> bool:
        return self._machine.live

    # -- signalling --------------------------------------------------------------------------

    def answer(self, headers: Mapping[str, str] | None = None) -> None:
        """Answer an inbound leg (200 OK); Connected fires when the caller's ACK arrives."""
        self._command(Act.ANSWER, cmd.Answer(call_id=self._id, headers=outgoing_headers(headers)))

    def reject(self, code: int = 603, headers: Mapping[str, str] | None = None) -> None:
        """Refuse an inbound leg with a final 4xx-6xx status; Disconnected fires with ``code``."""
        if not isinstance(code, int) or not 400 <= code <= 699:
            raise InvalidArgumentError(f"reject code must be an int in 400..699, got {code!r}")
        self._command(
            Act.REJECT, cmd.Reject(call_id=self._id, code=code, headers=outgoing_headers(headers))
        )

    def hangup(self, headers: Mapping[str, str] | None = None) -> None:
        """End the leg: BYE when connected, CANCEL (487) when dialling, 603 when still alerting."""
        command = self._machine.hangup(outgoing_headers(headers))
        self._log.info("command", op=type(command).__name__.lower())
        self._session.send(command)
        self._arm()

    def ring(self) -> None:
        """Send 180 Ringing on an inbound leg."""
        self._command(Act.RING, cmd.Provisional(call_id=self._id, code=180))

    def start_early_media(self) -> None:
        """Send 183 Session Progress with SDP: audio flows before the answer."""
        self._command(Act.EARLY_MEDIA, cmd.Provisional(call_id=self._id, code=183))

    # -- engine side -------------------------------------------------------------------------

    @property
    def log(self) -> Any:
        """This leg's logger (ids bound)."""
        return self._log

    @property
    def session(self) -> Session:
        return self._session

    def end_quietly(self) -> None:
        """Hang up unless the leg is already ending (engine-internal: forwarding, terminate)."""
        with contextlib.suppress(InvalidStateError):
            self.hangup()

    def _command(self, act: Act, command: cmd.Command) -> None:
        self._machine.command(act)
        self._log.info("command", op=type(command).__name__.lower())
        self._session.send(command)
        self._arm()

    def receive(self, signal: Signal) -> None:
        """Apply a backend signal (engine-internal) through the routing table."""
        handler = self._routes.get(type(signal))
        if handler is None:  # exact types: a new signal must be routed on purpose
            self._log.debug("signal_unrouted", signal=type(signal).__name__)
            return
        handler(signal)

    def _machine_signal(self, signal: Signal) -> None:
        self._carry_out(self._machine.handle(signal, self._session.clock.now()))

    def _command_failed(self, signal: CommandFailed) -> None:
        if not self.live:  # the far end hung up before the command ran: nothing to report
            self._log.debug("command_overtaken_by_hangup", op=signal.op)
            return
        if signal.op in ("ReportStats", "ReportRx"):  # best effort: no stream yet
            self._log.debug("stats_unavailable", error=signal.message)
            return
        if signal.op == "Hold":
            # The re-INVITE did not go through, so the far end was not put on hold: let the
            # RTP-silence watch run again, or a caller who vanished would keep the slot.
            self._machine.local_hold = False
        self._log.warning("command_failed", op=signal.op, error=signal.message)
        self._dispatch(
            CallError(
                name=CallEvents.Error,
                call=self,
                op=signal.op,
                error=signal.message,
                status=signal.status,
            )
        )

    def _carry_out(self, outcomes: list[Outcome]) -> None:
        for out in outcomes:
            if isinstance(out, Send):
                if out.why:
                    log = self._log.warning if out.why != "call_timeout" else self._log.info
                    log(out.why, **out.detail)
                self._session.send(out.command)
                continue
            values = ((f.name, getattr(out, f.name)) for f in dataclasses.fields(out))
            args = {k: v for k, v in values if v is not None}
            self._dispatch(LEG_EVENTS[type(out)](name=out.name, call=self, **args))
            if isinstance(out, LegConnected):
                self._signalling_connected()
        self._arm()
        if not self._machine.live and not self._end_reported:
            self._end_reported = True  # late signals (an RxReport in flight) must not repeat it
            self._media_ended()
            self._session.call_ended(self)

    def _arm(self) -> None:
        """Keep one clock timer at the machine's next deadline (none once the leg ended)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        due = self._machine.next_deadline() if self._machine.live else None
        if due is not None:
            delay = due - self._session.clock.now()
            self._timer = self._session.clock.call_later(delay, self._deadline)

    def _deadline(self) -> None:
        self._timer = None
        self._carry_out(list(self._machine.handle_deadline(self._session.clock.now())))

    def _dispatch(self, event: Any) -> None:
        loggable = {k: v for k, v in _fields(event).items() if isinstance(v, str | int | float)}
        self._log.info("event", **loggable)
        self._session.observe(event)
        self.emit(event.name, event)

    def __repr__(self) -> str:
        direction = "inbound" if self.incoming() else "outbound"
        return f"<Call {self._id} {direction} {self.state()}>"


def _fields(event: Any) -> dict[str, Any]:
    return {name: getattr(event, name) for name in event.__dataclass_fields__ if name != "call"}

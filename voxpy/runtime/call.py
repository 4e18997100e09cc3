"""``Call``: one SIP leg as a scenario sees it (VoxEngine's Call, snake_case names).

Methods check the core state table first (misuse raises InvalidStateError and changes nothing),
then hand a command to the backend. Backend signals come back through :meth:`Call._receive`,
which asks the core which events they cause and emits them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from voxpy.core import commands as cmd
from voxpy.core.events import CallEvents
from voxpy.core.headers import Headers, outgoing_headers
from voxpy.core.signals import CommandFailed, RxReport, Signal
from voxpy.core.state import CallMachine, CallState, Input, input_for
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.runtime.dispatch import Emitter
from voxpy.runtime.event_types import call_event
from voxpy.runtime.events import CallError
from voxpy.runtime.guards import CallGuards
from voxpy.runtime.media import CallMedia
from voxpy.runtime.signalling import QUALITY_EVENTS, CallSignalling

if TYPE_CHECKING:
    from voxpy.runtime.session import Session

_UNSET: Any = object()


class Call(Emitter, CallMedia, CallSignalling, CallGuards):
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
        self._media_init()
        self._signalling_init()
        self._guards_init()

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
        self._command(Input.ANSWER, cmd.Answer(call_id=self._id, headers=outgoing_headers(headers)))

    def reject(self, code: int = 603, headers: Mapping[str, str] | None = None) -> None:
        """Refuse an inbound leg with a final 4xx-6xx status; Disconnected fires with ``code``."""
        if not isinstance(code, int) or not 400 <= code <= 699:
            raise InvalidArgumentError(f"reject code must be an int in 400..699, got {code!r}")
        self._command(
            Input.REJECT, cmd.Reject(call_id=self._id, code=code, headers=outgoing_headers(headers))
        )

    def hangup(self, headers: Mapping[str, str] | None = None) -> None:
        """End the leg: BYE when connected, CANCEL (487) when dialling, 603 when still alerting."""
        code = {CallState.INCOMING: 603, CallState.DIALING: 487, CallState.EARLY: 487}
        self._end(code.get(self._machine.state, 200), outgoing_headers(headers))

    def ring(self) -> None:
        """Send 180 Ringing on an inbound leg."""
        self._command(Input.RING, cmd.Provisional(call_id=self._id, code=180))

    def start_early_media(self) -> None:
        """Send 183 Session Progress with SDP: audio flows before the answer."""
        self._command(Input.EARLY_MEDIA, cmd.Provisional(call_id=self._id, code=183))

    # -- engine side -------------------------------------------------------------------------

    def end_quietly(self) -> None:
        """Hang up unless the leg is already ending (engine-internal: forwarding, terminate)."""
        with contextlib.suppress(InvalidStateError):
            self.hangup()

    def _end(self, code: int, headers: Headers | None = None, cause: str | None = None) -> None:
        self._machine.check(Input.HANGUP)
        self._machine.command(Input.HANGUP, code=code, cause=cause)
        self._log.info("command", op="hangup", code=code, cause=cause)
        self._session.send(cmd.Hangup(call_id=self._id, code=code, headers=headers or Headers()))

    def _command(self, inp: Input, command: cmd.Command) -> None:
        self._machine.command(inp)
        self._log.info("command", op=type(command).__name__.lower())
        self._session.send(command)

    def _receive(self, signal: Signal, now: float) -> None:
        """Apply a backend signal: update the state, then dispatch the resulting events."""
        if isinstance(signal, CommandFailed):
            if not self.live:  # the far end hung up before the command ran: nothing to report
                self._log.debug("command_overtaken_by_hangup", op=signal.op)
                return
            if signal.op in ("ReportStats", "ReportRx"):  # best effort: no stream yet, or a
                self._log.debug("stats_unavailable", error=signal.message)
                return
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
            return
        if isinstance(signal, RxReport):
            self._on_rx(signal)
            return
        if self._media_signal(signal) or self._signalling_signal(signal):
            return
        inp = input_for(signal)
        if inp is None:
            return
        fields = {
            k: getattr(signal, k) for k in ("code", "reason", "headers") if hasattr(signal, k)
        }
        for emit in self._machine.receive(inp, now, **fields):
            self._dispatch(call_event(emit.name, self, emit.fields))
            if emit.name is CallEvents.Connected:
                self._signalling_connected()
                self._guards_connected()
        if not self._machine.live:
            self._media_ended()
            self._session.call_ended(self)

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

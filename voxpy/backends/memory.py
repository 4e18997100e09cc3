"""An in-memory SIP network: the engine's backend on one side, a scriptable far end on the other.

The engine side implements :class:`~voxpy.core.ports.Backend` exactly as the pjsua2 backend does
(same signals, same cap on legs, same echo of provisional responses), with no sockets, threads
or pjsua2. The far side (:meth:`MemoryBackend.dial`, :meth:`answer`, ...) is what a test does as
the remote party; :class:`FarLeg` records what the far end saw.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core.headers import Headers
from voxpy.core.ports import SignalSink
from voxpy.errors import BackendError


@dataclass
class FarLeg:
    """The remote party of one leg, as the far end sees it."""

    call_id: str
    outbound: bool
    "True when the engine placed the call (the far end is called)."
    uri: str = ""
    headers: Headers = field(default_factory=Headers)
    "Headers of the INVITE (outbound) - what the engine sent."
    state: str = "offered"  # offered -> early -> confirmed -> ended
    code: int | None = None
    "Final status the far end saw: 200 answered, else the rejection/cancel code."
    history: list[str] = field(default_factory=list)
    "SIP messages the far end received from the engine: '180', '200', 'BYE', 'CANCEL', ..."
    received_headers: dict[str, Headers] = field(default_factory=dict)
    "Headers per message received from the engine, keyed like ``history``."
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    answered: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def live(self) -> bool:
        return self.state != "ended"


class MemoryBackend:
    """In-process fake backend; see the module docstring."""

    contact_uri = "sip:voxpy@memory.invalid"

    def __init__(self, max_calls: int = 4) -> None:
        self.max_calls = max_calls
        self.legs: dict[str, FarLeg] = {}
        self.offered: asyncio.Queue[FarLeg] = asyncio.Queue()
        self.commands: list[cmd.Command] = []
        self._sink: SignalSink | None = None
        self._accepting = True
        self._ids = itertools.count(1)

    # -- Backend port (engine side) ----------------------------------------------------------

    async def start(self, sink: SignalSink) -> None:
        self._sink = sink

    def stop_accepting(self) -> None:
        self._accepting = False

    async def stop(self) -> None:
        self._accepting = False
        for leg in [leg for leg in self.legs.values() if leg.live]:
            self._far_end(leg, "BYE" if leg.state == "confirmed" else "CANCEL", 200, Headers())
        await asyncio.sleep(0)

    def send(self, command: cmd.Command) -> None:
        self.commands.append(command)
        if isinstance(command, cmd.Dial):
            self._dial_out(command)
            return
        leg = self.legs.get(command.call_id)
        if leg is None or not leg.live:
            self._emit(
                sig.CommandFailed(
                    call_id=command.call_id, op=type(command).__name__, message="no such live call"
                )
            )
            return
        if isinstance(command, cmd.Provisional):
            self._record(leg, str(command.code), command.headers)
            leg.state = "early"
            self._emit(sig.Progress(call_id=leg.call_id, code=command.code))
        elif isinstance(command, cmd.Answer):
            self._record(leg, "200", command.headers)
            self._confirm(leg, Headers())  # the far end ACKs at once
        elif isinstance(command, cmd.Reject):
            self._far_end(leg, str(command.code), command.code, command.headers)
        elif isinstance(command, cmd.Hangup):
            if leg.state == "confirmed":
                self._far_end(leg, "BYE", 200, command.headers)
            elif leg.outbound:
                self._far_end(leg, "CANCEL", command.code, command.headers)
            else:
                self._far_end(leg, str(command.code), command.code, command.headers)

    # -- far end (what a test does as the remote party) --------------------------------------

    def dial(
        self,
        to: str = "100",
        from_: str = "+15550100",
        *,
        display_name: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> FarLeg:
        """The far end calls the engine. A full process answers 486, a draining one 503."""
        call_id = f"mem-in-{next(self._ids)}"
        leg = FarLeg(
            call_id=call_id,
            outbound=False,
            uri=f"sip:{to}@memory.invalid",
            headers=Headers(headers or {}),
        )
        self.legs[call_id] = leg
        if not self._accepting or self._live() > self.max_calls:
            code = 503 if not self._accepting else 486
            self._record(leg, str(code), Headers())
            self._finish(leg, code)
            return leg
        self._emit(
            sig.IncomingCall(
                call_id=call_id,
                from_uri=f"sip:{from_}@memory.invalid",
                to_uri=leg.uri,
                callerid=from_,
                destination=to,
                display_name=display_name,
                headers=leg.headers,
            )
        )
        return leg

    async def expect_call(self, timeout: float = 5.0) -> FarLeg:
        """The next leg the engine places towards the far end."""
        return await asyncio.wait_for(self.offered.get(), timeout)

    def ring(self, leg: FarLeg, code: int = 180) -> None:
        self._require(leg, outbound=True, states=("offered", "early"))
        leg.state = "early"
        self._emit(sig.Progress(call_id=leg.call_id, code=code, reason="Ringing"))

    def answer(self, leg: FarLeg, headers: Mapping[str, str] | None = None) -> None:
        self._require(leg, outbound=True, states=("offered", "early"))
        self._confirm(leg, Headers(headers or {}))

    def reject(
        self, leg: FarLeg, code: int = 486, headers: Mapping[str, str] | None = None
    ) -> None:
        self._require(leg, outbound=True, states=("offered", "early"))
        self._finish(leg, code, headers=Headers(headers or {}))

    def hangup(self, leg: FarLeg, headers: Mapping[str, str] | None = None) -> None:
        """BYE when confirmed; CANCEL (487) while an inbound call is still ringing."""
        self._require(leg, outbound=None, states=("offered", "early", "confirmed"))
        if leg.state == "confirmed":
            self._finish(leg, 200, reason="Normal call clearing", headers=Headers(headers or {}))
        elif not leg.outbound:
            self._finish(leg, 487, reason="Request Terminated", headers=Headers(headers or {}))
        else:
            self.reject(leg, 603, headers)

    # -- internals ---------------------------------------------------------------------------

    def _dial_out(self, command: cmd.Dial) -> None:
        leg = FarLeg(
            call_id=command.call_id, outbound=True, uri=command.uri, headers=command.headers
        )
        self.legs[leg.call_id] = leg
        if self._live() > self.max_calls:
            self._finish(leg, 486, reason="Too many calls in this process")
            return
        self.offered.put_nowait(leg)

    def _confirm(self, leg: FarLeg, headers: Headers) -> None:
        leg.state, leg.code = "confirmed", 200
        leg.answered.set()
        self._emit(sig.Answered(call_id=leg.call_id, headers=headers))

    def _far_end(self, leg: FarLeg, message: str, code: int, headers: Headers) -> None:
        self._record(leg, message, headers)
        self._finish(leg, code, headers=headers)

    def _finish(
        self, leg: FarLeg, code: int, *, reason: str = "", headers: Headers | None = None
    ) -> None:
        leg.state = "ended"
        if leg.code is None:  # the INVITE's final status: 200 once answered, else this code
            leg.code = code
        leg.ended.set()
        self._emit(
            sig.Ended(call_id=leg.call_id, code=code, reason=reason, headers=headers or Headers())
        )

    @staticmethod
    def _record(leg: FarLeg, message: str, headers: Headers) -> None:
        leg.history.append(message)
        leg.received_headers[message] = headers

    def _require(self, leg: FarLeg, *, outbound: bool | None, states: tuple[str, ...]) -> None:
        if (outbound is not None and leg.outbound is not outbound) or leg.state not in states:
            raise BackendError(
                f"far end cannot do that on a leg in state {leg.state!r}", op="memory"
            )

    def _live(self) -> int:
        return sum(1 for leg in self.legs.values() if leg.live)

    def _emit(self, signal: sig.Signal) -> None:
        if self._sink is None:
            raise BackendError("memory backend used before start()", op="memory")
        self._sink(signal)

"""VoxEngine's ``easy_process``: forward an inbound leg to an outbound one.

While the outbound leg rings, the caller hears it: a 180 becomes our 180 to the caller, early
media (a 183) becomes our 183 with the callee's audio bridged to the caller. Once the callee
answers the caller is answered (unless it already was) and both are bridged; from then on INFO,
MESSAGE and hold/unhold pass from each leg to the other, and each leg ends when the other ends.

``easy_process`` returns an :class:`EasyProcess`: ``await`` it for a :class:`ForwardOutcome`.
A failed outbound leg ends the caller (its 4xx-6xx passed on while the caller is unanswered),
unless the scenario gives ``on_failed``: then the caller is left alone for the scenario to
carry on (voicemail, another agent).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Literal

from voxpy.core.events import CallEvents
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.runtime import args
from voxpy.runtime.call import Call

Runner = Callable[[Callable[[Any], Any], Any], None]
"Runs scenario code ``f(event)`` like a handler (async allowed, failures reported)."


@dataclass(frozen=True, slots=True, kw_only=True)
class ForwardOutcome:
    """How a forwarding ended up.

    ``result``: ``"connected"`` (both legs answered and bridged), ``"failed"`` (the outbound
    leg failed: ``code`` and ``reason`` are its Failed event's) or ``"cancelled"`` (the caller
    hung up, or was ended, before the outbound leg answered; the outbound leg is cancelled).
    """

    result: Literal["connected", "failed", "cancelled"]
    code: int | None = None
    reason: str = ""

    @property
    def connected(self) -> bool:
        return self.result == "connected"


class EasyProcess:
    """The handle ``easy_process`` returns: ``await`` it for the :class:`ForwardOutcome`, known as
    soon as the outbound leg is bridged, fails, or the caller goes first."""

    def __init__(self) -> None:
        self._done: asyncio.Future[ForwardOutcome] = asyncio.get_running_loop().create_future()

    def __await__(self) -> Generator[Any, None, ForwardOutcome]:
        return asyncio.shield(self._done).__await__()

    @property
    def outcome(self) -> ForwardOutcome | None:
        """The outcome once known, else None."""
        return self._done.result() if self._done.done() else None

    def resolve(self, outcome: ForwardOutcome) -> None:
        if not self._done.done():
            self._done.set_result(outcome)


def easy_process(
    inbound: Call,
    outbound: Call,
    run: Runner,
    on_established: Callable[[Call, Call], Any] | None = None,
    on_failed: Callable[[Any], Any] | None = None,
) -> EasyProcess:
    """See the module docstring. ``run`` runs the scenario's callbacks as handlers."""
    args.instances("easy_process", Call, inbound, outbound)
    for name, fn in (("on_established", on_established), ("on_failed", on_failed)):
        if fn is not None and not callable(fn):
            raise InvalidArgumentError(f"easy_process: {name} must be callable, got {fn!r}")
    forwarder = _Forwarder(inbound, outbound, run, on_established, on_failed)
    outbound.add_event_listener(CallEvents.Ringing, forwarder.ringing)
    outbound.add_event_listener(CallEvents.AudioStarted, forwarder.early_media)
    outbound.add_event_listener(CallEvents.Connected, forwarder.outbound_connected)
    outbound.add_event_listener(CallEvents.Failed, forwarder.outbound_failed)
    outbound.add_event_listener(CallEvents.Disconnected, lambda _e: inbound.end_quietly())
    inbound.add_event_listener(CallEvents.Disconnected, forwarder.inbound_ended)
    for leg, other in ((inbound, outbound), (outbound, inbound)):
        for event, send in RELAYED.items():
            leg.add_event_listener(event, forwarder.relay(other, send))
    return forwarder.forwarding


def _quietly(action: Callable[[], None]) -> bool:
    """Do ``action``; False if the leg moved on meanwhile (hung up, already answered): then
    it raised and changed nothing."""
    try:
        action()
    except InvalidStateError:
        return False
    return True


class _Forwarder:
    """The listeners of one ``easy_process``."""

    def __init__(
        self,
        inbound: Call,
        outbound: Call,
        run: Runner,
        on_established: Callable[[Call, Call], Any] | None,
        on_failed: Callable[[Any], Any] | None,
    ) -> None:
        self.inbound = inbound
        self.outbound = outbound
        self.run = run
        self.on_established = on_established
        self.on_failed = on_failed
        self.forwarding = EasyProcess()
        self.early = False
        "The callee's early media is relayed to the caller."

    def alerting(self) -> bool:
        """The caller has had no final response yet (not answered, not refused)."""
        call = self.inbound
        return call.live and call.status() == "pending" and call.state() == "ALERTING"

    # -- while the outbound leg rings -----------------------------------------------------

    def ringing(self, _e: Any) -> None:
        if self.alerting() and not self.early:
            _quietly(self.inbound.ring)

    def early_media(self, _e: Any) -> None:
        if self.outbound.state() != "PROGRESSING" or not self.alerting():
            return  # the answer's own AudioStarted, or a caller answered already (music)
        self.early = True
        _quietly(self.inbound.start_early_media)
        _quietly(lambda: self.outbound.send_media_to(self.inbound))  # the callee's ringback

    # -- answered ---------------------------------------------------------------------------

    def outbound_connected(self, e: Any) -> None:
        if self.inbound.state() == "CONNECTED":
            self.bridge(e)
        elif self.inbound.live:
            self.inbound.once(CallEvents.Connected, self.bridge)
            _quietly(self.inbound.answer)  # already answering: Connected follows all the same

    def bridge(self, e: Any) -> None:
        inbound, outbound = self.inbound, self.outbound
        if not (inbound.live and outbound.live):
            return
        inbound.send_media_to(outbound)
        outbound.send_media_to(inbound)
        self.forwarding.resolve(ForwardOutcome(result="connected"))
        established = self.on_established
        if established is not None:
            self.run(lambda _e: established(inbound, outbound), e)

    def relay(self, to: Call, send: Callable[[Call, Any], None]) -> Callable[[Any], None]:
        """Pass an in-dialog request on to the other leg once both are bridged."""

        def handler(e: Any) -> None:
            outcome = self.forwarding.outcome
            both = self.inbound.state() == self.outbound.state() == "CONNECTED"
            if outcome is not None and outcome.connected and both:
                _quietly(lambda: send(to, e))

        return handler

    # -- failure and the end ----------------------------------------------------------------

    def outbound_failed(self, e: Any) -> None:
        inbound = self.inbound
        result: Literal["failed", "cancelled"] = "failed" if inbound.live else "cancelled"
        self.forwarding.resolve(ForwardOutcome(result=result, code=e.code, reason=e.reason))
        if not inbound.live:
            return
        if self.on_failed is not None:
            self.run(self.on_failed, e)  # the caller is the scenario's again
        elif not _quietly(lambda: inbound.reject(e.code if 400 <= e.code <= 699 else 480)):
            inbound.end_quietly()  # answered (hold music) or being answered: BYE

    def inbound_ended(self, e: Any) -> None:
        self.forwarding.resolve(ForwardOutcome(result="cancelled", code=e.code, reason=e.reason))
        self.outbound.end_quietly()


RELAYED: dict[CallEvents, Callable[[Call, Any], None]] = {
    CallEvents.InfoReceived: lambda to, e: to.send_info(e.mime_type, e.body, headers=e.headers),
    CallEvents.MessageReceived: lambda to, e: to.send_message(e.text),
    CallEvents.OnHold: lambda to, _e: to.hold(),
    CallEvents.OffHold: lambda to, _e: to.unhold(),
}
"What a bridged leg passes on to the other: INFO, MESSAGE, hold and unhold."

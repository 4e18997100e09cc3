"""``Session``: one run of a scenario, holding its calls and timers (VoxEngine's JS session).

A scenario's ``VoxEngine`` is the session it runs in. The session ends when the scenario calls
``terminate()`` or a grace period after its last call ended; ending fires Terminating, hangs up
live calls, waits for them, then fires Terminated.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine, Mapping, MutableMapping
from typing import Any, Protocol

from structlog.typing import FilteringBoundLogger

from voxpy.core import commands as cmd
from voxpy.core.clock import Clock, Timer
from voxpy.core.events import AppEvents, CallEvents, WebSocketEvents
from voxpy.core.headers import outgoing_headers
from voxpy.core.ports import MediaLibrary
from voxpy.core.quality import Thresholds
from voxpy.core.signals import IncomingCall
from voxpy.core.timeouts import Timeouts
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.media.hearing import AMDOptions
from voxpy.runtime import args, forwarding
from voxpy.runtime.app_listening import AppListeners
from voxpy.runtime.args import options
from voxpy.runtime.call import Call
from voxpy.runtime.catalog import build_call_event
from voxpy.runtime.events import (
    AppEvent,
    HttpRequest,
    Started,
    Terminated,
    Terminating,
)
from voxpy.runtime.feedback import Feedback, feedback
from voxpy.runtime.hearing import amd_options
from voxpy.runtime.hearing_events import build_asr_event
from voxpy.runtime.leg import LegHost
from voxpy.runtime.legs import Legs
from voxpy.runtime.recognition import ASR, AsrHost
from voxpy.runtime.scenario_timers import ScenarioTimers
from voxpy.runtime.scope import session_scope
from voxpy.runtime.session_work import SessionWork
from voxpy.runtime.sockets import Sockets
from voxpy.runtime.units import MediaUnitsApi, Units, unit_host
from voxpy.runtime.waits import Recordings, clock_sleep
from voxpy.runtime.websocket import WebSocket
from voxpy.runtime.ws_events import incoming


class SessionHost(Protocol):
    """What a session needs from its engine."""

    @property
    def clock(self) -> Clock: ...
    @property
    def timeouts(self) -> Timeouts: ...
    @property
    def log(self) -> FilteringBoundLogger: ...
    @property
    def media(self) -> MediaLibrary: ...
    @property
    def thresholds(self) -> Thresholds: ...

    @property
    def conferences(self) -> MutableMapping[str, Any]: ...

    def send(self, command: cmd.Command) -> None: ...
    def route_unit(self, unit_id: str, receive: Callable[[Any], None] | None) -> None: ...
    def observe(self, session: Session, event: Any) -> None: ...
    def reserve_leg(self) -> None: ...
    def register_call(self, call: Call) -> None: ...
    def session_ended(self, session: Session) -> None: ...


class Session(AppListeners, MediaUnitsApi):
    """The ``VoxEngine`` object of one scenario run."""

    def __init__(self, host: SessionHost, custom_data: str | None = None) -> None:
        self.id = uuid.uuid4().hex[:16]
        self.log = host.log.bind(session_id=self.id)
        self._work = SessionWork(session_id=self.id, log=self.log, emit=self.emit_app)
        super().__init__(
            lambda: session_scope(self),
            self.handler_failed,
            self.track,
            accepts=AppEvents,
            refuses=(CallEvents, WebSocketEvents),
        )
        self._host = host
        self._custom_data = custom_data
        self._calls: dict[str, Call] = {}
        self._timers = ScenarioTimers(host.clock)
        self._grace: Timer | None = None
        self._ending = False
        self._no_live_calls = asyncio.Event()
        self._recordings = Recordings()
        self.terminated = asyncio.Event()
        self.started_at = host.clock.now()
        self.feedback: list[Feedback] = []
        "Every ``post_feedback`` of this session, in order."
        legs = LegHost(
            session_id=self.id,
            log=self.log,
            clock=host.clock,
            media=host.media,
            thresholds=host.thresholds,
            send=host.send,
            spawn=self.spawn,
            build_event=build_call_event,
            observe=self._recordings.watch(lambda event: host.observe(self, event)),
            ended=self.call_ended,
            scope=lambda call_id: session_scope(self, call_id),
            on_error=self.handler_failed,
            track=self.track,
            make_asr=self.create_asr,
        )
        self._asr = AsrHost(log=self.log, scope=lambda: session_scope(self), track=self.track,
                            on_error=self.handler_failed, build_event=build_asr_event,
                            observe=lambda event: host.observe(self, event))  # fmt: skip
        self._units = Units(
            unit_host(self, host, lambda: session_scope(self),
                      self._recordings.watch(lambda event: host.observe(self, event)))
        )  # fmt: skip
        self._legs = Legs(legs, host.timeouts)
        "Makes this session's legs; what they are given is all a Call sees of the session."
        self._sockets = Sockets(
            log=self.log,
            scope=lambda: session_scope(self),
            on_error=self.handler_failed,
            track=self.track,
            observe=lambda event: host.observe(self, event),
        )

    # -- VoxEngine API -----------------------------------------------------------------------

    def custom_data(self) -> str | None:
        """The data this session was started with (``voxpy call --custom-data``, HTTP API)."""
        return self._custom_data

    @options
    def call_sip(
        self,
        to: str,
        *,
        callerid: str | None = None,
        display_name: str | None = None,
        headers: Mapping[str, str] | None = None,
        auth_user: str | None = None,
        password: str | None = None,
        timeout: float | None = None,
        amd: bool | AMDOptions | None = None,
    ) -> Call:
        """Place an outbound SIP leg and return it; Connected or Failed fires later. ``amd``:
        answering-machine detection from the answer on (``call.detect_voicemail``'s events).

        ``timeout``: seconds to wait for an answer (default: config ``timeouts.dial``); then
        the leg is cancelled and Failed fires with code 408. Raises InvalidArgumentError for
        a timeout that is not a positive number, CapacityError when this process already
        holds its maximum of legs.
        """
        args.dial(to, callerid, display_name, auth_user, password)
        dial = (
            None if timeout is None else args.number("call_sip", "timeout", timeout, positive=True)
        )
        sent = outgoing_headers(args.headers("call_sip", headers))
        detect = None if amd is None or amd is False else amd_options("call_sip", amd)
        self._host.reserve_leg()
        call = self._legs.outbound(to, callerid=callerid, display_name=display_name, dial=dial)
        call.detect_voicemail_on_answer(detect)
        self._adopt(call)
        self._host.send(
            cmd.Dial(
                call_id=call.id(),
                uri=to,
                callerid=callerid,
                display_name=display_name,
                headers=sent,
                auth_user=auth_user,
                password=password,
            )
        )
        return call

    def create_asr(self, provider: str | None = None, **options: Any) -> ASR:
        """A speech recognizer (offline PocketSphinx unless ``provider`` names another) with
        ``language`` ("en-US"), ``phrase_hints`` (phrases expected) and ``single_utterance``
        (True): ``call.send_media_to(asr)`` feeds it; it fires ASREvents."""
        return ASR(self._asr, provider=provider, **options)

    def set_timeout(self, fn: Callable[[], Any], seconds: float) -> int:
        """Call ``fn()`` once after ``seconds``; returns an id for ``clear_timeout``."""
        if not callable(fn):
            raise InvalidArgumentError(f"set_timeout: fn must be callable, got {fn!r}")
        delay = args.number("set_timeout", "seconds", seconds)
        return self._timers.set(
            lambda: self.run_handler(lambda _e: fn(), self._work.work("timer")),
            delay,
        )

    async def sleep(self, seconds: float) -> None:
        """Wait on the session's clock (virtual in the test kit's memory mode)."""
        await clock_sleep(self._host.clock, seconds)

    def clear_timeout(self, timer_id: int) -> None:
        self._timers.clear(timer_id)

    @options
    def easy_process(
        self,
        inbound: Call,
        outbound: Call,
        on_established: Callable[[Call, Call], Any] | None = None,
        *,
        on_failed: Callable[[Any], Any] | None = None,
    ) -> forwarding.EasyProcess:
        """Forward ``inbound`` to ``outbound``: relay its ringing and early media, answer
        ``inbound`` when ``outbound`` connects, bridge both ways, relay INFO, MESSAGE and
        hold, end each leg when the other ends. A failed ``outbound`` ends ``inbound`` unless
        ``on_failed(e)`` (the Failed event) is given: then ``inbound`` stays the scenario's.
        ``await`` the result for a ForwardOutcome (see :mod:`voxpy.runtime.forwarding`)."""
        return forwarding.easy_process(
            inbound, outbound, self.run_handler, on_established, on_failed
        )

    def create_websocket(
        self,
        url: str,
        *,
        protocols: list[str] | None = None,
        headers: Mapping[str, str] | None = None,
        dialect: str = "voxengine",
    ) -> WebSocket:
        """Open a WebSocket to ``url`` (OPEN or ERROR + CLOSE fire later); ``dialect`` is the
        media stream protocol it speaks ("voxengine" or "twilio"). It stays open after calls
        end, and is closed (1001) when the session ends."""
        if self._ending:
            raise InvalidStateError("the session is ending: no new WebSocket")
        return self._sockets.connect(url, protocols=protocols, headers=headers, dialect=dialect)

    def accept_websocket(
        self, transport: Any, path: str = "", headers: Mapping[str, str] | None = None
    ) -> WebSocket:
        """An open server-side socket (aiohttp ``WebSocketResponse``) becomes this session's
        ``WebSocket``; AppEvents.WebSocket fires with it. The caller then awaits ``serve()``."""
        ws = self._sockets.adopt(transport, path)
        self.emit_app(incoming(self.id, ws, path, dict(headers or {})))
        return ws

    async def http_request(
        self, method: str, path: str, body: str = "", headers: Mapping[str, str] | None = None
    ) -> Any:
        """Deliver an HTTP request as AppEvents.HttpRequest and return the reply: the first
        non-None value a handler returns (awaited when a coroutine). A handler that raises is
        reported like any other and the request gets the exception."""
        event = HttpRequest(
            name=AppEvents.HttpRequest,
            session_id=self.id,
            method=method,
            path=path,
            body=body,
            headers=dict(headers or {}),
        )
        self.log.info("event", name=str(event.name), method=method, path=path)
        self._host.observe(self, event)
        return await self.first_reply(event)

    @options
    def post_feedback(self, score: int | None = None, issue: str | None = None) -> None:
        """Twilio's ``postFeedback``: record how the call went (score 1-5, a known issue);
        kept in :attr:`feedback` and logged as ``call_feedback``."""
        given = feedback(score, issue, self._host.clock.now())
        self.feedback.append(given)
        self.log.info("call_feedback", score=given.score, issue=given.issue)

    def terminate(self) -> None:
        """End this session: Terminating fires, live calls are hung up, then Terminated fires."""
        if self._ending:
            return
        self._ending = True
        self._cancel_grace()
        self.log.info("session_terminating", calls=len(self.live_calls()))
        self.emit_app(Terminating(name=AppEvents.Terminating, session_id=self.id))
        self._units.close_all()
        for call in self.live_calls():
            call.end_quietly()
        self._work.keep(asyncio.get_running_loop().create_task(self._finish()))

    # -- engine side -------------------------------------------------------------------------

    def live_calls(self) -> list[Call]:
        return [c for c in self._calls.values() if c.live]

    @property
    def ending(self) -> bool:
        return self._ending

    def spawn(self, coro: Coroutine[Any, Any, None], what: str) -> None:
        """Run engine work concurrently; a failure is reported like a handler's."""
        self._work.spawn(coro, what)

    def start(self) -> None:
        """Fire Started (after the scenario's top level ran) and arm the idle grace timer."""
        self.log.info("session_started", custom_data=self._custom_data)
        self.emit_app(
            Started(name=AppEvents.Started, session_id=self.id, custom_data=self._custom_data)
        )
        if not self._calls:
            self._arm_grace()

    def inbound_call(self, incoming: IncomingCall) -> Call:
        """The leg of an inbound INVITE; the session takes it with :meth:`adopt_inbound` once
        the scenario has run."""
        return self._legs.inbound(incoming)

    def adopt_inbound(self, call: Call) -> None:
        """Take an inbound leg made by :meth:`inbound_call`."""
        self._adopt(call)

    def call_ended(self, call: Call) -> None:
        self._units.call_ended(call.id())
        if self.live_calls():
            return
        self._no_live_calls.set()
        if not self._ending:
            self._arm_grace()

    def track(self, task: asyncio.Future[Any], event: Any) -> None:
        """Follow an async handler: its failure is reported like a sync handler's."""
        self._work.track(task, event)

    def handler_failed(self, exc: BaseException, event: Any) -> None:
        """Log a failed handler once, with ids and traceback, then emit HandlerError."""
        self._work.failed(exc, event)

    # -- internals ---------------------------------------------------------------------------

    def _adopt(self, call: Call) -> None:
        self._calls[call.id()] = call
        self._no_live_calls.clear()
        self._host.register_call(call)
        self._cancel_grace()

    def _arm_grace(self) -> None:
        self._cancel_grace()
        self._grace = self._host.clock.call_later(self._host.timeouts.session_grace, self.terminate)

    def _cancel_grace(self) -> None:
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None

    def emit_app(self, event: AppEvent) -> None:
        self.log.info("event", name=str(event.name))
        self._host.observe(self, event)
        self.emit(event.name, event)

    async def _finish(self) -> None:
        live, wait = bool(self.live_calls()), self._host.timeouts.terminate_wait
        if not await self._recordings.settled(self._no_live_calls, live, wait):  # late signals
            self.log.warning("calls_did_not_end", calls=[c.id() for c in self.live_calls()])
        self._timers.cancel_all()
        await self._sockets.close_all()
        self.emit_app(Terminated(name=AppEvents.Terminated, session_id=self.id))
        self.log.info("session_terminated", leftover_calls=len(self.live_calls()))
        self.remove_all_listeners()
        for call in self._calls.values():
            call.forget_listeners()
        self._work.cancel_all()
        self.terminated.set()
        self._host.session_ended(self)


__all__ = ["Session", "SessionHost", "Timeouts"]

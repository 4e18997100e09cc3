"""``Engine``: one process's sessions and legs on one backend.

It routes backend signals to calls, creates a session per inbound INVITE (or on request for
outbound-only scenarios), enforces the per-process leg cap, and shuts down gracefully.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from structlog.typing import FilteringBoundLogger

from voxpy.core import commands as cmd
from voxpy.core.clock import Clock
from voxpy.core.confdir import Directory
from voxpy.core.events import AppEvents
from voxpy.core.ports import Backend, MediaLibrary
from voxpy.core.quality import Thresholds
from voxpy.core.signals import IncomingCall, Signal
from voxpy.errors import CapacityError, ScenarioError
from voxpy.runtime.call import Call
from voxpy.runtime.conference_links import Pieces
from voxpy.runtime.dispatch import LoopDoor
from voxpy.runtime.events import CallAlerting, Event
from voxpy.runtime.journal import Journals
from voxpy.runtime.nomedia import NoMedia
from voxpy.runtime.scenario import Scenario
from voxpy.runtime.session import Session, Timeouts
from voxpy.runtime.timers import LoopClock


class Engine:
    """Runs ``scenario`` for every inbound call that ``backend`` receives."""

    def __init__(
        self,
        backend: Backend,
        scenario: Scenario,
        *,
        timeouts: Timeouts | None = None,
        custom_data: str | None = None,
        clock: Clock | None = None,
        media: MediaLibrary | None = None,
        thresholds: Thresholds | None = None,
        log: FilteringBoundLogger | None = None,
        directory: Directory | None = None,
        link_secret: str | None = None,
        journals: Journals | None = None,
    ) -> None:
        """``directory`` and ``link_secret``: a ``voxpy serve`` worker's view of the
        conference directory and the workers' shared secret (conferences span workers).
        ``journals``: where each session's journal goes (None: no journals)."""
        self.backend = backend
        self.scenario = scenario
        self.timeouts = timeouts or Timeouts()
        self.custom_data = custom_data
        self.log: FilteringBoundLogger = log or structlog.get_logger("voxpy.engine")
        self._clock: Clock | None = clock
        self.media: MediaLibrary = media or NoMedia()
        self.thresholds = thresholds or Thresholds()
        self._calls: dict[str, Call] = {}
        self._units: dict[str, Callable[[Signal], None]] = {}
        "Media units (conferences' recorders, players, recorders) by id: their signals' route."
        self.conferences = Pieces(self, directory, link_secret, getattr(directory, "worker", ""))
        "This worker's conferences by name: sessions share one by creating it by name."
        self._work: set[asyncio.Task[None]] = set()
        self.sessions: dict[str, Session] = {}
        self._accepting = True
        self.observers: list[Callable[[Session, Event], None]] = []
        "Called with every event the engine dispatches, before its handlers (tests, metrics)."
        self.journals = journals

    @property
    def clock(self) -> Clock:
        if self._clock is None:
            self._clock = LoopClock()
        return self._clock

    async def start(self) -> None:
        """Start the backend; inbound calls start sessions from now on."""
        await self.backend.start(LoopDoor(asyncio.get_running_loop(), self._route))
        self.log.info(
            "engine_started",
            scenario=str(self.scenario.path),
            contact=self.backend.contact_uri,
            max_calls=self.backend.max_calls,
        )

    def start_session(self, custom_data: str | None = None) -> Session:
        """Start a session with no inbound call (outbound scenarios); raises ScenarioError."""
        session = self._new_session(self.custom_data if custom_data is None else custom_data)
        try:
            self.scenario.run(session)
        except ScenarioError:
            self.session_ended(session)
            raise
        session.start()
        return session

    async def shutdown(self) -> None:
        """Stop taking calls, end every session (BYE to live calls), then stop the backend."""
        self._accepting = False
        self.backend.stop_accepting()
        sessions = list(self.sessions.values())
        self.log.info("engine_stopping", sessions=len(sessions), calls=self.live_legs())
        for session in sessions:
            session.terminate()
        await asyncio.gather(*(s.terminated.wait() for s in sessions))
        for task in list(self._work):
            task.cancel()
        if self.journals is not None:
            await self.journals.drain()
        await self.backend.stop()
        self.log.info("engine_stopped")

    def live_legs(self) -> int:
        return sum(1 for c in self._calls.values() if c.live)

    # -- SessionHost -------------------------------------------------------------------------

    def send(self, command: cmd.Command, session_id: str | None = None) -> None:
        """Send ``command`` to the backend; its leg's session (or ``session_id``, for a leg
        not yet adopted) journals it."""
        if self.journals is not None:
            call = self._calls.get(command.call_id)
            session_id = call.session_id if call is not None else session_id
            if session_id is not None:
                self.journals.command(session_id, command, self.clock.now())
        self.backend.send(command)

    def observe(self, session: Session, event: Event) -> None:
        if self.journals is not None:
            self.journals.event(session.id, event, self.clock.now())
        for observer in self.observers:
            observer(session, event)

    def reserve_leg(self) -> None:
        if self.live_legs() >= self.backend.max_calls:
            raise CapacityError(
                f"this process already holds {self.backend.max_calls} calls, its limit "
                "(the pjsua2 build caps a process at 4); run more workers with `voxpy serve`",
                op="call_sip",
            )

    def route_unit(self, unit_id: str, receive: Callable[[Signal], None] | None) -> None:
        """Route the signals of media unit ``unit_id`` to ``receive`` (None: no more)."""
        if receive is None:
            self._units.pop(unit_id, None)
        else:
            self._units[unit_id] = receive

    def register_call(self, call: Call) -> None:
        self._calls[call.id()] = call

    def session_ended(self, session: Session) -> None:
        self.sessions.pop(session.id, None)
        if self.journals is not None:
            self.journals.close(session.id)
        for call_id in [i for i, c in self._calls.items() if c.session_id == session.id]:
            del self._calls[call_id]

    # -- signals -----------------------------------------------------------------------------

    def _route(self, signal: Signal) -> None:
        """Runs on the loop for every backend signal (via the LoopDoor)."""
        if isinstance(signal, IncomingCall):
            self._incoming(signal)
            return
        call = self._calls.get(signal.call_id)
        if call is None and signal.call_id in self._units:
            self._units[signal.call_id](signal)
            return
        if call is None:
            self.log.debug(
                "signal_for_unknown_call", signal=type(signal).__name__, call_id=signal.call_id
            )
            return
        if self.journals is not None:  # before the events it leads to
            self.journals.signal(call.session_id, signal, self.clock.now())
        try:
            call.receive(signal)
        except Exception:  # one leg's bug must not stop the other calls
            call.log.exception("signal_failed", signal=type(signal).__name__)

    def _incoming(self, sig: IncomingCall) -> None:
        log = self.log.bind(call_id=sig.call_id, sip_call_id=sig.sip_call_id)
        if not self._accepting or self.live_legs() >= self.backend.max_calls:
            code = 486 if self._accepting else 503
            log.warning("call_refused", code=code, live=self.live_legs())
            self.send(cmd.Reject(call_id=sig.call_id, code=code))
            return
        reject = lambda code: self.send(cmd.Reject(call_id=sig.call_id, code=code))  # noqa: E731
        if self.conferences.accept(sig, reject):
            return  # a link from another worker's piece of a conference
        session = self._new_session(self.custom_data)
        if self.journals is not None:
            self.journals.signal(session.id, sig, self.clock.now())
        call = session.inbound_call(sig)
        try:
            self.scenario.run(session)
        except ScenarioError as exc:
            session.log.error("scenario_failed", error=str(exc), exc_info=exc.__cause__)
            if self.journals is not None:
                self.journals.failure(session.id, f"scenario failed: {exc}", self.clock.now())
            self.send(cmd.Reject(call_id=sig.call_id, code=500), session.id)
            self.session_ended(session)
            return
        session.adopt_inbound(call)
        log.info(
            "call_incoming",
            session_id=session.id,
            callerid=sig.callerid,
            destination=sig.destination,
            from_uri=sig.from_uri,
        )
        session.start()
        session.emit_app(
            CallAlerting(
                name=AppEvents.CallAlerting,
                session_id=session.id,
                call=call,
                callerid=sig.callerid,
                destination=sig.destination,
                display_name=sig.display_name,
                from_uri=sig.from_uri,
                to_uri=sig.to_uri,
                headers=sig.headers,
                custom_data=session.custom_data(),
            )
        )

    def link_session(self, what: str) -> Session:
        """A session that runs no scenario, for one conference link leg (it ends with it)."""
        session = self._new_session(what)
        session.log.info("link_session", what=what)
        return session

    def spawn(self, coro: Coroutine[Any, Any, None], what: str) -> None:
        """Engine work on the loop (conference links); a failure is logged, not raised."""
        task = asyncio.get_running_loop().create_task(coro)
        self._work.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._work.discard(t)
            if not t.cancelled() and t.exception() is not None:
                self.log.error("engine_task_failed", what=what, exc_info=t.exception())

        task.add_done_callback(done)

    def _new_session(self, custom_data: str | None) -> Session:
        session = Session(self, custom_data)
        self.sessions[session.id] = session
        if self.journals is not None:
            self.journals.open(session.id, session.started_at, self.scenario.path.name)
        return session

"""``ScenarioHarness``: run a scenario against a fake SIP peer, in memory or over real SIP.

Memory mode wires the engine and the peer to the two ends of a
:class:`~voxpy.backends.memory.MemoryNetwork` and drives time with a
:class:`~voxpy.testing.clock.VirtualClock`: no sockets, threads or pjsua2, and waits jump the
clock to the next timer when nothing else can happen. SIP mode runs the engine on the real
pjsua2 backend on a free loopback port, with the peer (a pjsua2 process) as its outbound proxy
so that every call the scenario places reaches the peer, whatever URI it dials.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from voxpy.backends.memory import MemoryNetwork
from voxpy.config import Settings, load_settings
from voxpy.core import commands as cmd
from voxpy.core.headers import Headers
from voxpy.core.journal import Entry
from voxpy.core.ports import Backend
from voxpy.core.signals import IncomingCall, Signal
from voxpy.errors import ScenarioError, VirtualTimeStuck
from voxpy.runtime.engine import Engine
from voxpy.runtime.journal import Journals
from voxpy.runtime.scenario import Scenario
from voxpy.runtime.session import Session
from voxpy.testing.clock import VirtualClock, settle
from voxpy.testing.fake_media import FakeMedia, RegisteredMedia
from voxpy.testing.peer import PeerCall
from voxpy.testing.realwait import ScenarioTasks, describe, real_waits
from voxpy.testing.recorder import Recorder
from voxpy.testing.tap import LegTap

BackendName = Literal["memory", "sip"]

REAL_WAIT_LIMIT = 30.0
"Real seconds ``advance`` waits, in memory mode, for scenario tasks blocked on real I/O."


class ScenarioHarness:
    """Async context manager: an engine running ``scenario`` plus a fake peer wired to it."""

    def __init__(
        self,
        scenario: str | Path,
        backend: BackendName = "memory",
        custom_data: str | None = None,
        config: Settings | Mapping[str, Any] | None = None,
        raise_handler_errors: bool = True,
    ) -> None:
        if backend not in ("memory", "sip"):
            raise ValueError(f"backend must be 'memory' or 'sip', got {backend!r}")
        self.backend: BackendName = backend
        self.scenario = Scenario.load(scenario)
        self.settings = (
            config
            if isinstance(config, Settings)
            else load_settings(overrides=dict(config or {}), env={})
        )
        # Overload admission only when the test configures it: a busy test machine (a CI
        # runner at full CPU) must not refuse the test's own calls.
        self._overload = (
            self.settings.overload_thresholds()
            if "overload" in self.settings.model_fields_set
            else None
        )
        self.custom_data = custom_data
        self.raise_handler_errors = raise_handler_errors
        self.recorder = Recorder()
        journal = self.settings.journal
        self.journals = Journals(
            limits=journal.limits(),
            directory=Path(journal.dir) if journal.dir else None,
            keep=max(journal.keep, 1000),  # a test's sessions, all drawn if it fails
            keep_bytes=1 << 30,
        )
        "Every session's journal (``h.journal()``); a failing test gets their diagrams."
        self.clock: VirtualClock | None = None
        self.media: FakeMedia | RegisteredMedia
        "The scenario's media; ``h.media.register(url, duration=... | error=...)`` in both modes."
        self.peer_backend: Backend
        self.engine: Engine
        self._calls: dict[str, PeerCall] = {}
        self._offered: asyncio.Queue[PeerCall] = asyncio.Queue()
        self._changed = asyncio.Event()
        self._tap: LegTap
        self._reported = 0
        self._scenario_tasks = ScenarioTasks(lambda s: s.id in self.engine.sessions)

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> ScenarioHarness:
        if self.backend == "memory":
            self.clock = VirtualClock()
            self.clock.idle = self._idle_before_tick
            self._scenario_tasks.install()
            # Audio moves at the bridge's clock, where a pjsua2 worker's bridge would run.
            network = MemoryNetwork(self.clock, wire_rate=self.settings.bridge_rate())
            engine_backend: Backend = network.endpoint(
                "voxpy", self.settings.sip.max_calls, overload=self._overload
            )
            # The fake peer is not a voxpy worker: it has no 4-call cap of its own.
            self.peer_backend = network.endpoint("peer", max_calls=1000)
            self.media = FakeMedia()
            await self.peer_backend.start(self._on_peer_signal)
        else:
            engine_backend = await self._start_sip_peer()
        self._tap = LegTap(engine_backend)
        self.engine = Engine(
            self._tap,
            self.scenario,
            timeouts=self.settings.timeouts.timeouts(),
            custom_data=self.custom_data,
            clock=self.clock,
            media=self.media,
            thresholds=self.settings.quality.thresholds(),
            journals=self.journals,
        )
        self.engine.observers.append(self.recorder)
        self.engine.observers.append(lambda _s, _e: self._changed.set())
        try:
            await self.engine.start()
        except BaseException:
            self._scenario_tasks.uninstall()
            await self.peer_backend.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.engine.shutdown()
        finally:
            self._scenario_tasks.uninstall()
            await self.peer_backend.stop()
        if exc is None:
            self.check_errors()

    async def _start_sip_peer(self) -> Backend:
        from voxpy.backends.pjsua2 import PjsuaBackend
        from voxpy.backends.process import ProcessBackend
        from voxpy.media.library import FileMediaLibrary

        library = FileMediaLibrary.from_settings(self.settings)
        self.media = RegisteredMedia(library, library.cache_dir / "registered")
        self.peer_backend = ProcessBackend(host="127.0.0.1", port=0, measure_audio=True)
        await self.peer_backend.start(self._on_peer_signal)
        return PjsuaBackend(
            # The scenario's own settings (codecs, call cap, session timers, ...), on loopback
            # ports the OS picks, with the peer as the outbound proxy.
            self.settings.pjsua_options(
                host="127.0.0.1",
                port=0,
                public_address=None,
                rtp_port=0,
                rtp_port_range=0,
                outbound_proxy=f"{self.peer_backend.contact_uri};lr",
                overload=self._overload,
                # The test process's own threads stay at normal scheduling (timing is not what
                # a scenario test checks; a developer's account may not grant it).
                clock_priority=0,
            )
        )

    # -- the test's API ----------------------------------------------------------------------

    @property
    def peer_uri(self) -> str:
        """A SIP URI of the peer, e.g. to pass as custom data to an outbound scenario."""
        return self.peer_backend.contact_uri

    async def dial(
        self, to: str = "100", from_: str = "+15550100", headers: Mapping[str, str] | None = None
    ) -> PeerCall:
        """The peer calls the engine (a new session starts)."""
        self.check_errors()
        call_id = f"peer-{len(self._calls) + 1}"
        call = self._calls[call_id] = PeerCall(self, call_id, None)
        uri = self.engine.backend.contact_uri.replace("sip:voxpy@", f"sip:{to}@", 1)
        self.peer_backend.send(
            cmd.Dial(
                call_id=call_id,
                uri=uri,
                callerid=from_,
                headers=self._tap.tag(Headers(headers or {}), call_id),
            )
        )
        await self._settle()
        return call

    async def start(self, custom_data: str | None = None) -> Session:
        """Start a session without an inbound call (outbound scenarios)."""
        session = self.engine.start_session(custom_data)
        await self._settle()
        return session

    async def expect_call(self, timeout: float = 5.0) -> PeerCall:
        """The next call the engine places; the test then answers, rejects, rings or waits."""
        await self.wait_until(lambda: not self._offered.empty(), timeout, "outbound call")
        return self._offered.get_nowait()

    def events(
        self, call: PeerCall, *, state_changes: bool = False, texts: bool = False
    ) -> list[str]:
        """Engine-side event names of the leg ``call`` is the far end of, in order. With
        ``texts=True`` playback events say what played: ``Call.PlaybackFinished('Goodbye.')``."""
        return self.recorder.events(
            self._tap.engine_leg(call.id), state_changes=state_changes, texts=texts
        )

    def session_events(self) -> list[str]:
        return self.recorder.session_events()

    async def wait_event(
        self, name: str, call: PeerCall | None = None, timeout: float = 5.0
    ) -> Any:
        """The first engine event ``name`` (of ``call``'s leg, if given), waiting for it; in
        memory mode the virtual clock jumps to due timers meanwhile."""
        leg = self._tap.engine_leg(call.id) if call is not None else None

        def found() -> Any:
            return next(
                (
                    e
                    for e in self.recorder.of(name)
                    if leg is None or (getattr(e, "call", None) is not None and e.call.id() == leg)
                ),
                None,
            )

        await self.wait_until(lambda: found() is not None, timeout, name, call)
        return found()

    def playbacks(self, call: PeerCall) -> list[Any]:
        """The engine's PlaybackReady events for ``call``'s leg: what it prepared to play."""
        leg = self._tap.engine_leg(call.id)
        return [e for e in self.recorder.of("Call.PlaybackReady") if e.call.id() == leg]

    def journal(self, session_id: str | None = None) -> list[Entry]:
        """The journal of ``session_id`` (default: the first session of this harness)."""
        ids = self.journals.session_ids()
        found = self.journals.entries(session_id or (ids[0] if ids else ""))
        if found is None:
            raise AssertionError(f"no journal of session {session_id}; sessions: {ids}")
        return found

    async def advance(self, seconds: float) -> None:
        """Let time pass: instantly on the virtual clock (memory), for real over SIP."""
        if self.clock is not None:
            await self.clock.advance(seconds)
        else:
            await asyncio.sleep(seconds)

    def heard_from(self, call: PeerCall) -> set[PeerCall]:
        """The peer calls whose voices reach ``call`` now through the engine: a bridge
        (``send_media_to``) or a conference's mix, muting and directions applied. Who hears
        whom, without audio (memory mode only: over SIP, analyse ``heard_pcm``)."""
        network = getattr(self.peer_backend, "network", None)
        if not isinstance(network, MemoryNetwork):
            raise RuntimeError("heard_from() needs memory mode; over SIP analyse heard_pcm()")
        leg = network.media.legs.get(call.id)
        far = leg.far if leg is not None else None
        voices = network.units.voices(far.call_id) if far is not None else set()
        return {self._calls[i] for i in voices if i in self._calls}

    # -- used by PeerCall --------------------------------------------------------------------

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` after ``delay`` seconds: on the virtual clock (memory), or for real."""
        if self.clock is not None:
            self.clock.call_later(delay, fn)
        else:
            asyncio.get_running_loop().call_later(delay, fn)

    async def wait_until(
        self, done: Callable[[], bool], timeout: float, what: str, call: PeerCall | None = None
    ) -> None:
        """Wait for ``done()``. In memory mode the clock jumps to the next due timer when
        nothing else can happen (see :mod:`voxpy.testing.realwait`); ``timeout`` is then
        virtual seconds, and also bounds the real time spent waiting for real I/O."""
        if self.clock is not None:
            deadline = self.clock.now() + timeout
            real_deadline = asyncio.get_running_loop().time() + timeout
            while True:
                await self._idle(real_deadline, done)
                if done():
                    return
                due = self.clock.next_due()
                if due is None or due > deadline or self._real_blocked():
                    break
                await self.clock.advance(due - self.clock.now())
        else:
            try:
                await asyncio.wait_for(self._poll(done), timeout)
                return
            except TimeoutError:
                pass
        blocked = self._real_blocked() if self.clock is not None else ""
        if blocked:
            raise VirtualTimeStuck(
                f"no {what} within {timeout}s\nscenario tasks still awaiting real I/O: "
                f"{blocked}\n{self.explain(call)}",
                blocked=blocked,
            )
        raise AssertionError(f"no {what} within {timeout}s\n{self.explain(call)}")

    def check_errors(self) -> None:
        """Raise a scenario's handler exception as the test's failure, with its traceback."""
        errors = self.recorder.of("Application.HandlerError")
        if self.raise_handler_errors and len(errors) > self._reported:
            self._reported = len(errors)
            first = errors[-1]
            raise ScenarioError(
                f"a handler of {first.event} raised {first.error!r}:\n{first.traceback}"
            ) from first.error

    def explain(self, call: PeerCall | None = None) -> str:
        lines = [f"engine events: {self.recorder.describe()}"]
        if call is not None:
            lines[:0] = [
                f"peer saw: {call.history() or '(nothing)'}",
                f"engine said to this call: {call.said or '(nothing)'}",
                f"engine played to this call: {call.played or '(nothing)'}",
            ]
        return "\n".join(lines)

    # -- internals ---------------------------------------------------------------------------

    def _on_peer_signal(self, signal: Signal) -> None:
        call = self._calls.get(signal.call_id)
        if call is None and isinstance(signal, IncomingCall):
            signal = dataclasses.replace(signal, headers=self._tap.untag(signal))
            call = self._calls[signal.call_id] = PeerCall(self, signal.call_id, signal)
            self._offered.put_nowait(call)
        elif call is not None:
            call._on_signal(signal)
        self._changed.set()

    async def _poll(self, done: Callable[[], bool]) -> None:
        while True:
            self.check_errors()
            if done():
                return
            self._changed.clear()
            await self._changed.wait()

    def _session_tasks(self) -> list[asyncio.Task[Any]]:
        return self._scenario_tasks.live()

    def _real_blocked(self) -> str:
        return describe(self._session_tasks())

    async def _idle(
        self, real_deadline: float | None = None, done: Callable[[], bool] | None = None
    ) -> None:
        """Until the loop is idle and no session task awaits real I/O (memory mode's rule for
        moving virtual time), or ``done()``, or the real deadline (``REAL_WAIT_LIMIT`` s)."""
        loop = asyncio.get_running_loop()
        if real_deadline is None:
            real_deadline = loop.time() + REAL_WAIT_LIMIT
        while True:
            await self._settle()
            blocked = real_waits(self._session_tasks())
            left = real_deadline - loop.time()
            if not blocked or left <= 0 or (done is not None and done()):
                return
            await asyncio.wait(blocked, timeout=left, return_when=asyncio.FIRST_COMPLETED)

    async def _idle_before_tick(self) -> None:
        await self._idle()
        if blocked := self._real_blocked():
            raise VirtualTimeStuck(
                f"virtual time cannot move: after {REAL_WAIT_LIMIT}s scenario tasks still "
                f"await real I/O: {blocked}",
                blocked=blocked,
            )

    async def _settle(self) -> None:
        if self.clock is not None:
            await settle()
        self.check_errors()

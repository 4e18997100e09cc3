"""`voxpy dial SCENARIO`: a terminal softphone that calls a scenario and shows the call live.

Memory mode (the default) runs the scenario in-process with the test kit's in-memory peer
(:class:`~voxpy.testing.ScenarioHarness`): every engine event, and the text of each prompt,
shows as it happens. ``--sip URI`` calls a running ``voxpy run``/``serve`` over real SIP with
the test kit's pjsua2 peer process instead (:mod:`voxpy.cli.dial_sip`): the server's events
are not visible from outside, so it shows SIP signals and the level of the audio heard.

Time. The memory backend runs on the test kit's virtual clock, which moves only when told.
A script (``--keys``) keeps it virtual: waits jump to the next timer, so a 60-second IVR runs
in well under a second and prints the same times on every run (what CI and demos want). At
the terminal a person needs real time to pass while they think: :class:`Pacer` advances the
virtual clock in step with the wall clock every 20 ms.

The keys and the script language are in :mod:`voxpy.cli.dial_keys`, the lines in
:mod:`voxpy.cli.dial_view` (both pure); the terminal itself in :mod:`voxpy.cli.dial_tty`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from voxpy.backends.memory import MemoryNetwork
from voxpy.cli import dial_view as view
from voxpy.cli.dial_keys import PROMPT_WAIT, Act, Action, Digit, Wait, describe, key_action
from voxpy.errors import ScenarioError, VirtualTimeStuck
from voxpy.testing import PeerCall, ScenarioHarness

EXIT_OK = 0
"The call was answered and ended (either side hung up)."
EXIT_FAILED = 1
"The call was refused or failed, or a scenario handler raised."
EXIT_TIMEOUT = 3
"The call was still up ``--timeout`` seconds after the script's last key (dial hung up)."
TICK = 0.02
"Seconds between looks at a real-time call (keys, signals, the virtual clock's pace)."
INFO_BODY = "voxpy dial"


@dataclass(frozen=True, slots=True, kw_only=True)
class DialOptions:
    scenario: str
    to: str = "100"
    caller: str = "+15550100"
    custom_data: str | None = None
    sip: str | None = None
    script: list[Action] | None = None
    "None: keys come from the terminal."
    timeout: float = 120.0


class Line(Protocol):
    """One call placed by the softphone, in memory or over SIP."""

    call: PeerCall
    prompt_wait: float
    "Seconds a bare ``w`` gives a prompt to start."

    def now(self) -> float: ...

    def prompt(self) -> object | None:
        """The prompt playing into the call now (any object that is the same while the same
        prompt plays), None when none plays."""
        ...

    def failed(self) -> bool:
        """A scenario handler raised (memory mode)."""
        ...

    async def wait(self, done: Callable[[], bool], seconds: float) -> None:
        """Until ``done()`` or ``seconds`` have passed on the line's clock."""
        ...


class MemoryLine:
    """The call through the test kit's in-memory network; engine events print as they fire."""

    def __init__(self, harness: ScenarioHarness, out: Callable[[str], None], real: bool) -> None:
        self.h = harness
        self.out = out
        self.real = real
        self.call: PeerCall
        self.prompt_wait = PROMPT_WAIT
        self._seen = 0
        self._errors = 0
        harness.engine.observers.append(self._on_event)

    async def start(self, to: str, caller: str) -> None:
        self.call = await self.h.dial(to=to, from_=caller)
        self.pump()

    def now(self) -> float:
        assert self.h.clock is not None
        return self.h.clock.now()

    def pump(self) -> None:
        """Print what reached the peer since the last look."""
        if getattr(self, "call", None) is None:
            return
        for signal in self.call.signals[self._seen :]:
            self._print(view.signal_line(self.now(), signal))
        self._seen = len(self.call.signals)

    def prompt(self) -> object | None:
        """What the engine's leg plays, from the memory network's media state: a prompt that
        is stopped or replaced fires no PlaybackFinished, so counting events cannot tell."""
        network = getattr(self.h.peer_backend, "network", None)
        assert isinstance(network, MemoryNetwork)
        ours = network.media.legs.get(self.call.id)
        engine_leg = ours.far if ours is not None else None
        return engine_leg.playing if engine_leg is not None else None

    def failed(self) -> bool:
        return self._errors > 0

    async def wait(self, done: Callable[[], bool], seconds: float) -> None:
        until = self.now() + seconds
        if self.real:
            while not done() and self.now() < until:
                self.pump()
                await asyncio.sleep(TICK)
            self.pump()
            return
        assert self.h.clock is not None
        self.h.clock.call_later(seconds, lambda: None)  # something to jump to

        def over() -> bool:
            self.pump()
            return done() or self.now() >= until

        try:
            await self.h.wait_until(over, seconds + 1, "wait")
        except VirtualTimeStuck as exc:  # a scenario task awaits real I/O
            raise ScenarioError(
                f"virtual time cannot move on: scenario tasks still awaiting real I/O: "
                f"{exc.blocked}"
            ) from None

    def _on_event(self, _session: Any, event: Any) -> None:
        self.pump()  # what the peer saw first prints first
        if str(getattr(event, "name", "")) == "Application.HandlerError":
            self._errors += 1
        self._print(view.event_line(self.now(), event))

    def _print(self, text: str | None) -> None:
        if text is not None:
            self.out(text)


class Pacer:
    """Moves a memory line's virtual clock in step with real time (interactive use)."""

    def __init__(self, harness: ScenarioHarness) -> None:
        self.h = harness
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        assert self.h.clock is not None
        while True:
            await asyncio.sleep(TICK)
            now = loop.time()
            # A scenario awaiting real I/O (an HTTP lookup) holds virtual time still; past the
            # harness's 30 s limit advance() raises, and time simply goes on from here.
            with contextlib.suppress(VirtualTimeStuck):
                await self.h.clock.advance(now - last)
            last = now

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


async def act(
    line: Line, action: Action, out: Callable[[str], None], timeout: float = 3600.0
) -> None:
    """Do one key's action on the call (a wait waits, ``timeout`` seconds at most)."""
    call = line.call
    if isinstance(action, Wait):
        await wait_key(line, action, timeout)
        return
    if call.code is not None:
        return  # the call is over: keys do nothing
    out(view.line(line.now(), "you", describe(action)))
    if isinstance(action, Digit):
        call.send_dtmf(action.digit)
    elif action.command == "hangup":
        call.hangup()
    elif action.command == "hold":
        call.hold()
    elif action.command == "unhold":
        call.unhold()
    else:
        call.send_info("text/plain", INFO_BODY)
    await line.wait(lambda: False, 0)


async def wait_key(line: Line, action: Wait, timeout: float) -> None:
    """A script's ``w``/``wN`` (see :mod:`voxpy.cli.dial_keys`), ``timeout`` seconds at most
    (a looped prompt never ends by itself)."""
    ended = line.call
    if action.seconds is not None:
        await line.wait(lambda: ended.code is not None, min(action.seconds, timeout))
        return
    start = line.now()
    if line.prompt() is None:  # nothing plays: give one a moment to start
        await line.wait(
            lambda: ended.code is not None or line.prompt() is not None,
            min(line.prompt_wait, timeout),
        )
    playing = line.prompt()
    if playing is not None:  # until it ends, is stopped or another replaces it
        left = max(0.0, timeout - (line.now() - start))
        await line.wait(lambda: ended.code is not None or line.prompt() != playing, left)


Verdict = tuple[int, str]
"The exit status and the last line to print (after the session's own last events)."


def outcome(line: Line) -> Verdict:
    """The exit status of a finished call and its ``end`` line."""
    call = line.call
    if not call.answered:
        return EXIT_FAILED, view.line(line.now(), "end", f"the call was not answered ({call.code})")
    if line.failed():
        return EXIT_FAILED, view.line(
            line.now(), "end", "the call ended; a scenario handler raised"
        )
    return EXIT_OK, view.line(line.now(), "end", f"the call ended normally ({call.code})")


async def run_script(line: Line, script: list[Action], timeout: float, out: Any) -> Verdict:
    await line.wait(lambda: line.call.answered or line.call.code is not None, timeout)
    for action in script:
        if line.call.code is not None:
            break
        await act(line, action, out, timeout)
    await line.wait(lambda: line.call.code is not None, timeout)
    if line.call.code is None:
        out(view.line(line.now(), "you", f"hangup: the call is still up after {timeout:g}s"))
        line.call.hangup()
        await line.wait(lambda: line.call.code is not None, 5.0)
        return EXIT_TIMEOUT, view.line(
            line.now(), "end", f"the call outlived --timeout {timeout:g}"
        )
    return outcome(line)


async def run_keys(line: Line, keys: asyncio.Queue[str | None], out: Any) -> Verdict:
    """Interactive: act on keys until the call ends (a closed terminal hangs up)."""
    while line.call.code is None:
        try:
            # Not wait_for: on 3.11 it can swallow a cancel (Ctrl-C) that lands as its inner
            # get() times out, and this loop would then outlive the interrupt.
            async with asyncio.timeout(TICK):
                key = await keys.get()
        except TimeoutError:
            await line.wait(lambda: False, 0)
            continue
        if key is not None and key.isspace():
            continue
        action = key_action(key) if key is not None else Act(command="hangup")
        if action is None:
            out(view.line(line.now(), "?", f"key {key!r} does nothing (h hangs up)"))
            continue
        await act(line, action, out)
    await line.wait(lambda: False, 0)
    return outcome(line)

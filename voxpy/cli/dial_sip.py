"""`voxpy dial --sip URI`: the softphone's call over real SIP, from the test kit's pjsua2 peer.

The peer is :class:`~voxpy.backends.process.ProcessBackend` (a pjsua2 process of its own, on
a loopback port the OS picks), as the test suite uses to call ``voxpy run``/``serve``, and the
call is the test kit's :class:`~voxpy.testing.PeerCall`. What is said cannot be read from
outside the server, so the softphone taps what it hears and prints its level: a line per
second of audio, one bar per 100 ms (:class:`~voxpy.media.hearing.VolumeMeter`). Prompts are
told by ear too (for a script's ``w``): :class:`~voxpy.media.hearing.MicStatus` hears speech
start one, and HANGOVER_MS of quiet end it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import Callable
from typing import Any

from voxpy.cli import dial_view as view
from voxpy.core import commands as cmd
from voxpy.core.ports import Backend
from voxpy.core.signals import Answered, AudioFrames, CommandFailed, Ended, Signal
from voxpy.errors import InvalidArgumentError
from voxpy.media.hearing import MicStatus, VolumeMeter
from voxpy.testing import PeerCall

_URI = re.compile(
    r"sips?:(?:(?P<user>[^@\s;:]+)@)?(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])"
    r"(?::(?P<port>\d{1,5}))?(?P<params>;[^\s]*)?"
)
RATE = 8000
"The tap's sample rate."
LEVEL_MS = 100
"Audio per meter bar."
BARS_PER_LINE = 10
PROMPT_WAIT_SIP = 3.0
"""Seconds a bare ``w`` gives a prompt to start over SIP, where the server synthesizes it and
RTP carries it first (0.1-0.2 s on loopback when idle; a busy 2-core machine is slower)."""
HANGOVER_MS = 600
"""Quiet that ends a prompt: longer than espeak's pause between sentences (~400 ms), so a menu
of three sentences counts as one prompt."""


def target_uri(uri: str, to: str) -> str:
    """The URI to dial: ``uri`` itself, or with ``to`` as its user part when it has none
    (``sip:127.0.0.1:5060`` + ``--to 100`` -> ``sip:100@127.0.0.1:5060``). Raises
    InvalidArgumentError for anything that is not a SIP URI."""
    found = _URI.fullmatch(uri.strip())
    if found is None or (found["port"] is not None and not 0 < int(found["port"]) < 65536):
        raise InvalidArgumentError(
            f"bad --sip URI {uri!r}: expected sip:[USER@]HOST[:PORT], e.g. sip:127.0.0.1:5060"
        )
    if found["user"] is not None:
        return uri.strip()
    scheme, rest = uri.strip().split(":", 1)
    return f"{scheme}:{to}@{rest}"


class SipLine:
    """One call over SIP; also the PeerHost its PeerCall reports to."""

    def __init__(self, out: Callable[[str], None], tick: float) -> None:
        from voxpy.backends.process import ProcessBackend

        self.peer_backend: Backend = ProcessBackend(host="127.0.0.1", port=0)
        self.out = out
        self.tick = tick
        self.call: PeerCall
        self.prompt_wait = PROMPT_WAIT_SIP
        self._t0 = 0.0
        self._changed = asyncio.Event()
        self._meter = VolumeMeter(RATE, interval_ms=LEVEL_MS, range_db=view.RANGE_DB)
        self._levels: list[float] = []
        self._speech = MicStatus(RATE, hangover_ms=HANGOVER_MS)
        self._sounds = 0

    async def start(self, uri: str, caller: str) -> None:
        self._t0 = asyncio.get_running_loop().time()
        await self.peer_backend.start(self._on_signal)
        call_id = uuid.uuid4().hex
        self.call = PeerCall(self, call_id, None)
        self.peer_backend.send(cmd.Dial(call_id=call_id, uri=uri, callerid=caller))

    async def stop(self) -> None:
        await self.peer_backend.stop()

    def now(self) -> float:
        return asyncio.get_running_loop().time() - self._t0

    def prompt(self) -> object | None:
        """The prompt as heard: speech starts one (counted), HANGOVER_MS of quiet end it."""
        return self._sounds if self._speech.active else None

    def failed(self) -> bool:
        return False

    async def wait(self, done: Callable[[], bool], seconds: float) -> None:
        # Not wait_for: on 3.11 it can swallow a cancel (Ctrl-C) landing as it times out.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._poll(done)

    async def _poll(self, done: Callable[[], bool]) -> None:
        while not done():
            self._changed.clear()
            await self._changed.wait()

    # -- PeerHost ----------------------------------------------------------------------------

    def check_errors(self) -> None:
        pass

    def playbacks(self, call: PeerCall) -> list[Any]:
        return []

    def explain(self, call: PeerCall | None = None) -> str:
        return f"peer saw: {call.history() if call else '(nothing)'}"

    async def wait_until(
        self, done: Callable[[], bool], timeout: float, what: str, call: PeerCall | None = None
    ) -> None:
        await self.wait(done, timeout)

    # -- signals -----------------------------------------------------------------------------

    def _on_signal(self, signal: Signal) -> None:
        call = getattr(self, "call", None)
        if call is None or signal.call_id != call.id:
            return
        if isinstance(signal, AudioFrames):
            self._hear(signal.pcm)
        elif isinstance(signal, CommandFailed) and signal.op == "Dial":
            # The INVITE never left: end the call here, or the softphone would wait for an end
            # that cannot come.
            self._record(signal)
            self._record(Ended(call_id=call.id, code=signal.status or 500, reason="not sent"))
        else:
            self._record(signal)
            if isinstance(signal, Answered):
                call.listen()
        self._changed.set()

    def _record(self, signal: Signal) -> None:
        self.call._on_signal(signal)
        text = view.signal_line(self.now(), signal)
        if text is not None:
            self.out(text)

    def _hear(self, pcm: bytes) -> None:
        """Level bars from the tapped audio (8 kHz 16-bit): a line per BARS_PER_LINE bars
        that are not all silence."""
        if any(change.active for change in self._speech.feed(pcm)):
            self._sounds += 1
        for volume in self._meter.feed(pcm):
            self._levels.append(volume.level)
            if len(self._levels) == BARS_PER_LINE:
                if max(self._levels) > 0:
                    self.out(view.line(self.now(), "heard", view.meter(self._levels)))
                self._levels = []

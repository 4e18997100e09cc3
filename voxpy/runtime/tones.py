"""The DTMF part of a call leg: digits received (events, ``gather``, type-ahead) and sent.

Digits arrive as RFC 2833 telephone-events and SIP INFO (backend signals) and, when
``handle_tones`` names in-band tones, from the hearing part's detector (:meth:`Tones.heard`).
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core.clock import Timer
from voxpy.core.events import CallEvents, DTMFType
from voxpy.errors import InvalidArgumentError
from voxpy.runtime import args
from voxpy.runtime.leg import Handler, LegContext

TYPEAHEAD_MAX = 32
"Digits kept for the next gather() while none is running."
DIGITS = re.compile(r"^[0-9*#A-Dw]+$")
TONE_TYPES = {"rfc2833": DTMFType.TELEPHONE_EVENT, "info": DTMFType.SIP_INFO}
SIGNALLED = frozenset({DTMFType.TELEPHONE_EVENT, DTMFType.SIP_INFO})
"what ``handle_tones(True)`` handles unless ``dtmf_types`` says otherwise"


def dtmf_types(value: object) -> frozenset[DTMFType]:
    """``handle_tones``'s ``dtmf_types``: None (RFC 2833 and SIP INFO), a DTMFType (ALL is all
    three) or several."""
    if value is None:
        return SIGNALLED
    items: list[Any] = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
    if not items or not all(isinstance(t, DTMFType) for t in items):
        raise InvalidArgumentError(
            f"handle_tones: dtmf_types must be DTMFType members, got {value!r}"
        )
    if DTMFType.ALL in items:
        return frozenset(DTMFType) - {DTMFType.ALL}
    return frozenset(items)


class Tones:
    """DTMF of one leg (see :mod:`voxpy.runtime.leg`)."""

    def __init__(self, ctx: LegContext, on_digit: Callable[[str], None] = lambda _: None) -> None:
        self._ctx = ctx
        self._on_digit = on_digit
        "the streams part: each digit also goes to the sockets the caller's audio goes to"
        self._events = False
        self._types = SIGNALLED
        self.on_inband: Callable[[bool], None] = lambda _on: None
        "the hearing part's: in-band tones named (or not) by handle_tones (set by the Call)"
        self._hooks: list[Callable[[str | None], None]] = []
        self._typeahead: list[str] = []

    def handle_tones(self, enabled: bool, types: object = None) -> None:
        self._types = dtmf_types(types)
        self._events = bool(enabled)
        self.on_inband(self._events and DTMFType.IN_BAND in self._types)

    def heard(self, tone: str) -> None:
        """A digit the in-band detector heard in the caller's audio."""
        self._received(tone, DTMFType.IN_BAND)

    def send_digits(self, digits: str) -> None:
        if not isinstance(digits, str) or not DIGITS.fullmatch(digits):
            raise InvalidArgumentError(f"send_digits takes 0-9 * # A-D and w, got {digits!r}")
        self._ctx.require_media("send_digits on")
        delay = 0.0
        for chunk in re.split(r"(w)", digits):
            if chunk == "w":
                delay += 0.5
            elif chunk:
                self._ctx.after(delay, functools.partial(self._send_now, chunk))

    def _send_now(self, digits: str) -> None:
        if self._ctx.live:
            self._ctx.send(cmd.SendDigits(call_id=self._ctx.call_id, digits=digits))

    async def gather(
        self,
        max_digits: int,
        timeout: float,
        finish_on: str,
        barge_in: Callable[[], None] | None = None,
    ) -> str:
        """See ``Call.gather``. ``barge_in`` runs at the first key (it stops the prompt)."""
        args.integer("gather", "max_digits", max_digits, 1, 128)
        args.number("gather", "timeout", timeout, positive=True)
        args.text("gather", "finish_on", finish_on)
        digits: list[str] = []
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        timer: list[Timer] = []

        def finish() -> None:
            if not done.done():
                done.set_result("".join(digits))

        def arm() -> None:
            for t in timer:
                t.cancel()
            timer[:] = [self._ctx.clock.call_later(timeout, finish)]

        def on_digit(tone: str | None) -> None:
            nonlocal barge_in
            if tone is not None and barge_in is not None and not done.done():
                interrupt, barge_in = barge_in, None
                interrupt()
            if tone is None or tone in finish_on:
                finish()
                return
            digits.append(tone)
            if len(digits) >= max_digits:
                finish()
            else:
                arm()

        self._hooks.append(on_digit)
        arm()
        typed, self._typeahead = self._typeahead, []
        for tone in typed:  # keys pressed during the prompt count (type-ahead)
            on_digit(tone)
        try:
            return await done
        finally:
            self._hooks.remove(on_digit)
            for t in timer:
                t.cancel()

    # -- Part --------------------------------------------------------------------------------

    def routes(self) -> Mapping[type[sig.Signal], Handler]:
        return {sig.DtmfReceived: self._on_dtmf}

    def audio_started(self) -> None:
        pass

    def connected(self) -> None:
        pass

    def ended(self) -> None:
        """Running gathers return what they have."""
        for hook in list(self._hooks):
            hook(None)

    def _on_dtmf(self, signal: sig.DtmfReceived) -> None:
        kind = TONE_TYPES.get(signal.method)
        if self._events and kind is not None and kind not in self._types:
            return  # handle_tones(True, dtmf_types=...) left this kind out
        self._received(signal.tone, kind)

    def _received(self, tone: str, kind: DTMFType | None) -> None:
        self._on_digit(tone)
        if self._hooks:
            for hook in list(self._hooks):
                hook(tone)
        elif len(self._typeahead) < TYPEAHEAD_MAX:
            self._typeahead.append(tone)
        if self._events:
            self._ctx.fire(
                CallEvents.ToneReceived,
                tone=tone,
                tone_type=kind.name if kind is not None else "",
                type=kind,
            )

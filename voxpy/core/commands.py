"""Commands: what the runtime asks a backend to do to a leg, as values.

A backend's ``send(command)`` never blocks and never raises for a SIP-level failure: the outcome
comes back later as a signal (:class:`~voxpy.core.signals.Ended`,
:class:`~voxpy.core.signals.CommandFailed`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from voxpy.core.headers import Headers


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """Base of every command: which leg it is for."""

    call_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Dial(Command):
    """Place an outbound leg to ``uri``; ``call_id`` is chosen by the runtime."""

    uri: str
    callerid: str | None = None
    display_name: str | None = None
    headers: Headers = field(default_factory=Headers)
    auth_user: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Provisional(Command):
    """Send a provisional response on an inbound leg: 180 (ring) or 183 (early media, with SDP)."""

    code: int
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer(Command):
    """Answer an inbound leg with 200 OK."""

    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reject(Command):
    """Send a final error response (4xx-6xx) on an inbound leg."""

    code: int
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Hangup(Command):
    """End a leg: BYE when connected, CANCEL for an outbound leg still ringing.

    ``code`` is the status the backend reports for a cancelled outbound leg (487 by default, 408
    for a dial timeout), as pjsua does.
    """

    code: int = 487
    headers: Headers = field(default_factory=Headers)


COMMAND_TYPES: tuple[type[Command], ...] = (Dial, Provisional, Answer, Reject, Hangup)

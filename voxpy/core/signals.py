"""Signals: facts a backend observed on a call leg, handed to the runtime as values.

A backend creates these on whatever thread it runs and passes them to its
:class:`~voxpy.core.ports.SignalSink`; it never touches runtime objects. Headers are the leg's
custom SIP headers (see :mod:`voxpy.core.headers`) as an immutable name → value mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from voxpy.core.headers import Headers


@dataclass(frozen=True, slots=True, kw_only=True)
class Signal:
    """Base of every signal: which leg it is about."""

    call_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingCall(Signal):
    """A new INVITE arrived and the backend holds a leg for it (not yet answered)."""

    from_uri: str
    to_uri: str
    callerid: str
    "User part of the From URI."
    destination: str
    "User part of the To/Request URI: the number that was dialled."
    display_name: str = ""
    headers: Headers = field(default_factory=Headers)
    sip_call_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress(Signal):
    """A provisional response was received (outbound) or sent (inbound): 180 ringing, 183 media."""

    code: int
    reason: str = ""
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Answered(Signal):
    """The leg is confirmed: 200 OK received (outbound) or ACK of our 200 received (inbound)."""

    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ended(Signal):
    """The leg is gone. ``code`` is the final SIP status: 200 after a BYE, or the failure code."""

    code: int
    reason: str = ""
    headers: Headers = field(default_factory=Headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandFailed(Signal):
    """The backend could not carry out ``op`` on this leg; ``status`` is the stack's error code."""

    op: str
    message: str
    status: int | None = None


SIGNAL_TYPES: tuple[type[Signal], ...] = (IncomingCall, Progress, Answered, Ended, CommandFailed)

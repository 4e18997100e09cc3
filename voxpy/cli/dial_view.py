"""What `voxpy dial` prints: one line per engine event, prompt, SIP signal or audio level.

Pure: objects in, strings out; the runner decides when and where to write them. A line is
``[  1.25] kind   text``, the time in seconds since the call was placed (virtual seconds in a
memory-mode script, so a demo's output is the same on every run).
"""

from __future__ import annotations

from typing import Any

from voxpy.core.journal.notes import SKIPPED
from voxpy.core.journal.text import _printable as printable
from voxpy.core.signals import (
    Answered,
    AudioFrames,
    CommandFailed,
    DtmfReceived,
    Ended,
    HoldChanged,
    Progress,
    Signal,
    SipInfoReceived,
)

QUIET_EVENTS = SKIPPED | {"Call.AudioStarted"}
"""Events left out: the journal's (each repeats another, or comes many times a second), and
AudioStarted, which the journal keeps but which repeats the line before it here."""
_FIELDS = ("code", "reason", "tone", "error", "op", "duration", "url")
_BARS = " ▁▂▃▄▅▆▇█"
RANGE_DB = 60.0
"""A meter's range below full scale: -60 dBFS and below (line noise, comfort noise) shows
empty (a :class:`~voxpy.media.hearing.VolumeMeter` level of 0)."""


def line(at: float, kind: str, text: str) -> str:
    """One output line; control characters in ``text`` (a SIP reason phrase, an INFO body
    from the far end) are escaped, never sent to the terminal."""
    return f"[{at:7.2f}] {kind:<6} {printable(text)}"


def event_line(at: float, event: Any) -> str | None:
    """The line of an engine event, or None for one not worth a line."""
    name = str(getattr(event, "name", type(event).__name__))
    if name in QUIET_EVENTS:
        return None
    if name == "Application.HandlerError":
        error = getattr(event, "error", None)
        return line(at, "error", f"a handler of {event.event} raised {error!r}")
    text = getattr(event, "text", None)
    if name == "Call.PlaybackStarted" and text is not None:
        return line(at, "said", repr(text))
    details = [
        f"{field}={value!r}" if isinstance(value, str) else f"{field}={round(value, 2):g}"
        for field in _FIELDS
        if isinstance(value := getattr(event, field, None), str | int | float)
        and not isinstance(value, bool)
        and value != ""
    ]
    source = getattr(event, "source", None)
    if name.startswith("Call.Playback") and source is not None:
        details.insert(0, repr(source))
    return line(at, "event", " ".join([name, *details]))


def signal_line(at: float, signal: Signal) -> str | None:
    """The line of what the softphone's SIP side saw, or None (audio goes to the meter)."""
    if isinstance(signal, Progress):
        text = f"{signal.code} {signal.reason}".strip()
    elif isinstance(signal, Answered):
        text = "answered"
    elif isinstance(signal, Ended):
        text = f"call ended {signal.code} {signal.reason}".strip()
    elif isinstance(signal, DtmfReceived):
        text = f"the engine sent DTMF {signal.tone}"
    elif isinstance(signal, SipInfoReceived):
        text = f"INFO {signal.mime_type}: {signal.body[:60]!r}"
    elif isinstance(signal, HoldChanged):
        text = "put on hold" if signal.on_hold else "taken off hold"
    elif isinstance(signal, CommandFailed):
        text = f"{signal.op} failed: {signal.message}"
    elif isinstance(signal, AudioFrames):
        return None
    else:
        text = type(signal).__name__
    return line(at, "sip", text)


def meter(levels: list[float]) -> str:
    """A bar per :class:`~voxpy.media.hearing.Volume` level (0..1, e.g. per 100 ms), then the
    loudest in dBFS: ``▅▇▇▃  -18 dBFS``."""
    bars = "".join(_BARS[round(min(1.0, max(0.0, lv)) * (len(_BARS) - 1))] for lv in levels)
    peak = max(levels, default=0.0)
    return f"{bars} {(peak - 1) * RANGE_DB:4.0f} dBFS" if peak > 0 else f"{bars} silence"

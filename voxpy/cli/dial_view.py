"""What `voxpy dial` prints: one line per engine event, prompt, SIP signal or audio level.

Pure: objects in, strings out; the runner decides when and where to write them. A line is
``[  1.25] kind   text``, the time in seconds since the call was placed (virtual seconds in a
memory-mode script, so a demo's output is the same on every run).
"""

from __future__ import annotations

import math
from array import array
from typing import Any

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

QUIET_EVENTS = frozenset({"Call.StateChanged", "Call.PlaybackReady", "Call.AudioStarted"})
"Events left out: each repeats what the line before it said."
_FIELDS = ("code", "reason", "tone", "error", "op", "duration", "url")
_BARS = " ▁▂▃▄▅▆▇█"
FLOOR_DB = -60.0
"A meter at or below this level shows empty (line noise, comfort noise)."


def line(at: float, kind: str, text: str) -> str:
    return f"[{at:7.2f}] {kind:<6} {text}"


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


def level_db(pcm: bytes) -> float:
    """RMS level of 16-bit little-endian mono PCM in dBFS (FLOOR_DB for silence)."""
    samples = array("h", pcm[: len(pcm) - len(pcm) % 2])
    if not samples:
        return FLOOR_DB
    rms = math.sqrt(sum(s * s for s in samples) / len(samples))
    return max(FLOOR_DB, 20 * math.log10(rms / 32768)) if rms > 0 else FLOOR_DB


def meter(levels: list[float]) -> str:
    """A bar per level (e.g. per 100 ms), then the loudest in dBFS: ``▅▇▇▃  -18 dBFS``."""
    bars = "".join(
        _BARS[round((max(FLOOR_DB, lv) - FLOOR_DB) / -FLOOR_DB * (len(_BARS) - 1))] for lv in levels
    )
    peak = max(levels, default=FLOOR_DB)
    return f"{bars} {peak:4.0f} dBFS" if peak > FLOOR_DB else f"{bars} silence"

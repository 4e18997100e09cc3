"""Scenario events as journal notes: which are kept, which are errors, what they say.

The runtime hands each dispatched event over as its name, its lane and its plain fields; this
module decides the rest, so the rules are tested without an engine.
"""

from __future__ import annotations

from voxpy.core.journal.entry import Entry, Fields, clip

SKIPPED = frozenset(
    {
        "Call.StateChanged",  # says again what Connected / Disconnected say
        "Call.PlaybackReady",  # prepared: the play arrow and PlaybackStarted follow at once
        "Call.MediaStatisticsReceived",  # every few seconds per monitored call
        "Call.Volume",  # every 100 ms or so while monitored
        "ASR.InterimResult",  # every partial hypothesis
        "WebSocket.Message",  # media streams send 50 a second
    }
)
"High-rate or redundant events: a journal is bounded, and these would fill it."

ERRORS = frozenset({"Application.HandlerError", "Call.Error", "Call.RecordError"})

SAID = ("text", "source", "tone", "code", "reason", "error", "event", "url", "result")
"The fields a note shows after the event's name, first found first; the rest go in its title."


def is_error(name: str, fields: Fields) -> bool:
    """A failure: drawn in red. A playback that ended with an error counts."""
    if name in ERRORS or name.endswith("Error"):
        return True
    return name == "Call.PlaybackFinished" and any(k == "error" for k, _ in fields)


def event_entry(name: str, lane: str, call_id: str, fields: Fields) -> Entry | None:
    """The note for event ``name`` on ``lane`` (None: not journaled)."""
    if name in SKIPPED:
        return None
    shown = dict(fields)
    key = next((k for k in SAID if k in shown), "")
    said = shown.get(key, "")
    if key == "url":  # a recording: its file's name says which; the whole path is the title's
        said = said.rstrip("/").rsplit("/", 1)[-1]
    if name == "Call.PlaybackStarted" and "text" in shown:
        said = f'say "{shown["text"]}"'
    label = f"{name} {clip(said, 60)}".rstrip() if said else name
    kind = "error" if is_error(name, fields) else "event"
    return Entry(kind=kind, label=label, src=lane, call_id=call_id, fields=fields)

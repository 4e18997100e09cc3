"""A journal entry: one line of a session's journal, as a value and as one JSON line.

A journal is what a session did, in order: the SIP requests and responses of its legs, the
media actions, the scenario's events and errors. Each entry is drawn by :mod:`.svg` as an
arrow between two lanes (``src`` -> ``dst``) or as a note over one lane (``dst`` empty). The
lanes are declared by ``party`` entries, so a journal file is drawn without anything else.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from voxpy.errors import InvalidArgumentError

KINDS = frozenset({"session", "party", "sip", "media", "event", "error", "truncated"})
"""session: the first entry (ids, wall-clock start); party: declares lane ``src`` (label,
side); sip / media: arrows; event: a scenario event; error: a failure, drawn in red;
truncated: the journal hit its bounds, nothing after it was kept."""

SESSION_LANE = "session"
"The scenario's own lane (app events, errors not tied to a call)."

MAX_TEXT = 200
"Characters kept of any one text (a say text, a header value, an error): bounds an entry."

Fields = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One thing the session did or saw; ``t`` is seconds since the session started."""

    seq: int = 0
    t: float = 0.0
    kind: str
    label: str
    src: str = ""
    dst: str = ""
    call_id: str = ""
    fields: Fields = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidArgumentError(f"journal entry: unknown kind {self.kind!r}")

    @property
    def arrow(self) -> bool:
        """Drawn as an arrow (two lanes), else as a note (one lane)."""
        return bool(self.dst) and self.kind in ("sip", "media")

    def field(self, name: str, default: str = "") -> str:
        return next((v for k, v in self.fields if k == name), default)

    def to_json(self) -> str:
        """One JSON line (no newline); the inverse of :func:`entry_from_json`."""
        data: dict[str, Any] = {"seq": self.seq, "t": self.t, "kind": self.kind}
        data["label"] = self.label
        for key in ("src", "dst", "call_id"):
            if value := getattr(self, key):
                data[key] = value
        if self.fields:
            data["fields"] = dict(self.fields)
        # ASCII: any text at all (a lone surrogate from a broken header) stays valid JSON
        # and UTF-8, and the line's length is its size in bytes.
        return json.dumps(data, separators=(",", ":"))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of :meth:`to_json`, for an API answer."""
        data: dict[str, Any] = json.loads(self.to_json())
        return data


def clip(text: object, limit: int = MAX_TEXT) -> str:
    """``text`` as a str of at most ``limit`` characters (an ellipsis marks the cut)."""
    value = text if isinstance(text, str) else str(text)
    return value if len(value) <= limit else value[: limit - 1] + "\u2026"


def make_fields(pairs: Mapping[str, object] | Iterable[tuple[str, object]]) -> Fields:
    """Fields from name -> value pairs; empty and None values are left out, texts clipped."""
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    return tuple((clip(k, 60), clip(v)) for k, v in items if v is not None and v != "")


def entry_from_json(data: object) -> Entry:
    """An entry from its JSON object (a journal line, an API answer); raises
    InvalidArgumentError saying what is wrong, never anything else."""
    if not isinstance(data, Mapping):
        raise InvalidArgumentError("journal entry: expected a JSON object")
    seq, t = data.get("seq", 0), data.get("t", 0.0)
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise InvalidArgumentError("journal entry: seq must be an integer")
    if not isinstance(t, int | float) or isinstance(t, bool) or not math.isfinite(t):
        raise InvalidArgumentError("journal entry: t must be a number")
    texts = {}
    for key in ("kind", "label", "src", "dst", "call_id"):
        value = data.get(key, "")
        if not isinstance(value, str):
            raise InvalidArgumentError(f"journal entry: {key} must be a string")
        texts[key] = value
    raw = data.get("fields", {})
    if not isinstance(raw, Mapping) or not all(isinstance(v, str) for v in raw.values()):
        raise InvalidArgumentError("journal entry: fields must be an object of strings")
    return Entry(
        seq=seq,
        t=float(t),
        kind=texts["kind"],
        label=texts["label"],
        src=texts["src"],
        dst=texts["dst"],
        call_id=texts["call_id"],
        fields=tuple((str(k), v) for k, v in raw.items()),
    )


def parse_journal(text: str) -> list[Entry]:
    """The entries of a journal file (JSON lines; blank lines skipped). Raises
    InvalidArgumentError naming the first bad line."""
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entries.append(entry_from_json(json.loads(line)))
        except (ValueError, RecursionError) as exc:  # InvalidArgumentError is a ValueError
            raise InvalidArgumentError(f"line {number}: not a journal entry: {exc}") from None
    return entries


def as_entries(items: Iterable[Entry | Mapping[str, Any]]) -> list[Entry]:
    """Entries from entries or their JSON objects (what the control API answers)."""
    return [item if isinstance(item, Entry) else entry_from_json(item) for item in items]

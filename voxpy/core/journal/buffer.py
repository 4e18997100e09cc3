"""One session's journal in memory: entries numbered and timed, bounded in count and bytes.

Each entry is serialised once, when it is added, and only that line is kept (its size is what
the bound counts, and the file is those lines joined): a full journal's entry objects beside
their lines cost 1.2 MB of memory where the lines alone cost 0.54 MB, per live session. Past either
bound one ``truncated`` entry is added and everything after it is counted, not kept; at
:meth:`JournalBuffer.close` that entry learns how many were dropped.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from voxpy.core.journal.entry import SESSION_LANE, Entry, entry_from_json, make_fields
from voxpy.errors import InvalidArgumentError

TRUNCATED_RESERVE = 256
"Bytes kept free under ``max_bytes`` for the final truncated entry."


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalLimits:
    """How much of a session is kept (journal.max_entries, journal.max_bytes)."""

    max_entries: int = 2000
    "A call with a menu and a transfer makes about 40; a day-long conference far more."
    max_bytes: int = 512 * 1024
    "Of JSON lines, newlines included: about 3000 entries of a typical 150 bytes."

    def __post_init__(self) -> None:
        if self.max_entries < 2 or self.max_bytes < 2 * TRUNCATED_RESERVE:
            raise InvalidArgumentError(f"journal limits too small: {self}")


class JournalBuffer:
    """The entries of one session; ``started`` is its clock's reading at entry 0's time."""

    __slots__ = ("_bytes", "_last", "_limits", "dropped", "lines", "session_id", "started")

    def __init__(
        self, session_id: str, *, started: float, wall: str, limits: JournalLimits, what: str = ""
    ) -> None:
        self.session_id = session_id
        self.started = started
        self._limits = limits
        self.lines: list[str] = []
        self._last: Entry | None = None
        self._bytes = 0
        self.dropped = 0
        header = make_fields([("session_id", session_id), ("started_at", wall), ("what", what)])
        self.add(Entry(kind="session", label=f"session {session_id}", src=SESSION_LANE,
                       fields=header), started)  # fmt: skip

    @property
    def truncated(self) -> bool:
        return self._last is not None and self._last.kind == "truncated"

    @property
    def entries(self) -> list[Entry]:
        """The entries, parsed back from their lines (reading is rare; keeping is per event)."""
        return [entry_from_json(json.loads(line)) for line in self.lines]

    @property
    def size(self) -> int:
        """Bytes of the journal file: the lines, each with its newline."""
        return self._bytes

    def add(self, entry: Entry, now: float) -> None:
        """Number and time ``entry`` (``now`` on the session's clock) and keep it if it fits."""
        if self.truncated:
            self.dropped += 1
            return
        timed = dataclasses.replace(
            entry, seq=len(self.lines), t=round(max(0.0, now - self.started), 3)
        )
        line = timed.to_json()
        size = len(line) + 1  # ASCII (Entry.to_json)
        limits = self._limits
        if (
            len(self.lines) + 1 >= limits.max_entries
            or self._bytes + size > limits.max_bytes - TRUNCATED_RESERVE
        ):
            self.dropped += 1
            self._keep(self._truncation(timed.t))
            return
        self._keep(timed, line, size)

    def close(self) -> None:
        """The session ended: a truncated entry says how many entries it dropped."""
        if self.truncated and self.dropped and self._last is not None:
            last = self._last
            final = dataclasses.replace(last, fields=(*last.fields, ("dropped", str(self.dropped))))
            self._bytes -= len(self.lines[-1]) + 1
            self.lines.pop()
            self._keep(final)

    def text(self) -> str:
        """The journal file: one JSON line per entry."""
        return "".join(f"{line}\n" for line in self.lines)

    def _truncation(self, t: float) -> Entry:
        limits = self._limits
        fields = make_fields([("max_entries", limits.max_entries), ("max_bytes", limits.max_bytes)])
        return Entry(seq=len(self.lines), t=t, kind="truncated", label="journal truncated",
                     src=SESSION_LANE, fields=fields)  # fmt: skip

    def _keep(self, entry: Entry, line: str | None = None, size: int | None = None) -> None:
        line = entry.to_json() if line is None else line
        self._last = entry
        self.lines.append(line)
        self._bytes += (len(line) + 1) if size is None else size

"""Every session's journal, fed by the engine at its seam to the backend, kept and written.

The engine calls :meth:`Journals.command` for each command it sends, :meth:`Journals.signal`
for each backend signal it routes, and :meth:`Journals.event` for each event it dispatches,
all on its loop and with its clock's time; the decisions are :mod:`voxpy.core.journal`'s.
Nothing here blocks the loop: entries go to a bounded list in memory, and a session's file
(``DIR/<session_id>.jsonl``) is written once, when the session ends, on the default executor
(a temporary file renamed into place, so a reader never sees half a journal).
:meth:`Journals.drain` waits for the writes left (the engine's shutdown awaits it).

Finished journals stay readable for the API: the last ``keep`` (and at most ``keep_bytes`` of
them) in memory as their JSON lines only, older ones from their file.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import os
import re
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from structlog.typing import FilteringBoundLogger

from voxpy.core import commands as cmd
from voxpy.core.journal import (
    SESSION_LANE,
    Entry,
    JournalBuffer,
    JournalLimits,
    SipMapper,
    event_entry,
    make_fields,
    parse_journal,
)
from voxpy.core.signals import Signal
from voxpy.errors import InvalidArgumentError

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"What a session id may look like before it becomes a file name (no path, no dots)."

_HIDDEN = frozenset({"name", "id", "call", "session_id", "headers", "traceback", "websocket"})
"Event fields a note leaves out: the ids are the entry's own, the rest too long or no text."


def journal_path(directory: Path, session_id: str) -> Path:
    """``DIR/<session_id>.jsonl``; raises InvalidArgumentError for an id that is no id."""
    if not SESSION_ID.fullmatch(session_id):
        raise InvalidArgumentError(f"not a session id: {session_id[:80]!r}")
    return directory / f"{session_id}.jsonl"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.part")
    part.write_text(text, encoding="utf-8")
    os.replace(part, path)


STR_HEADER = sys.getsizeof("")
"Bytes of an empty ASCII str (49 on 64-bit CPython): each kept line pays it."


@dataclass(frozen=True, slots=True, kw_only=True)
class _Done:
    """A finished journal as kept: its lines (parsed again when read: entry objects take about
    three times the memory of their JSON)."""

    started: float
    lines: tuple[str, ...]
    size: int

    @property
    def memory(self) -> int:
        """What keeping it costs: its characters and each str object's own 49 bytes (an ASCII
        str's header); counting characters alone undercounted ~1.4x (journal.keep_bytes)."""
        return self.size + STR_HEADER * len(self.lines)


class _Live:
    __slots__ = ("buffer", "mapper", "sockets")

    def __init__(self, buffer: JournalBuffer) -> None:
        self.buffer = buffer
        self.mapper = SipMapper()
        self.sockets: dict[int, str] = {}


class Journals:
    """The journals of one engine's sessions."""

    def __init__(
        self,
        *,
        limits: JournalLimits | None = None,
        directory: Path | None = None,
        keep: int = 100,
        keep_bytes: int = 4 * 1024 * 1024,
        log: FilteringBoundLogger | None = None,
    ) -> None:
        self.limits = limits or JournalLimits()
        self.directory = directory
        self.keep, self.keep_bytes = keep, keep_bytes
        self._kept_bytes = 0
        self._log: FilteringBoundLogger = log or structlog.get_logger("voxpy.journal")
        self._live: dict[str, _Live] = {}
        self._done: OrderedDict[str, _Done] = OrderedDict()
        self._writes: set[asyncio.Future[None]] = set()

    # -- fed by the engine -------------------------------------------------------------------

    def open(self, session_id: str, now: float, what: str = "") -> None:
        wall = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        buffer = JournalBuffer(session_id, started=now, wall=wall, limits=self.limits, what=what)
        self._live[session_id] = _Live(buffer)

    def command(self, session_id: str, command: cmd.Command, now: float) -> None:
        live = self._live.get(session_id)
        if live is not None:
            for entry in live.mapper.command(command):
                live.buffer.add(entry, now)

    def signal(self, session_id: str, signal: Signal, now: float) -> None:
        live = self._live.get(session_id)
        if live is not None:
            for entry in live.mapper.signal(signal):
                live.buffer.add(entry, now)

    def event(self, session_id: str, event: Any, now: float) -> None:
        live = self._live.get(session_id)
        if live is None:
            return
        name = str(getattr(event, "name", type(event).__name__))
        call = getattr(event, "call", None)
        call_id = str(call.id()) if call is not None and hasattr(call, "id") else ""
        lane = f"leg:{call_id}" if call_id else SESSION_LANE
        socket = getattr(event, "websocket", None)
        if socket is not None:
            lane = self._socket_lane(live, socket, now)
        entry = event_entry(name, lane, call_id, make_fields(_plain_fields(event)))
        if entry is not None:
            live.buffer.add(entry, now)

    def failure(self, session_id: str, text: str, now: float) -> None:
        """An error of the engine's own about the session (its scenario failed to run)."""
        live = self._live.get(session_id)
        if live is not None:
            live.buffer.add(Entry(kind="error", label=text[:120], src=SESSION_LANE), now)

    def close(self, session_id: str) -> None:
        """The session ended: keep its journal for the API and write its file."""
        live = self._live.pop(session_id, None)
        if live is None:
            return
        buffer = live.buffer
        buffer.close()
        done = _Done(started=buffer.started, lines=tuple(buffer.lines), size=buffer.size)
        self._done[session_id] = done
        self._kept_bytes += done.memory
        while self._done and (len(self._done) > self.keep or self._kept_bytes > self.keep_bytes):
            self._kept_bytes -= self._done.popitem(last=False)[1].memory
        if self.directory is not None:
            self._write_later(journal_path(self.directory, session_id), buffer.text())

    # -- read --------------------------------------------------------------------------------

    def entries(self, session_id: str) -> list[Entry] | None:
        """A live or recently finished session's entries (None: not in memory)."""
        live = self._live.get(session_id)
        if live is not None:
            return list(live.buffer.entries)
        done = self._done.get(session_id)
        return None if done is None else parse_journal("\n".join(done.lines))

    def lines(self, session_id: str) -> list[str] | None:
        """:meth:`entries` as the JSON lines they were kept as (no second serialisation)."""
        live = self._live.get(session_id)
        if live is not None:
            return list(live.buffer.lines)
        done = self._done.get(session_id)
        return None if done is None else list(done.lines)

    def session_ids(self) -> list[str]:
        """The sessions whose journals are in memory, in the order they started."""
        started = {i: done.started for i, done in self._done.items()}
        started.update((i, live.buffer.started) for i, live in self._live.items())
        return sorted(started, key=started.__getitem__)

    def is_live(self, session_id: str) -> bool:
        return session_id in self._live

    async def read(self, session_id: str) -> list[Entry] | None:
        """:meth:`entries`, else the session's file in the journal directory (read and parsed
        on the executor: a full journal takes ~11 ms to parse, off the loop that carries the
        calls), else None. Raises InvalidArgumentError for an id that is no id."""
        found = self.entries(session_id)
        if found is not None or self.directory is None:
            return found
        path = journal_path(self.directory, session_id)
        return await asyncio.get_running_loop().run_in_executor(None, _load, path)

    async def read_lines(self, session_id: str) -> list[str] | None:
        """:meth:`lines`, else the file's entries as JSON lines, checked and re-serialised on
        the executor (the control API serves them as they are)."""
        found = self.lines(session_id)
        if found is not None or self.directory is None:
            return found
        path = journal_path(self.directory, session_id)
        return await asyncio.get_running_loop().run_in_executor(None, _load_lines, path)

    async def drain(self) -> None:
        """Wait for every journal file still being written."""
        if self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    # -- internals ---------------------------------------------------------------------------

    def _write_later(self, path: Path, text: str) -> None:
        future = asyncio.get_running_loop().run_in_executor(None, _write, path, text)
        self._writes.add(future)

        def done(f: asyncio.Future[None]) -> None:
            self._writes.discard(f)
            if not f.cancelled() and f.exception() is not None:
                self._log.warning("journal_write_failed", path=str(path), error=str(f.exception()))

        future.add_done_callback(done)

    def _socket_lane(self, live: _Live, socket: Any, now: float) -> str:
        key = id(socket)
        lane = live.sockets.get(key)
        if lane is None:
            lane = live.sockets[key] = f"ws:{len(live.sockets) + 1}"
            url = str(getattr(socket, "url", "") or "")
            fields = make_fields([("side", "right"), ("uri", url)])
            party = Entry(kind="party", label=f"socket {len(live.sockets)}", src=lane,
                          fields=fields)  # fmt: skip
            live.buffer.add(party, now)
        return lane


_NAMES: dict[type, tuple[str, ...]] = {}
"Each event class's shown field names (dataclasses.fields is the slow part: ~5 us a call)."


def _plain_fields(event: Any) -> list[tuple[str, object]]:
    """An event's fields that read as text (str, numbers, enums), in declaration order."""
    names = _NAMES.get(type(event))
    if names is None:
        shown = dataclasses.fields(event) if dataclasses.is_dataclass(event) else ()
        names = _NAMES[type(event)] = tuple(f.name for f in shown if f.name not in _HIDDEN)
    out: list[tuple[str, object]] = []
    for name in names:
        value = getattr(event, name, None)
        if isinstance(value, enum.Enum):
            value = value.name
        elif isinstance(value, BaseException):
            value = repr(value)
        if isinstance(value, bool):
            value = "yes" if value else None
        elif isinstance(value, float):
            value = round(value, 3)  # a duration to the millisecond, as the entries' times
        if isinstance(value, str | int | float):
            out.append((name, value))
    return out


def _load(path: Path) -> list[Entry] | None:
    """Executor: a journal file's entries, None when it cannot be read (InvalidArgumentError
    when it is no journal)."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        return None
    return parse_journal(text)


def _load_lines(path: Path) -> list[str] | None:
    entries = _load(path)
    return None if entries is None else [entry.to_json() for entry in entries]

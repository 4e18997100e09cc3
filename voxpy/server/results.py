"""What a finished session did, kept for a while so a dialer can collect it over the API.

A worker's :class:`SessionResults` follows each session through the engine's event stream (an
``Engine.observers`` hook, like the metrics counters: the runtime needs no results code) and,
when the session fires Terminated, files its record: outcome, every call with its final SIP
code, reason and duration, and the events in order. Records live ``ttl`` seconds and at most
``max_sessions`` of them are kept (the oldest go first), so a dialer that never collects
cannot grow a worker's memory. They live in the worker that ran the session: a worker that
dies takes its records along, as it takes its calls.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from voxpy.core.events import AppEvents, CallEvents
from voxpy.errors import InvalidArgumentError

MAX_EVENTS = 200
"""Events kept per session: one that monitors media statistics every second would otherwise
grow without bound. The record counts the ones left out (``events_dropped``)."""


def wall_time(seconds: float) -> str:
    """``2026-01-31T12:00:00Z``, as the API shows every time."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultLimits:
    """How long and how many finished sessions' records are kept (server.session_results_*)."""

    ttl: float = 600.0
    "Seconds a record stays queryable after its session ended; 0 keeps none."
    max_sessions: int = 1000
    "Records kept at most; 0 keeps none."

    def __post_init__(self) -> None:
        if not self.ttl >= 0 or self.max_sessions < 0:  # `not >=` also refuses NaN
            raise InvalidArgumentError(f"result limits must not be negative: {self}")


class _Tracker:
    """The record of one live session, filled as its events pass."""

    __slots__ = ("calls", "custom_data", "dropped", "errors", "events", "legs", "since", "wall")

    def __init__(self, custom_data: str | None, since: float, wall: float) -> None:
        self.custom_data = custom_data
        self.since, self.wall = since, wall
        self.calls: dict[str, dict[str, Any]] = {}
        self.legs: dict[str, Any] = {}  # call id -> Call, for its state at the end
        self.events: list[dict[str, Any]] = []
        self.dropped = 0
        self.errors = 0

    def add(self, event: Any, at: float) -> None:
        name = str(getattr(event, "name", "?"))
        if name == AppEvents.HandlerError:
            self.errors += 1
        call = getattr(event, "call", None)
        entry: dict[str, Any] = {"name": name, "at": round(at - self.since, 3)}
        if call is not None:
            entry["call_id"] = call.id()
            self._follow(call, name, event)
        if len(self.events) < MAX_EVENTS:
            self.events.append(entry)
        else:
            self.dropped += 1

    def _follow(self, call: Any, name: str, event: Any) -> None:
        record = self.calls.get(call.id())
        if record is None:
            self.legs[call.id()] = call
            record = self.calls[call.id()] = {
                "call_id": call.id(),
                "incoming": call.incoming(),
                "callerid": call.callerid(),
                "number": call.number(),
                "connected": False,
                "code": None,
                "reason": "",
                "duration": 0.0,
            }
        if name == CallEvents.Connected:
            record["connected"] = True
        elif name in (CallEvents.Disconnected, CallEvents.Failed):
            record["code"] = int(event.code)
            record["reason"] = str(event.reason)
            record["duration"] = round(float(getattr(event, "duration", 0.0)), 3)

    def finish(self, session_id: str, at: float, wall: float) -> dict[str, Any]:
        calls = [{**record, "state": self.legs[i].state()} for i, record in self.calls.items()]
        if any(c["connected"] for c in calls):
            outcome = "connected"
        else:
            outcome = "failed" if calls else "no_calls"
        return {
            "session_id": session_id,
            "state": "finished",
            "outcome": outcome,
            "started_at": wall_time(self.wall),
            "ended_at": wall_time(wall),
            "duration": round(at - self.since, 3),
            "custom_data": self.custom_data,
            "handler_errors": self.errors,
            "calls": calls,
            "events": self.events,
            "events_dropped": self.dropped,
        }


class SessionResults:
    """Live sessions' records being written, and finished ones kept within ``limits``."""

    def __init__(
        self,
        limits: ResultLimits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.limits = limits or ResultLimits()
        self._clock, self._wall = clock, wall
        self._live: dict[str, _Tracker] = {}
        self._done: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()  # by end

    def observe(self, session: Any, event: Any) -> None:
        """An ``Engine.observers`` hook: runs on the loop before the event's handlers."""
        now = self._clock()
        tracker = self._live.get(session.id)
        if tracker is None:
            tracker = _Tracker(session.custom_data(), now, self._wall())
            self._live[session.id] = tracker
        tracker.add(event, now)
        if getattr(event, "name", None) == AppEvents.Terminated:
            del self._live[session.id]
            self._file(session.id, tracker.finish(session.id, now, self._wall()), now)

    def get(self, session_id: str) -> dict[str, Any] | None:
        """The record of a finished session still kept, or None."""
        self._expire(self._clock())
        kept = self._done.get(session_id)
        return None if kept is None else kept[1]

    def finished(self) -> list[dict[str, Any]]:
        """Every kept record, oldest first, without its events (those are per session)."""
        self._expire(self._clock())
        return [
            {k: v for k, v in record.items() if k not in ("events", "events_dropped")}
            for _, record in self._done.values()
        ]

    def _file(self, session_id: str, record: dict[str, Any], now: float) -> None:
        self._done[session_id] = (now, record)
        while len(self._done) > self.limits.max_sessions:
            self._done.popitem(last=False)
        self._expire(now)

    def _expire(self, now: float) -> None:
        while self._done:
            ended, _ = next(iter(self._done.values()))
            if now - ended < self.limits.ttl:
                return
            self._done.popitem(last=False)

"""Counters each worker keeps, and the Prometheus text the supervisor makes of them.

Workers count from the engine's event stream (an ``Engine.observers`` hook), so the runtime
needs no metrics code. The supervisor asks every worker for its counters at scrape time and
writes them per worker (``worker="0"``): a restarted worker starts again from zero, which
Prometheus' ``rate()``/``increase()`` treat as the counter reset it is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from voxpy.core.events import AppEvents, CallEvents
from voxpy.core.overload import OverloadGate

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class WorkerCounters:
    """Per-process call counters, fed with every event the engine dispatches."""

    def __init__(self) -> None:
        self.calls_started = 0
        self.calls_failed: Counter[int] = Counter()
        self.handler_errors = 0
        self._seen: set[str] = set()  # live legs already counted as started

    def observe(self, session: Any, event: Any) -> None:
        """An ``Engine.observers`` hook: runs on the loop before the event's handlers."""
        name = getattr(event, "name", None)
        if name == AppEvents.HandlerError:
            self.handler_errors += 1
            return
        call = getattr(event, "call", None)
        if call is None or not str(name).startswith("Call."):
            if name == AppEvents.CallAlerting and call is not None:
                self._start(call.id())  # an inbound leg starts with its INVITE
            return
        self._start(call.id())  # an outbound leg: its first event (ringing, answer, failure)
        if name == CallEvents.Failed or (name == CallEvents.Disconnected and event.code >= 300):
            self.calls_failed[int(event.code)] += 1
        if name in (CallEvents.Failed, CallEvents.Disconnected):
            self._seen.discard(call.id())

    def _start(self, call_id: str) -> None:
        if call_id not in self._seen:
            self._seen.add(call_id)
            self.calls_started += 1

    def snapshot(self) -> dict[str, Any]:
        """JSON-friendly counters for the control API."""
        return {
            "calls_started_total": self.calls_started,
            "calls_failed_total": {str(code): n for code, n in sorted(self.calls_failed.items())},
            "handler_errors_total": self.handler_errors,
        }


def overload_status(backend: object) -> dict[str, object]:
    """The backend's overload gate state for ``/status`` (off: not enabled, nothing refused).

    Both backends expose the gate as ``overload`` (None when off); a wrapping backend (the
    test kit's tap) forwards to the backend it wraps.
    """
    gate = getattr(backend, "overload", None)
    while gate is None and hasattr(backend, "inner"):
        backend = backend.inner
        gate = getattr(backend, "overload", None)
    if isinstance(gate, OverloadGate):
        return gate.snapshot()
    return {"enabled": False, "overloaded": False, "refused_total": {}}


@dataclass(frozen=True, slots=True)
class WorkerSample:
    """What the supervisor knows about one worker at scrape time."""

    index: int
    up: bool
    restarts: int
    status: Mapping[str, Any] | None
    "The worker's ``GET /status`` answer, or None when it did not answer."


def _metric(lines: list[str], name: str, kind: str, help_text: str) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")


def _overload(lines: list[str], answering: list[tuple[WorkerSample, Mapping[str, Any]]]) -> None:
    _metric(
        lines,
        "voxpy_invites_refused_total",
        "counter",
        "New INVITEs refused with 503 because the worker was overloaded, by reason.",
    )
    for s, st in answering:
        refused = st.get("overload", {}).get("refused_total", {})
        for reason, value in refused.items():
            lines.append(
                f'voxpy_invites_refused_total{{worker="{s.index}",reason="{reason}"}} {value}'
            )
    _metric(
        lines, "voxpy_overloaded", "gauge", "1 while the worker refuses new calls as overloaded."
    )
    for s, st in answering:
        value = int(bool(st.get("overload", {}).get("overloaded", False)))
        lines.append(f'voxpy_overloaded{{worker="{s.index}"}} {value}')


def exposition(samples: Iterable[WorkerSample], kamailio_up: bool) -> str:
    """Prometheus text format 0.0.4 for all workers."""
    samples = list(samples)
    answering = [(s, s.status) for s in samples if s.status is not None]
    lines: list[str] = []
    _metric(lines, "voxpy_live_calls", "gauge", "Call legs up now, per worker.")
    lines += [f'voxpy_live_calls{{worker="{s.index}"}} {st["live_calls"]}' for s, st in answering]
    _metric(lines, "voxpy_sessions", "gauge", "Scenario sessions running now, per worker.")
    lines += [f'voxpy_sessions{{worker="{s.index}"}} {st["sessions"]}' for s, st in answering]
    _metric(
        lines,
        "voxpy_calls_started_total",
        "counter",
        "Call legs started (inbound INVITEs given to the scenario, outbound legs placed).",
    )
    for s, st in answering:
        value = st["counters"]["calls_started_total"]
        lines.append(f'voxpy_calls_started_total{{worker="{s.index}"}} {value}')
    _metric(
        lines,
        "voxpy_calls_failed_total",
        "counter",
        "Call legs that ended without connecting or with an error status, by SIP code.",
    )
    for s, st in answering:
        for code, value in st["counters"]["calls_failed_total"].items():
            lines.append(f'voxpy_calls_failed_total{{worker="{s.index}",code="{code}"}} {value}')
    _metric(lines, "voxpy_handler_errors_total", "counter", "Scenario handlers that raised.")
    for s, st in answering:
        value = st["counters"]["handler_errors_total"]
        lines.append(f'voxpy_handler_errors_total{{worker="{s.index}"}} {value}')
    _overload(lines, answering)
    _metric(lines, "voxpy_worker_restarts_total", "counter", "Worker processes restarted.")
    lines += [f'voxpy_worker_restarts_total{{worker="{s.index}"}} {s.restarts}' for s in samples]
    _metric(lines, "voxpy_worker_up", "gauge", "1 when the worker answers its control API.")
    lines += [f'voxpy_worker_up{{worker="{s.index}"}} {int(s.up)}' for s in samples]
    _metric(lines, "voxpy_kamailio_up", "gauge", "1 when the Kamailio front runs.")
    lines.append(f"voxpy_kamailio_up {int(kamailio_up)}")
    return "\n".join(lines) + "\n"

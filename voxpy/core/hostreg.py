"""The front's registry of worker hosts (sans-I/O: time passed in, decisions out).

A worker host reports itself every HEARTBEAT_S: its API address, its workers' SIP URIs and
dispatcher ids, and its free call slots. The registry keeps the last report of each host,
drops a host whose reports stopped for EXPIRY_S, and says what Kamailio's dispatcher list
should hold (:meth:`HostRegistry.wanted`); :func:`plan` turns the difference between that and
what Kamailio was told into steps. A host that dies therefore leaves the list EXPIRY_S after
its last report, plus one check period: well inside the 5 s that issue 15 allows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from voxpy.errors import InvalidArgumentError

HEARTBEAT_S = 1.0
EXPIRY_S = 3.0
"Three heartbeats missed: one lost datagram or a slow loop is not a dead host."
MAX_WORKERS = 4096
"""Per host: a bound on a report's size, far above what one host holds (65 on 2 cores by
auto sizing; 100+ asked for); 64 kept a 100-worker host out of the front for good."""
MAX_HOSTS = 256
"A bound on what a token holder can make the front keep (and tell Kamailio)."
MAX_SLOTS = 100_000

HOST_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_SIP_URI = re.compile(r"^sip:[A-Za-z0-9.-]{1,253}:\d{1,5}$")
_DUID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_API = re.compile(r"^https?://[A-Za-z0-9.-]{1,253}:\d{1,5}$")

State = Literal["ap", "ip", "d"]
"Kamailio's dispatcher states: active, inactive (probed), disabled (draining)."


class BadReport(InvalidArgumentError):
    """A host report that is not well formed, or that claims another host's worker."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerReport:
    uri: str
    duid: str
    ready: bool
    draining: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class HostReport:
    host: str
    api: str
    workers: tuple[WorkerReport, ...]
    free: int
    "Free call slots over the host's ready workers that are not draining."
    draining: bool
    max_calls: int | None = None
    "Calls one of the host's workers takes (its dispatcher maxload); None: not reported."


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    """A dispatcher destination as Kamailio should have it."""

    uri: str
    duid: str
    state: State
    max_calls: int | None = None
    "Its maxload when added (None: the front's own sip.max_calls)."


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One change to Kamailio's list: add (then set the state), remove, renew (remove and
    add: a new duid with no load), or state."""

    op: Literal["add", "remove", "renew", "state"]
    destination: Destination


def _field(data: Mapping[str, Any], name: str, kind: type, pattern: re.Pattern[str] | None) -> Any:
    value: Any = data.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BadReport(f"{name}: expected {kind.__name__}")
    if pattern is not None and not (isinstance(value, str) and pattern.fullmatch(value)):
        raise BadReport(f"{name}: malformed {str(value)[:80]!r}")
    return value


def parse_report(data: Any) -> HostReport:
    """A host report from its JSON; raises BadReport."""
    if not isinstance(data, dict):
        raise BadReport("expected a JSON object")
    workers = data.get("workers")
    if not isinstance(workers, list) or len(workers) > MAX_WORKERS:
        raise BadReport(f"workers: expected a list of at most {MAX_WORKERS}")
    parsed = []
    for item in workers:
        if not isinstance(item, dict):
            raise BadReport("workers: expected objects")
        parsed.append(
            WorkerReport(
                uri=_field(item, "uri", str, _SIP_URI),
                duid=_field(item, "duid", str, _DUID),
                ready=_field(item, "ready", bool, None),
                draining=_field(item, "draining", bool, None),
            )
        )
    if len({w.uri for w in parsed}) != len(parsed):
        raise BadReport("workers: a SIP URI is listed twice")
    free = _field(data, "free", int, None)
    if not 0 <= free <= MAX_SLOTS:
        raise BadReport(f"free: expected 0..{MAX_SLOTS}")
    max_calls = data.get("max_calls")  # absent from an older host's reports
    if max_calls is not None:
        max_calls = _field(data, "max_calls", int, None)
        if not 1 <= max_calls <= MAX_SLOTS:
            raise BadReport(f"max_calls: expected 1..{MAX_SLOTS}")
    return HostReport(
        max_calls=max_calls,
        host=_field(data, "host", str, HOST_ID),
        api=_field(data, "api", str, _API),
        workers=tuple(parsed),
        free=free,
        draining=_field(data, "draining", bool, None),
    )


@dataclass(slots=True)
class _Entry:
    report: HostReport
    seen: float


@dataclass(slots=True)
class HostRegistry:
    """The live worker hosts; ``now`` is any monotonic clock, in seconds."""

    expiry: float = EXPIRY_S
    _hosts: dict[str, _Entry] = field(default_factory=dict)

    def beat(self, report: HostReport, now: float) -> bool:
        """Record ``report``; True when the host is new. Raises BadReport (and records
        nothing) when its id or one of its workers' URIs belongs to another live host (two
        hosts given the same server.host_id would otherwise take turns at the front)."""
        known = self._hosts.get(report.host)
        if known is not None and known.report.api != report.api:
            raise BadReport(f"host id {report.host} is taken by {known.report.api}")
        for host, entry in self._hosts.items():
            if host != report.host:
                taken = {w.uri for w in entry.report.workers} & {w.uri for w in report.workers}
                if taken:
                    raise BadReport(f"{sorted(taken)[0]} belongs to host {host}")
        new = report.host not in self._hosts
        if new and len(self._hosts) >= MAX_HOSTS:
            raise BadReport(f"the front has {MAX_HOSTS} hosts already")
        self._hosts[report.host] = _Entry(report, now)
        return new

    def claim(self, host: str) -> None:
        """One of ``host``'s free slots was just taken (a session placed there): until its
        next report, the next placement counts one fewer."""
        entry = self._hosts.get(host)
        if entry is not None and entry.report.free > 0:
            entry.report = replace(entry.report, free=entry.report.free - 1)

    def leave(self, host: str) -> bool:
        """A host that says it stops; True if it was known."""
        return self._hosts.pop(host, None) is not None

    def expire(self, now: float) -> list[str]:
        """Drop and return the hosts not heard from for ``expiry`` seconds."""
        gone = [h for h, e in self._hosts.items() if now - e.seen >= self.expiry]
        for host in gone:
            del self._hosts[host]
        return gone

    def next_expiry(self) -> float | None:
        """When the next host would expire without a report (None: no host)."""
        return min((e.seen + self.expiry for e in self._hosts.values()), default=None)

    def get(self, host: str) -> HostReport | None:
        entry = self._hosts.get(host)
        return entry.report if entry else None

    def hosts(self) -> list[HostReport]:
        return [e.report for e in self._hosts.values()]

    def placement(self) -> list[HostReport]:
        """Hosts that can take a session, the most free slots first (ties: by id)."""
        ready = [r for r in self.hosts() if r.free > 0 and not r.draining]
        return sorted(ready, key=lambda r: (-r.free, r.host))

    def wanted(self) -> dict[str, Destination]:
        """The dispatcher list these hosts make, by URI."""
        found: dict[str, Destination] = {}
        for report in self.hosts():
            for w in report.workers:
                state: State = "d" if report.draining or w.draining else "ap" if w.ready else "ip"
                found[w.uri] = Destination(
                    uri=w.uri, duid=w.duid, state=state, max_calls=report.max_calls
                )
        return found


def plan(told: Mapping[str, Destination], wanted: Mapping[str, Destination]) -> list[Step]:
    """The steps from the list Kamailio was ``told`` to the ``wanted`` one (removals first:
    a URI that moved to another host is removed before it is added back)."""
    steps = [Step(op="remove", destination=d) for uri, d in told.items() if uri not in wanted]
    for uri, want in wanted.items():
        had = told.get(uri)
        if had is None:
            steps.append(Step(op="add", destination=want))
        elif had.duid != want.duid:
            steps.append(Step(op="renew", destination=want))
        elif had.state != want.state:
            steps.append(Step(op="state", destination=want))
    return steps

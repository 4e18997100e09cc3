"""Overload admission: refuse new calls while the machine or the media clock is late.

Issue 15: overload must be refused, not spread over every call. Once the CPU is saturated,
every call's media falls late together (measured at 400 calls on 2 cores: the max gap between
RTP packets voxpy sends grew from 25 to 117 ms); a 503 with Retry-After instead lets Kamailio
try another worker and keeps the calls already up on time.

Pure: samples come in with the time they were taken (monotonic seconds), a :class:`Decision`
comes out. Two measures, each a fraction over the sample's interval:

``cpu``
    the machine's busy share (``/proc/stat``: non-idle jiffies over all jiffies, all cores).
    Saturation only (0.99): the machine measured 0.98-1.00 busy while a worker's RTP still
    went out at p99 26-29 ms, so the media share is the finer measure.
``media``
    the share of wall time pjmedia's clock thread spent runnable but not running (its
    ``/proc/self/task/<tid>/schedstat`` run-queue wait). The clock thread wakes every 20 ms;
    0.05 is 1 ms of waiting per tick on average. Measured (a Python port on the clock thread
    of a bare endpoint, 5 s runs beside CPU burners on a 2-core machine already at load 13):
    while frames came on time (gap p99 <= 26 ms) the wait share was 0.001-0.027; once they
    fell late (gap p99 31-55 ms, max 64-437 ms) it was 0.085-0.16. On real RTP (a pjsua2
    backend, 4 calls looping a prompt, 8 s runs, the machine at 0.98-1.00 busy throughout):
    0.027-0.033 with RTP gaps p99 26-29 ms, 0.10 with p99 36 ms, 0.27 with p99 40 ms and a
    952 ms stall. The defaults sit between. With the clock thread at real-time priority
    (``media.clock_priority``, the default where permitted) it waits only behind other
    real-time threads, the other workers' clocks: the share then stays near 0 until the
    clocks together want more CPU than there is, which is the overload left to refuse.

Hysteresis so it does not flap: a measure enters overload once its samples have stayed at or
above ``*_enter`` for ``window_s`` of sampled time, and leaves once they have stayed below
``*_leave`` for ``window_s``. A sample covers the time since the previous one, so an INVITE
after a long quiet spell brings one long, calm sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from voxpy.errors import InvalidArgumentError


class Reason(StrEnum):
    """Why a call was refused: the ``reason`` label of ``voxpy_invites_refused_total``."""

    CPU = "overload_cpu"
    MEDIA = "overload_media"


@dataclass(frozen=True, slots=True, kw_only=True)
class OverloadThresholds:
    """When a worker counts as overloaded; ``enabled=False`` admits everything."""

    enabled: bool = True
    cpu_enter: float = 0.99
    cpu_leave: float = 0.95
    media_enter: float = 0.05
    media_leave: float = 0.03
    window_s: float = 2.0
    min_interval_s: float = 0.25
    "Samples closer together than this are not taken: the last decision stands."
    retry_after: int = 5

    def __post_init__(self) -> None:
        for name in ("cpu", "media"):
            enter, leave = getattr(self, f"{name}_enter"), getattr(self, f"{name}_leave")
            if not 0.0 <= leave <= enter:
                raise InvalidArgumentError(
                    f"{name}_leave ({leave}) must be within 0..{name}_enter ({enter})"
                )
        if self.window_s < 0 or self.min_interval_s < 0 or self.retry_after < 1:
            raise InvalidArgumentError("window_s and min_interval_s must be >= 0, retry_after >= 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    """Load measured over ``[start, end]`` (monotonic seconds); ``media`` is None without a
    clock thread to watch."""

    start: float
    end: float
    cpu: float
    media: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """Admit, or refuse with a reason, a Retry-After and the figures for the log line."""

    admitted: bool
    reason: Reason | None = None
    retry_after: int = 0
    cpu: float | None = None
    media: float | None = None

    def why(self) -> str:
        figures = f"cpu {self.cpu:.2f}" if self.cpu is not None else "cpu ?"
        if self.media is not None:
            figures += f", media clock waiting {self.media:.3f}"
        return f"{self.reason.value if self.reason else 'admitted'} ({figures})"


@dataclass(slots=True)
class _Hysteresis:
    enter: float
    leave: float
    window_s: float
    on: bool = False
    _run: float = 0.0  # sampled seconds the value has been past the threshold to cross

    def feed(self, value: float, span: float) -> None:
        crossing = value < self.leave if self.on else value >= self.enter
        self._run = self._run + span if crossing else 0.0
        if crossing and self._run >= self.window_s:
            self.on, self._run = not self.on, 0.0


@dataclass(slots=True)
class OverloadGate:
    """Decides on each new call from the latest samples; counts what it refused.

    One per process. Fed and asked on the backend's SIP thread; :meth:`snapshot` may be read
    from another thread (it copies plain ints and bools).
    """

    thresholds: OverloadThresholds = field(default_factory=OverloadThresholds)
    refused: dict[Reason, int] = field(default_factory=dict)
    last: Sample | None = None
    _cpu: _Hysteresis = field(init=False)
    _media: _Hysteresis = field(init=False)

    def __post_init__(self) -> None:
        t = self.thresholds
        self._cpu = _Hysteresis(t.cpu_enter, t.cpu_leave, t.window_s)
        self._media = _Hysteresis(t.media_enter, t.media_leave, t.window_s)

    @property
    def overloaded(self) -> bool:
        return self.thresholds.enabled and (self._cpu.on or self._media.on)

    def due(self, now: float) -> bool:
        """Whether a new sample is worth taking now (none while disabled)."""
        return self.thresholds.enabled and (
            self.last is None or now - self.last.end >= self.thresholds.min_interval_s
        )

    def feed(self, sample: Sample) -> None:
        if sample.end < sample.start or (self.last is not None and sample.end < self.last.end):
            raise InvalidArgumentError("samples must move forward in time")
        span = sample.end - sample.start
        self._cpu.feed(sample.cpu, span)
        # No media figure means no clock thread (pjsua stops it ~1 s after the last media):
        # nothing is late. Skipping such samples left a worker that had refused every call
        # into silence in media overload for good (its clock never came back to say so).
        self._media.feed(0.0 if sample.media is None else sample.media, span)
        self.last = sample

    def decide(self) -> Decision:
        """The decision for one new call; a refusal is counted."""
        last = self.last
        cpu, media = (last.cpu, last.media) if last is not None else (None, None)
        if not self.overloaded:
            return Decision(admitted=True, cpu=cpu, media=media)
        reason = Reason.MEDIA if self._media.on else Reason.CPU
        self.refused[reason] = self.refused.get(reason, 0) + 1
        return Decision(
            admitted=False,
            reason=reason,
            retry_after=self.thresholds.retry_after,
            cpu=cpu,
            media=media,
        )

    def snapshot(self) -> dict[str, object]:
        """JSON-friendly state for the worker's ``/status``."""
        return {
            "enabled": self.thresholds.enabled,
            "overloaded": self.overloaded,
            # dict() copies in one step under the GIL: the SIP thread may add a reason meanwhile
            "refused_total": {r.value: n for r, n in sorted(dict(self.refused).items())},
        }

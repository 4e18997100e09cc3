"""The quality part of a call leg: the negotiated codec and Twilio-style quality events.

While a connected leg is monitored (``monitor_media_statistics(True)``) or anything listens to
a quality event, the leg's stream statistics are read every second and a
:class:`~voxpy.core.quality.QualityMonitor` turns them into MediaStatisticsReceived,
Warning/WarningCleared, RtpStopped/RtpResumed and FirstAudioPacketReceived.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core.events import CallEvents
from voxpy.core.quality import QualityMonitor, Thresholds
from voxpy.errors import InvalidArgumentError
from voxpy.runtime import args
from voxpy.runtime.leg import Handler, LegContext

QUALITY_EVENTS = frozenset(
    {
        CallEvents.Warning,
        CallEvents.WarningCleared,
        CallEvents.RtpStopped,
        CallEvents.RtpResumed,
        CallEvents.FirstAudioPacketReceived,
        CallEvents.MediaStatisticsReceived,
    }
)
"The events that need the leg's statistics read: listening to one starts the polling."
POLL_SECONDS = 1.0


class Quality:
    """Codec and quality monitoring of one leg (see :mod:`voxpy.runtime.leg`)."""

    def __init__(
        self, ctx: LegContext, thresholds: Thresholds, listened: Callable[[], bool]
    ) -> None:
        self._ctx = ctx
        self._thresholds = thresholds
        self._listened = listened
        "Whether any handler listens to one of QUALITY_EVENTS."
        self._codec: str | None = None
        self._interval: float | None = None
        self._monitor: QualityMonitor | None = None
        self._polling = False
        self._polls_in_flight = 0
        self._since_sample = 0.0

    @property
    def codec(self) -> str | None:
        return self._codec

    @property
    def rtp_stopped(self) -> bool:
        """The far end's RTP stopped (RtpStopped fired, RtpResumed not yet)."""
        return self._monitor is not None and self._monitor.rtp_stopped

    @property
    def rtp_timeout(self) -> float:
        return self._thresholds.rtp_timeout

    def status(self) -> str:
        """The Call's Twilio ``status()``: the machine's, but "reconnecting" while connected
        and the far end's RTP has stopped (or been quiet for ``rtp_timeout`` seconds)."""
        status, machine = self._ctx.machine.status, self._ctx.machine
        silent = self.rtp_stopped or machine.rtp_quiet_for() >= self.rtp_timeout
        return "reconnecting" if status == "open" and silent else status

    def monitor(self, enabled: bool, interval: float) -> None:
        args.flag("monitor_media_statistics", "enabled", enabled)
        args.number("monitor_media_statistics", "interval", interval, positive=True)
        if interval < POLL_SECONDS:
            raise InvalidArgumentError(f"the statistics interval is at least {POLL_SECONDS} s")
        self._interval = interval if enabled else None
        self.start_polling()

    def start_polling(self) -> None:
        """Poll once a second while connected and wanted (idempotent)."""
        machine = self._ctx.machine
        if self._polling or not machine.live or machine.vox_state != "CONNECTED":
            return
        if self._interval is None and not self._listened():
            return
        self._polling = True
        self._monitor = self._monitor or QualityMonitor(self._thresholds)
        self._ctx.after(POLL_SECONDS, self._poll)

    def _poll(self) -> None:
        self._polling = False
        if self._ctx.live:
            self._polls_in_flight += 1
            self._ctx.send(cmd.ReportStats(call_id=self._ctx.call_id))
            self.start_polling()

    # -- Part --------------------------------------------------------------------------------

    def routes(self) -> Mapping[type[sig.Signal], Handler]:
        return {sig.StatsReport: self._on_stats}

    def audio_started(self) -> None:
        pass

    def connected(self) -> None:
        """Learn the codec, start polling if wanted."""
        self._ctx.send(cmd.ReportStats(call_id=self._ctx.call_id))
        self.start_polling()

    def ended(self) -> None:
        pass

    def _on_stats(self, report: sig.StatsReport) -> None:
        self._codec = report.codec
        if self._monitor is None or self._polls_in_flight == 0:
            return  # the report asked for at connect time only tells the codec
        self._polls_in_flight -= 1
        sample, events = self._monitor.feed(report, self._ctx.clock.now())
        for event in events:
            fields = dict(event.fields)
            if "name" in fields:
                fields["warning"] = fields.pop("name")
            self._ctx.fire(CallEvents(f"Call.{event.name}"), **fields)
        self._since_sample += POLL_SECONDS
        if self._interval is not None and self._since_sample >= self._interval:
            self._since_sample = 0.0
            self._ctx.fire(CallEvents.MediaStatisticsReceived, **sample)

"""Call quality from stream statistics: Twilio's MOS, its warnings, and RTP-stopped detection.

Pure: a :class:`QualityMonitor` is fed one cumulative StatsReport per interval
(with the time it was taken) and returns the sample to publish plus the events it causes.
Thresholds and names follow Twilio's Voice SDK (statsMonitor.ts, mos.ts).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from voxpy.core.signals import StatsReport


def mos(rtt_ms: float, jitter_ms: float, loss_percent: float) -> float:
    """Twilio's MOS estimate (1.0-4.5) from round-trip time, jitter and packet loss."""
    effective_latency = rtt_ms + 2 * jitter_ms + 10
    if effective_latency < 160:
        r = 94.768 - effective_latency / 40
    else:
        r = 94.768 - (effective_latency - 120) / 10
    r = max(r - 2.5 * loss_percent, 6.52)
    return 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Twilio's defaults; override any of them in config (``quality`` section)."""

    max_rtt: float = 400.0
    min_mos: float = 3.0
    max_jitter: float = 30.0
    max_packet_loss: float = 1.0
    "percent of packets in one sample"
    max_average_packet_loss: float = 3.0
    "percent, averaged over ``loss_samples`` samples"
    loss_samples: int = 7
    min_bytes: int = 1
    "low-bytes-received/sent: fewer bytes than this per sample ..."
    bytes_samples: int = 3
    "... for this many samples in a row"
    clear_count: int = 2
    "consecutive good samples before a warning is cleared"
    audio_level_samples: int = 10
    min_audio_level_deviation: float = 327.67
    "constant-audio-input-level: the input level's standard deviation over the samples"
    rtp_timeout: float = 7.0
    "seconds without a received packet before RtpStopped (VoxEngine's 7 s)"
    rtp_timeout_hangup: float = 60.0
    "seconds without a received packet (off hold) before voxpy sends BYE; 0: never"


@dataclass(frozen=True, slots=True)
class QualityEvent:
    """``name``: Warning, WarningCleared, RtpStopped, RtpResumed or FirstAudioPacketReceived."""

    name: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class QualityMonitor:
    """Turns successive Totals into samples and quality events for one call leg."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    _last: StatsReport | None = None
    _history: list[dict[str, Any]] = field(default_factory=list)
    _seen_raised: set[str] = field(default_factory=set)  # warnings raised and not cleared
    _active: dict[str, int] = field(default_factory=dict)  # warning -> good samples since
    _last_rx_at: float | None = None
    _rtp_stopped: bool = False
    _first_audio: bool = False

    @property
    def rtp_stopped(self) -> bool:
        """RtpStopped was the last of RtpStopped/RtpResumed."""
        return self._rtp_stopped

    def feed(self, totals: StatsReport, now: float) -> tuple[dict[str, Any], list[QualityEvent]]:
        """Take a snapshot; return the Twilio-shaped sample and the events it causes."""
        prev = self._last or StatsReport(
            call_id=totals.call_id,
            codec=totals.codec,
            packets_sent=0,
            packets_received=0,
            bytes_sent=0,
            bytes_received=0,
            packets_lost=0,
            jitter_ms=0.0,
        )
        self._last = totals
        received = totals.packets_received - prev.packets_received
        lost = max(0, totals.packets_lost - prev.packets_lost)
        expected = received + lost
        fraction = 100.0 * lost / expected if expected else 0.0
        rtt = totals.rtt_ms if totals.rtt_ms is not None else 0.0
        sample = {
            "codec": totals.codec,
            "timestamp": now,
            "packets_sent": totals.packets_sent - prev.packets_sent,
            "packets_received": received,
            "packets_lost": lost,
            "packets_lost_fraction": round(fraction, 3),
            "bytes_sent": totals.bytes_sent - prev.bytes_sent,
            "bytes_received": totals.bytes_received - prev.bytes_received,
            "jitter": totals.jitter_ms,
            "rtt": totals.rtt_ms,
            "audio_input_level": totals.audio_in_level,
            "audio_output_level": totals.audio_out_level,
            "mos": round(mos(rtt, totals.jitter_ms, fraction), 3),
            "totals": {
                "packets_sent": totals.packets_sent,
                "packets_received": totals.packets_received,
                "packets_lost": totals.packets_lost,
                "bytes_sent": totals.bytes_sent,
                "bytes_received": totals.bytes_received,
            },
        }
        self._history.append(sample)
        del self._history[
            : -max(
                self.thresholds.loss_samples,
                self.thresholds.bytes_samples,
                self.thresholds.audio_level_samples,
            )
        ]
        return sample, self._rtp_events(received, now) + self._warnings()

    def _rtp_events(self, received: int, now: float) -> list[QualityEvent]:
        events = []
        if received > 0:
            if not self._first_audio:
                self._first_audio = True
                events.append(QualityEvent("FirstAudioPacketReceived"))
            if self._rtp_stopped:
                self._rtp_stopped = False
                events.append(QualityEvent("RtpResumed"))
            self._last_rx_at = now
        elif (
            self._first_audio
            and not self._rtp_stopped
            and self._last_rx_at is not None
            and now - self._last_rx_at >= self.thresholds.rtp_timeout
        ):
            self._rtp_stopped = True
            events.append(QualityEvent("RtpStopped"))
        return events

    def _warnings(self) -> list[QualityEvent]:
        t, h = self.thresholds, self._history
        last = h[-1]
        checks: dict[str, tuple[bool, Any, list[Any], dict[str, Any]]] = {}
        if last["rtt"] is not None:
            checks["high-rtt"] = (
                last["rtt"] > t.max_rtt,
                last["rtt"],
                [last["rtt"]],
                {"name": "max", "value": t.max_rtt},
            )
        checks["low-mos"] = (
            last["mos"] < t.min_mos,
            last["mos"],
            [last["mos"]],
            {"name": "min", "value": t.min_mos},
        )
        checks["high-jitter"] = (
            last["jitter"] > t.max_jitter,
            last["jitter"],
            [last["jitter"]],
            {"name": "max", "value": t.max_jitter},
        )
        losses = [s["packets_lost_fraction"] for s in h[-t.loss_samples :]]
        average = statistics.fmean(losses)
        loss_bad = last["packets_lost_fraction"] > t.max_packet_loss or (
            len(losses) >= t.loss_samples and average > t.max_average_packet_loss
        )
        checks["high-packet-loss"] = (
            loss_bad,
            last["packets_lost_fraction"],
            losses,
            {"name": "max", "value": t.max_packet_loss},
        )
        for direction in ("received", "sent"):
            recent = [s[f"bytes_{direction}"] for s in h[-t.bytes_samples :]]
            bad = len(recent) >= t.bytes_samples and all(b < t.min_bytes for b in recent)
            checks[f"low-bytes-{direction}"] = (
                bad,
                recent[-1],
                recent,
                {"name": "min", "value": t.min_bytes},
            )
        levels = [
            s["audio_input_level"]
            for s in h[-t.audio_level_samples :]
            if s["audio_input_level"] is not None
        ]
        if len(levels) >= t.audio_level_samples:
            deviation = statistics.pstdev(levels)
            checks["constant-audio-input-level"] = (
                deviation < t.min_audio_level_deviation,
                deviation,
                levels,
                {"name": "min_standard_deviation", "value": t.min_audio_level_deviation},
            )
        return [e for name, check in checks.items() if (e := self._update(name, *check))]

    def _update(
        self, name: str, bad: bool, value: Any, samples: list[Any], threshold: dict[str, Any]
    ) -> QualityEvent | None:
        payload = {"name": name, "values": value, "samples": samples, "threshold": threshold}
        if bad:
            self._active[name] = 0
            return None if name in self._seen_raised else self._raise(name, payload)
        if name in self._seen_raised:
            self._active[name] = self._active.get(name, 0) + 1
            if self._active[name] >= self.thresholds.clear_count:
                self._seen_raised.discard(name)
                return QualityEvent("WarningCleared", payload)
        return None

    def _raise(self, name: str, payload: dict[str, Any]) -> QualityEvent:
        self._seen_raised.add(name)
        return QualityEvent("Warning", payload)

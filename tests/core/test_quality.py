"""MOS, Twilio-style warnings and RTP-stopped detection from cumulative stream totals."""

from __future__ import annotations

import pytest

from voxpy.core.quality import QualityMonitor, Thresholds, mos
from voxpy.core.signals import StatsReport


def totals(
    t: float,
    *,
    lost: int = 0,
    rx_rate: int = 50,
    jitter: float = 1.0,
    rtt: float | None = 20.0,
    received: int | None = None,
) -> StatsReport:
    """Totals after ``t`` seconds of 50 packets/s each way (160 bytes each)."""
    n = int(t * rx_rate) if received is None else received
    return StatsReport(
        call_id="c",
        codec="PCMU",
        packets_sent=int(t * 50),
        packets_received=n,
        bytes_sent=int(t * 50) * 160,
        bytes_received=n * 160,
        packets_lost=lost,
        jitter_ms=jitter,
        rtt_ms=rtt,
    )


class TestMos:
    """Twilio's formula, checked against values worked out by hand."""

    def test_perfect_network(self) -> None:
        assert mos(0, 0, 0) == pytest.approx(4.433, abs=0.001)

    def test_ten_percent_loss(self) -> None:
        assert mos(0, 0, 10) == pytest.approx(3.574, abs=0.001)

    def test_high_latency_branch_and_floor(self) -> None:
        assert mos(400, 0, 0) < mos(100, 0, 0)
        assert mos(0, 0, 100) == pytest.approx(
            1 + 0.035 * 6.52 + 7e-6 * 6.52 * (6.52 - 60) * (100 - 6.52)
        )


class TestWarnings:
    """Warnings are raised once, with Twilio's payload, and cleared after good samples."""

    def test_packet_loss_raised_then_cleared(self) -> None:
        monitor = QualityMonitor()
        events = []
        lost = 0
        for second in range(1, 14):
            lost += 5 if 3 <= second <= 5 else 0  # 10% loss for three seconds
            _, new = monitor.feed(totals(second, lost=lost), now=second)
            events += [(second, e.name, e.fields.get("name")) for e in new]
        warnings = [e for e in events if e[1] != "FirstAudioPacketReceived"]
        assert warnings[0] == (3, "Warning", "high-packet-loss")
        cleared = [e for e in warnings if e[1] == "WarningCleared"]
        # the 7-sample average stays above 3% until second 10; two good samples clear it
        assert cleared == [(11, "WarningCleared", "high-packet-loss")]

    def test_payload_shape(self) -> None:
        monitor = QualityMonitor()
        monitor.feed(totals(1), now=1)
        _, events = monitor.feed(totals(2, jitter=45.0), now=2)
        warning = next(e for e in events if e.fields["name"] == "high-jitter")
        assert warning.fields == {
            "name": "high-jitter",
            "values": 45.0,
            "samples": [45.0],
            "threshold": {"name": "max", "value": 30.0},
        }

    def test_sample_fields(self) -> None:
        sample, _ = QualityMonitor().feed(totals(1), now=1.0)
        assert sample["codec"] == "PCMU"
        assert (sample["packets_received"], sample["bytes_received"]) == (50, 8000)
        assert sample["mos"] == pytest.approx(mos(20, 1, 0), abs=0.001)
        assert sample["totals"]["packets_received"] == 50


class TestRtp:
    """RtpStopped after the timeout without packets, RtpResumed when they return."""

    def test_stopped_and_resumed(self) -> None:
        monitor = QualityMonitor(Thresholds(rtp_timeout=3))
        names = []
        received = 0
        for second in range(1, 12):
            received += 0 if 4 <= second <= 8 else 50
            _, events = monitor.feed(totals(second, received=received), now=second)
            names += [(second, e.name) for e in events if e.name.startswith(("Rtp", "First"))]
        assert names == [(1, "FirstAudioPacketReceived"), (6, "RtpStopped"), (9, "RtpResumed")]

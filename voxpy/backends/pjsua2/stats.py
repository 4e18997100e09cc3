"""Audio stream statistics (ReportStats) and RTP loss injection (SetRtpLoss). Owner thread.

StatsReport, from pjsua's ``getStreamInfo``/``getStreamStat`` of the leg's audio stream:

* packet and byte counts are RTP only, running totals of the leg: pjsua re-creates the
  stream on some re-INVITEs (hold/unhold), so the final counters of each stream are read
  in ``onStreamDestroyed`` and carried over;
* ``packets_lost`` is pjmedia's count of sequence numbers never received;
* ``jitter_ms`` is RFC 3550's interarrival jitter as last computed by pjmedia (``last``, not
  the mean: it follows changes; pjmedia updates it per received packet);
* ``rtt_ms`` is the last round trip measured from RTCP reports: None until the first RTCP
  receiver report comes back (about 5-7 s into the call between two pjsua agents; never with
  a far end that sends no RTCP);
* levels are the mean absolute sample value of the last 20 ms frame, 0-32767 (pjmedia keeps
  it as a µ-law byte, pjsua2 scales that to 0-100; both are undone here, so it is coarse:
  a 0.3 full-scale sine, 6258, reads 5884). ``audio_in_level`` is None
  while nothing in the bridge listens to the leg (pjmedia does not read the port then), both
  are None while the leg cannot carry audio (inbound before 183/200).

A live leg without an audio stream (not negotiated yet, or on its way out) gets a zeroed report
with an empty codec rather than CommandFailed: the runtime polls every second and a transient
gap is not an error. An unknown or ended leg gets CommandFailed, as for every command.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import pjsua2 as pj

from voxpy.backends.pjsua2 import pjtypes as pjt
from voxpy.backends.pjsua2.native import RTP_LOSS, native
from voxpy.core.commands import Command
from voxpy.core.signals import CommandFailed, Signal, StatsReport
from voxpy.core.testing_commands import SetRtpLoss
from voxpy.errors import InvalidArgumentError

_MAX_LEVEL = 32767


def pjsua2_level_to_linear(percent: int) -> int:
    """A pjsua2 signal level to the mean absolute sample value, 0-32767.

    pjmedia keeps the level as the complemented µ-law byte of the mean absolute sample of the
    last frame (0-127 for any real signal), and pjsua2 hands it out as ``level * 100 / 255``.
    Both steps are undone here; the result is coarse (about 5 % steps around speech levels).
    """
    level = min(0x7F, (max(0, percent) * 255 + 99) // 100)  # the smallest byte giving percent
    # G.711 decoding inverts the byte first, which undoes pjmedia's ``^ 0xff``.
    magnitude = ((((level & 0x0F) << 3) + 0x84) << ((level & 0x70) >> 4)) - 0x84
    return min(_MAX_LEVEL, max(0, magnitude))


def _audio_index(leg: pjt.StatsCall) -> int | None:
    ci = leg.getInfo()
    try:
        return next((int(mi.index) for mi in ci.media if mi.type == pj.PJMEDIA_TYPE_AUDIO), None)
    finally:
        del ci


class StatsLeg(pjt.StatsCall, Protocol):
    """What a report needs of a leg (a :class:`~.call.Leg`, which imports this module)."""

    call_id: str
    streams: StreamState


@dataclass
class Totals:
    """RTP counters of streams that are gone (a re-INVITE may re-create the stream)."""

    packets_sent: int = 0
    packets_received: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    packets_lost: int = 0

    def add(self, stat: pjt.StreamStat) -> None:
        """Add the counters of a StreamStat."""
        rtcp = stat.rtcp
        rx, tx = rtcp.rxStat, rtcp.txStat
        self.packets_sent += int(tx.pkt)
        self.packets_received += int(rx.pkt)
        self.bytes_sent += int(tx.bytes)
        self.bytes_received += int(rx.bytes)
        self.packets_lost += int(rx.loss)
        del rx, tx, rtcp


class StreamState:
    """A leg's audio stream as pjsua (re-)creates it: the pjmedia_stream* (for loss
    injection), the loss asked for, and the totals of the streams before the current one."""

    def __init__(self) -> None:
        self.stream = 0
        self.loss_pct = 0
        "The value handed to pjmedia (see :func:`drop_setting`)."
        self.carried = Totals()

    def created(self, stream: int) -> None:
        """``Call.onStreamCreated``: a loss asked for earlier applies to the new stream too."""
        self.stream = stream
        if self.loss_pct:
            native().simulate_tx_loss(stream, self.loss_pct)

    def destroyed(self, leg: pjt.StatsCall, stream: int, index: int) -> None:
        """``Call.onStreamDestroyed``, where the stream still answers getStreamStat."""
        if stream != self.stream:
            return
        self.stream = 0
        try:
            stat = leg.getStreamStat(index)
        except pj.Error:
            return
        self.carried.add(stat)
        del stat


def report(leg: StatsLeg, audio: pjt.AudioMedia | None, *, listened: bool) -> StatsReport:
    """A StatsReport of ``leg``'s audio stream; ``audio`` is its AudioMedia (or None)."""
    totals = Totals(**vars(leg.streams.carried))
    codec, jitter_ms, rtt_ms = "", 0.0, None
    index = _audio_index(leg)
    try:
        if index is None or not leg.streams.stream:
            raise LookupError
        info = leg.getStreamInfo(index)
        stat = leg.getStreamStat(index)
    except (pj.Error, LookupError):
        pass  # between streams: what the earlier ones carried, or zeros
    else:
        codec = str(info.codecName)
        totals.add(stat)
        rtcp = stat.rtcp  # a view into ``stat``: keep ``stat`` bound while reading it
        jitter, rtt = rtcp.rxStat.jitterUsec, rtcp.rttUsec
        jitter_ms = round(int(jitter.last) / 1000, 3)
        rtt_ms = round(int(rtt.last) / 1000, 3) if int(rtt.n) > 0 else None
        del jitter, rtt, rtcp, stat, info
    in_level = out_level = None
    if audio is not None:
        # pjsua2 names the levels from the port's side: the call port *receives* what we send
        # (getRxLevel) and *transmits* what the far end says into the bridge (getTxLevel).
        try:
            out_level = pjsua2_level_to_linear(int(audio.getRxLevel()))
            if listened:
                in_level = pjsua2_level_to_linear(int(audio.getTxLevel()))
        except pj.Error:
            in_level = out_level = None
    return StatsReport(
        call_id=leg.call_id,
        codec=codec,
        jitter_ms=jitter_ms,
        rtt_ms=rtt_ms,
        audio_in_level=in_level,
        audio_out_level=out_level,
        **vars(totals),
    )


def rx_packets(leg: StatsLeg) -> int:
    """RTP packets ``leg`` received so far (ReportRx): one getStreamStat of stream 0, no
    CallInfo, no stream info, no levels - the RTP-timeout watch reads it on every call."""
    total = int(leg.streams.carried.packets_received)
    if not leg.streams.stream:
        return total  # between streams (or none yet): what the earlier ones received
    try:
        stat = leg.getStreamStat(0)  # our one audio stream is media index 0 (onStreamCreated)
    except pj.Error:
        return total
    rx = stat.rtcp.rxStat
    total += int(rx.pkt)
    del rx, stat
    return total


def drop_setting(percent: float) -> int:
    """The value for pjmedia's ``simulate_lost`` that drops ``percent`` of the packets.

    pjmedia drops a packet when ``rand() % 100 <= pct``: pct + 1 packets in 100 (measured:
    10 gave 10.3 %). So one less is asked for; 1 % cannot be expressed (2 % is used), 0 turns
    dropping off and 100 drops everything.
    """
    if (
        isinstance(percent, bool)
        or not isinstance(percent, int | float)
        or not math.isfinite(percent)
        or not 0 <= percent <= 100
    ):
        raise InvalidArgumentError(f"SetRtpLoss percent must be 0-100, got {percent!r}")
    wanted = round(percent)
    if wanted in (0, 100):
        return wanted
    return max(1, wanted - 1)


def answer(
    leg: StatsLeg,
    command: Command,
    audio: pjt.AudioMedia | None,
    *,
    listened: bool,
    emit: Callable[[Signal], None],
) -> None:
    """Carry out ReportStats (emits a StatsReport) or SetRtpLoss (silent unless it fails)."""
    if not isinstance(command, SetRtpLoss):
        emit(report(leg, audio, listened=listened))
        return
    error = set_rtp_loss(leg.streams, command.percent)
    if error is not None:
        emit(CommandFailed(call_id=leg.call_id, op="SetRtpLoss", message=error))


def set_rtp_loss(streams: StreamState, percent: float) -> str | None:
    """Drop ``percent`` of the leg's outgoing RTP from now on; returns an error or None.

    The setting lives on the call's media transport, which survives re-INVITEs; it is also
    kept on the leg and applied again to every new stream (:meth:`StreamState.created`), so
    it may be given before the stream exists.
    """
    streams.loss_pct = drop_setting(percent)
    if not streams.stream:
        return None
    lib = native()
    if not lib.available(RTP_LOSS):
        return f"RTP loss is unavailable: {lib.disabled[RTP_LOSS]}"
    status = lib.simulate_tx_loss(streams.stream, streams.loss_pct)
    return None if status == 0 else f"cannot set RTP loss (pj status {status})"

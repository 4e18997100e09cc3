"""The media state of each leg, and the bridge connections that state calls for.

:func:`wanted_links` is the single rule book of who transmits to whom; the media registry
(:mod:`.media`) changes :class:`LegMedia` and hands the result to :class:`~.wiring.Wiring`.

* A leg hears its source: a playback, a feed (StartFeed), another leg's audio (SendMedia),
  a mix (core ``Mix``: the sum of several legs' audio and player units; the bridge adds up
  every port connected to one sink, so a conference is only more links), or, with none of them,
  the null sound device's silence. pjmedia stops sending RTP (and RFC 2833 events) from a
  call port that nothing is connected to, so "nothing" must still be something.
* A muted leg hears silence instead of its source. A muted playback (or feed) still goes on
  (into the null sound device's sink): the bridge reads no port without a listener, so a
  disconnected player would stand still and its PlayEnded would come late by the time it was muted.
* An in-band DTMF generator, once created, is mixed into the leg.
* The level meter, each tap and each recording's RX port listen to the leg (what the far end
  says).
* Each recording's TX port listens to what the leg hears from us: the real source (not while
  muted) and the DTMF generator, not the padding silence (the recorder pads by itself).
* A player unit always plays into the null sound device's sink, so it keeps time whether or
  not a leg hears it (same reason as a muted playback).
* A recorder unit hears its own mix: the first source on its left (TX) port, the others on its
  right (RX) port; mono sums both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from voxpy.backends.pjsua2.pjtypes import AudioMedia, BridgePort, ToneGenerator
from voxpy.backends.pjsua2.playback import Playback
from voxpy.backends.pjsua2.ports import FeedPort, LevelMeter
from voxpy.backends.pjsua2.recordings import Recording
from voxpy.backends.pjsua2.streams import Tap
from voxpy.backends.pjsua2.wiring import Link, link
from voxpy.backends.streams import Feed


@dataclass(frozen=True)
class Mixed:
    """A mix source: legs (their far ends' audio) and player units, by id."""

    sources: tuple[str, ...]


Source = Playback | Feed[FeedPort] | str | Mixed | None
"What a leg hears: a playback, a feed, the call_id of a leg sent into it, a mix, or silence."


@dataclass(eq=False)
class UnitRecorder:
    """A recorder unit: a Recording not tied to a leg, and the mix it hears."""

    recording: Recording
    sources: tuple[str, ...] = ()


@dataclass(eq=False)
class Units:
    """The media units apart from legs, by unit id. Owner thread only."""

    players: dict[str, Playback] = field(default_factory=dict)
    recorders: dict[str, UnitRecorder] = field(default_factory=dict)


@dataclass(eq=False)
class LegMedia:
    """The media state of one leg. Owner thread only."""

    call_id: str
    audio: AudioMedia | None = None
    "The call's AudioMedia while audio can flow both ways (None before 183/200, after end)."
    slot: int = -1
    source: Source = None
    recordings: dict[str, Recording] = field(default_factory=dict)
    meter: LevelMeter | None = None
    tones: ToneGenerator | None = None
    "In-band DTMF generator, created on the first fallback."
    muted: bool = False
    "Mute: the leg hears silence (DTMF tones still go through: they are sent on purpose)."
    taps: dict[str, Tap] = field(default_factory=dict)


def unit_port(unit_id: str, legs: dict[str, LegMedia], units: Units) -> BridgePort | None:
    """The port of a mix source: a live leg's audio or a player unit's player."""
    other = legs.get(unit_id)
    if other is not None:
        return other.audio
    player = units.players.get(unit_id)
    return player.player if player is not None else None


def source_ports(lm: LegMedia, legs: dict[str, LegMedia], units: Units) -> list[BridgePort]:
    """The ports the leg should hear now (none: nothing, or not available yet)."""
    if isinstance(lm.source, Playback):
        return [lm.source.player]
    if isinstance(lm.source, Feed):
        return [lm.source.port]
    ids: tuple[str, ...] = (lm.source,) if isinstance(lm.source, str) else ()
    ids = lm.source.sources if isinstance(lm.source, Mixed) else ids
    ports = (unit_port(unit_id, legs, units) for unit_id in ids if unit_id != lm.call_id)
    return [port for port in ports if port is not None]


def wanted_links(
    legs: dict[str, LegMedia], silence: BridgePort, units: Units | None = None
) -> dict[tuple[int, int], Link]:
    """Every connection the bridge should have, keyed by (source slot, sink slot)."""
    wanted: dict[tuple[int, int], Link] = {}
    units = units or Units()

    def want(source: BridgePort, sink: BridgePort) -> None:
        key, value = link(source, sink)
        wanted[key] = value

    _unit_links(want, legs, units, silence)
    for lm in legs.values():
        if lm.audio is None:
            continue
        sources = source_ports(lm, legs, units)
        if lm.muted and sources:
            if isinstance(lm.source, Playback | Feed):
                want(sources[0], silence)  # keeps the player reading; the null device drops it
            sources = []
        for source in sources or [silence]:
            want(source, lm.audio)
        if lm.tones is not None:
            want(lm.tones, lm.audio)
        if lm.meter is not None:
            want(lm.audio, lm.meter)
        for tap in lm.taps.values():
            want(lm.audio, tap.port)
        for recording in lm.recordings.values():
            if recording.rx is None or recording.tx is None:
                continue
            want(lm.audio, recording.rx)
            for source in sources:
                want(source, recording.tx)
            if lm.tones is not None:
                want(lm.tones, recording.tx)
    return wanted


def _unit_links(
    want: Callable[[BridgePort, BridgePort], None],
    legs: dict[str, LegMedia],
    units: Units,
    silence: BridgePort,
) -> None:
    """Player units play into the null sink; recorder units hear their mix."""
    for playback in units.players.values():
        want(playback.player, silence)  # plays on whether or not a leg hears it
    for recorder in units.recorders.values():
        rec = recorder.recording
        if rec.rx is None or rec.tx is None:
            continue
        ports = [unit_port(unit_id, legs, units) for unit_id in recorder.sources]
        for index, port in enumerate(ports):
            if port is not None:
                want(port, rec.tx if index == 0 else rec.rx)

"""The media state of each leg, and the bridge connections that state calls for.

:func:`wanted_links` is the single rule book of who transmits to whom; the media registry
(:mod:`.media`) changes :class:`LegMedia` and hands the result to :class:`~.wiring.Wiring`.

* A leg hears its source: a playback, a feed (StartFeed), another leg's audio (SendMedia),
  or, with none of them,
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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from voxpy.backends.pjsua2.pjtypes import AudioMedia, BridgePort, ToneGenerator
from voxpy.backends.pjsua2.playback import Playback
from voxpy.backends.pjsua2.ports import FeedPort, LevelMeter
from voxpy.backends.pjsua2.recordings import Recording
from voxpy.backends.pjsua2.streams import Tap
from voxpy.backends.pjsua2.wiring import Link, link
from voxpy.backends.streams import Feed

Source = Playback | Feed[FeedPort] | str | None
"What a leg hears from us: a playback, a feed, the call_id of a leg sent into it, or silence."


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


def source_media(lm: LegMedia, legs: dict[str, LegMedia]) -> BridgePort | None:
    """The AudioMedia the leg should hear now, or None (nothing, or not available yet)."""
    if isinstance(lm.source, Playback):
        return lm.source.player
    if isinstance(lm.source, Feed):
        return lm.source.port
    if isinstance(lm.source, str):
        other = legs.get(lm.source)
        return other.audio if other is not None else None
    return None


def wanted_links(legs: dict[str, LegMedia], silence: BridgePort) -> dict[tuple[int, int], Link]:
    """Every connection the bridge should have, keyed by (source slot, sink slot)."""
    wanted: dict[tuple[int, int], Link] = {}

    def want(source: BridgePort, sink: BridgePort) -> None:
        key, value = link(source, sink)
        wanted[key] = value

    for lm in legs.values():
        if lm.audio is None:
            continue
        source = source_media(lm, legs)
        if lm.muted and source is not None:
            if isinstance(lm.source, Playback | Feed):
                want(source, silence)  # keeps the player reading; the null device discards it
            source = None
        want(silence if source is None else source, lm.audio)
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
            if source is not None:
                want(source, recording.tx)
            if lm.tones is not None:
                want(lm.tones, recording.tx)
    return wanted

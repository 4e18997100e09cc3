"""Taps and feeds for the in-memory network: real PCM, moved at the clock's pace.

While any tap or feed exists, a 20 ms tick runs on the network's clock (the test kit's virtual
clock jumps through it). Each tick, every feed whose leg has media pops one frame (silence when
its buffer is empty) and counts it as played, as the pjsua2 FeedPort does; every tap gets one
frame of what its leg's far end sends: that leg's feed, or the audio of a leg bridged into it
(SendMedia) when that leg's far end feeds, else silence. Playbacks carry no audio in memory
mode, so a tap hears them as silence. Frames travel at the wire rate, the configured bridge
clock (16 kHz unless the harness passes another), and are resampled to each tap's rate. A
feed is the leg's source like a playback: a Play or SendMedia replaces it silently, and
StartFeed replaces a playback. Without a clock, FeedAudio plays at once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from voxpy.backends.memory_media import LegMedia, MediaSim
from voxpy.backends.streams import Feed, check_pcm, check_stream_id, check_stream_rate
from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core.audio import FRAME_MS, FrameChunker, Resampler, frame_bytes, mix
from voxpy.core.bridge_rate import WIDEBAND
from voxpy.core.clock import Timer
from voxpy.errors import InvalidArgumentError

TICK_S = FRAME_MS / 1000
# Frames travel between a feed and the taps that hear it at ``wire_rate``: the default bridge
# clock (WIDEBAND) unless the harness passes the configured one, so memory resamples where
# pjsua2's bridge would: with an 8 kHz bridge an 8 kHz feed reaches an 8 kHz tap untouched, as
# over pjsua2 (the 16 kHz wire's linear resampling took 0.7 dB off a 1 kHz tone there).


@dataclass(eq=False)
class MemoryFeedPort:
    """The memory stand-in for the pjsua2 FeedPort: a queue the tick pops, a played count."""

    sample_rate: int
    wire_rate: int = WIDEBAND
    frames: deque[tuple[bytes, int]] = field(default_factory=deque)
    played: int = 0
    to_wire: Resampler = field(init=False)
    wire_frame: int = field(init=False)

    def __post_init__(self) -> None:
        self.to_wire = Resampler(self.sample_rate, self.wire_rate)
        self.wire_frame = frame_bytes(self.wire_rate)

    def pop(self) -> bytes:
        """One frame at the wire rate (silence when nothing is queued)."""
        try:
            pcm, real = self.frames.popleft()
        except IndexError:
            return bytes(self.wire_frame)
        self.played += real
        out = self.to_wire.convert(pcm)
        return out[: self.wire_frame].ljust(self.wire_frame, b"\0")


@dataclass(eq=False)
class MemoryTap:
    call_id: str
    tap_id: str
    sample_rate: int
    wire_rate: int = WIDEBAND
    resampler: Resampler = field(init=False)
    chunker: FrameChunker = field(init=False)

    def __post_init__(self) -> None:
        self.resampler = Resampler(self.wire_rate, self.sample_rate)
        self.chunker = FrameChunker(frame_bytes(self.sample_rate))

    def hear(self, wire_frame: bytes) -> sig.AudioFrames | None:
        frames = self.chunker.feed(self.resampler.convert(wire_frame))
        if not frames:
            return None
        return sig.AudioFrames(call_id=self.call_id, tap_id=self.tap_id, pcm=b"".join(frames))


class StreamSim:
    """Taps and feeds of one memory network; see the module docstring."""

    def __init__(self, media: MediaSim, wire_rate: int = WIDEBAND) -> None:
        self.media = media
        self.wire_rate = wire_rate
        self._silence = bytes(frame_bytes(wire_rate))
        self.feeds: dict[str, Feed[MemoryFeedPort]] = {}
        "The feed that is each leg's source, by the leg's call id."
        self.taps: dict[str, dict[str, MemoryTap]] = {}
        self.up: set[str] = set()
        "Legs whose media is up (183 or 200): only they play and hear."
        self._timer: Timer | None = None
        media.hooks = self

    # -- hooks of MediaSim -------------------------------------------------------------------

    def media_up(self, leg: LegMedia) -> None:
        self.up.add(leg.call_id)

    def replaced(self, leg: LegMedia) -> None:
        """A Play or SendMedia became the leg's source: its feed stops silently."""
        self.feeds.pop(leg.call_id, None)
        self._schedule()

    def ended(self, leg: LegMedia) -> None:
        self.up.discard(leg.call_id)
        self.feeds.pop(leg.call_id, None)
        self.taps.pop(leg.call_id, None)
        self._schedule()

    # -- commands ----------------------------------------------------------------------------

    def handle(self, leg: LegMedia, command: cmd.Command) -> bool:
        """Apply ``command`` if it is a tap or feed command; False otherwise."""
        if not isinstance(command, cmd.STREAM_COMMANDS):
            return False
        try:
            self._handle(leg, command)
        except InvalidArgumentError as exc:
            self._failed(leg, command, str(exc))
        self._schedule()
        return True

    def _handle(self, leg: LegMedia, command: cmd.Command) -> None:  # noqa: PLR0912
        check_stream_id(command)
        taps = self.taps.setdefault(leg.call_id, {})
        feed = self.feeds.get(leg.call_id)
        if isinstance(command, cmd.StartTap):
            rate = check_stream_rate(command.sample_rate)
            if command.tap_id in taps:
                self._failed(leg, command, f"tap {command.tap_id!r} is already running")
            else:
                taps[command.tap_id] = MemoryTap(leg.call_id, command.tap_id, rate, self.wire_rate)
        elif isinstance(command, cmd.StopTap):
            if taps.pop(command.tap_id, None) is None:
                self._failed(leg, command, f"no tap {command.tap_id!r} on this call")
        elif isinstance(command, cmd.StartFeed):
            rate = check_stream_rate(command.sample_rate)
            if feed is not None and feed.feed_id == command.feed_id:
                self._failed(leg, command, f"feed {command.feed_id!r} is already running")
                return
            self.media.clear_source(leg)
            port = MemoryFeedPort(rate, self.wire_rate)
            self.feeds[leg.call_id] = Feed(leg.call_id, command.feed_id, port)
        else:
            assert isinstance(command, cmd.FeedAudio | cmd.ClearFeed | cmd.StopFeed)
            pcm = check_pcm(command.pcm) if isinstance(command, cmd.FeedAudio) else b""
            if feed is None or feed.feed_id != command.feed_id:
                self._failed(leg, command, f"no feed {command.feed_id!r} on this call")
            elif isinstance(command, cmd.FeedAudio):
                feed.add(pcm)
                if self.media.clock is None:
                    self._play_at_once(leg, feed)
            elif isinstance(command, cmd.ClearFeed):
                feed.clear()
                self._report(leg, feed, force=True)
            else:
                del self.feeds[leg.call_id]

    @staticmethod
    def _failed(leg: LegMedia, command: cmd.Command, message: str) -> None:
        leg.emit(sig.CommandFailed(call_id=leg.call_id, op=type(command).__name__, message=message))

    # -- the tick ----------------------------------------------------------------------------

    def _schedule(self) -> None:
        busy = bool(self.feeds) or any(self.taps.values())
        clock = self.media.clock
        if not busy and self._timer is not None:
            self._timer.cancel()
            self._timer = None
        elif busy and self._timer is None and clock is not None:
            self._timer = clock.call_later(TICK_S, self._tick)

    def _tick(self) -> None:
        self._timer = None
        self._step()
        self._schedule()

    def _step(self) -> None:
        sent: dict[str, bytes] = {}
        for call_id, feed in list(self.feeds.items()):
            if call_id not in self.up:
                continue  # as pjsua2: a feed plays once the leg carries audio
            feed.flush()
            frame = feed.port.pop()
            leg = self.media.legs.get(call_id)
            if leg is not None and not leg.muted:
                sent[call_id] = frame
        for call_id, taps in list(self.taps.items()):
            leg = self.media.legs.get(call_id)
            if leg is None or call_id not in self.up or not taps:
                continue
            frame = self._heard(leg, sent)
            for tap in list(taps.values()):
                frames = tap.hear(frame)
                if frames is not None:
                    leg.emit(frames)
        for call_id, feed in list(self.feeds.items()):
            leg = self.media.legs.get(call_id)
            if leg is not None:
                self._report(leg, feed)

    def _heard(self, leg: LegMedia, sent: dict[str, bytes]) -> bytes:
        """What ``leg`` receives this tick: what its far end sends, fed or bridged."""
        far = leg.far
        if far is None:
            return self._silence
        if far.mix is not None:  # a conference: the sum of the mixed legs' far ends' voices
            if far.muted:
                return self._silence
            ends = [self.media.legs.get(s) for s in far.mix if s != far.call_id]
            voices = [sent[e.far.call_id] for e in ends if e and e.far and e.far.call_id in sent]
            return mix(voices) or self._silence
        if far.call_id in self.feeds:
            return sent.get(far.call_id, self._silence)
        for other in self.media.legs.values():  # a leg whose far end's audio goes into ``far``
            if far.call_id in other.sends_to and other.far is not None:
                return sent.get(other.far.call_id, self._silence)
        return self._silence

    def _play_at_once(self, leg: LegMedia, feed: Feed[MemoryFeedPort]) -> None:
        """No clock: everything fed is played (and heard) now."""
        if leg.call_id not in self.up:
            return
        while feed.port.frames or feed.pending:
            self._step()
        self._report(leg, feed, force=True)

    def _report(self, leg: LegMedia, feed: Feed[MemoryFeedPort], force: bool = False) -> None:
        report = feed.report(self.media.now(), force=force)
        if report is not None:
            leg.emit(report)

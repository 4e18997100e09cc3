"""The streams part of a call leg: WebSocket media streams and in-process audio.

Each user of the leg's raw audio - a socket's :class:`~voxpy.runtime.wsstream.MediaPump`, a
``listen()`` iterator, an ``audio_output()`` - gets its own :class:`LegAudio`, an
:class:`~voxpy.runtime.wsstream.AudioPath` over the backend's StartTap / StopTap / StartFeed /
FeedAudio / ClearFeed / StopFeed commands with ids of its own; this part routes the backend's
AudioFrames and FeedPlayed back by those ids, and stops everything when the leg ends.

Rate: a stream runs at its wire encoding's rate (8 kHz for PCM8, ULAW, ALAW and every Twilio
stream; 16 kHz for PCM16), so the common 8 kHz case is never resampled in Python - pjsua2's
bridge converts once, in C. A VoxEngine bot that names another encoding in its ``start`` is
resampled by the core. ``listen``/``audio_output`` run at the rate asked (8000 or 16000).

Sources: a leg plays one incoming source at a time. A feed started here tells the media part
(say/playback stop silently); a playback or ``send_media_to`` into the leg tells this part,
which marks the feed gone without a StopFeed (the backend already replaced it) and lets its
owner know (the pump fires MEDIA_ENDED; an output closes).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from voxpy.core import commands as cmd
from voxpy.core import signals as sig
from voxpy.core.audio import Encoding, check_rate
from voxpy.core.wsmedia.stream import DTMF_DIGITS
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.runtime import args
from voxpy.runtime.audio_io import MAX_LISTEN_FRAMES, AudioListener, AudioOutput
from voxpy.runtime.leg import Handler, LegContext
from voxpy.runtime.websocket import WebSocket
from voxpy.runtime.wsstream import FeedReport, MediaPump


class LegAudio:
    """One user's tap and feed on the leg (an AudioPath)."""

    def __init__(self, streams: Streams, rate: int, kind: str) -> None:
        self._streams, self._rate = streams, check_rate(rate)
        uid = uuid.uuid4().hex[:10]
        self.tap_id, self.feed_id = f"{kind}-tap-{uid}", f"{kind}-feed-{uid}"
        self.feeding = False
        self.on_displaced: Callable[[], None] = lambda: None

    @property
    def rate(self) -> int:
        return self._rate

    def start_tap(self, on_frames: Callable[[bytes], None]) -> None:
        self._streams.taps[self.tap_id] = on_frames
        self._send(cmd.StartTap, tap_id=self.tap_id, sample_rate=self._rate)

    def stop_tap(self) -> None:
        if self._streams.taps.pop(self.tap_id, None) is not None:
            self._send(cmd.StopTap, tap_id=self.tap_id)

    def start_feed(self, on_played: Callable[[FeedReport], None]) -> None:
        self._streams.take_source(self)
        self._streams.feeds[self.feed_id] = on_played
        self.feeding = True
        self._send(cmd.StartFeed, feed_id=self.feed_id, sample_rate=self._rate)

    def feed(self, pcm: bytes) -> None:
        if self.feeding:
            self._send(cmd.FeedAudio, feed_id=self.feed_id, pcm=pcm)

    def clear(self) -> None:
        if self.feeding:
            self._send(cmd.ClearFeed, feed_id=self.feed_id)

    def stop_feed(self) -> None:
        if self.feeding:
            self.displaced(notify=False)
            self._send(cmd.StopFeed, feed_id=self.feed_id)

    def displaced(self, *, notify: bool = True) -> None:
        """The feed is gone (replaced, or the leg ended): send nothing more for it."""
        self.feeding = False
        self._streams.feeds.pop(self.feed_id, None)
        self._streams.release_source(self)
        if notify:
            self.on_displaced()

    def _send(self, kind: type[cmd.Command], **fields: Any) -> None:
        ctx = self._streams.ctx
        if ctx.live:  # after the end the backend has dropped the leg's taps and feeds itself
            ctx.send(kind(call_id=ctx.call_id, **fields))


class Streams:
    """Media streams and in-process audio of one leg (see :mod:`voxpy.runtime.leg`)."""

    def __init__(self, ctx: LegContext) -> None:
        self.ctx = ctx
        self.yield_source: Callable[[], None] = lambda: None
        "the media part's: a feed starting here ends its playback silently (set by the Call)"
        self.taps: dict[str, Callable[[bytes], None]] = {}
        self.feeds: dict[str, Callable[[FeedReport], None]] = {}
        self._source: LegAudio | None = None
        self._pumps: dict[WebSocket, MediaPump] = {}
        self._listeners: set[AudioListener] = set()
        self._outputs: set[AudioOutput] = set()

    # -- sources -----------------------------------------------------------------------------

    def take_source(self, path: LegAudio) -> None:
        """``path`` starts feeding: what played before stops silently."""
        previous, self._source = self._source, path
        if previous is not None and previous is not path:
            previous.displaced()
        self.yield_source()

    def release_source(self, path: LegAudio) -> None:
        if self._source is path:
            self._source = None

    def displaced(self) -> None:
        """The media part started a playback or a routed call into the leg."""
        if self._source is not None:
            self._source.displaced()

    # -- WebSocket streams -------------------------------------------------------------------

    def send_to(
        self, ws: WebSocket, encoding: object, tag: object, custom_parameters: object
    ) -> None:
        """``call.send_media_to(ws)``: the caller's audio goes to the socket."""
        enc = Encoding.parse(args.text("send_media_to", "encoding", encoding, empty=False))
        tag = args.optional_text("send_media_to", "tag", tag)
        params = self._parameters(custom_parameters)
        pump = self._pump(ws, enc, tag, params, "send_media_to")
        if ws.dialect != "twilio" and pump.stream.encoding is not enc:  # Twilio's: always ULAW
            raise InvalidStateError(
                f"this socket's stream already uses {pump.stream.encoding}: call "
                "call.send_media_to(ws, encoding=...) before ws.send_media_to(call)"
            )
        pump.start_sending()

    def stop_to(self, ws: WebSocket) -> None:
        pump = self._pumps.get(ws)
        if pump is not None:
            pump.stop_sending()
            self._forget_idle(ws, pump)

    def play_from(self, ws: WebSocket) -> None:
        """``ws.send_media_to(call)``: the socket's audio is the leg's incoming source."""
        self._pump(ws, Encoding.PCM8, None, {}, "ws.send_media_to").start_playing()

    def stop_from(self, ws: WebSocket) -> None:
        pump = self._pumps.get(ws)
        if pump is not None:
            pump.stop_playing()
            self._forget_idle(ws, pump)

    def dtmf(self, tone: str) -> None:
        """A digit from the caller reaches every socket the caller's audio goes to."""
        if tone in DTMF_DIGITS:
            for pump in list(self._pumps.values()):
                if pump.sending:
                    pump.send_dtmf(tone)

    def _pump(
        self, ws: WebSocket, enc: Encoding, tag: str | None, params: dict[str, str], what: str
    ) -> MediaPump:
        if not isinstance(ws, WebSocket):
            raise InvalidArgumentError(f"{what} takes a WebSocket, got {type(ws).__name__}")
        self.ctx.require_media(what)
        for gone in [s for s in self._pumps if s.ready_state == "CLOSED"]:
            self._pumps.pop(gone).close()
        pump = self._pumps.get(ws)
        if pump is None:
            if ws.ready_state in ("CLOSING", "CLOSED"):
                raise InvalidStateError(f"{what}: the WebSocket is {ws.ready_state}")
            # Twilio streams are always 8 kHz mu-law; a VoxEngine stream's rate is its encoding's.
            rate = 8000 if ws.dialect == "twilio" else enc.sample_rate
            path = LegAudio(self, rate, "ws")
            pump = MediaPump(ws, path, self.ctx.clock, encoding=enc, tag=tag,
                             custom_parameters=params, call_id=self.ctx.call_id)  # fmt: skip
            path.on_displaced = pump.stop_playing
            self._pumps[ws] = pump
        return pump

    def _forget_idle(self, ws: WebSocket, pump: MediaPump) -> None:
        """A stream stopped both ways leaves the socket free for another."""
        if not pump.sending and not pump.playing:
            pump.close()
            del self._pumps[ws]

    @staticmethod
    def _parameters(value: object) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str | int | float) for k, v in value.items()
        ):
            raise InvalidArgumentError(
                f"send_media_to: custom_parameters must map str to str, got {value!r}"
            )
        return {k: str(v) for k, v in value.items()}

    # -- in-process audio --------------------------------------------------------------------

    def listen(self, sample_rate: object) -> AudioListener:
        rate = self._rate("listen", sample_rate)
        listener = AudioListener(LegAudio(self, rate, "listen"), self.ctx.log,
                                 max_frames=MAX_LISTEN_FRAMES)  # fmt: skip
        self._listeners.add(listener)
        return listener

    def audio_output(self, sample_rate: object) -> AudioOutput:
        rate = self._rate("audio_output", sample_rate)
        path = LegAudio(self, rate, "out")
        output = AudioOutput(path)
        path.on_displaced = output.displaced
        self._outputs.add(output)
        return output

    def _rate(self, what: str, value: object) -> int:
        rate = args.integer(what, "sample_rate", value, 8000, 16000)
        if rate not in (8000, 16000):
            raise InvalidArgumentError(f"{what}: sample_rate must be 8000 or 16000, got {rate}")
        self.ctx.require_media(what)
        return rate

    # -- Part --------------------------------------------------------------------------------

    def routes(self) -> Mapping[type[sig.Signal], Handler]:
        return {sig.AudioFrames: self._on_frames, sig.FeedPlayed: self._on_played}

    def audio_started(self) -> None:
        pass

    def connected(self) -> None:
        pass

    def ended(self) -> None:
        """Every stream stops (the sockets stay open), listeners end, outputs close."""
        for pump in list(self._pumps.values()):
            pump.close()
        self._pumps.clear()
        for listener in self._listeners:
            listener.end()
        for output in self._outputs:
            output.displaced()
        self._listeners.clear()
        self._outputs.clear()
        self.taps.clear()
        self.feeds.clear()

    def _on_frames(self, signal: sig.AudioFrames) -> None:
        handler = self.taps.get(signal.tap_id)
        if handler is not None:  # frames in flight after a StopTap are normal
            handler(signal.pcm)

    def _on_played(self, signal: sig.FeedPlayed) -> None:
        handler = self.feeds.get(signal.feed_id)
        if handler is not None:
            handler(FeedReport(played_bytes=signal.played_bytes,
                               buffered_bytes=signal.buffered_bytes,
                               dropped_bytes=signal.dropped_bytes))  # fmt: skip

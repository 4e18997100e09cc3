"""The media pump: one core :class:`~voxpy.core.wsmedia.MediaStream` between a
:class:`~voxpy.runtime.websocket.WebSocket` and a call's audio, reached through
:class:`AudioPath` (the backend's tap and feed, wired by the Call).

Caller -> socket: tapped frames -> ``stream.send_audio`` -> the socket's bounded send queue
(a slow server loses the oldest audio, one warning per stream). Socket -> caller: text ->
``stream.receive`` -> the playout queue -> fed to the backend a little ahead of real time
(:data:`FEED_AHEAD_MS`), topped up as the backend reports what it played. Marks are echoed
when the backend has played the audio before them; ``clear`` empties both queues and echoes
the pending marks. MEDIA_STARTED fires with the first audio fed after idle, MEDIA_ENDED after
a second in which nothing was left to play.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from voxpy.core.audio import SAMPLE_WIDTH, Encoding
from voxpy.core.clock import Clock, Timer
from voxpy.core.events import WebSocketEvents
from voxpy.core.wsmedia import (
    ClearReceived,
    MalformedMessage,
    MarkReceived,
    MediaReceived,
    MediaStartReceived,
    MediaStream,
    Output,
    StreamConfig,
    UnknownEvent,
    open_stream,
)
from voxpy.errors import InvalidStateError
from voxpy.runtime.websocket import WebSocket

FEED_AHEAD_MS = 160
"what the backend is given ahead of real time: rides out loop jitter, still a short clear"
MEDIA_ENDED_AFTER = 1.0
"seconds with nothing left to play before MEDIA_ENDED (VoxEngine's second of silence)"


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedReport:
    """The backend's account of a feed (its FeedPlayed signal), totals since ``start_feed``.

    Totals, not deltas, so a late or repeated report is harmless. As the backend counts:
    fed = played + buffered + dropped + cleared, where ``dropped_bytes`` is what the backend
    dropped for room and what :meth:`AudioPath.clear` discarded is in none of them; a report
    with ``buffered_bytes=0`` follows each clear, which is how the pump learns that amount."""

    played_bytes: int
    buffered_bytes: int
    dropped_bytes: int = 0


class AudioPath(Protocol):
    """A call's audio, as the media pump needs it (the Call adapts the backend's StartTap /
    StopTap / StartFeed / FeedAudio / ClearFeed / StopFeed commands and its AudioFrames /
    FeedPlayed signals to this). PCM is 16-bit mono little-endian at :attr:`rate`."""

    @property
    def rate(self) -> int: ...

    def start_tap(self, on_frames: Callable[[bytes], None]) -> None:
        """Hand the caller's audio to ``on_frames`` (any lengths, in order) until stop_tap."""

    def stop_tap(self) -> None: ...

    def start_feed(self, on_played: Callable[[FeedReport], None]) -> None:
        """Play what :meth:`feed` is given into the call, reporting progress to
        ``on_played``: at least after each fed chunk has played, and after a clear."""

    def feed(self, pcm: bytes) -> None: ...

    def clear(self) -> None:
        """Discard everything fed and not yet played; report (``buffered_bytes=0``) after."""

    def stop_feed(self) -> None: ...


class MediaPump:
    """One socket's media stream both ways; the socket's :class:`MediaSink`."""

    def __init__(
        self,
        ws: WebSocket,
        path: AudioPath,
        clock: Clock,
        *,
        encoding: Encoding | str = Encoding.PCM8,
        tag: str | None = None,
        custom_parameters: Mapping[str, str] | None = None,
        call_id: str = "",
    ) -> None:
        config = StreamConfig(
            encoding=Encoding.parse(encoding) if isinstance(encoding, str) else encoding,
            rate=path.rate,
            tag=tag,
            custom_parameters={str(k): str(v) for k, v in (custom_parameters or {}).items()},
            call_id=call_id,
            stream_id="MZ" + uuid.uuid4().hex,
            wait_for_play=True,
        )
        self.stream: MediaStream = open_stream(ws.dialect, config)
        self.ws, self.path, self.clock = ws, path, clock
        self.log = ws.log.bind(dialect=ws.dialect, stream=config.stream_id)
        self.ahead = path.rate * SAMPLE_WIDTH * FEED_AHEAD_MS // 1000
        self.sending = False
        self.playing = False
        self._fed = 0  # bytes fed since start_feed
        self._settled = 0  # of those, played, dropped or cleared (as far as reports say)
        self._cleared = 0  # discarded by clears, learnt from the report that follows each
        self._clearing: int | None = None  # bytes fed when the last clear went out
        self._playing_audio = False
        self._played_since_start = 0
        self._idle: Timer | None = None
        self._started_with: MediaStartReceived | None = None
        self._malformed = 0
        ws.attach(self)

    # -- the Call's side ---------------------------------------------------------------------

    def start_sending(self) -> None:
        """``call.send_media_to(ws)``: the start message, then the caller's audio."""
        if self.sending:
            raise InvalidStateError("the call's audio is already sent to this WebSocket")
        self.sending = True
        self._push(self.stream.start())
        self.path.start_tap(self._on_frames)

    def stop_sending(self) -> None:
        """``call.stop_media_to(ws)``: no more caller audio, and the stop message."""
        if not self.sending:
            return
        self.sending = False
        self.path.stop_tap()
        self._push(self.stream.stop())

    def start_playing(self) -> None:
        """``ws.send_media_to(call)``: the socket's audio plays into the call."""
        if self.playing:
            raise InvalidStateError("this WebSocket already plays into the call")
        self.playing, self._fed, self._settled, self._cleared = True, 0, 0, 0
        self._clearing = None
        self.path.start_feed(self._on_played)
        self._top_up()

    def stop_playing(self) -> None:
        if not self.playing:
            return
        self.playing = False
        self.path.stop_feed()
        self._idle_timer(None)
        self._media_ended()

    def send_dtmf(self, digit: str) -> None:
        """A digit the caller pressed: Twilio's ``dtmf`` event, VoxEngine dialect's message."""
        self._push(self.stream.send_dtmf(digit))

    def clear(self, tag: str | None = None) -> None:
        """``ws.clear_media_buffer()``: silence now, pending marks echoed (only the stream
        tagged ``tag`` when one is named)."""
        start = self._started_with
        if tag is None or tag == (start.tag if start else self.stream.config.tag):
            self._handle(self.stream.clear())

    def close(self) -> None:
        """Stop both ways and leave the socket (it stays open)."""
        self.stop_sending()
        self.stop_playing()
        self.ws.detach(self)

    # -- MediaSink ---------------------------------------------------------------------------

    def opened(self) -> None:
        self.log.debug("media_stream_socket_open")

    def received(self, text: str) -> None:
        self._handle(self.stream.receive(text))

    def closed(self) -> None:
        """The socket is gone: stop tapping and feeding (what is fed plays out)."""
        if self.sending:
            self.sending = False
            self.path.stop_tap()
        self.stop_playing()

    # -- internals ---------------------------------------------------------------------------

    def _on_frames(self, pcm: bytes) -> None:
        if self.sending:
            self._push(self.stream.send_audio(pcm))

    def _on_played(self, report: FeedReport) -> None:
        if not self.playing:
            return
        done = report.played_bytes + report.dropped_bytes
        if self._clearing is not None and report.buffered_bytes == 0:
            # The report after the clear: fed then = done + cleared, buffered 0.
            self._cleared, self._clearing = max(self._cleared, self._clearing - done), None
        self._settled = max(self._settled, done + self._cleared)
        self._push(self.stream.played(self._fed - self._settled))
        self._top_up()

    def _push(self, out: Output) -> None:
        if out.send and self.ws.push(out.send):
            self.log.warning(
                "websocket_send_queue_full",
                dropped="oldest caller audio",
                max_frames=self.ws.queue.max_media,
            )

    def _handle(self, out: Output) -> None:
        self._push(out)
        for event in out.events:
            if isinstance(event, MediaReceived):
                if event.dropped_bytes:
                    self.log.warning("websocket_audio_too_far_ahead", dropped=event.dropped_bytes)
                self._top_up()
            elif isinstance(event, MarkReceived):
                self._top_up()  # a short tail before a mark plays now, padded
            elif isinstance(event, ClearReceived):
                if self.playing:
                    self._clearing = self._settled = self._fed
                    self.path.clear()
                self._top_up()
            elif isinstance(event, MediaStartReceived):
                self._started_with = event
            elif isinstance(event, MalformedMessage):
                self._malformed += 1
                if self._malformed == 1 or isinstance(event, UnknownEvent):
                    level = self.log.debug if isinstance(event, UnknownEvent) else self.log.warning
                    level("websocket_bad_media_message", reason=event.reason, count=self._malformed)

    def _top_up(self) -> None:
        """Feed whole frames until the backend holds :data:`FEED_AHEAD_MS`."""
        if not self.playing:
            return
        queue = self.stream.playout
        while self._fed - self._settled < self.ahead and queue.queued_bytes:
            pcm = queue.pull().pcm
            if pcm is None:
                break  # a short tail waits for more
            self._idle_timer(None)
            if not self._playing_audio:
                self._media_started()
            self._fed += len(pcm)
            self._played_since_start += len(pcm)
            self.path.feed(pcm)
        if self._playing_audio and self._fed == self._settled and queue.queued_bytes < queue.frame:
            # Nothing left to play (a tail shorter than a frame waits for more: not playing).
            self._idle_timer(self.clock.call_later(MEDIA_ENDED_AFTER, self._media_ended))

    def _idle_timer(self, timer: Timer | None) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self._idle = timer

    def _media_started(self) -> None:
        self._playing_audio, self._played_since_start = True, 0
        start = self._started_with
        self.ws.fire(
            WebSocketEvents.MEDIA_STARTED,
            tag=start.tag if start else self.stream.config.tag,
            encoding=str(start.encoding if start else self.stream.encoding),
            custom_parameters=dict(start.custom_parameters) if start else {},
        )

    def _media_ended(self) -> None:
        self._idle = None
        if not self._playing_audio:
            return
        self._playing_audio = False
        seconds = self._played_since_start / (self.path.rate * SAMPLE_WIDTH)
        self._played_since_start = 0
        tag = self._started_with.tag if self._started_with else self.stream.config.tag
        self.ws.fire(WebSocketEvents.MEDIA_ENDED, tag=tag, media_info={"duration": seconds})

"""In-process audio of a call: ``call.listen()`` and ``call.audio_output()``, for bots written
in Python without a socket (the server-side analogue of Twilio's getRemoteStream and
getLocalStream). Both ride an :class:`~voxpy.runtime.wsstream.AudioPath`, as the media pump
does, so they behave the same on both backends.

Bounds: a listener keeps at most :data:`MAX_LISTEN_FRAMES` frames a reader has not taken
(the oldest are dropped, counted, one warning per listener); an output takes at most
:data:`MAX_OUTPUT_SECONDS` ahead of what has played (``write`` waits for room), and gives
the backend :data:`~voxpy.runtime.wsstream.FEED_AHEAD_MS` at a time, so ``clear`` is short.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator

from structlog.typing import FilteringBoundLogger

from voxpy.core.audio import SAMPLE_WIDTH, frame_bytes
from voxpy.errors import InvalidArgumentError, InvalidStateError
from voxpy.runtime.waits import Wakeup
from voxpy.runtime.wsstream import FEED_AHEAD_MS, AudioPath, FeedReport

MAX_LISTEN_FRAMES = 100
"2 s of 20 ms frames unread before the oldest go: a stalled reader costs at most 64 kB at 16 kHz"
MAX_OUTPUT_SECONDS = 2.0
"what write() accepts ahead of play before it waits: a TTS burst fits, memory stays bounded"


class AudioListener:
    """``async for frame in call.listen()``: the caller's audio as 20 ms PCM16 frames.

    The tap starts when the listener is made; iteration ends when the call ends (frames
    already taken are still yielded) or when the loop is left (``break`` finalizes the
    iterator) or :meth:`aclose` is called. One ``async for`` per listener."""

    def __init__(self, path: AudioPath, log: FilteringBoundLogger, *, max_frames: int) -> None:
        self.rate = path.rate
        self.dropped = 0
        "frames lost because the reader fell more than ``max_frames`` behind"
        self._path, self._log, self._max = path, log, max_frames
        self._frame = frame_bytes(path.rate)
        self._partial = b""
        self._frames: deque[bytes] = deque()
        self._wake = Wakeup()
        self._ended = False
        path.start_tap(self._on_pcm)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        try:
            while True:
                while not self._frames and not self._ended:
                    self._wake.clear()
                    await self._wake.wait()
                if not self._frames:
                    return
                yield self._frames.popleft()
        finally:
            self.close()

    async def aclose(self) -> None:
        self.close()

    def take_all(self) -> list[bytes]:
        """The frames queued now, without waiting (a reader that works in batches)."""
        frames = list(self._frames)
        self._frames.clear()
        return frames

    def close(self) -> None:
        """Stop listening (twice is harmless); frames already queued are still yielded."""
        if not self._ended:
            self._path.stop_tap()
            self.end()

    def end(self) -> None:
        """The call is over (engine side): no more frames."""
        if self._ended:
            return
        self._ended = True
        self._wake.set()
        if self.dropped:
            self._log.info("listen_ended", dropped_frames=self.dropped)

    def _on_pcm(self, pcm: bytes) -> None:
        if self._ended:
            return
        data = self._partial + pcm
        cut = len(data) - len(data) % self._frame
        self._partial = data[cut:]
        for i in range(0, cut, self._frame):
            if len(self._frames) >= self._max:
                self._frames.popleft()
                self.dropped += 1
                if self.dropped == 1:
                    self._log.warning(
                        "listen_reader_too_slow", dropped="oldest frames", max_frames=self._max
                    )
            self._frames.append(data[i : i + self._frame])
        self._wake.set()


class AudioOutput:
    """``out = call.audio_output()``: PCM16 written here plays into the call.

    It is the call's incoming source from the moment it is made: a later say/playback,
    ``send_media_to`` or another output replaces it (then :attr:`closed` is True and
    ``write`` raises InvalidStateError)."""

    def __init__(self, path: AudioPath, *, max_seconds: float = MAX_OUTPUT_SECONDS) -> None:
        self.rate = path.rate
        self._path = path
        self._frame = frame_bytes(path.rate)
        self._ahead = path.rate * SAMPLE_WIDTH * FEED_AHEAD_MS // 1000
        self._max = int(max_seconds * path.rate) * SAMPLE_WIDTH
        self._queue = bytearray()
        self._fed = 0  # bytes given to the backend since start_feed
        self._settled = 0  # of those, played, dropped or cleared as far as reports say
        self._cleared = 0
        self._clearing: int | None = None
        self._changed = Wakeup()
        self.closed = False
        path.start_feed(self._on_played)

    @property
    def pending_bytes(self) -> int:
        """Written and not yet played."""
        return len(self._queue) + self._fed - self._settled

    async def write(self, pcm: bytes) -> None:
        """Queue 16-bit mono PCM at :attr:`rate` (whole samples); waits while more than
        ``max_seconds`` is unplayed."""
        if not isinstance(pcm, bytes | bytearray | memoryview):
            raise InvalidArgumentError(f"write() takes PCM bytes, got {type(pcm).__name__}")
        if len(pcm) % SAMPLE_WIDTH:
            raise InvalidArgumentError(f"write() takes whole 16-bit samples, got {len(pcm)} bytes")
        if self.closed:
            raise InvalidStateError("this audio output is closed (replaced, or the call ended)")
        self._queue += pcm
        self._top_up()
        while not self.closed and self.pending_bytes > self._max:
            await self._wait()

    def clear(self) -> None:
        """Drop everything written and not yet played: the caller hears silence at once."""
        self._queue.clear()
        if not self.closed and self._fed > self._settled:
            self._clearing = self._settled = self._fed
            self._path.clear()
        self._changed.set()

    async def drain(self) -> None:
        """Return once everything written has played (or the output closed). A tail shorter
        than a frame is padded with silence."""
        if self._queue and len(self._queue) % self._frame:
            self._queue += bytes(self._frame - len(self._queue) % self._frame)
            self._top_up()
        while not self.closed and self.pending_bytes:
            await self._wait()

    def close(self) -> None:
        """Stop playing (what is queued is dropped); twice is harmless."""
        if not self.closed:
            self._path.stop_feed()
            self.displaced()

    def displaced(self) -> None:
        """Engine side: something else plays into the call now, or the call ended."""
        self.closed = True
        self._queue.clear()
        self._changed.set()

    async def _wait(self) -> None:
        self._changed.clear()
        await self._changed.wait()

    def _on_played(self, report: FeedReport) -> None:
        done = report.played_bytes + report.dropped_bytes
        if self._clearing is not None and report.buffered_bytes == 0:
            self._cleared, self._clearing = max(self._cleared, self._clearing - done), None
        self._settled = max(self._settled, done + self._cleared)
        self._top_up()
        self._changed.set()

    def _top_up(self) -> None:
        """Give the backend whole frames until it holds FEED_AHEAD_MS."""
        if self.closed:
            return
        room = self._ahead - (self._fed - self._settled)
        take = min(room, len(self._queue))
        take -= take % self._frame
        if take > 0:
            chunk = bytes(self._queue[:take])
            del self._queue[:take]
            self._fed += take
            self._path.feed(chunk)

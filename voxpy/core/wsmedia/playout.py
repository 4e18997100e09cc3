"""The bot's audio on its way to the caller: a bounded playout queue with Twilio's marks.

Pure and clock-free: the media clock is the caller of :meth:`PlayoutQueue.pull`, once per
20 ms frame (a pjsua2 port's onFrameRequested). Bots send faster than real time (a TTS answer
arrives in a burst), so audio is buffered and played at real time; past ``max_seconds`` the
oldest audio is dropped (a bot that sends a minute ahead is broken, and memory must stay
bounded: 60 s at 16 kHz is 1.9 MB per stream).

Positions are absolute byte counts since the stream began, so a mark is simply "echo when
this many bytes are consumed", whether played, dropped for room, or cleared.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from voxpy.core.audio import FRAME_MS, SAMPLE_WIDTH, check_rate, frame_bytes
from voxpy.errors import InvalidArgumentError

DEFAULT_MAX_SECONDS = 60.0
"how far ahead of real time a bot may send before its oldest audio is dropped"
END_AFTER_FRAMES = 50
"VoxEngine's MEDIA_ENDED comes after 1 s of silence: 50 frames with nothing to play"


@dataclass(frozen=True, slots=True, kw_only=True)
class Playout:
    """One tick of the media clock.

    ``pcm``: a whole frame to play, or None (nothing queued: play silence). ``marks``: names to
    echo now, in the order they came. ``started``: the first audio after idle (MEDIA_STARTED).
    ``ended``: idle for a second after audio (MEDIA_ENDED), ``played_ms`` of audio since started.
    """

    pcm: bytes | None
    marks: tuple[str, ...] = ()
    started: bool = False
    ended: bool = False
    played_ms: int = 0


class PlayoutQueue:
    """Internal PCM at ``rate`` in (any lengths), 20 ms frames out, marks echoed in order."""

    def __init__(self, rate: int, *, max_seconds: float = DEFAULT_MAX_SECONDS) -> None:
        if max_seconds <= 0:
            raise InvalidArgumentError(f"max_seconds must be positive, not {max_seconds}")
        self.rate = check_rate(rate)
        self.frame = frame_bytes(rate)
        # Whole frames, so dropping for room never splits a sample.
        self.max_bytes = max(self.frame, int(max_seconds * 1000 / FRAME_MS) * self.frame)
        self._chunks: deque[bytes] = deque()
        self._head = 0  # bytes of _chunks[0] already consumed
        self._queued = 0
        self._written = 0  # absolute position of the end of the queue
        self._consumed = 0  # absolute position of its start
        self._marks: deque[tuple[int, str]] = deque()
        self._playing = False
        self._idle = 0  # frames with nothing to play since the last audio
        self._played = 0  # bytes played since started
        self.dropped_bytes = 0
        "audio dropped for room since the stream began (clear is not counted)"

    @property
    def queued_bytes(self) -> int:
        return self._queued

    @property
    def queued_ms(self) -> int:
        return self._queued * 1000 // (self.rate * SAMPLE_WIDTH)

    @property
    def pending_marks(self) -> tuple[str, ...]:
        return tuple(name for _, name in self._marks)

    def push(self, pcm: bytes) -> int:
        """Queue ``pcm`` after what is queued; the bytes dropped (oldest first) to make room."""
        if len(pcm) % SAMPLE_WIDTH:
            raise InvalidArgumentError(f"PCM of odd length {len(pcm)}")
        if pcm:
            self._chunks.append(pcm)
            self._queued += len(pcm)
            self._written += len(pcm)
        over = self._queued - self.max_bytes
        if over <= 0:
            return 0
        over += -over % self.frame  # whole frames, leaving room for what comes next
        self._take(over)
        self.dropped_bytes += over
        return over

    def mark(self, name: str) -> tuple[str, ...]:
        """Echo ``name`` once the audio queued so far is consumed; the marks due right now.

        With nothing queued (and nothing waiting before it) the mark is due at once.
        """
        self._marks.append((self._written, name))
        return self._due()

    def clear(self) -> tuple[int, tuple[str, ...]]:
        """Drop every queued byte now; (bytes dropped, every pending mark, to echo)."""
        dropped = self._queued
        self._take(dropped)
        return dropped, self._due()

    def pull(self) -> Playout:
        """The next 20 ms to play, and what the tick means for marks and start/end."""
        if self._queued >= self.frame or (self._queued and self._marks):
            # A tail shorter than a frame is played (padded) only when a mark waits after
            # it: the bot has finished that piece. Otherwise it waits for more to arrive.
            n = min(self.frame, self._queued)
            pcm = self._take(n) + bytes(self.frame - n)
            started = not self._playing
            if started:
                self._playing, self._played = True, 0
            self._idle = 0
            self._played += n
            return Playout(pcm=pcm, marks=self._due(), started=started)
        ended = False
        if self._playing:
            self._idle += 1
            if self._idle >= END_AFTER_FRAMES:
                self._playing, ended = False, True
        played_ms = self._played * 1000 // (self.rate * SAMPLE_WIDTH) if ended else 0
        return Playout(pcm=None, marks=self._due(), ended=ended, played_ms=played_ms)

    def _due(self) -> tuple[str, ...]:
        due: list[str] = []
        while self._marks and self._marks[0][0] <= self._consumed:
            due.append(self._marks.popleft()[1])
        return tuple(due)

    def _take(self, n: int) -> bytes:
        """Remove and return the oldest ``n`` queued bytes (n <= queued)."""
        parts: list[bytes] = []
        left = n
        while left:
            chunk = self._chunks[0]
            piece = chunk[self._head : self._head + left]
            parts.append(piece)
            left -= len(piece)
            self._head += len(piece)
            if self._head == len(chunk):
                self._chunks.popleft()
                self._head = 0
        self._queued -= n
        self._consumed += n
        return b"".join(parts)
